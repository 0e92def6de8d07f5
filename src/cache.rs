//! The cycle cache: a scrape starts a cycle of an organisation's requests
//! unless one started less than the TTL ago, less a slack ([`ttl_slack`]);
//! concurrent scrapes share one
//! cycle; during a 429 cooldown none starts; a scrape waits for the cycle at
//! most its budget. What a cycle yields is kept by its collectors, each in a
//! [`Latest`]: the last good [`Snapshot`], not served once older than
//! `max_stale`.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::budget::{AFTER_MAIN, FINISH_GRACE, query_budget};
use crate::exposition::{Encoded, Format};

/// The data of one successful request, with its encodings made on first use.
#[derive(Debug)]
pub struct Snapshot<T> {
    pub data: T,
    pub taken_at: Instant,
    /// Encoded series, one slot per exposition format: a snapshot is
    /// encoded at most once per format however often it is scraped.
    bodies: [OnceLock<Arc<Encoded>>; 2],
}

impl<T> Snapshot<T> {
    pub fn new(data: T) -> Snapshot<T> {
        Snapshot {
            data,
            taken_at: Instant::now(),
            bodies: Default::default(),
        }
    }

    pub fn age(&self) -> Duration {
        self.taken_at.elapsed()
    }

    /// Its series in `format`, encoded by `encode` the first time.
    pub fn encoded(&self, format: Format, encode: impl FnOnce(&T) -> String) -> Arc<Encoded> {
        self.bodies[format.slot()]
            .get_or_init(|| Arc::new(Encoded::text(encode(&self.data))))
            .clone()
    }
}

/// The last good snapshot of one kind of data, served until it is older
/// than `max_stale` (never stale numbers).
#[derive(Debug)]
pub struct Latest<T> {
    good: Mutex<Option<Arc<Snapshot<T>>>>,
    max_stale: Duration,
}

impl<T> Latest<T> {
    pub fn new(max_stale: Duration) -> Latest<T> {
        Latest {
            good: Mutex::new(None),
            max_stale,
        }
    }

    pub fn keep(&self, data: T) {
        *self.good.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Snapshot::new(data)));
    }

    /// The snapshot a scrape serves now, if one is newer than `max_stale`.
    pub fn servable(&self) -> Option<Arc<Snapshot<T>>> {
        self.newest().filter(|s| s.age() <= self.max_stale)
    }

    /// The last good snapshot however old: its age is still news (an alert
    /// on stale data must see it grow past `max_stale`), its figures are not.
    pub fn newest(&self) -> Option<Arc<Snapshot<T>>> {
        self.good.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How far a cycle has got, as the scrapes waiting for it see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Its main request (the analytics query) ended at this instant; the
    /// others go on.
    MainDone(Instant),
    Finished,
}

/// Handed to a fetch, so that it can say when its main request is done:
/// the scrapes waiting for the cycle then wait at most [`AFTER_MAIN`] more
/// for the rest.
#[derive(Clone)]
pub struct Progress(Arc<watch::Sender<Phase>>);

impl Progress {
    /// The main request of the cycle has ended (well or not).
    pub fn main_done(&self) {
        self.0.send_if_modified(|phase| match phase {
            Phase::Running => {
                *phase = Phase::MainDone(Instant::now());
                true
            }
            _ => false,
        });
    }

    fn finished(&self) {
        self.0.send_replace(Phase::Finished);
    }
}

/// What a cycle runs.
pub trait Source: Send + Sync + 'static {
    /// Runs one cycle that must end by `deadline`; the source keeps what it
    /// yields, and records and logs its failures. A source whose cycle has
    /// a main request says when it is done through `progress`; one that
    /// does not is waited for whole.
    fn fetch(&self, deadline: Instant, progress: Progress) -> impl Future<Output = ()> + Send;

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

pub struct CycleCache<S> {
    source: Arc<S>,
    /// The TTL less its slack: a cycle started longer ago than this is due.
    due_after: Duration,
    state: Arc<Mutex<State>>,
}

/// How much sooner than the TTL a cycle counts as due: a tenth of the TTL,
/// at most 1 s. Scrapes every TTL arrive a little early or late (jitter,
/// the previous query's own start delay); without it, one that comes a few
/// milliseconds early finds the data too young and is served the old
/// snapshot, and the data is up to two TTLs old.
pub fn ttl_slack(ttl: Duration) -> Duration {
    (ttl / 10).min(Duration::from_secs(1))
}

#[derive(Default)]
struct State {
    /// When the latest cycle started: the TTL counts from there, so that a
    /// slow query does not push the next one a query's duration later.
    last_started: Option<Instant>,
    /// The running query: its progress and its deadline.
    in_flight: Option<(watch::Receiver<Phase>, Instant)>,
}

impl<S: Source> CycleCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        CycleCache {
            source: Arc::new(source),
            due_after: ttl.saturating_sub(ttl_slack(ttl)),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits as a scrape with `budget` does: not at all when the last cycle
    /// is fresh or a cooldown holds, else for the cycle this call starts or
    /// joins, at most the budget. The scrape then serves what the
    /// collectors keep.
    pub async fn get(&self, budget: Duration) {
        let (mut done, query_deadline) = {
            let mut state = self.lock();
            // A running cycle is joined even though it started within the
            // TTL: its data is what this scrape must wait for.
            if let Some(running) = &state.in_flight {
                running.clone()
            } else {
                let fresh = (state.last_started).is_some_and(|t| t.elapsed() < self.due_after);
                if fresh || self.source.cooldown().is_some() {
                    return;
                }
                state.last_started = Some(Instant::now());
                let running = self.start_query(budget);
                state.in_flight = Some(running.clone());
                running
            }
        };
        // Past the budget the scrape answers with what there is; the query
        // goes on in its task and fills the cache for the next scrape. So
        // it does once its main request is done, after at most AFTER_MAIN:
        // the others' retries do not hold the scrape.
        let finished = wait_for_cycle(&mut done, Instant::now() + budget).await;
        if !finished && Instant::now() >= query_deadline {
            let _ =
                tokio::time::timeout(FINISH_GRACE, done.wait_for(|p| *p == Phase::Finished)).await;
        }
    }

    /// The query runs in its own task, so that a scrape that gives up or
    /// disconnects does not cancel the work the other scrapes wait for.
    fn start_query(&self, budget: Duration) -> (watch::Receiver<Phase>, Instant) {
        let (tx, rx) = watch::channel(Phase::Running);
        let progress = Progress(Arc::new(tx));
        let source = self.source.clone();
        let state = self.state.clone();
        let deadline = Instant::now() + query_budget(budget);
        tokio::spawn(async move {
            // The fetch in a task of its own: a panic in it ends this query
            // as a failure and the next scrape queries again, where it would
            // otherwise leave the query in flight for good.
            let fetch = {
                let source = source.clone();
                let progress = progress.clone();
                tokio::spawn(async move { source.fetch(deadline, progress).await })
            };
            if let Err(error) = fetch.await {
                source.panicked(&panic_message(error));
            }
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state.in_flight = None;
            progress.finished();
        });
        (rx, deadline)
    }
}

/// Waits for the cycle `done` reports on until it finishes, `end` passes,
/// or [`AFTER_MAIN`] has passed since its main request was done; whether
/// it finished.
async fn wait_for_cycle(done: &mut watch::Receiver<Phase>, end: Instant) -> bool {
    loop {
        let until = match *done.borrow_and_update() {
            Phase::Finished => return true,
            Phase::MainDone(at) => end.min(at + AFTER_MAIN),
            Phase::Running => end,
        };
        match tokio::time::timeout_at(until, done.changed()).await {
            Ok(Ok(())) => {}
            // The sender gone means the task ended: finished or not, there
            // is nothing more to wait for.
            Ok(Err(_)) => return *done.borrow() == Phase::Finished,
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that succeeds or fails on demand, counts its queries and
    /// keeps the number of each good one, as a collector keeps its data.
    struct Fake {
        queries: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
        delay: Duration,
        cooldown: Mutex<Option<Duration>>,
        latest: Latest<usize>,
    }

    impl Fake {
        fn new(delay: Duration, max_stale: Duration) -> Fake {
            Fake {
                queries: AtomicUsize::new(0),
                fail: Default::default(),
                delay,
                cooldown: Mutex::new(None),
                latest: Latest::new(max_stale),
            }
        }
    }

    impl Source for Fake {
        async fn fetch(&self, _deadline: Instant, _progress: Progress) {
            let n = self.queries.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            if !self.fail.load(Ordering::SeqCst) {
                self.latest.keep(n);
            }
        }
        fn cooldown(&self) -> Option<Duration> {
            *self.cooldown.lock().unwrap()
        }
        fn panicked(&self, _: &str) {}
    }

    /// What a scrape with `budget` serves: the number of the good query.
    async fn scrape(cache: &CycleCache<Fake>, budget: Duration) -> Option<usize> {
        cache.get(budget).await;
        cache.source().latest.servable().map(|s| s.data)
    }

    /// A source whose first fetch panics, as a bug in the client would.
    struct PanicsOnce {
        queries: AtomicUsize,
        panics: Mutex<Vec<String>>,
        latest: Latest<()>,
    }

    impl Source for PanicsOnce {
        async fn fetch(&self, _deadline: Instant, _progress: Progress) {
            if self.queries.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("date overflow in the request builder");
            }
            self.latest.keep(());
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
        let cache = CycleCache::new(
            PanicsOnce {
                queries: AtomicUsize::new(0),
                panics: Mutex::new(Vec::new()),
                latest: Latest::new(Duration::from_secs(900)),
            },
            Duration::ZERO,
        );
        cache.get(BUDGET).await;
        assert!(cache.source().latest.servable().is_none());
        assert_eq!(
            *cache.source().panics.lock().unwrap(),
            ["date overflow in the request builder"],
            "the panic is recorded with its message"
        );
        cache.get(BUDGET).await;
        assert!(
            cache.source().latest.servable().is_some(),
            "the next scrape queries again"
        );
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 2);
    }

    const BUDGET: Duration = Duration::from_secs(10);
    const MAX_STALE: Duration = Duration::from_secs(900);

    #[tokio::test(start_paused = true)]
    async fn concurrent_scrapes_share_one_query() {
        let cache = Arc::new(CycleCache::new(
            Fake::new(Duration::from_millis(100), MAX_STALE),
            Duration::from_secs(60),
        ));
        let scrapes: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { scrape(&cache, BUDGET).await.unwrap() })
            })
            .collect();
        for s in scrapes {
            assert_eq!(s.await.unwrap(), 1);
        }
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_is_respected() {
        let cache = CycleCache::new(
            Fake::new(Duration::ZERO, MAX_STALE),
            Duration::from_secs(60),
        );
        assert_eq!(scrape(&cache, BUDGET).await.unwrap(), 1);
        tokio::time::advance(Duration::from_secs(58)).await;
        assert_eq!(scrape(&cache, BUDGET).await.unwrap(), 1);
        // Due a slack (a tenth of the TTL, at most 1 s) before the TTL.
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(scrape(&cache, BUDGET).await.unwrap(), 2);
    }

    #[test]
    fn the_slack_is_a_tenth_of_the_ttl_at_most_a_second() {
        assert_eq!(
            ttl_slack(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        assert_eq!(ttl_slack(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(ttl_slack(Duration::from_secs(300)), Duration::from_secs(1));
        assert_eq!(ttl_slack(Duration::ZERO), Duration::ZERO);
    }

    /// Queries made by scrapes every `interval`, each `early` before its
    /// tick but the first, against a TTL of 5 s and queries of 300 ms.
    async fn queries_of_scrapes(interval: Duration, early: Duration, scrapes: u32) -> usize {
        let cache = CycleCache::new(
            Fake::new(Duration::from_millis(300), MAX_STALE),
            Duration::from_secs(5),
        );
        let start = Instant::now();
        for n in 0..scrapes {
            let tick = start + interval * n;
            tokio::time::sleep_until(tick.checked_sub(early).filter(|_| n > 0).unwrap_or(tick))
                .await;
            scrape(&cache, BUDGET).await;
        }
        cache.source().queries.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn scrapes_every_ttl_query_at_every_scrape() {
        // The TTL counts from the query's start, not its end: a query's 300 ms
        // do not make the next scrape find the data too young.
        let ttl = Duration::from_secs(5);
        assert_eq!(queries_of_scrapes(ttl, Duration::ZERO, 8).await, 8);
        // Scrapes a little early (jitter) still query.
        assert_eq!(
            queries_of_scrapes(ttl, Duration::from_millis(400), 8).await,
            8
        );
        // Every half TTL: a query at every other scrape.
        assert_eq!(queries_of_scrapes(ttl / 2, Duration::ZERO, 8).await, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_keep_the_last_good_snapshot_until_max_stale() {
        let cache = CycleCache::new(
            Fake::new(Duration::ZERO, Duration::from_secs(300)),
            Duration::from_secs(60),
        );
        scrape(&cache, BUDGET).await.unwrap();
        cache.source().fail.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(scrape(&cache, BUDGET).await.unwrap(), 1);
        assert_eq!(cache.source().queries.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(240)).await;
        assert!(
            scrape(&cache, BUDGET).await.is_none(),
            "older than max_stale"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_query_during_a_cooldown() {
        let cache = CycleCache::new(Fake::new(Duration::ZERO, MAX_STALE), Duration::ZERO);
        scrape(&cache, BUDGET).await.unwrap();
        *cache.source().cooldown.lock().unwrap() = Some(Duration::from_secs(3));
        for _ in 0..5 {
            assert!(scrape(&cache, BUDGET).await.is_some());
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
        async fn fetch(&self, deadline: Instant, _progress: Progress) {
            tokio::time::sleep_until(deadline).await;
            tokio::task::yield_now().await;
            self.finished.store(true, Ordering::SeqCst);
        }
        fn cooldown(&self) -> Option<Duration> {
            None
        }
        fn panicked(&self, _: &str) {}
    }

    #[tokio::test(start_paused = true)]
    async fn a_scrape_that_runs_out_of_time_sees_the_query_fail() {
        let cache = CycleCache::new(
            Stalls {
                finished: Default::default(),
            },
            Duration::ZERO,
        );
        let started = Instant::now();
        cache.get(Duration::from_millis(2500)).await;
        assert!(
            cache.source().finished.load(Ordering::SeqCst),
            "the query ended before the scrape answered"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(2300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_machine_still_sees_the_query_fail() {
        let cache = Arc::new(CycleCache::new(
            Stalls {
                finished: Default::default(),
            },
            Duration::ZERO,
        ));
        let scrape = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get(Duration::from_millis(2500)).await })
        };
        tokio::task::yield_now().await;
        // The machine runs nothing for 3 s: the query's deadline and the
        // scrape's wait have both passed when the runtime runs again.
        tokio::time::advance(Duration::from_secs(3)).await;
        scrape.await.unwrap();
        assert!(
            cache.source().finished.load(Ordering::SeqCst),
            "the scrape answered before the query recorded its failure"
        );
    }

    /// A cycle whose main request takes `main`, and whose other requests go
    /// on until `rest` after its start.
    struct MainThenRest {
        main: Duration,
        rest: Duration,
        finished: std::sync::atomic::AtomicBool,
    }

    impl Source for MainThenRest {
        async fn fetch(&self, _deadline: Instant, progress: Progress) {
            tokio::time::sleep(self.main).await;
            progress.main_done();
            tokio::time::sleep(self.rest - self.main).await;
            self.finished.store(true, Ordering::SeqCst);
        }
        fn cooldown(&self) -> Option<Duration> {
            None
        }
        fn panicked(&self, _: &str) {}
    }

    #[tokio::test(start_paused = true)]
    async fn once_the_main_request_is_done_a_scrape_waits_at_most_a_second_more() {
        let cache = Arc::new(CycleCache::new(
            MainThenRest {
                main: Duration::from_millis(300),
                rest: Duration::from_secs(9),
                finished: Default::default(),
            },
            Duration::ZERO,
        ));
        let started = Instant::now();
        cache.get(BUDGET).await;
        assert_eq!(started.elapsed(), Duration::from_millis(1300));
        assert!(!cache.source().finished.load(Ordering::SeqCst));
        // A scrape that joins it later waits no more than that either.
        tokio::time::advance(Duration::from_secs(2)).await;
        let joined = Instant::now();
        cache.get(BUDGET).await;
        assert_eq!(joined.elapsed(), Duration::ZERO);
        // The rest goes on in its task.
        tokio::time::advance(Duration::from_secs(6)).await;
        tokio::task::yield_now().await;
        assert!(cache.source().finished.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_whose_rest_ends_within_the_second_is_waited_for_whole() {
        let cache = CycleCache::new(
            MainThenRest {
                main: Duration::from_millis(300),
                rest: Duration::from_millis(800),
                finished: Default::default(),
            },
            Duration::ZERO,
        );
        let started = Instant::now();
        cache.get(BUDGET).await;
        assert_eq!(started.elapsed(), Duration::from_millis(800));
        assert!(cache.source().finished.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_query_does_not_hold_the_scrape_past_its_budget() {
        let cache = CycleCache::new(
            Fake::new(Duration::from_secs(30), MAX_STALE),
            Duration::ZERO,
        );
        let started = Instant::now();
        assert!(scrape(&cache, Duration::from_secs(2)).await.is_none());
        assert!(started.elapsed() < Duration::from_secs(3));
        // The query finished in the background and filled the cache.
        tokio::time::advance(Duration::from_secs(30)).await;
        tokio::task::yield_now().await;
        assert!(cache.source().latest.servable().is_some());
    }
}
