//! The web configuration in force, following `--web.config.file` and the
//! certificate, key and CA files it names: rotated certificates and changed
//! users take effect without a restart. A change that would lower the
//! protection in force (TLS on or off, users removed, another
//! `client_auth_type`, a lower `min_version`) is refused and the running
//! configuration stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::{self, WebConfig};
use super::follow::{Followed, Loader, Stamp};

/// `--web.config.file`, as followed.
#[derive(Debug)]
pub struct WebConfigFile {
    pub path: PathBuf,
}

impl Loader for WebConfigFile {
    type Loaded = WebConfig;
    const WHAT: &'static str = "web configuration";

    fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<WebConfig, String> {
        config::load(&self.path).map_err(|e| e.to_string())
    }

    fn files(loaded: &WebConfig) -> Vec<(PathBuf, Stamp)> {
        loaded.files.clone()
    }

    fn refuse(&self, running: &WebConfig, next: &WebConfig) -> Option<String> {
        needs_restart(running, next).map(str::to_string)
    }

    fn apply(&self, next: &Arc<WebConfig>, trigger: &'static str) {
        tracing::info!(
            file = %self.path.display(),
            trigger,
            tls = next.tls.is_some(),
            client_auth = ?next.client_auth,
            basic_auth = next.auth.is_some(),
            "web configuration reloaded"
        );
        if let Some(warning) = next.auth.as_ref().and_then(|a| a.cost_warning()) {
            tracing::warn!("{warning}");
        }
    }
}

/// The web configuration shared by the server; without a file it never changes.
pub type LiveWebConfig = Followed<WebConfigFile>;

/// A web configuration read from `path` at start, followed from now on.
pub fn watched(path: PathBuf, loaded: WebConfig) -> LiveWebConfig {
    Followed::watched(WebConfigFile { path }, loaded)
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
        live.refused()
    }

    #[test]
    fn a_change_is_read_once_it_has_settled() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("web.yml");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&path, "").unwrap();
        let live = watched(path.clone(), config::load(&path).unwrap());
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
        let live = watched(path.clone(), config::load(&path).unwrap());
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
        let loaded = config::load(&path).unwrap();
        std::fs::write(&path, format!("basic_auth_users:\n  p: '{hash}'\n")).unwrap();
        let live = watched(path, loaded);
        assert!(live.current().auth.is_none());
        assert!(users(&settle(&live)).unwrap().contains("\"p\""));
    }

    #[test]
    fn a_fixed_configuration_is_never_read() {
        let live = LiveWebConfig::fixed(WebConfig::default());
        live.check();
        assert_eq!(live.status(), None);
        let first = live.current();
        assert!(Arc::ptr_eq(&first, &live.current()));
    }
}
