//! The snapshot cache: a scrape is served from the latest query unless it is
//! older than the TTL; concurrent scrapes share one query; during a 429
//! cooldown no query starts; data older than `max_stale` is not served.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::budget::{FINISH_GRACE, query_budget};
use crate::model::Figures;

/// The figures of one successful query, with their encodings made on first use.
#[derive(Debug)]
pub struct Snapshot {
    pub figures: Arc<Figures>,
    pub taken_at: Instant,
    pub taken_at_wall: SystemTime,
    /// Encoded per-group series, one slot per exposition format: a snapshot is
    /// encoded at most once per format however often it is scraped.
    pub(crate) bodies: [OnceLock<Encoded>; 2],
}

/// One encoded part of a response: as text, and compressed once asked.
#[derive(Debug)]
pub struct Encoded {
    pub plain: Bytes,
    pub gzip: OnceLock<Deflated>,
}

/// A part as raw DEFLATE blocks ending on a byte boundary (a sync flush),
/// with the CRC-32 and length of its text: parts compressed apart join into
/// one gzip stream, which every client decodes.
#[derive(Debug)]
pub struct Deflated {
    pub blocks: Bytes,
    pub crc: flate2::Crc,
}

impl Encoded {
    pub fn new(plain: Bytes) -> Encoded {
        Encoded {
            plain,
            gzip: OnceLock::new(),
        }
    }

    /// A part written into a growing buffer, kept without the spare room the
    /// growth left: up to half of it, held by every organisation between
    /// scrapes.
    pub fn text(plain: String) -> Encoded {
        Encoded::new(kept(plain.into_bytes()))
    }
}

/// A buffer kept between scrapes, without its spare capacity.
pub fn kept(mut buffer: Vec<u8>) -> Bytes {
    buffer.shrink_to_fit();
    Bytes::from(buffer)
}

impl Snapshot {
    pub fn new(figures: Figures) -> Snapshot {
        Snapshot {
            figures: Arc::new(figures),
            taken_at: Instant::now(),
            taken_at_wall: SystemTime::now(),
            bodies: Default::default(),
        }
    }

    pub fn age(&self) -> Duration {
        self.taken_at.elapsed()
    }
}

/// Where snapshots come from.
pub trait Source: Send + Sync + 'static {
    /// Runs one query that must end by `deadline`; `None` when it failed
    /// (the source records and logs why).
    fn fetch(&self, deadline: Instant) -> impl Future<Output = Option<Snapshot>> + Send;

    /// Time left in a cooldown during which no query may start.
    fn cooldown(&self) -> Option<Duration>;

    /// A fetch panicked (a bug): the source records it as a failed query.
    fn panicked(&self, message: &str);
}

/// What a panic said, for the log and the landing page.
fn panic_message(error: tokio::task::JoinError) -> String {
    if error.is_cancelled() {
        return "the query was cancelled".into();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

pub struct SnapshotCache<S> {
    source: Arc<S>,
    ttl: Duration,
    max_stale: Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    good: Option<Arc<Snapshot>>,
    last_finished: Option<Instant>,
    /// The running query: its completion and its deadline.
    in_flight: Option<(watch::Receiver<bool>, Instant)>,
}

impl<S: Source> SnapshotCache<S> {
    pub fn new(source: S, ttl: Duration, max_stale: Duration) -> Self {
        SnapshotCache {
            source: Arc::new(source),
            ttl,
            max_stale,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The snapshot a scrape with `budget` serves: fresh from the cache, from
    /// the query this call starts or joins, or the last good one when the
    /// query fails or outlasts the budget. `None` when no good data is newer
    /// than `max_stale`.
    pub async fn get(&self, budget: Duration) -> Option<Arc<Snapshot>> {
        let (mut done, query_deadline) = {
            let mut state = self.lock();
            let fresh = state.last_finished.is_some_and(|t| t.elapsed() < self.ttl);
            if fresh || self.source.cooldown().is_some() {
                return self.servable(&state);
            }
            match &state.in_flight {
                Some(running) => running.clone(),
                None => {
                    let running = self.start_query(budget);
                    state.in_flight = Some(running.clone());
                    running
                }
            }
        };
        // Past the budget the scrape answers with what there is; the query
        // goes on in its task and fills the cache for the next scrape.
        let finished = tokio::time::timeout(budget, done.wait_for(|finished| *finished))
            .await
            .is_ok();
        if !finished && Instant::now() >= query_deadline {
            let _ = tokio::time::timeout(FINISH_GRACE, done.wait_for(|finished| *finished)).await;
        }
        self.servable(&self.lock())
    }

    /// The snapshot a scrape would get now, without starting a query.
    pub fn peek(&self) -> Option<Arc<Snapshot>> {
        self.servable(&self.lock())
    }

    fn servable(&self, state: &State) -> Option<Arc<Snapshot>> {
        state.good.clone().filter(|s| s.age() <= self.max_stale)
    }

    /// The query runs in its own task, so that a scrape that gives up or
    /// disconnects does not cancel the work the other scrapes wait for.
    fn start_query(&self, budget: Duration) -> (watch::Receiver<bool>, Instant) {
        let (tx, rx) = watch::channel(false);
        let source = self.source.clone();
        let state = self.state.clone();
        let deadline = Instant::now() + query_budget(budget);
        tokio::spawn(async move {
            // The fetch in a task of its own: a panic in it ends this query
            // as a failure and the next scrape queries again, where it would
            // otherwise leave the query in flight for good.
            let fetch = {
                let source = source.clone();
                tokio::spawn(async move { source.fetch(deadline).await })
            };
            let result = match fetch.await {
                Ok(result) => result,
                Err(error) => {
                    source.panicked(&panic_message(error));
                    None
                }
            };
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(snapshot) = result {
                state.good = Some(Arc::new(snapshot));
            }
            state.last_finished = Some(Instant::now());
            state.in_flight = None;
            let _ = tx.send(true);
        });
        (rx, deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that succeeds or fails on demand and counts its queries.
    struct Fake {
        queries: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
        delay: Duration,
        cooldown: Mutex<Option<Duration>>,
    }

    impl Fake {
        fn new(delay: Duration) -> Fake {
            Fake {
                queries: AtomicUsize::new(0),
                fail: Default::default(),
                delay,
                cooldown: Mutex::new(None),
            }
        }
    }

    impl Source for Fake {
        async fn fetch(&self, _deadline: Instant) -> Option<Snapshot> {
            let n = self.queries.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            if self.fail.load(Ordering::SeqCst) {
                return None;
            }
            Some(Snapshot::new(Figures {
                valid_rows: n,
                ..Figures::default()
            }))
        }
        fn cooldown(&self) -> Option<Duration> {
            *self.cooldown.lock().unwrap()
        }
        fn panicked(&self, _: &str) {}
    }

    /// A source whose first fetch panics, as a bug in the client would.
    struct PanicsOnce {
        queries: AtomicUsize,
        panics: Mutex<Vec<String>>,
    }

    impl Source for PanicsOnce {
        async fn fetch(&self, _deadline: Instant) -> Option<Snapshot> {
            if self.queries.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("date overflow in the request builder");
            }
            Some(Snapshot::new(Figures::default()))
        }
        fn cooldown(&self) -> Option<Duration> {
            None
        }
        fn panicked(&self, message: &str) {
            self.panics.lock().unwrap().push(message.to_string());
        }
    }

    #[tokio::test]
    async fn a_fetch_that_panics_fails_and_the_next_scrape_queries_again() {
        let cache = SnapshotCache::new(
            PanicsOnce {
                queries: AtomicUsize::new(0),
                panics: Mutex::new(Vec::new()),
            },
            Duration::ZERO,
            Duration::from_secs(900),
        );
        assert!(cache.get(BUDGET).await.is_none());
        assert_eq!(
            *cache.source().panics.lock().unwrap(),
            ["date overflow in the request builder"],
            "the panic is recorded with its message"
        );
        assert!(
            cache.get(BUDGET).await.is_some(),
            "the next scrape queries again"
        );
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 2);
    }

    const BUDGET: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn concurrent_scrapes_share_one_query() {
        let cache = Arc::new(SnapshotCache::new(
            Fake::new(Duration::from_millis(100)),
            Duration::from_secs(60),
            Duration::from_secs(900),
        ));
        let scrapes: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get(BUDGET).await.unwrap().figures.valid_rows })
            })
            .collect();
        for s in scrapes {
            assert_eq!(s.await.unwrap(), 1);
        }
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_is_respected() {
        let cache = SnapshotCache::new(
            Fake::new(Duration::ZERO),
            Duration::from_secs(60),
            Duration::from_secs(900),
        );
        assert_eq!(cache.get(BUDGET).await.unwrap().figures.valid_rows, 1);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(cache.get(BUDGET).await.unwrap().figures.valid_rows, 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(cache.get(BUDGET).await.unwrap().figures.valid_rows, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_keep_the_last_good_snapshot_until_max_stale() {
        let cache = SnapshotCache::new(
            Fake::new(Duration::ZERO),
            Duration::from_secs(60),
            Duration::from_secs(300),
        );
        cache.get(BUDGET).await.unwrap();
        cache.source().fail.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.get(BUDGET).await.unwrap().figures.valid_rows, 1);
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(240)).await;
        assert!(cache.get(BUDGET).await.is_none(), "older than max_stale");
    }

    #[tokio::test(start_paused = true)]
    async fn no_query_during_a_cooldown() {
        let cache = SnapshotCache::new(
            Fake::new(Duration::ZERO),
            Duration::ZERO,
            Duration::from_secs(900),
        );
        cache.get(BUDGET).await.unwrap();
        *cache.source().cooldown.lock().unwrap() = Some(Duration::from_secs(3));
        for _ in 0..5 {
            assert!(cache.get(BUDGET).await.is_some());
        }
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 1);
    }

    /// A source that spends its whole deadline, then fails. Giving up takes
    /// it one more turn of the scheduler, as the real query's error path
    /// takes time on another worker while the scrape's timer fires.
    struct Stalls {
        finished: std::sync::atomic::AtomicBool,
    }

    impl Source for Stalls {
        async fn fetch(&self, deadline: Instant) -> Option<Snapshot> {
            tokio::time::sleep_until(deadline).await;
            tokio::task::yield_now().await;
            self.finished.store(true, Ordering::SeqCst);
            None
        }
        fn cooldown(&self) -> Option<Duration> {
            None
        }
        fn panicked(&self, _: &str) {}
    }

    #[tokio::test(start_paused = true)]
    async fn a_scrape_that_runs_out_of_time_sees_the_query_fail() {
        let cache = SnapshotCache::new(
            Stalls {
                finished: Default::default(),
            },
            Duration::ZERO,
            Duration::from_secs(900),
        );
        let started = Instant::now();
        assert!(cache.get(Duration::from_millis(2500)).await.is_none());
        assert!(
            cache.source().finished.load(Ordering::SeqCst),
            "the query ended before the scrape answered"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(2300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_machine_still_sees_the_query_fail() {
        let cache = Arc::new(SnapshotCache::new(
            Stalls {
                finished: Default::default(),
            },
            Duration::ZERO,
            Duration::from_secs(900),
        ));
        let scrape = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get(Duration::from_millis(2500)).await })
        };
        tokio::task::yield_now().await;
        // The machine runs nothing for 3 s: the query's deadline and the
        // scrape's wait have both passed when the runtime runs again.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(scrape.await.unwrap().is_none());
        assert!(
            cache.source().finished.load(Ordering::SeqCst),
            "the scrape answered before the query recorded its failure"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_query_does_not_hold_the_scrape_past_its_budget() {
        let cache = SnapshotCache::new(
            Fake::new(Duration::from_secs(30)),
            Duration::ZERO,
            Duration::from_secs(900),
        );
        let started = Instant::now();
        assert!(cache.get(Duration::from_secs(2)).await.is_none());
        assert!(started.elapsed() < Duration::from_secs(3));
        // The query finished in the background and filled the cache.
        tokio::time::advance(Duration::from_secs(30)).await;
        tokio::task::yield_now().await;
        assert!(cache.peek().is_some());
    }
}
