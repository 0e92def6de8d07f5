//! HTTP basic auth against the web configuration file's `basic_auth_users`
//! (user → bcrypt hash), held up against floods: checks take turns by
//! client address on a pool sized to the cores ([`checks`](super::checks)),
//! failed logins per address are limited ([`throttle`](super::throttle)),
//! and an unknown user costs what a known one does.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::header::HeaderValue;
use ring::hmac;
use ring::rand::SecureRandom as _;

use super::CLIENT_LOG_TARGET;
use super::checks::CheckPool;
use super::throttle::LoginThrottle;

/// The lowest bcrypt cost there is.
pub const MIN_COST: u32 = 4;
/// The highest bcrypt cost accepted. A check at cost 14 takes about 0.8 s
/// on one core of a current server and each step doubles it: a scrape that
/// must check a password (the first after a start or a password change)
/// still answers well within Prometheus' default 10 s timeout, with a few
/// checks queued ahead of it. Cost 31 would take about a day.
pub const MAX_COST: u32 = 14;
/// Seconds one check takes at [`MAX_COST`], for the error message.
const MAX_COST_CHECK_SECONDS: f64 = 0.8;

/// Successful logins remembered; beyond this the memory starts over.
const CACHE_CAPACITY: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a user name is empty")]
    EmptyUser,
    #[error("{0:?}: a user name cannot contain ':' (basic auth splits on it)")]
    Colon(String),
    #[error("{user:?}: not a bcrypt hash: {reason}")]
    Hash { user: String, reason: String },
    #[error(
        "{user:?}: bcrypt cost {cost} is above {MAX_COST}, the most a scrape can afford: a check takes about {} at cost {MAX_COST} and doubles with each step, so about {} at cost {cost}; hash the password again at cost 10 to 12",
        human(MAX_COST_CHECK_SECONDS),
        human(MAX_COST_CHECK_SECONDS * f64::from(1u32 << (cost.saturating_sub(MAX_COST)).min(31)))
    )]
    Cost { user: String, cost: u32 },
    #[error("cannot make the decoy hash: {0}")]
    Decoy(String),
}

/// "0.8 s", "13 min", "29 h".
fn human(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.0} h", s / 3600.0),
    }
}

/// The client's address, which the listener puts on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// What a request's credentials earn it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Missing, malformed or wrong credentials: 401.
    Denied,
    /// Too many failed logins from this address: 429, without a check.
    Throttled {
        retry_after: Duration,
    },
}

/// The configured users. Successful verifications are remembered (as an
/// HMAC under a key made at start, never the password) so that bcrypt's
/// deliberate cost is paid once per credential, not on every scrape.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    /// Checked when the user is unknown: a hash at the users' (highest)
    /// cost of a random password, so that an unknown user takes as long as
    /// a known one and timing does not tell which users exist.
    decoy: String,
    /// Set when the users' costs differ, which timing can tell apart.
    cost_warning: Option<String>,
    verified: Mutex<HashSet<[u8; 32]>>,
    cache_key: hmac::Key,
    pool: CheckPool,
    throttle: LoginThrottle,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Checks a hash the way bcrypt will read it, so a bad one fails at start;
/// returns its cost.
fn check_hash(user: &str, hash: &str) -> Result<u32, AuthError> {
    let parts: bcrypt::HashParts =
        hash.parse()
            .map_err(|e: bcrypt::BcryptError| AuthError::Hash {
                user: user.to_string(),
                reason: e.to_string(),
            })?;
    let cost = parts.get_cost();
    if cost < MIN_COST {
        return Err(AuthError::Hash {
            user: user.to_string(),
            reason: format!("cost {cost} is below {MIN_COST}"),
        });
    }
    if cost > MAX_COST {
        return Err(AuthError::Cost {
            user: user.to_string(),
            cost,
        });
    }
    Ok(cost)
}

/// A hash of a random password at `cost`, with a random salt.
fn decoy(cost: u32) -> Result<String, AuthError> {
    let rng = ring::rand::SystemRandom::new();
    let (mut password, mut salt) = ([0u8; 18], [0u8; 16]);
    rng.fill(&mut password)
        .and_then(|()| rng.fill(&mut salt))
        .map_err(|_| AuthError::Decoy("no random numbers".into()))?;
    let password = STANDARD.encode(password);
    bcrypt::hash_with_salt(password, cost, salt)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| AuthError::Decoy(e.to_string()))
}

impl BasicAuth {
    /// Validates the users; computes the decoy hash (one bcrypt run at the
    /// users' cost).
    pub fn new(users: BTreeMap<String, String>) -> Result<BasicAuth, AuthError> {
        let mut costs = BTreeMap::new();
        for (user, hash) in &users {
            if user.is_empty() {
                return Err(AuthError::EmptyUser);
            }
            if user.contains(':') {
                return Err(AuthError::Colon(user.clone()));
            }
            costs.insert(user.as_str(), check_hash(user, hash)?);
        }
        let highest = costs.values().copied().max().unwrap_or(10);
        let cost_warning = (costs.values().min() != costs.values().max()).then(|| {
            let each: Vec<String> = costs.iter().map(|(u, c)| format!("{u:?} {c}")).collect();
            format!(
                "basic_auth_users: the bcrypt costs differ ({}): response times tell these users apart; unknown users are checked at cost {highest}. Hash every password at one cost",
                each.join(", ")
            )
        });
        let rng = ring::rand::SystemRandom::new();
        let cache_key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .map_err(|_| AuthError::Decoy("no random numbers".into()))?;
        Ok(BasicAuth {
            users,
            decoy: decoy(highest)?,
            cost_warning,
            verified: Mutex::new(HashSet::new()),
            cache_key,
            pool: CheckPool::default(),
            throttle: LoginThrottle::default(),
        })
    }

    /// A warning for the log when the users' bcrypt costs differ.
    pub fn cost_warning(&self) -> Option<&str> {
        self.cost_warning.as_deref()
    }

    /// Whether the `Authorization` header of a request from `client` names
    /// a user and their password.
    pub async fn check(&self, authorization: Option<&HeaderValue>, client: IpAddr) -> Verdict {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return Verdict::Denied;
        };
        let known = self.users.get(&user);
        let tag = self.tag(&user, &password);
        if known.is_some() && self.verified().contains(&tag) {
            return Verdict::Allowed;
        }
        if let Err(retry_after) = self.throttle.reserve(client) {
            tracing::warn!(
                target: CLIENT_LOG_TARGET,
                %client,
                "too many failed logins from this address: answered 429 without a check"
            );
            return Verdict::Throttled { retry_after };
        }
        let hash = known.unwrap_or(&self.decoy).clone();
        let matched = self.pool.verify(client, password, hash).await;
        if matched && known.is_some() {
            self.throttle.refund(client);
            let mut verified = self.verified();
            if verified.len() >= CACHE_CAPACITY {
                verified.clear();
            }
            verified.insert(tag);
            Verdict::Allowed
        } else {
            // Never the user name: a password typed into it would be logged.
            tracing::info!(target: CLIENT_LOG_TARGET, %client, "login failed");
            Verdict::Denied
        }
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tag(&self, user: &str, password: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.cache_key);
        // Length-prefixed, so that no two user/password splits collide.
        ctx.update(&(user.len() as u64).to_be_bytes());
        ctx.update(user.as_bytes());
        ctx.update(password);
        let mut tag = [0u8; 32];
        tag.copy_from_slice(ctx.sign().as_ref());
        tag
    }
}

/// User and password of a `Basic` authorization header.
pub fn credentials(header: &HeaderValue) -> Option<(String, Vec<u8>)> {
    let value = header.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{password}"))
        ))
        .unwrap()
    }

    fn auth() -> BasicAuth {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        BasicAuth::new(BTreeMap::from([("alice".to_string(), hash)])).unwrap()
    }

    const HASH_10: &str = "$2b$10$hnQy4GzehK8SlpGUuUWX3u.1pVnXgOCIkA7AH8zu9A9o.vQPGagrm";

    fn cost(hash: &str) -> u32 {
        hash.parse::<bcrypt::HashParts>().unwrap().get_cost()
    }

    #[test]
    fn the_decoy_takes_the_users_highest_cost_and_mixed_costs_are_warned_of() {
        let one = |c| bcrypt::hash("pw", c).unwrap();
        let auth = BasicAuth::new(BTreeMap::from([("a".to_string(), one(5))])).unwrap();
        assert_eq!(cost(&auth.decoy), 5);
        assert_eq!(auth.cost_warning(), None);
        let auth = BasicAuth::new(BTreeMap::from([
            ("a".to_string(), one(4)),
            ("b".to_string(), one(6)),
        ]))
        .unwrap();
        assert_eq!(cost(&auth.decoy), 6);
        let warning = auth.cost_warning().unwrap();
        assert!(
            warning.contains("\"a\" 4, \"b\" 6") && warning.contains("cost 6"),
            "{warning}"
        );
        // Two decoys never share a salt.
        assert_ne!(decoy(4).unwrap(), decoy(4).unwrap());
    }

    #[test]
    fn costs_above_what_a_scrape_can_afford_are_refused() {
        let with_cost = |c: u32| HASH_10.replacen("$10$", &format!("${c:02}$"), 1);
        assert_eq!(check_hash("alice", &with_cost(MAX_COST)).unwrap(), MAX_COST);
        let e = check_hash("alice", &with_cost(31)).unwrap_err().to_string();
        assert_eq!(
            e,
            "\"alice\": bcrypt cost 31 is above 14, the most a scrape can afford: a check takes about 0.8 s at cost 14 and doubles with each step, so about 29 h at cost 31; hash the password again at cost 10 to 12"
        );
        let e = check_hash("alice", &with_cost(15)).unwrap_err().to_string();
        assert!(e.contains("about 1.6 s at cost 15"), "{e}");
    }

    #[test]
    fn credentials_are_parsed_from_the_header() {
        assert_eq!(
            credentials(&basic("alice", "a:b")),
            Some(("alice".into(), b"a:b".to_vec()))
        );
        let lower = HeaderValue::from_str(&format!("basic {}", STANDARD.encode("u:p"))).unwrap();
        assert!(credentials(&lower).is_some());
        assert!(credentials(&HeaderValue::from_static("Bearer abc")).is_none());
        assert!(credentials(&HeaderValue::from_static("Basic !!!")).is_none());
        let no_colon = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("u"))).unwrap();
        assert!(credentials(&no_colon).is_none());
    }

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn only_the_right_password_of_a_known_user_passes() {
        let auth = auth();
        let check = async |user, password| auth.check(Some(&basic(user, password)), CLIENT).await;
        assert_eq!(check("alice", "s3cret").await, Verdict::Allowed);
        // A second time comes from the cache.
        assert_eq!(check("alice", "s3cret").await, Verdict::Allowed);
        assert_eq!(check("alice", "wrong").await, Verdict::Denied);
        assert_eq!(check("bob", "s3cret").await, Verdict::Denied);
        assert_eq!(auth.check(None, CLIENT).await, Verdict::Denied);
        assert_eq!(auth.verified.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn failed_logins_past_the_burst_are_throttled_but_a_remembered_login_is_not() {
        use super::super::throttle::BURST;
        let auth = auth();
        let right = basic("alice", "s3cret");
        assert_eq!(auth.check(Some(&right), CLIENT).await, Verdict::Allowed);
        for _ in 0..BURST {
            assert_eq!(
                auth.check(Some(&basic("alice", "x")), CLIENT).await,
                Verdict::Denied
            );
        }
        let verdict = auth.check(Some(&basic("alice", "x")), CLIENT).await;
        assert!(matches!(verdict, Verdict::Throttled { .. }), "{verdict:?}");
        assert_eq!(auth.check(Some(&right), CLIENT).await, Verdict::Allowed);
        let other = IpAddr::from([127, 0, 0, 2]);
        assert_eq!(
            auth.check(Some(&basic("alice", "x")), other).await,
            Verdict::Denied
        );
    }

    #[test]
    fn bad_users_and_hashes_are_named() {
        let new = |user: &str, hash: &str| {
            BasicAuth::new(BTreeMap::from([(user.to_string(), hash.to_string())]))
                .unwrap_err()
                .to_string()
        };
        assert!(new("alice", "plain-text").starts_with("\"alice\": not a bcrypt hash"));
        assert!(new("", HASH_10).contains("empty"));
        assert!(new("a:b", HASH_10).contains("':'"));
        let cost_99 = HASH_10.replacen("$10$", "$99$", 1);
        assert!(new("alice", &cost_99).contains("cost 99"));
    }

    #[test]
    fn debug_shows_users_but_not_hashes() {
        let text = format!("{:?}", auth());
        assert!(text.contains("alice") && !text.contains("$2"), "{text}");
    }
}
