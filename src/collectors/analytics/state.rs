//! What the analytics collector remembers between cycles: the outcome of
//! its latest query and its counters, for `up`, the landing page and the
//! debug trace.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::model::GroupFigures;
use crate::genesys::FailureReason;

/// How the latest query ended, for `up` and the landing page.
#[derive(Debug, Clone)]
pub struct LastQuery {
    pub finished_at: SystemTime,
    pub duration: Duration,
    pub pages: u32,
    pub outcome: Result<QuerySummary, (FailureReason, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySummary {
    pub rows: usize,
    pub groups: usize,
    pub invalid_rows: u64,
}

/// What the debug trace shows of the latest query's figures.
#[derive(Debug, Clone)]
pub struct TracedFigures {
    pub pages: u32,
    pub rows: usize,
    pub invalid: BTreeMap<&'static str, u64>,
    pub groups: Vec<GroupFigures>,
}

#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Bumped by every change, so that the series made of an earlier copy
    /// are known to be out of date.
    pub generation: u64,
    pub queries: u64,
    pub failures: BTreeMap<FailureReason, u64>,
    pub last_query: Option<LastQuery>,
    pub last_success: Option<SystemTime>,
    /// The latest query's figures or why it failed, for the debug trace.
    pub traced: Option<Result<TracedFigures, String>>,
}

/// The record, shared by the cycle that writes it and the scrapes that read it.
#[derive(Debug)]
pub struct Shared(Mutex<Record>);

impl Shared {
    pub fn new() -> Shared {
        let failures = FailureReason::ALL.map(|r| (r, 0)).into();
        Shared(Mutex::new(Record {
            failures,
            ..Record::default()
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn read(&self) -> Record {
        self.lock().clone()
    }

    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// A query ended: its outcome counts, and the trace shows `traced`.
    pub fn finished(&self, last: LastQuery, traced: Result<TracedFigures, String>) {
        let mut r = self.lock();
        r.generation += 1;
        r.queries += 1;
        match &last.outcome {
            Ok(_) => r.last_success = Some(last.finished_at),
            Err((reason, _)) => *r.failures.entry(*reason).or_default() += 1,
        }
        r.last_query = Some(last);
        r.traced = Some(traced);
    }
}
