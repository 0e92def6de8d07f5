//! Reloading `--config.file` while serving: on SIGHUP, on `POST /-/reload`,
//! and when the file changes (followed with the web configuration's
//! mechanism). A file that does not load is refused and what runs stays in
//! force; one that loads puts its organisations in force.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Registry;
use crate::config::{self, ClientSecret, FileConfig, FlagSettings, Organizations, Upstream};
use crate::web::follow::{Followed, Loader, Stamp, stamp};

/// A load of the file and the organisations it makes.
#[derive(Debug)]
pub struct LoadedConfig {
    pub file: FileConfig,
    pub orgs: Organizations,
    /// The file and the secret files it names, stamped as read: a secret
    /// file that vanishes is seen as a change, and refused.
    files: Vec<(PathBuf, Stamp)>,
}

impl LoadedConfig {
    pub fn new(path: Option<&Path>, file: FileConfig, orgs: Organizations) -> LoadedConfig {
        let mut files: Vec<(PathBuf, Stamp)> = Vec::new();
        if let (Some(path), Some(stamp)) = (path, file.stamp) {
            files.push((path.to_path_buf(), stamp));
        }
        for org in &orgs.configured {
            if let Upstream::Remote(e) = &org.upstream
                && let ClientSecret::File { path, .. } = &e.client_secret
            {
                files.push((path.clone(), stamp(path)));
            }
        }
        LoadedConfig { file, orgs, files }
    }
}

/// `--config.file`, as followed.
pub struct ConfigFile {
    pub path: PathBuf,
    /// Read over by every load.
    pub flags: FlagSettings,
    pub registry: Arc<Registry>,
}

impl Loader for ConfigFile {
    type Loaded = LoadedConfig;
    const WHAT: &'static str = "configuration";

    fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<LoadedConfig, String> {
        let file = config::file::load(&self.path, &self.flags).map_err(|e| e.to_string())?;
        let orgs = Organizations::new(&self.flags, &file).map_err(|e| e.to_string())?;
        Ok(LoadedConfig::new(Some(&self.path), file, orgs))
    }

    fn files(loaded: &LoadedConfig) -> Vec<(PathBuf, Stamp)> {
        loaded.files.clone()
    }

    fn refuse(&self, _running: &LoadedConfig, next: &LoadedConfig) -> Option<String> {
        // Building the clients is the one part of putting it in force that
        // can fail (an HTTPS organisation on a machine without CA
        // certificates); checked here, so that such a file is refused.
        self.registry.check(&next.orgs).err().map(|e| e.to_string())
    }

    fn apply(&self, next: &Arc<LoadedConfig>, trigger: &'static str) {
        match self.registry.apply(&next.orgs) {
            Ok(changes) => tracing::info!(
                file = %self.path.display(),
                trigger,
                organizations = next.orgs.configured.len(),
                added = changes.added,
                changed = changes.changed,
                removed = changes.removed,
                kept = changes.kept,
                "configuration reloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client; organisations unchanged")
            }
        }
    }
}

/// The configuration in force; without `--config.file`, fixed.
pub type LiveConfig = Followed<ConfigFile>;
