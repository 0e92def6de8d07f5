//! The real exporter binary's stderr (JSON log lines), followed on a thread
//! of its own: the address of its `listening` line, and the lines a test
//! keeps to read later.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub struct Followed {
    /// The lines kept, in order.
    pub lines: Arc<Mutex<Vec<String>>>,
    listening: Receiver<String>,
}

/// Follows `child`'s piped stderr, keeping each line `keep` accepts given
/// the lines kept so far (a test that runs long keeps memory flat with it).
pub fn follow(child: &mut Child, keep: fn(&[String], &str) -> bool) -> Followed {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, listening) = channel();
    let pipe = child.stderr.take().expect("stderr is piped");
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["message"] == "listening"
                && let Some(a) = v["address"].as_str()
            {
                let _ = tx.send(a.to_string());
            }
            let mut kept = kept.lock().unwrap();
            if keep(&kept, &line) {
                kept.push(line);
            }
        }
    });
    Followed { lines, listening }
}

impl Followed {
    /// The address the exporter listens on; panics, with the lines kept,
    /// when it logs none within 20 s.
    pub fn address(&self) -> String {
        self.listening
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                panic!(
                    "the exporter logs its address: {:?}",
                    self.lines.lock().unwrap()
                )
            })
    }
}
