//! Following a configuration file while serving, as exporters built on the
//! Prometheus exporter toolkit follow theirs: the file (and any file it
//! names) is looked at every [`CHECK_INTERVAL`]; a change is read once the
//! files have stayed the same for one look (never half-written). One that
//! does not load, or that the loader refuses, is refused and what runs stays
//! in force. The web configuration and `--config.file` both follow their
//! files with this one mechanism; `reload` reads at once, for SIGHUP and
//! `POST /-/reload`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::files::{MAX_FILE_BYTES, read_capped};

/// How often the files are looked at: a change is in force one to two
/// intervals after it is written.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// One version of a file: a hash of its contents, so that a rewrite is seen
/// whatever the file system's timestamp resolution (the files are small).
pub type Stamp = Result<u64, std::io::ErrorKind>;

/// The stamp of a file as it is now. A file grown past
/// [`MAX_FILE_BYTES`] is not read whole every look: it stamps as
/// `FileTooLarge`, a change that the load then refuses by name.
pub fn stamp(path: &Path) -> Stamp {
    read_capped(path, MAX_FILE_BYTES)
        .map(|b| hash(&b))
        .map_err(|e| e.kind())
}

/// The stamp of bytes just read, so that a loader stamps exactly what it parsed.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// What a followed file is read into, and how a new version is let in.
pub trait Loader: Send + Sync + 'static {
    type Loaded: Send + Sync + 'static;

    /// For log lines: "web configuration", "configuration".
    const WHAT: &'static str;

    /// The file followed.
    fn path(&self) -> &Path;

    /// Reads the file (and what it names); the error is one line.
    fn load(&self) -> Result<Self::Loaded, String>;

    /// The files `loaded` was read from, each stamped as read (before or
    /// while reading, so that a write during the load shows as a change).
    fn files(loaded: &Self::Loaded) -> Vec<(PathBuf, Stamp)>;

    /// Why `next` may not replace `running` while serving, if it may not.
    fn refuse(&self, _running: &Self::Loaded, _next: &Self::Loaded) -> Option<String> {
        None
    }

    /// Puts `next` in force; called once per accepted version, before it
    /// becomes [`Followed::current`]. `trigger` says what read it, for the log.
    fn apply(&self, _next: &Arc<Self::Loaded>, _trigger: &'static str) {}
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
    /// The files as last seen changed; read when seen so twice in a row.
    pending: Option<Vec<Stamp>>,
    /// The last refusal logged, so that a broken file is reported once per
    /// distinct problem, not once per look or reload.
    refused: Option<String>,
}

/// A value read from a followed file, or a fixed one.
pub struct Followed<L: Loader> {
    current: RwLock<Arc<L::Loaded>>,
    /// `None` for a fixed value.
    loader: Option<L>,
    watch: Mutex<Watch>,
    /// Apart from the watch, so that a scrape never waits for a look.
    status: Mutex<ReloadStatus>,
}

impl<L: Loader> Followed<L> {
    /// A value that is not read from a file and never changes.
    pub fn fixed(value: L::Loaded) -> Self {
        Self::new(value, None)
    }

    /// `loaded` as read by `loader` at start; followed from now on.
    pub fn watched(loader: L, loaded: L::Loaded) -> Self {
        Self::new(loaded, Some(loader))
    }

    fn new(value: L::Loaded, loader: Option<L>) -> Self {
        Followed {
            current: RwLock::new(Arc::new(value)),
            loader,
            watch: Mutex::new(Watch {
                pending: None,
                refused: None,
            }),
            status: Mutex::new(ReloadStatus {
                successful: true,
                last_success: SystemTime::now(),
            }),
        }
    }

    /// The value in force.
    pub fn current(&self) -> Arc<L::Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn loader(&self) -> Option<&L> {
        self.loader.as_ref()
    }

    /// `None` for a fixed value.
    pub fn status(&self) -> Option<ReloadStatus> {
        self.loader.as_ref()?;
        Some(*self.status.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn set_status(&self, change: impl FnOnce(&mut ReloadStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Looks at the files every [`CHECK_INTERVAL`], for as long as the
    /// caller keeps the task (the server aborts it); returns at once for a
    /// fixed value. The looks read files and may build a TLS configuration:
    /// they run on the blocking pool, not on the workers that serve scrapes.
    pub async fn follow(self: Arc<Self>) {
        if self.loader.is_none() {
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

    /// One look, as [`follow`](Self::follow) takes every interval.
    pub fn check(&self) {
        let Some(loader) = &self.loader else { return };
        let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        let running = self.current();
        let files = L::files(&running);
        let seen: Vec<Stamp> = files.iter().map(|(path, _)| stamp(path)).collect();
        if files.iter().map(|(_, s)| *s).eq(seen.iter().copied()) {
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
        // Still pending after a refusal: the next look reads the files again,
        // so a fix (or a file the new version names appearing) is picked up.
        let _ = self.load_now(loader, &mut watch, &running, "file change");
    }

    /// Reads the file at once, whatever the stamps say: SIGHUP and
    /// `POST /-/reload` (named by `trigger` in the log). The error is the
    /// one-line reason of a refusal.
    pub fn reload(&self, trigger: &'static str) -> Result<(), String> {
        let Some(loader) = &self.loader else {
            return Ok(());
        };
        let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        let running = self.current();
        self.load_now(loader, &mut watch, &running, trigger)
    }

    fn load_now(
        &self,
        loader: &L,
        watch: &mut Watch,
        running: &L::Loaded,
        trigger: &'static str,
    ) -> Result<(), String> {
        let refusal = match loader.load() {
            Ok(next) => match loader.refuse(running, &next) {
                Some(why) => why,
                None => {
                    watch.pending = None;
                    watch.refused = None;
                    let next = Arc::new(next);
                    loader.apply(&next, trigger);
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
                    self.set_status(|s| {
                        *s = ReloadStatus {
                            successful: true,
                            last_success: SystemTime::now(),
                        }
                    });
                    return Ok(());
                }
            },
            Err(e) => e,
        };
        self.set_status(|s| s.successful = false);
        if watch.refused.as_ref() != Some(&refusal) {
            tracing::error!(
                file = %loader.path().display(),
                trigger,
                error = %refusal,
                "{} change refused; the running configuration stays in force",
                L::WHAT
            );
            watch.refused = Some(refusal.clone());
        }
        Err(refusal)
    }

    /// The refusal last logged, while a change is refused.
    pub fn refused(&self) -> Option<String> {
        self.watch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refused
            .clone()
    }
}
