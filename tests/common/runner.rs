//! The runner of the fault cases (`tests/reliability.rs`) and the
//! hostile-client cases (`tests/hostile.rs`). Their cases spend most of
//! their time waiting, so they run concurrently on one runtime under a
//! `main` of their own (`harness = false`), stage after stage: libtest, and
//! libtest-mimic alike, give each test a thread of a pool and cannot run the
//! heavy cases alone before the others. Every case that ran leaves one JSON row in
//! the rows folder for `scripts/reliability-report`, which renders them
//! into `docs/reliability.md` and checks that page against them.
//!
//! Arguments that do not start with `-` select cases by substring of their
//! id (the rows of the others are then kept); `--list` lists the ids.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinError;

pub type CaseFuture<R> = Pin<Box<dyn Future<Output = Outcome<R>> + Send>>;

/// One case of a table.
pub struct Case<R> {
    /// What arguments select, and the name of its row file.
    pub id: &'static str,
    /// Stages run one after the other; see [`Suite::at_once`].
    pub stage: usize,
    /// The heading the report lists it under; empty where the report has
    /// one table for all.
    pub group: &'static str,
    /// What the report says the case is.
    pub title: &'static str,
    pub run: fn() -> CaseFuture<R>,
}

/// What a case measured.
pub trait Row: Send + 'static {
    /// What the console shows of it, after the time it took.
    fn summary(&self) -> String;
    /// Its JSON row, an object; `order`, `id`, `group` and `case` are added
    /// from the table.
    fn fields(&self) -> Value;
}

/// What a case returns: its row, or why it did not run (a tool missing
/// outside CI), which leaves no row.
pub enum Outcome<R> {
    Ran(R),
    Skipped(String),
}

impl<R> From<R> for Outcome<R> {
    fn from(row: R) -> Self {
        Outcome::Ran(row)
    }
}

/// Every case of a stage at once.
pub const ALL: usize = usize::MAX;

pub struct Suite<R: 'static> {
    /// What the cases are called on the console.
    pub name: &'static str,
    pub cases: &'static [Case<R>],
    /// How many cases of each stage (by its number) may run at once; they
    /// start in the table's order.
    pub at_once: &'static [usize],
    pub rows: Rows,
    /// Whether to count the time the machine stalls this test (see [`stalled`]).
    pub canary: bool,
}

/// Where the rows go: the folder `$env`, or else `<target dir>/<name>`.
pub struct Rows {
    pub env: &'static str,
    pub name: &'static str,
}

impl Rows {
    pub fn dir(&self) -> PathBuf {
        match std::env::var_os(self.env) {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("the target dir")
                .join(self.name),
        }
    }
}

// ---------------------------------------------------------------------------
// Time the machine did not give us.

/// Microseconds by which the canary woke late, summed.
static STALLED_US: AtomicU64 = AtomicU64::new(0);
const CANARY_TICK: Duration = Duration::from_millis(10);
/// Lateness below this is the timer's ordinary slack, not a stall.
const CANARY_SLACK: Duration = Duration::from_millis(5);

/// Sleeps a tick at a time on the runtime that runs the cases, and adds up
/// how late it wakes. On a machine busy with other work (a parallel build,
/// a benchmark) every task of this runtime is held back alike; timing
/// bounds that discount that time check the exporter and not the machine.
async fn canary() {
    loop {
        let started = Instant::now();
        tokio::time::sleep(CANARY_TICK).await;
        let late = started.elapsed().saturating_sub(CANARY_TICK + CANARY_SLACK);
        STALLED_US.fetch_add(late.as_micros() as u64, Ordering::Relaxed);
    }
}

/// The stall counted so far (zero unless [`Suite::canary`]).
pub fn stalled() -> Duration {
    Duration::from_micros(STALLED_US.load(Ordering::Relaxed))
}

// ---------------------------------------------------------------------------
// The run.

/// Panics anywhere in the process: more than the failed cases means one
/// that no case caught, in an exporter running in process, say.
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

pub fn main<R: Row>(suite: Suite<R>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for c in suite.cases {
            println!("{}: test", c.id);
        }
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    // `order` is the place in the whole table, so that the report keeps it.
    let selected: Vec<(usize, &'static Case<R>)> = suite
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| filters.is_empty() || filters.iter().any(|f| c.id.contains(f.as_str())))
        .collect();
    let dir = suite.rows.dir();
    if filters.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).expect("the rows folder can be made");

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let mut stages: Vec<usize> = selected.iter().map(|(_, c)| c.stage).collect();
    stages.sort();
    stages.dedup();
    let plan: Vec<String> = stages
        .iter()
        .map(|&stage| {
            let n = selected.iter().filter(|(_, c)| c.stage == stage).count();
            match suite.at_once[stage] {
                limit if limit >= n => format!("{n} at once"),
                1 => format!("{n} one at a time"),
                limit => format!("{n} up to {limit} at a time"),
            }
        })
        .collect();
    println!(
        "\nrunning {} {}: {}",
        selected.len(),
        suite.name,
        plan.join(", then ")
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tally = Tally::default();
    runtime.block_on(async {
        if suite.canary {
            tokio::spawn(canary());
        }
        for stage in stages {
            let limit = suite.at_once[stage].min(Semaphore::MAX_PERMITS);
            let slots = Arc::new(Semaphore::new(limit));
            let mut running = Vec::new();
            for &(order, case) in selected.iter().filter(|(_, c)| c.stage == stage) {
                let slot = slots.clone().acquire_owned().await.expect("never closed");
                let handle = tokio::spawn(async move {
                    let _slot = slot;
                    let began = Instant::now();
                    let row = (case.run)().await;
                    (row, began.elapsed())
                });
                running.push((order, case, handle));
            }
            for (order, case, handle) in running {
                tally.record(order, case, handle.await, &dir);
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));

    let stall = match suite.canary {
        true => format!(
            " (the machine stalled this test for {:.1} s)",
            stalled().as_secs_f64()
        ),
        false => String::new(),
    };
    let Tally {
        passed,
        failed,
        skipped,
    } = tally;
    println!(
        "\n{}: {passed} passed; {failed} failed; {skipped} skipped; {:.1} s{stall}; rows in {}",
        suite.name,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    let panics = PANICS.load(Ordering::SeqCst);
    if panics > failed {
        println!(
            "{} panic(s) outside the cases' own assertions: an exporter run in \
             process, or a task a case did not wait for, panicked",
            panics - failed
        );
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

impl Tally {
    fn record<R: Row>(
        &mut self,
        order: usize,
        case: &Case<R>,
        result: Result<(Outcome<R>, Duration), JoinError>,
        dir: &Path,
    ) {
        let (row, took) = match result {
            Ok((Outcome::Ran(row), took)) => (row, took),
            Ok((Outcome::Skipped(why), _)) => {
                self.skipped += 1;
                println!("case {} ... skipped: {why}", case.id);
                return;
            }
            Err(e) => {
                self.failed += 1;
                println!("case {} ... FAILED: {e}", case.id);
                return;
            }
        };
        self.passed += 1;
        println!(
            "case {} ... ok in {:.1} s ({})",
            case.id,
            took.as_secs_f64(),
            row.summary()
        );
        let Value::Object(mut record) = row.fields() else {
            panic!("{}: a row is a JSON object", case.id);
        };
        record.insert("order".into(), json!(order));
        record.insert("id".into(), json!(case.id));
        record.insert("case".into(), json!(case.title));
        if !case.group.is_empty() {
            record.insert("group".into(), json!(case.group));
        }
        std::fs::write(
            dir.join(format!("{}.json", case.id)),
            serde_json::to_string_pretty(&record).unwrap() + "\n",
        )
        .expect("the row is written");
    }
}
