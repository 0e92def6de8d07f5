//! The organisations: one cycle each (client, token, cooldown, collectors,
//! cache), built from their settings and kept across reloads while their
//! settings stay the same.

pub mod cycle;
pub mod reload;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use std::time::Duration;

use self::cycle::{CycleTrace, OrgCycle};
use crate::cache::CycleCache;
use crate::clock::Clock;
use crate::collectors;
use crate::collectors::aws::sdk::Access;
use crate::config::{Endpoints, OrgSettings, Organizations, Upstream};
use crate::exposition::{Body, Format, Series, StatePart, render_org};
use crate::genesys::client::{ClientBuildError, http_client, tls_url};
use crate::genesys::{GenesysClient, Telemetry};
use crate::report::Report;

/// One organisation: its cycle and everything that reports on it.
pub struct Organization {
    pub settings: OrgSettings,
    pub cache: CycleCache<OrgCycle>,
    /// Its collectors, some with a cycle of their own.
    pub collectors: Vec<Arc<dyn collectors::Collector>>,
    /// The collectors and the client, in the order of its answer, its
    /// debug trace and its landing page.
    pub reports: Vec<Arc<dyn Report>>,
    /// Its series that change only with its state, as last encoded.
    pub state_part: StatePart,
    /// What its times and ages are shown by.
    pub clock: Clock,
}

impl Organization {
    /// `demo` is where [`Upstream::Demo`] points: the simulator's address.
    pub fn start(
        settings: OrgSettings,
        demo: Option<&Endpoints>,
        clock: Clock,
    ) -> Result<Organization, ClientBuildError> {
        let endpoints = match (&settings.upstream, demo) {
            (Upstream::Remote(endpoints), _) => endpoints.clone(),
            (Upstream::Demo, Some(demo)) => demo.clone(),
            (Upstream::Demo, None) => unreachable!("demo settings without the simulator"),
        };
        let name: Arc<str> = Arc::from(settings.name.as_str());
        let telemetry = Arc::new(Telemetry::new());
        let client = Arc::new(GenesysClient::new(
            &endpoints,
            telemetry.clone(),
            name.clone(),
            clock,
        )?);
        let access = match &settings.upstream {
            // The simulator speaks AWS too, with the demo's credentials.
            Upstream::Demo => Access {
                endpoint_url: Some(endpoints.api_url.clone()),
                static_key: Some((
                    genesys_cloud_simulator::DEMO_ACCESS_KEY_ID.to_string(),
                    genesys_cloud_simulator::DEMO_SECRET_ACCESS_KEY.to_string(),
                )),
                region: Some(genesys_cloud_simulator::DEMO_AWS_REGION.to_string()),
            },
            Upstream::Remote(_) => Access::default(),
        };
        let registered = collectors::register(&settings, client.clone(), &name, access, clock);
        let collectors = registered.collectors.iter().filter(|c| c.enabled());
        telemetry
            .declare_invalid_reasons(collectors.flat_map(|c| c.invalid_reasons().iter().copied()));
        let cycle = OrgCycle::new(client, registered.collectors.clone(), name, clock);
        Ok(Organization {
            collectors: registered.collectors,
            cache: CycleCache::new(cycle, settings.cache.ttl),
            reports: registered.reports,
            state_part: StatePart::default(),
            clock,
            settings,
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Its series into `body`, after waiting as a scrape with `budget`
    /// does (the cache may start a cycle).
    pub async fn render(&self, budget: Duration, format: Format, body: &mut Body) {
        self.wait_for_cycles(budget).await;
        let owners: Vec<&dyn Series> = self.reports.iter().map(|r| &**r as &dyn Series).collect();
        render_org(format, &self.state_part, &owners, self.clock, body);
    }

    /// Runs a cycle as a scrape would, without answering one: at start, so
    /// that the organisation's first cycle and its outcome come before
    /// anything scrapes.
    pub async fn first_cycle(&self) {
        self.wait_for_cycles(self.settings.query.timeout).await;
    }

    /// Waits as a scrape with `budget` does for its cycle and the
    /// collectors' own (the cache may start them).
    async fn wait_for_cycles(&self, budget: Duration) {
        let own = (self.collectors.iter())
            .filter(|c| c.enabled())
            .map(|c| c.refresh(budget));
        futures_util::future::join(self.cache.get(budget), futures_util::future::join_all(own))
            .await;
    }

    /// What the debug trace and the landing page show of it.
    pub fn view(&self) -> OrgView<'_> {
        OrgView {
            name: self.name(),
            cycle: self.cache.source().last_trace(),
            reports: &self.reports,
            clock: self.clock,
        }
    }
}

/// One organisation's latest cycle as the debug trace and the landing page
/// show it: the cycle's own trace, then each report's part in order.
pub struct OrgView<'a> {
    pub name: &'a str,
    /// `None` until a cycle has finished.
    pub cycle: Option<Arc<CycleTrace>>,
    pub reports: &'a [Arc<dyn Report>],
    pub clock: Clock,
}

#[derive(Default)]
struct InForce {
    flags: Option<Arc<Organization>>,
    targets: BTreeMap<String, Arc<Organization>>,
}

/// What a reload changed, for its log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub kept: usize,
}

/// Every organisation in force: the flags' one and the probe targets.
pub struct Registry {
    demo: Option<Endpoints>,
    clock: Clock,
    in_force: RwLock<Arc<InForce>>,
}

impl Registry {
    pub fn new(demo: Option<Endpoints>, clock: Clock) -> Registry {
        Registry {
            demo,
            clock,
            in_force: RwLock::new(Arc::default()),
        }
    }

    fn read(&self) -> Arc<InForce> {
        self.in_force
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The organisation served on the telemetry path.
    pub fn flags(&self) -> Option<Arc<Organization>> {
        self.read().flags.clone()
    }

    /// The probe target `name`: a configured organisation, or the flags'
    /// one by its name (`default`, or `demo` in demo mode), which no
    /// organisation of the file may take.
    pub fn target(&self, name: &str) -> Option<Arc<Organization>> {
        let in_force = self.read();
        if let Some(org) = in_force.targets.get(name) {
            return Some(org.clone());
        }
        in_force.flags.clone().filter(|f| f.name() == name)
    }

    /// Every organisation, the flags' one first.
    pub fn all(&self) -> Vec<Arc<Organization>> {
        let in_force = self.read();
        in_force
            .flags
            .iter()
            .chain(in_force.targets.values())
            .cloned()
            .collect()
    }

    /// Whether `orgs` can be put in force here: the HTTP client each needs
    /// builds (an HTTPS organisation needs CA certificates).
    pub fn check(&self, orgs: &Organizations) -> Result<(), ClientBuildError> {
        for settings in orgs.flags.iter().chain(&orgs.configured) {
            if let Upstream::Remote(endpoints) = &settings.upstream {
                http_client(tls_url(endpoints))?;
            }
        }
        Ok(())
    }

    /// Puts `orgs` in force. An organisation whose settings did not change is
    /// kept as it runs (token, cache, counters); others start afresh.
    pub fn apply(&self, orgs: &Organizations) -> Result<Changes, ClientBuildError> {
        let before = self.read();
        let mut changes = Changes::default();
        let mut reuse = |settings: &OrgSettings, old: Option<&Arc<Organization>>| match old {
            Some(old) if old.settings == *settings => {
                changes.kept += 1;
                Ok(old.clone())
            }
            old => {
                match old {
                    Some(_) => changes.changed += 1,
                    None => changes.added += 1,
                }
                Organization::start(settings.clone(), self.demo.as_ref(), self.clock).map(Arc::new)
            }
        };
        let flags = match &orgs.flags {
            Some(settings) => Some(reuse(settings, before.flags.as_ref())?),
            None => None,
        };
        let mut targets = BTreeMap::new();
        for settings in &orgs.configured {
            let org = reuse(settings, before.targets.get(&settings.name))?;
            targets.insert(settings.name.clone(), org);
        }
        changes.removed = before
            .targets
            .keys()
            .filter(|name| !targets.contains_key(*name))
            .count()
            + usize::from(before.flags.is_some() && flags.is_none());
        *self.in_force.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(InForce { flags, targets });
        Ok(changes)
    }
}
