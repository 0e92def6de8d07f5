//! Failed logins per client address, limited: each address has a bucket of
//! [`BURST`] failures, refilled one per [`REFILL`]. A check takes a token
//! before bcrypt runs (so that parallel attempts cannot all pass before the
//! first fails) and a successful login gives it back; an address with none
//! left is answered 429 without a check.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins an address may make in a row.
pub const BURST: u32 = 10;
/// One more failure allowed per this long: ten a minute. Prometheus with a
/// wrong password fails once per scrape interval, well below it.
pub const REFILL: Duration = Duration::from_secs(6);
/// Addresses tracked at once; past it, the least throttled is forgotten.
const MAX_ADDRESSES: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() / REFILL.as_secs_f64();
        self.tokens = (self.tokens + gained).min(f64::from(BURST));
        self.at = now;
    }
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl LoginThrottle {
    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Bucket>> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token for one check from `client`, or says how long until
    /// one is back.
    pub fn reserve(&self, client: IpAddr) -> Result<(), Duration> {
        self.reserve_at(client, Instant::now())
    }

    fn reserve_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets();
        if !buckets.contains_key(&client) && buckets.len() >= MAX_ADDRESSES {
            forget_one(&mut buckets, now);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: f64::from(BURST),
            at: now,
        });
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(REFILL.mul_f64(1.0 - bucket.tokens))
        }
    }

    /// Gives back the token of a check that succeeded.
    pub fn refund(&self, client: IpAddr) {
        let mut buckets = self.buckets();
        if let Some(bucket) = buckets.get_mut(&client) {
            bucket.refill(Instant::now());
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(BURST));
        }
    }
}

/// Drops the buckets that have refilled; if none has, the fullest one.
fn forget_one(buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
    buckets.retain(|_, b| {
        b.refill(now);
        b.tokens < f64::from(BURST)
    });
    if buckets.len() >= MAX_ADDRESSES
        && let Some(fullest) = buckets
            .iter()
            .max_by(|a, b| a.1.tokens.total_cmp(&b.1.tokens))
            .map(|(ip, _)| *ip)
    {
        buckets.remove(&fullest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_one_per_refill() {
        let throttle = LoginThrottle::default();
        let (flood, other): (IpAddr, IpAddr) = ([127, 0, 0, 2].into(), [127, 0, 0, 1].into());
        let t0 = Instant::now();
        for _ in 0..BURST {
            throttle.reserve_at(flood, t0).unwrap();
        }
        let wait = throttle.reserve_at(flood, t0).unwrap_err();
        assert_eq!(wait, REFILL);
        assert!(
            throttle.reserve_at(other, t0).is_ok(),
            "other addresses are not held back"
        );
        assert!(throttle.reserve_at(flood, t0 + REFILL / 2).is_err());
        assert!(throttle.reserve_at(flood, t0 + REFILL).is_ok());
        assert!(throttle.reserve_at(flood, t0 + REFILL).is_err());
    }

    #[test]
    fn a_successful_login_gives_its_token_back() {
        let throttle = LoginThrottle::default();
        let client: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..BURST * 3 {
            throttle.reserve(client).unwrap();
            throttle.refund(client);
        }
        assert!(throttle.reserve(client).is_ok());
    }

    #[test]
    fn the_table_of_addresses_is_bounded() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            throttle
                .reserve_at(IpAddr::from(i.to_be_bytes()), now)
                .unwrap();
        }
        assert_eq!(throttle.buckets().len(), MAX_ADDRESSES);
    }
}
