//! The web configuration in force, re-read when its file or a certificate,
//! key or CA file it names changes: rotated certificates and changed users
//! take effect without a restart, as they do in exporters built on the
//! Prometheus exporter toolkit. A change is read once the files have stayed
//! the same for one check (never half-written), and one that does not load,
//! turns TLS on or off, or drops basic auth keeps the running configuration:
//! a reload never lowers the protection the exporter started with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::webconfig::{self, WebConfig};

/// How often the files are looked at: a change is in force one to two
/// intervals after it is written.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What identifies one version of a file: a rewrite, a rename over it or a
/// symlink swap (Kubernetes secrets) each change it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stamp {
    Present {
        len: u64,
        modified: Option<SystemTime>,
        inode: u64,
    },
    Unreadable(std::io::ErrorKind),
}

fn stamp(path: &Path) -> Stamp {
    match std::fs::metadata(path) {
        Ok(m) => Stamp::Present {
            len: m.len(),
            modified: m.modified().ok(),
            inode: inode(&m),
        },
        Err(e) => Stamp::Unreadable(e.kind()),
    }
}

#[cfg(unix)]
fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

fn stamps(path: &Path, config: &WebConfig) -> Vec<Stamp> {
    std::iter::once(path)
        .chain(config.files.iter().map(PathBuf::as_path))
        .map(stamp)
        .collect()
}

#[derive(Debug)]
struct Watch {
    path: PathBuf,
    /// The files as they were when the configuration in force was loaded.
    loaded: Vec<Stamp>,
    /// The files as last seen changed; read when seen so twice in a row.
    pending: Option<Vec<Stamp>>,
    /// The last refusal logged, so that a broken file is reported once per
    /// distinct problem, not once per check.
    refused: Option<String>,
}

/// The web configuration shared by the server; without a file it never changes.
#[derive(Debug)]
pub struct LiveWebConfig {
    current: RwLock<Arc<WebConfig>>,
    watched: Option<Mutex<Watch>>,
}

impl LiveWebConfig {
    /// A configuration that is not read from a file.
    pub fn fixed(config: WebConfig) -> LiveWebConfig {
        LiveWebConfig {
            current: RwLock::new(Arc::new(config)),
            watched: None,
        }
    }

    /// `config` as loaded from `path` at start; watched from now on.
    pub fn watched(path: PathBuf, config: WebConfig) -> LiveWebConfig {
        let loaded = stamps(&path, &config);
        LiveWebConfig {
            current: RwLock::new(Arc::new(config)),
            watched: Some(Mutex::new(Watch {
                path,
                loaded,
                pending: None,
                refused: None,
            })),
        }
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<WebConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Looks at the files every [`CHECK_INTERVAL`], for as long as the
    /// server runs (it aborts the task); returns at once with no file.
    pub async fn watch(&self) {
        if self.watched.is_none() {
            return;
        }
        let mut ticks = tokio::time::interval(CHECK_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.check();
        }
    }

    fn check(&self) {
        let Some(watch) = &self.watched else { return };
        let mut watch = watch.lock().unwrap_or_else(|e| e.into_inner());
        let running = self.current();
        let seen = stamps(&watch.path, &running);
        if seen == watch.loaded {
            watch.pending = None;
            return;
        }
        if watch.pending.as_ref() != Some(&seen) {
            // Changed since the last look: maybe still being written.
            watch.pending = Some(seen);
            return;
        }
        let refusal = match webconfig::load(&watch.path) {
            Ok(next) if next.tls.is_some() != running.tls.is_some() => {
                "switching TLS on or off needs a restart".to_string()
            }
            Ok(next) if next.auth.is_none() && running.auth.is_some() => {
                "removing basic_auth_users needs a restart".to_string()
            }
            Ok(next) => {
                // Stamps taken before reading, so that a write during the
                // read shows as a change next time; fresh ones only for files
                // the new version names for the first time.
                watch.loaded = if next.files == running.files {
                    seen
                } else {
                    stamps(&watch.path, &next)
                };
                watch.pending = None;
                watch.refused = None;
                tracing::info!(
                    file = %watch.path.display(),
                    tls = next.tls.is_some(),
                    basic_auth = next.auth.is_some(),
                    "web configuration reloaded"
                );
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
                return;
            }
            Err(e) => e.to_string(),
        };
        // Still pending: the next check reads the files again, so a fix (or
        // a file the new version names appearing) is picked up.
        if watch.refused.as_ref() != Some(&refusal) {
            tracing::error!(
                file = %watch.path.display(),
                error = %refusal,
                "web configuration change refused; the running configuration stays in force"
            );
            watch.refused = Some(refusal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(config: &WebConfig) -> Option<String> {
        config.auth.as_ref().map(|a| format!("{a:?}"))
    }

    /// One look, as the watch task takes every interval.
    fn tick(live: &LiveWebConfig) -> Arc<WebConfig> {
        live.check();
        live.current()
    }

    /// Two looks: one sees the change, the next reads it.
    fn settle(live: &LiveWebConfig) -> Arc<WebConfig> {
        tick(live);
        tick(live)
    }

    fn refused(live: &LiveWebConfig) -> Option<String> {
        live.watched
            .as_ref()
            .unwrap()
            .lock()
            .unwrap()
            .refused
            .clone()
    }

    #[test]
    fn a_change_is_read_once_it_has_settled() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("web.yml");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&path, "").unwrap();
        let live = LiveWebConfig::watched(path.clone(), webconfig::load(&path).unwrap());
        assert!(live.current().auth.is_none());

        std::fs::write(&path, format!("basic_auth_users:\n  p: '{hash}'\n")).unwrap();
        assert!(
            tick(&live).auth.is_none(),
            "read while it may be half-written"
        );
        // Changed again before it settled: the look after that still waits.
        std::fs::write(&path, format!("basic_auth_users:\n  q: '{hash}'\n")).unwrap();
        assert!(tick(&live).auth.is_none());
        let now = tick(&live);
        assert!(users(&now).unwrap().contains("\"q\""), "{now:?}");

        // Nothing changed: the same configuration, not a new one.
        assert!(Arc::ptr_eq(&now, &settle(&live)));
    }

    #[test]
    fn a_change_that_does_not_load_or_lowers_protection_is_refused_until_fixed() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("web.yml");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&path, format!("basic_auth_users:\n  p: '{hash}'\n")).unwrap();
        let live = LiveWebConfig::watched(path.clone(), webconfig::load(&path).unwrap());

        for (change, why) in [
            ("basic_auth_users:\n  p: not-a-hash\n", "basic_auth_users"),
            ("basic_auth_users: [\n", "basic_auth_users"),
            ("", "removing basic_auth_users"),
            (
                "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n",
                "a.crt",
            ),
        ] {
            std::fs::write(&path, change).unwrap();
            let running = settle(&live);
            assert!(users(&running).unwrap().contains("\"p\""), "{change}");
            let refusal = refused(&live).unwrap();
            assert!(refusal.contains(why), "{change}: {refusal}");
        }
        std::fs::remove_file(&path).unwrap();
        assert!(
            settle(&live).auth.is_some(),
            "a vanished file changes nothing"
        );

        std::fs::write(&path, format!("basic_auth_users:\n  q: '{hash}'\n")).unwrap();
        let fixed = users(&settle(&live)).unwrap();
        assert!(
            fixed.contains("\"q\"") && !fixed.contains("\"p\""),
            "{fixed}"
        );
        assert_eq!(refused(&live), None);
    }

    #[test]
    fn a_fixed_configuration_is_never_read() {
        let live = LiveWebConfig::fixed(WebConfig::default());
        let first = live.current();
        assert!(Arc::ptr_eq(&first, &live.current()));
    }
}
