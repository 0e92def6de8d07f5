//! One AWS cycle: which sources to watch, what AWS says of each (state,
//! rules, targets), then CloudWatch's figures for all of them, per region
//! in as few calls as the limit allows. The first call that fails ends the
//! cycle: the last good figures are served until max-stale.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use tokio::time::Instant;

use super::AwsCycle;
use super::calls::{CallError, Query};
use super::model::{
    self, COUNTS, EVENTS, LATENCY, Missing, NO_INTEGRATION, Path, Rule, Source, SourceState,
    Watched, account_of,
};
use super::sdk::Clients;

/// `loading` (the SDK's configuration: its credential and region chains,
/// which may ask instance metadata) bounded by the cycle's deadline, as
/// its requests are; a load cut short starts again at the next cycle.
async fn within<T>(
    deadline: Instant,
    loading: impl std::future::Future<Output = T>,
) -> Result<T, CallError> {
    tokio::time::timeout_at(deadline, loading)
        .await
        .map_err(|_| CallError::NotLoaded)
}

/// Requests of one bus's rules in flight at once: EventBridge's control
/// plane allows few per second.
const CONCURRENT_TARGETS: usize = 4;

pub async fn collect(cycle: &AwsCycle, deadline: Instant) -> Result<Path, CallError> {
    let watched = watched(cycle, deadline).await?;
    let period = model::period_at(
        cycle.clock.now(),
        cycle.settings.period,
        cycle.settings.delay,
    );
    let described = watched.iter().map(|w| source(cycle, w, deadline));
    let mut sources = Vec::with_capacity(watched.len());
    for result in futures_util::future::join_all(described).await {
        sources.push(result?);
    }
    figures(cycle, &mut sources, period, deadline).await?;
    let named_rules = missing(cycle, &sources);
    Ok(Path {
        period_end: period.1,
        sources,
        named_rules,
    })
}

/// The sources named in `aws.event_sources`, else those discovered (the
/// first discovery waited for until the deadline).
async fn watched(cycle: &AwsCycle, deadline: Instant) -> Result<Vec<Watched>, CallError> {
    let settings = &cycle.settings;
    if settings.event_sources.is_empty() {
        let found = match cycle.discovery.first(deadline).await {
            Some(Ok(found)) => found,
            Some(Err(why)) => return Err(CallError::NotDiscovered(why)),
            None => {
                return Err(CallError::NotDiscovered(
                    "no answer from Genesys Cloud yet".into(),
                ));
            }
        };
        return Ok((found.sources.iter())
            .map(|s| Watched {
                name: s.name.clone(),
                integration_id: s.integration_id.clone(),
                integration: Some((s.integration_name.clone(), s.integration_state.clone())),
                account_id: Some(s.account_id.clone()),
                region: settings.region.clone().unwrap_or_else(|| s.region.clone()),
            })
            .collect());
    }
    let needs_default =
        settings.region.is_none() && settings.event_sources.iter().any(|s| s.region.is_none());
    let default = match needs_default {
        true => within(deadline, cycle.sdk.default_region()).await?,
        false => None,
    };
    let mut out = Vec::new();
    for s in &settings.event_sources {
        let region = s
            .region
            .clone()
            .or(settings.region.clone())
            .or(default.clone());
        let Some(region) = region else {
            tracing::warn!(org = %cycle.org, event_source = %s.name, "no AWS region for the event source (give aws.region, its region, or AWS_REGION); not watched");
            continue;
        };
        out.push(Watched {
            name: s.name.clone(),
            integration_id: NO_INTEGRATION.into(),
            integration: None,
            account_id: None,
            region,
        });
    }
    Ok(out)
}

async fn source(
    cycle: &AwsCycle,
    watched: &Watched,
    deadline: Instant,
) -> Result<Source, CallError> {
    let clients = within(deadline, cycle.sdk.clients(&watched.region)).await?;
    let (state, expiry, arn) = cycle
        .caller
        .describe(&clients, &watched.name, deadline)
        .await?;
    let listed = if state == SourceState::NOT_FOUND {
        None
    } else {
        cycle
            .caller
            .rules(&clients, &watched.name, deadline)
            .await?
    };
    let mut watched = watched.clone();
    if watched.account_id.is_none() {
        // AWS leaves the account out of a partner event source's ARN; the
        // ARNs of its bus's rules have it.
        watched.account_id = (arn.as_deref().and_then(account_of))
            .or_else(|| listed.as_ref().and_then(|l| l.account.clone()));
    }
    let rules = match listed {
        None => None,
        Some(listed) => Some(rules(cycle, &clients, &watched.name, listed.rules, deadline).await?),
    };
    Ok(Source {
        watched,
        state,
        expiry,
        events: None,
        rules,
    })
}

/// The watched rules of those `listed` on `bus`, with their targets.
async fn rules(
    cycle: &AwsCycle,
    clients: &Clients,
    bus: &str,
    listed: Vec<(String, bool)>,
    deadline: Instant,
) -> Result<Vec<Rule>, CallError> {
    let named = &cycle.settings.rules;
    let watched: Vec<(String, bool)> = listed
        .into_iter()
        .filter(|(name, _)| named.is_empty() || named.iter().any(|r| r.name == *name))
        .collect();
    // Made first: a stream mapping with a closure is not provably Send.
    let requests: Vec<_> = (watched.iter())
        .map(|(name, _)| cycle.caller.targets(clients, bus, name, deadline))
        .collect();
    let targets: Vec<_> = futures_util::stream::iter(requests)
        .buffered(CONCURRENT_TARGETS)
        .collect()
        .await;
    let mut rules = Vec::with_capacity(watched.len());
    for ((name, enabled), counted) in watched.into_iter().zip(targets) {
        let (targets, targets_without_dlq) = counted?;
        let threshold = named
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.max_delivery_lag)
            .unwrap_or(cycle.lag_threshold);
        rules.push(Rule {
            bus: bus.to_string(),
            name,
            enabled,
            targets,
            targets_without_dlq,
            counts: [0.0; 6],
            latency: None,
            lag: None,
            threshold: threshold.as_secs_f64(),
        });
    }
    Ok(rules)
}

/// Where a query's value goes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Events(usize),
    Count(usize, usize, usize),
    Latency(usize, usize),
    Lag(usize, usize),
}

/// The queries of every source that exists, by region.
fn queries(sources: &[Source]) -> BTreeMap<String, Vec<(Slot, Query)>> {
    let mut by_region: BTreeMap<String, Vec<(Slot, Query)>> = BTreeMap::new();
    for (s, source) in sources.iter().enumerate() {
        if source.state == SourceState::NOT_FOUND {
            continue;
        }
        let out = by_region.entry(source.watched.region.clone()).or_default();
        let name = source.watched.name.clone();
        out.push((
            Slot::Events(s),
            Query {
                metric: EVENTS,
                stat: "Sum",
                dimensions: vec![("EventSourceName", name)],
            },
        ));
        for (r, rule) in source.rules.iter().flatten().enumerate() {
            let dimensions = vec![
                ("EventBusName", rule.bus.clone()),
                ("RuleName", rule.name.clone()),
            ];
            let query = |metric, stat| Query {
                metric,
                stat,
                dimensions: dimensions.clone(),
            };
            for (k, metric) in COUNTS.iter().enumerate() {
                out.push((Slot::Count(s, r, k), query(metric, "Sum")));
            }
            out.push((Slot::Latency(s, r), query(LATENCY, "Average")));
            out.push((Slot::Lag(s, r), query(LATENCY, "Maximum")));
        }
    }
    by_region
}

async fn figures(
    cycle: &AwsCycle,
    sources: &mut [Source],
    period: (std::time::SystemTime, std::time::SystemTime),
    deadline: Instant,
) -> Result<(), CallError> {
    for (region, queries) in queries(sources) {
        let clients = within(deadline, cycle.sdk.clients(&region)).await?;
        let asked: Vec<Query> = queries.iter().map(|(_, q)| q.clone()).collect();
        let values = cycle
            .caller
            .figures(&clients, &asked, period, deadline)
            .await?;
        for ((slot, _), value) in queries.iter().zip(values) {
            place(sources, *slot, value);
        }
    }
    Ok(())
}

/// A count without a datapoint is 0 (AWS sends several only when not
/// zero); a latency without one stays unknown (no deliveries, no latency).
fn place(sources: &mut [Source], slot: Slot, value: Option<f64>) {
    match slot {
        Slot::Events(s) => sources[s].events = Some(value.unwrap_or(0.0)),
        Slot::Count(s, r, k) => {
            if let Some(rule) = rule_mut(sources, s, r) {
                rule.counts[k] = value.unwrap_or(0.0);
            }
        }
        Slot::Latency(s, r) => {
            if let Some(rule) = rule_mut(sources, s, r) {
                rule.latency = value.map(|ms| ms / 1000.0);
            }
        }
        Slot::Lag(s, r) => {
            if let Some(rule) = rule_mut(sources, s, r) {
                rule.lag = value.map(|ms| ms / 1000.0);
            }
        }
    }
}

fn rule_mut(sources: &mut [Source], s: usize, r: usize) -> Option<&mut Rule> {
    sources[s].rules.as_mut().and_then(|rules| rules.get_mut(r))
}

/// Each rule named in `aws.rules`: missing when it is on none of the buses
/// listed, then on each of them.
fn missing(cycle: &AwsCycle, sources: &[Source]) -> Vec<Missing> {
    let buses: Vec<(&str, &Vec<Rule>)> = sources
        .iter()
        .filter_map(|s| s.rules.as_ref().map(|r| (s.watched.name.as_str(), r)))
        .collect();
    let mut out = Vec::new();
    for named in &cycle.settings.rules {
        let found: Vec<&str> = buses
            .iter()
            .filter(|(_, rules)| rules.iter().any(|r| r.name == named.name))
            .map(|(bus, _)| *bus)
            .collect();
        let (on, missing) = match found.is_empty() {
            true => (buses.iter().map(|(bus, _)| *bus).collect(), true),
            false => (found, false),
        };
        out.extend(on.into_iter().map(|bus| Missing {
            bus: bus.to_string(),
            rule: named.name.clone(),
            missing,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_load_that_outlasts_the_budget_ends_the_cycle_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let stuck = within(deadline, std::future::pending::<()>()).await;
        assert!(matches!(stuck, Err(CallError::NotLoaded)));
        assert_eq!(Instant::now(), deadline, "not a moment past it");
        assert_eq!(
            within(deadline + Duration::from_secs(1), async { 7 })
                .await
                .ok(),
            Some(7)
        );
    }
}
