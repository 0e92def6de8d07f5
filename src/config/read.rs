//! Reading an organisation of the file over the flags' settings, as
//! blackbox_exporter reads a module over its defaults
//! (`*s = DefaultModule; unmarshal((*plain)(s))`): a key the file gives
//! replaces the default, a key it leaves out keeps it. The visitors are
//! written out because serde's derive takes defaults only from a constant,
//! and these come from the flags.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::aws::{AwsSettings, Key as AwsKey, RawRule};
use super::error::{Entry, GroupError, GroupProblem, Invalid, OrgError, Problem};
use super::file::valid_org_name;
use super::groups::{GroupSpec, Thresholds};
use super::parse_duration;
use super::settings::{
    CacheConfig, Collectors, FileUpstream, FlagSettings, OrgSettings, QueryConfig, Setting, Source,
    threshold,
};
use crate::web::config::{hide_values, one_line};

/// A serde error as one line, without the values it quotes: a value in
/// the wrong place may be a secret.
pub fn yaml_error(e: impl fmt::Display) -> String {
    hide_values(&one_line(&e.to_string()))
}

/// Reads an organisation of the file over `defaults`, the flags' settings:
/// it inherits their region, thresholds, query and cache settings and
/// collectors, never their name, credentials or groups. Relative paths are
/// relative to `dir`, the file's folder. What needs the other
/// organisations or other files is left to [`OrgSettings::resolve`].
pub fn organisation(
    value: serde_yaml_ng::Value,
    defaults: &FlagSettings,
    dir: &Path,
) -> Result<OrgSettings<FileUpstream>, OrgError> {
    let mut settings = OrgSettings {
        name: String::new(),
        groups: Vec::new(),
        ..defaults.clone()
    };
    // The AWS collector runs where an `aws:` block says so; its sources
    // and rules are the organisation's own, like its groups.
    settings.collectors.aws = false;
    settings.aws.event_sources.clear();
    settings.aws.rules.clear();
    let block = OrgBlock {
        settings: settings.with_upstream(()),
        name: None,
        region_given: false,
        api_url: None,
        login_url: None,
        client_id: None,
        client_secret_file: None,
        groups: Vec::new(),
    };
    let mut problems = Vec::new();
    let block = Over {
        value: block,
        problems: &mut problems,
    }
    .deserialize(value)
    .map_err(|e| OrgError::Yaml(yaml_error(e)))?;
    block.finish(problems, dir)
}

/// A block of settings whose keys replace, one by one, what it holds.
trait Block: Sized {
    /// What the block is, for "invalid type: ..., expected ___".
    const EXPECTING: &'static str;
    /// Its keys, in the order errors list them; any other is an error.
    const KEYS: &'static [&'static str];

    /// Reads the value of `key` over what `self` holds. A value of the
    /// wrong type is a serde error, and ends the reading; one of the right
    /// type that is not a valid setting is noted in `problems` and the
    /// reading goes on, so that a wrong key or type anywhere in the block is
    /// reported first, as it was when the file was read whole before any
    /// value was checked.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error>;
}

/// Reads a block over `value`; a block given as null (`query:` with
/// nothing after it) leaves it as it is.
struct Over<'p, T> {
    value: T,
    problems: &'p mut Vec<Invalid>,
}

impl<'de, T: Block> DeserializeSeed<'de> for Over<'_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: Block> Visitor<'de> for Over<'_, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(self.value)
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(self.value)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<T, A::Error> {
        while let Some(key) = map.next_key_seed(Key(T::KEYS))? {
            self.value.read(key, &mut map, self.problems)?;
        }
        Ok(self.value)
    }
}

/// A key of a block: one of `self.0`, as serde's derive words the error.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'static str, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Key {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<&'static str, E> {
        let known = self.0.iter().find(|k| **k == key);
        known.copied().ok_or_else(|| E::unknown_field(key, self.0))
    }
}

/// What a duration of the file must be, besides well written.
type Rule = fn(Duration) -> Result<(), Problem>;

/// Most durations of the file: a cache TTL may be 0 (every scrape
/// queries), no other.
fn positive(d: Duration) -> Result<(), Problem> {
    match d.is_zero() {
        true => Err(Problem::NotPositive),
        false => Ok(()),
    }
}

/// A duration written as text; noted in `problems` when it does not parse
/// or keep to `rule`.
fn duration<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: &'static str,
    rule: Rule,
    problems: &mut Vec<Invalid>,
) -> Result<Option<Duration>, A::Error> {
    let Some(text) = map.next_value::<Option<String>>()? else {
        return Ok(None);
    };
    let read = parse_duration(&text).map_err(Problem::from);
    match read.and_then(|d| rule(d).map(|()| d)) {
        Ok(d) => Ok(Some(d)),
        Err(problem) => {
            problems.push(problem.of(key));
            Ok(None)
        }
    }
}

/// Sets `target` to the value read, when there is one.
fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

impl Block for Thresholds {
    const EXPECTING: &'static str = "thresholds (max_lag, max_processing_latency)";
    const KEYS: &'static [&'static str] = &["max_lag", "max_processing_latency"];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let (target, setting) = match key {
            "max_lag" => (&mut self.max_lag, Setting::MaxLag),
            _ => (
                &mut self.max_processing_latency,
                Setting::MaxProcessingLatency,
            ),
        };
        let key = Source::File.key(setting);
        set(target, duration(map, key, threshold, problems)?);
        Ok(())
    }
}

impl Block for QueryConfig {
    const EXPECTING: &'static str = "query settings (path, window, page_size, max_pages, timeout)";
    const KEYS: &'static [&'static str] = &["path", "window", "page_size", "max_pages", "timeout"];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let key_of = |setting| Source::File.key(setting);
        match key {
            "path" => set(&mut self.path, map.next_value()?),
            "window" => set(
                &mut self.window,
                duration(map, key_of(Setting::QueryWindow), positive, problems)?,
            ),
            "page_size" => set(&mut self.page_size, map.next_value()?),
            "max_pages" => set(&mut self.max_pages, map.next_value()?),
            _ => set(
                &mut self.timeout,
                duration(map, key_of(Setting::QueryTimeout), positive, problems)?,
            ),
        }
        Ok(())
    }
}

impl Block for Collectors {
    const EXPECTING: &'static str = "collectors to run (analytics, integrations: true or false)";
    const KEYS: &'static [&'static str] = &["analytics", "integrations"];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        _problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let target = match key {
            "analytics" => &mut self.analytics,
            _ => &mut self.integrations,
        };
        set(target, map.next_value()?);
        Ok(())
    }
}

impl Block for AwsSettings {
    const EXPECTING: &'static str = "AWS settings (region, role_arn, external_id, endpoint_url, \
        event_sources, rules, cache, period, delay)";
    const KEYS: &'static [&'static str] = &[
        "region",
        "role_arn",
        "external_id",
        "endpoint_url",
        "event_sources",
        "rules",
        "cache",
        "period",
        "delay",
    ];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let file_key = |k: AwsKey| k.of(Source::File);
        match key {
            "region" => self.region = map.next_value()?,
            "role_arn" => self.role_arn = map.next_value()?,
            "external_id" => self.external_id = map.next_value()?,
            "endpoint_url" => self.endpoint_url = map.next_value()?,
            "event_sources" => {
                self.event_sources = map.next_value::<Option<_>>()?.unwrap_or_default()
            }
            "rules" => {
                let raw: Option<Vec<RawRule>> = map.next_value()?;
                match AwsSettings::read_rules(raw.unwrap_or_default()) {
                    Ok(rules) => self.rules = rules,
                    Err(invalid) => problems.push(invalid),
                }
            }
            "cache" => {
                let value = AwsCache(self.ttl);
                self.ttl = map.next_value_seed(Over { value, problems })?.0;
            }
            "period" => set(
                &mut self.period,
                duration(map, file_key(AwsKey::Period), positive, problems)?,
            ),
            _ => set(
                &mut self.delay,
                duration(map, file_key(AwsKey::Delay), |_| Ok(()), problems)?,
            ),
        }
        Ok(())
    }
}

/// `aws.cache`: its TTL.
struct AwsCache(Duration);

impl Block for AwsCache {
    const EXPECTING: &'static str = "AWS cache settings (ttl)";
    const KEYS: &'static [&'static str] = &["ttl"];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        _key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let key = AwsKey::Ttl.of(Source::File);
        set(&mut self.0, duration(map, key, positive, problems)?);
        Ok(())
    }
}

impl Block for CacheConfig {
    const EXPECTING: &'static str = "cache settings (ttl, max_stale)";
    const KEYS: &'static [&'static str] = &["ttl", "max_stale"];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let (target, setting, rule): (_, _, Rule) = match key {
            "ttl" => (&mut self.ttl, Setting::CacheTtl, |_| Ok(())),
            _ => (&mut self.max_stale, Setting::CacheMaxStale, positive),
        };
        set(
            target,
            duration(map, Source::File.key(setting), rule, problems)?,
        );
        Ok(())
    }
}

/// An organisation of the file while its keys are read: its settings over
/// the flags', and the keys that make its name and upstream, checked once
/// the block has been read whole.
struct OrgBlock {
    settings: OrgSettings<()>,
    name: Option<String>,
    /// Whether the block names a region of its own.
    region_given: bool,
    api_url: Option<String>,
    login_url: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    /// Read once the block's thresholds, their defaults, are known.
    groups: Vec<RawGroup>,
}

impl Block for OrgBlock {
    const EXPECTING: &'static str = "an organisation";
    const KEYS: &'static [&'static str] = &[
        "name",
        "region",
        "api_url",
        "login_url",
        "client_id",
        "client_secret_file",
        "thresholds",
        "consumer_groups",
        "query",
        "cache",
        "collectors",
        "aws",
    ];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &'static str,
        map: &mut A,
        problems: &mut Vec<Invalid>,
    ) -> Result<(), A::Error> {
        let settings = &mut self.settings;
        match key {
            "name" => self.name = map.next_value()?,
            "region" => {
                let region: Option<String> = map.next_value()?;
                self.region_given = region.is_some();
                set(&mut settings.region, region);
            }
            "api_url" => self.api_url = map.next_value()?,
            "login_url" => self.login_url = map.next_value()?,
            "client_id" => self.client_id = map.next_value()?,
            "client_secret_file" => self.client_secret_file = map.next_value()?,
            "thresholds" => {
                settings.default_thresholds = map.next_value_seed(Over {
                    value: settings.default_thresholds,
                    problems,
                })?
            }
            "consumer_groups" => self.groups = map.next_value()?,
            "query" => {
                let value = settings.query.clone();
                settings.query = map.next_value_seed(Over { value, problems })?;
            }
            "cache" => {
                let value = settings.cache.clone();
                settings.cache = map.next_value_seed(Over { value, problems })?;
            }
            "collectors" => {
                let value = settings.collectors;
                settings.collectors = map.next_value_seed(Over { value, problems })?;
            }
            _ => {
                let value = settings.aws.clone();
                settings.aws = map.next_value_seed(Over { value, problems })?;
                settings.collectors.aws = true;
            }
        }
        Ok(())
    }
}

impl OrgBlock {
    /// The organisation the block describes, or the first thing wrong with
    /// it; `problems` are the values noted while reading.
    fn finish(
        self,
        mut problems: Vec<Invalid>,
        dir: &Path,
    ) -> Result<OrgSettings<FileUpstream>, OrgError> {
        let name = match self.name {
            None => return Err(OrgError::NameMissing),
            Some(n) if !valid_org_name(&n) => {
                return Err(OrgError::NameInvalid(
                    crate::logging::short(&n).into_owned(),
                ));
            }
            Some(n) => n,
        };
        let client_id = match self.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            Some(_) => return Err(Problem::Empty.of("client_id").into()),
            None => return Err(Problem::Missing.of("client_id").into()),
        };
        let client_secret_file = match self.client_secret_file {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(Problem::Empty.of("client_secret_file").into());
            }
            // An absolute path stays as it is.
            Some(p) => dir.join(p),
            None => return Err(OrgError::NoSecretFile),
        };
        if self.region_given && self.api_url.is_some() {
            return Err(OrgError::RegionAndApiUrl);
        }
        // In the order the checks have always run: the thresholds, the
        // groups held to them, the query's and cache's durations.
        use Setting::*;
        if let Some(invalid) = noted(&mut problems, &[MaxLag, MaxProcessingLatency]) {
            return Err(invalid.into());
        }
        let mut settings = self.settings;
        settings.name = name;
        settings.groups = groups(self.groups, settings.default_thresholds)?;
        let durations = [QueryWindow, QueryTimeout, CacheTtl, CacheMaxStale];
        if let Some(invalid) = noted(&mut problems, &durations) {
            return Err(invalid.into());
        }
        if let Some(invalid) = problems.into_iter().next() {
            return Err(invalid.into());
        }
        Ok(settings.with_upstream(FileUpstream {
            api_url: self.api_url,
            login_url: self.login_url,
            client_id,
            client_secret_file,
        }))
    }
}

/// Takes the problem noted for the first of `settings` that has one.
fn noted(problems: &mut Vec<Invalid>, settings: &[Setting]) -> Option<Invalid> {
    let at = settings.iter().find_map(|setting| {
        let key = Source::File.key(*setting);
        problems.iter().position(|p| p.key == key)
    });
    at.map(|at| problems.swap_remove(at))
}

/// A consumer group as a `consumer_groups:` list gives it. Its thresholds
/// are text here, and read in [`groups`], so that an error can name the
/// group, whose name may come after them.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a consumer group (name, max_lag, max_processing_latency)"
)]
pub struct RawGroup {
    name: String,
    max_lag: Option<String>,
    max_processing_latency: Option<String>,
}

/// The groups of a `consumer_groups:` list; what a group leaves out comes
/// from `defaults`, its organisation's thresholds.
pub fn groups(raw: Vec<RawGroup>, defaults: Thresholds) -> Result<Vec<GroupSpec>, GroupError> {
    let mut out: Vec<GroupSpec> = Vec::with_capacity(raw.len());
    for (index, group) in raw.into_iter().enumerate() {
        let name = group.name.trim().to_string();
        let mut at = Entry {
            list: "consumer_groups",
            index,
            name: None,
        };
        if name.is_empty() {
            return Err(GroupError {
                at,
                problem: GroupProblem::NameEmpty,
            });
        }
        at.name = Some(name.clone());
        let mut thresholds = defaults;
        for (key, text, target) in [
            ("max_lag", group.max_lag, &mut thresholds.max_lag),
            (
                "max_processing_latency",
                group.max_processing_latency,
                &mut thresholds.max_processing_latency,
            ),
        ] {
            let Some(text) = text else { continue };
            let read = parse_duration(&text).map_err(Problem::from);
            *target = read
                .and_then(|d| threshold(d).map(|()| d))
                .map_err(|p| GroupError {
                    at: at.clone(),
                    problem: GroupProblem::Invalid(p.of(key)),
                })?;
        }
        if out.iter().any(|g| g.name == name) {
            return Err(GroupError {
                at,
                problem: GroupProblem::NameTwice,
            });
        }
        out.push(GroupSpec { name, thresholds });
    }
    Ok(out)
}
