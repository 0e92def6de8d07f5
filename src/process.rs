//! The standard process metrics of the Prometheus client libraries
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, ...), as
//! every exporter built on client_golang has them. Read from `/proc` by
//! scrapes, at most once a second; on other systems there are none.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A reading serves the scrapes of this long. Read per scrape, `/proc`
/// cut cached-scrape throughput to a third under load (97,000 to 34,000
/// requests a second), while no scrape interval notices figures a second old.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// The latest reading, shared by the scrapes of one [`SAMPLE_INTERVAL`].
#[derive(Debug, Default)]
pub struct ProcessSampler {
    last: Mutex<Option<(Instant, Option<ProcessStats>)>>,
}

impl ProcessSampler {
    pub fn get(&self) -> Option<ProcessStats> {
        self.get_at(Instant::now())
    }

    fn get_at(&self, now: Instant) -> Option<ProcessStats> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match *last {
            Some((at, stats)) if now.saturating_duration_since(at) < SAMPLE_INTERVAL => stats,
            _ => {
                let stats = read();
                *last = Some((now, stats));
                stats
            }
        }
    }
}

/// One reading of the process' figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_memory_bytes: u64,
    pub virtual_memory_bytes: u64,
    /// Unix time the process started.
    pub start_time_seconds: f64,
    pub threads: u64,
    pub open_fds: Option<u64>,
    /// The soft limit; `None` when unlimited or unreadable.
    pub max_fds: Option<u64>,
}

/// Reads the figures now; `None` where `/proc` cannot be read (then the
/// series are left out rather than reported wrong).
#[cfg(target_os = "linux")]
pub fn read() -> Option<ProcessStats> {
    use procfs::process::Process;
    use rustix::process::{Resource, getrlimit};
    use std::sync::OnceLock;

    // Opened once: a scrape then costs one read of /proc/self/stat (about
    // 12 µs) and one stat of the fd folder.
    static ME: OnceLock<Option<Process>> = OnceLock::new();
    let me = ME.get_or_init(|| Process::myself().ok()).as_ref()?;
    let stat = me.stat().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    // The start time does not change; the boot time it rests on is read once.
    static START: OnceLock<Option<f64>> = OnceLock::new();
    let start = (*START.get_or_init(|| {
        procfs::boot_time_secs()
            .ok()
            .map(|boot| boot as f64 + stat.starttime as f64 / ticks)
    }))?;
    Some(ProcessStats {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        resident_memory_bytes: stat.rss.saturating_mul(procfs::page_size()),
        virtual_memory_bytes: stat.vsize,
        start_time_seconds: start,
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
        open_fds: me.fd_count().ok().map(|n| n as u64),
        // The soft limit, from the system call: parsing /proc/self/limits
        // took 24 µs, more than everything else here together.
        max_fds: getrlimit(Resource::Nofile).current,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn read() -> Option<ProcessStats> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn the_sampler_reads_once_per_interval() {
        let sampler = ProcessSampler::default();
        let start = Instant::now();
        let first = sampler.get_at(start).unwrap();
        // Burn CPU until a fresh reading shows it...
        let mut x = 0u64;
        for round in 0.. {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            if read().unwrap().cpu_seconds > first.cpu_seconds || round > 5_000 {
                break;
            }
        }
        assert!(read().unwrap().cpu_seconds > first.cpu_seconds);
        // ...while within the interval the sampler keeps its reading.
        assert_eq!(sampler.get_at(start + SAMPLE_INTERVAL / 2), Some(first));
        // ...and reads again once it has passed.
        let later = sampler.get_at(start + SAMPLE_INTERVAL).unwrap();
        assert!(later.cpu_seconds > first.cpu_seconds);
        assert_eq!(later.start_time_seconds, first.start_time_seconds);
    }

    #[test]
    fn the_figures_describe_this_process() {
        let before = read().unwrap();
        // CPU time moves in clock ticks (10 ms at 100 Hz): burn until it does.
        let mut x = 0u64;
        let mut after = read().unwrap();
        for round in 0.. {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            after = read().unwrap();
            if after.cpu_seconds > before.cpu_seconds || round > 5_000 {
                break;
            }
        }
        assert!(
            after.cpu_seconds > before.cpu_seconds,
            "{before:?} {after:?}"
        );

        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(after.start_time_seconds <= now + 1.0);
        assert!(after.start_time_seconds > now - 3600.0, "{after:?}");
        assert_eq!(after.start_time_seconds, before.start_time_seconds);
        assert!(after.resident_memory_bytes > 1 << 20, "{after:?}");
        assert!(after.virtual_memory_bytes >= after.resident_memory_bytes);
        assert!(after.threads >= 1);
        // Other tests open and close files meanwhile: bounds, not counts.
        let open = after.open_fds.unwrap();
        assert!(
            open >= 3 && open < after.max_fds.unwrap_or(u64::MAX),
            "{after:?}"
        );
    }
}
