//! The web configuration in force, re-read when its file or a certificate,
//! key or CA file it names changes: rotated certificates and changed users
//! take effect without a restart, as they do in exporters built on the
//! Prometheus exporter toolkit. A change is read once the files have stayed
//! the same for one check (never half-written). One that does not load, or
//! that would lower the protection in force (TLS on or off, users removed,
//! another `client_auth_type`, a lower `min_version`), is refused and the
//! running configuration stays.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::webconfig::{self, Stamp, WebConfig};

/// How often the files are looked at: a change is in force one to two
/// intervals after it is written.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The files a configuration was read from, as they are now.
fn on_disk(config: &WebConfig) -> Vec<Stamp> {
    config
        .files
        .iter()
        .map(|(path, _)| webconfig::stamp(path))
        .collect()
}

/// The same files as they were when read (stamped before reading, so a
/// write during the load shows as a change).
fn as_read(config: &WebConfig) -> Vec<Stamp> {
    config.files.iter().map(|(_, stamp)| *stamp).collect()
}

/// Why `next` may not replace `running` while serving, if it may not.
fn needs_restart(running: &WebConfig, next: &WebConfig) -> Option<&'static str> {
    if next.tls.is_some() != running.tls.is_some() {
        Some("switching TLS on or off needs a restart")
    } else if next.auth.is_none() && running.auth.is_some() {
        Some("removing basic_auth_users needs a restart")
    } else if next.client_auth != running.client_auth {
        Some("changing client_auth_type needs a restart")
    } else if next.min_version < running.min_version {
        Some("lowering min_version needs a restart")
    } else {
        None
    }
}

/// For the exporter's own metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadStatus {
    /// False while a change is refused.
    pub successful: bool,
    /// When the configuration in force was loaded (at start, or reloaded).
    pub last_success: SystemTime,
}

#[derive(Debug)]
struct Watch {
    path: PathBuf,
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
    /// Apart from the watch, so that a scrape never waits for a check.
    status: Option<Mutex<ReloadStatus>>,
}

impl LiveWebConfig {
    /// A configuration that is not read from a file.
    pub fn fixed(config: WebConfig) -> LiveWebConfig {
        LiveWebConfig {
            current: RwLock::new(Arc::new(config)),
            watched: None,
            status: None,
        }
    }

    /// `config` as loaded from `path` at start; watched from now on.
    pub fn watched(path: PathBuf, config: WebConfig) -> LiveWebConfig {
        LiveWebConfig {
            current: RwLock::new(Arc::new(config)),
            watched: Some(Mutex::new(Watch {
                path,
                pending: None,
                refused: None,
            })),
            status: Some(Mutex::new(ReloadStatus {
                successful: true,
                last_success: SystemTime::now(),
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

    /// `None` without a file.
    pub fn status(&self) -> Option<ReloadStatus> {
        let status = self.status.as_ref()?;
        Some(*status.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn set_status(&self, change: impl FnOnce(&mut ReloadStatus)) {
        if let Some(status) = &self.status {
            change(&mut status.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// Looks at the files every [`CHECK_INTERVAL`], for as long as the
    /// server runs (it aborts the task); returns at once with no file. The
    /// looks read files and may build a TLS configuration: they run on the
    /// blocking pool, not on the workers that serve scrapes.
    pub async fn watch(self: Arc<Self>) {
        if self.watched.is_none() {
            return;
        }
        let mut ticks = tokio::time::interval(CHECK_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.check()).await;
        }
    }

    fn check(&self) {
        let Some(watch) = &self.watched else { return };
        let mut watch = watch.lock().unwrap_or_else(|e| e.into_inner());
        let running = self.current();
        let seen = on_disk(&running);
        if seen == as_read(&running) {
            // Unchanged, or a refused change taken back.
            watch.pending = None;
            watch.refused = None;
            self.set_status(|s| s.successful = true);
            return;
        }
        if watch.pending.as_ref() != Some(&seen) {
            // Changed since the last look: maybe still being written.
            watch.pending = Some(seen);
            return;
        }
        let refusal = match webconfig::load(&watch.path) {
            Ok(next) => match needs_restart(&running, &next) {
                Some(why) => why.to_string(),
                None => {
                    watch.pending = None;
                    watch.refused = None;
                    self.set_status(|s| {
                        *s = ReloadStatus {
                            successful: true,
                            last_success: SystemTime::now(),
                        }
                    });
                    tracing::info!(
                        file = %watch.path.display(),
                        tls = next.tls.is_some(),
                        client_auth = ?next.client_auth,
                        basic_auth = next.auth.is_some(),
                        "web configuration reloaded"
                    );
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
                    return;
                }
            },
            Err(e) => e.to_string(),
        };
        // Still pending: the next check reads the files again, so a fix (or
        // a file the new version names appearing) is picked up.
        self.set_status(|s| s.successful = false);
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
        let started = live.status().unwrap();
        assert!(started.successful);

        for (change, why) in [
            ("basic_auth_users:\n  p: not-a-hash\n", "basic_auth_users"),
            ("basic_auth_users: [\n", "basic_auth_users"),
            ("", "removing basic_auth_users"),
            // A certificate that cannot be read (TLS switched on is refused
            // too: the tests with certificates show it).
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
            assert!(!live.status().unwrap().successful);
        }
        std::fs::remove_file(&path).unwrap();
        assert!(
            settle(&live).auth.is_some(),
            "a vanished file changes nothing"
        );
        // Put back as it was loaded: nothing is refused any more.
        std::fs::write(&path, format!("basic_auth_users:\n  p: '{hash}'\n")).unwrap();
        tick(&live);
        assert_eq!(refused(&live), None);
        assert_eq!(live.status().unwrap(), started);

        std::fs::write(&path, format!("basic_auth_users:\n  q: '{hash}'\n")).unwrap();
        let fixed = users(&settle(&live)).unwrap();
        assert!(
            fixed.contains("\"q\"") && !fixed.contains("\"p\""),
            "{fixed}"
        );
        assert_eq!(refused(&live), None);
        let reloaded = live.status().unwrap();
        assert!(reloaded.successful && reloaded.last_success > started.last_success);
    }

    #[test]
    fn what_is_asked_of_clients_and_the_lowest_version_may_not_drop() {
        use super::super::tls::{ClientAuth, TlsVersion};
        let with = |client_auth, min_version| WebConfig {
            client_auth: Some(client_auth),
            min_version: Some(min_version),
            ..WebConfig::default()
        };
        let running = with(ClientAuth::RequireAndVerifyClientCert, TlsVersion::TLS13);
        let cases = [
            (
                ClientAuth::RequireAndVerifyClientCert,
                TlsVersion::TLS13,
                None,
            ),
            (
                ClientAuth::NoClientCert,
                TlsVersion::TLS13,
                Some("changing client_auth_type needs a restart"),
            ),
            (
                ClientAuth::RequireAndVerifyClientCert,
                TlsVersion::TLS12,
                Some("lowering min_version needs a restart"),
            ),
        ];
        for (client_auth, min_version, expected) in cases {
            let next = with(client_auth, min_version);
            assert_eq!(needs_restart(&running, &next), expected, "{next:?}");
        }
        // Raising the lowest version is fine.
        let running = with(ClientAuth::NoClientCert, TlsVersion::TLS12);
        let next = with(ClientAuth::NoClientCert, TlsVersion::TLS13);
        assert_eq!(needs_restart(&running, &next), None);
    }

    #[test]
    fn a_change_made_between_the_load_at_start_and_the_watch_is_seen() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("web.yml");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&path, "").unwrap();
        let loaded = webconfig::load(&path).unwrap();
        std::fs::write(&path, format!("basic_auth_users:\n  p: '{hash}'\n")).unwrap();
        let live = LiveWebConfig::watched(path, loaded);
        assert!(live.current().auth.is_none());
        assert!(users(&settle(&live)).unwrap().contains("\"p\""));
    }

    #[test]
    fn a_fixed_configuration_is_never_read() {
        let live = LiveWebConfig::fixed(WebConfig::default());
        assert_eq!(live.status(), None);
        let first = live.current();
        assert!(Arc::ptr_eq(&first, &live.current()));
    }
}
