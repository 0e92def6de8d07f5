//! Where bcrypt runs: on the blocking pool, at most one check per core at a
//! time, and at most one per client address, so that a flood of logins from
//! one address (or a few) takes its turn with everyone else's instead of
//! queueing ahead of them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

#[derive(Debug)]
pub struct CheckPool {
    /// One permit per core. Tokio's semaphore serves waiters in order, and
    /// each address has at most one waiter here: addresses take turns.
    cores: Arc<Semaphore>,
    /// Each address' own queue, while it has checks waiting or running.
    queues: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
}

impl Default for CheckPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        CheckPool::new(cores)
    }
}

impl CheckPool {
    pub fn new(workers: usize) -> CheckPool {
        CheckPool {
            cores: Arc::new(Semaphore::new(workers.max(1))),
            queues: Mutex::new(HashMap::new()),
        }
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Arc<Semaphore>>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `password` matches `hash`, checked in `client`'s turn.
    pub async fn verify(&self, client: IpAddr, password: Vec<u8>, hash: String) -> bool {
        let queue = self
            .queues()
            .entry(client)
            .or_insert_with(|| Arc::new(Semaphore::new(1)))
            .clone();
        let matched = async {
            let Ok(_turn) = queue.acquire().await else {
                return false;
            };
            let Ok(core) = self.cores.clone().acquire_owned().await else {
                return false;
            };
            // The core is held by the blocking task itself: a request given
            // up while bcrypt runs does not free it early.
            tokio::task::spawn_blocking(move || {
                let _core = core;
                bcrypt::verify(&password, &hash).unwrap_or(false)
            })
            .await
            .unwrap_or(false)
        }
        .await;
        // The last check of an address removes its queue (under the lock that
        // hands out clones, so no check can be joining it meanwhile).
        let mut queues = self.queues();
        if Arc::strong_count(&queue) == 2 {
            queues.remove(&client);
        }
        matched
    }

    /// Addresses with checks waiting or running.
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.queues().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_from_another_address_is_not_queued_behind_a_flood() {
        let pool = Arc::new(CheckPool::new(1));
        let hash = bcrypt::hash("right", 6).unwrap();
        let flood_ip: IpAddr = [127, 0, 0, 2].into();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut flood = tokio::task::JoinSet::new();
        for i in 0..20 {
            let (pool, hash, order) = (pool.clone(), hash.clone(), order.clone());
            flood.spawn(async move {
                pool.verify(flood_ip, b"wrong".to_vec(), hash).await;
                order.lock().unwrap().push(i);
            });
        }
        // Let the flood queue up first.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let before = order.lock().unwrap().len();
        let ok = pool
            .verify([127, 0, 0, 1].into(), b"right".to_vec(), hash.clone())
            .await;
        assert!(ok);
        // With one worker and turns taken by address, at most two of the
        // flood's checks (the one running, the one waiting its turn) ran
        // before this one.
        let ran_meanwhile = order.lock().unwrap().len() - before;
        assert!(
            ran_meanwhile <= 2,
            "{ran_meanwhile} of the flood's checks ran first"
        );
        while flood.join_next().await.is_some() {}
        assert_eq!(pool.addresses(), 0, "queues are removed when empty");
    }
}
