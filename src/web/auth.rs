//! HTTP basic auth against the web configuration file's `basic_auth_users`
//! (user → bcrypt hash).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::header::HeaderValue;
use ring::hmac;
use tokio::sync::Semaphore;

/// Compared against when the user is unknown, so that an unknown user costs
/// a bcrypt run like a known one and timing does not tell which users exist.
/// It matches no password anyone sends on purpose.
const FAKE_HASH: &str = "$2b$10$hnQy4GzehK8SlpGUuUWX3u.1pVnXgOCIkA7AH8zu9A9o.vQPGagrm";

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
}

/// The configured users. Successful verifications are remembered (as an
/// HMAC under a key made at start, never the password) so that bcrypt's
/// deliberate cost is paid once per credential, not on every scrape.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    verified: Mutex<HashSet<[u8; 32]>>,
    cache_key: hmac::Key,
    /// One bcrypt run at a time, so a burst of bad logins cannot take every core.
    bcrypt_slot: Semaphore,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Checks a hash the way bcrypt will read it, so a bad one fails at start.
fn check_hash(hash: &str) -> Result<(), String> {
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|e: bcrypt::BcryptError| e.to_string())?;
    let cost = parts.get_cost();
    if !(4..=31).contains(&cost) {
        return Err(format!("cost {cost} is outside 4 to 31"));
    }
    Ok(())
}

impl BasicAuth {
    pub fn new(users: BTreeMap<String, String>) -> Result<BasicAuth, AuthError> {
        for (user, hash) in &users {
            if user.is_empty() {
                return Err(AuthError::EmptyUser);
            }
            if user.contains(':') {
                return Err(AuthError::Colon(user.clone()));
            }
            check_hash(hash).map_err(|reason| AuthError::Hash {
                user: user.clone(),
                reason,
            })?;
        }
        let rng = ring::rand::SystemRandom::new();
        let cache_key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .expect("the system random number generator works");
        Ok(BasicAuth {
            users,
            verified: Mutex::new(HashSet::new()),
            cache_key,
            bcrypt_slot: Semaphore::new(1),
        })
    }

    /// Whether the `Authorization` header names a user and their password.
    pub async fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        let known = self.users.get(&user);
        let tag = self.tag(&user, &password);
        if known.is_some() && self.verified.lock().unwrap().contains(&tag) {
            return true;
        }
        let hash = known.map_or(FAKE_HASH, String::as_str).to_owned();
        let Ok(_slot) = self.bcrypt_slot.acquire().await else {
            return false;
        };
        // bcrypt takes tens of milliseconds on purpose: off the async workers.
        let matched =
            tokio::task::spawn_blocking(move || bcrypt::verify(&password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        let ok = matched && known.is_some();
        if ok {
            let mut verified = self.verified.lock().unwrap();
            if verified.len() >= CACHE_CAPACITY {
                verified.clear();
            }
            verified.insert(tag);
        }
        ok
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
fn credentials(header: &HeaderValue) -> Option<(String, Vec<u8>)> {
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

    #[test]
    fn the_fake_hash_is_a_valid_cost_10_hash() {
        check_hash(FAKE_HASH).unwrap();
        assert_eq!(
            FAKE_HASH.parse::<bcrypt::HashParts>().unwrap().get_cost(),
            10
        );
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

    #[tokio::test]
    async fn only_the_right_password_of_a_known_user_passes() {
        let auth = auth();
        assert!(auth.allows(Some(&basic("alice", "s3cret"))).await);
        // A second time comes from the cache.
        assert!(auth.allows(Some(&basic("alice", "s3cret"))).await);
        assert!(!auth.allows(Some(&basic("alice", "wrong"))).await);
        assert!(!auth.allows(Some(&basic("bob", "s3cret"))).await);
        assert!(!auth.allows(None).await);
        assert_eq!(auth.verified.lock().unwrap().len(), 1);
    }

    #[test]
    fn bad_users_and_hashes_are_named() {
        let new = |user: &str, hash: &str| {
            BasicAuth::new(BTreeMap::from([(user.to_string(), hash.to_string())]))
                .unwrap_err()
                .to_string()
        };
        assert!(new("alice", "plain-text").starts_with("\"alice\": not a bcrypt hash"));
        assert!(new("", FAKE_HASH).contains("empty"));
        assert!(new("a:b", FAKE_HASH).contains("':'"));
        let cost_99 = FAKE_HASH.replacen("$10$", "$99$", 1);
        assert!(new("alice", &cost_99).contains("cost 99"));
    }

    #[test]
    fn debug_shows_users_but_not_hashes() {
        let text = format!("{:?}", auth());
        assert!(text.contains("alice") && !text.contains("$2"), "{text}");
    }
}
