//! The OAuth client-credentials token: fetched once, shared, refreshed ahead of
//! `expires_in`, and renewed at once when the API stops accepting it.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::Secret;

/// A token is renewed when a tenth of its lifetime is left, at most five minutes
/// ahead: Genesys lifetimes range from 300 s to 48 h.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(300))
}

#[derive(Clone)]
pub struct Token {
    pub value: Secret,
    /// Distinguishes tokens, so that a stale 401 does not drop a newer token.
    pub id: u64,
    refresh_at: Instant,
    expires_at: Instant,
}

/// The body of a successful token response.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    pub expires_in: f64,
}

pub struct TokenCache<E = String> {
    // An async mutex held across the fetch: concurrent needs for a token wait
    // for the one request under way instead of sending their own.
    state: Mutex<State<E>>,
    /// Fetches finished, so that a need can tell whether one ended while it
    /// waited for the lock.
    finished: AtomicU64,
}

struct State<E> {
    token: Option<Token>,
    next_id: u64,
    /// The latest fetch that failed (the number it finished as) and why.
    failed: Option<(u64, E)>,
}

impl<E> Default for TokenCache<E> {
    fn default() -> Self {
        TokenCache {
            state: Mutex::new(State {
                token: None,
                next_id: 0,
                failed: None,
            }),
            finished: AtomicU64::new(0),
        }
    }
}

impl<E: Clone + std::fmt::Display> TokenCache<E> {
    /// The current token, fetching a new one with `fetch` when none is held or
    /// the held one is due for refresh. A failed refresh keeps using a token
    /// that has not expired yet. A need that waited while another's fetch
    /// failed gets that failure, through `waited`, rather than sending a
    /// fetch of its own with what is left of the budget.
    pub async fn get<F, Fut>(&self, fetch: F, waited: impl FnOnce(E) -> E) -> Result<Token, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), E>>,
    {
        let seen = self.finished.load(Ordering::SeqCst);
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(token) = &state.token
            && now < token.refresh_at
        {
            return Ok(token.clone());
        }
        if let Some((n, error)) = &state.failed
            && *n > seen
        {
            return Err(waited(error.clone()));
        }
        let fetched = fetch().await;
        let n = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
        match fetched {
            Ok((value, lifetime)) => {
                state.next_id += 1;
                let fetched = Instant::now();
                let token = Token {
                    value,
                    id: state.next_id,
                    refresh_at: fetched + lifetime - refresh_margin(lifetime),
                    expires_at: fetched + lifetime,
                };
                state.token = Some(token.clone());
                state.failed = None;
                Ok(token)
            }
            Err(e) => match &state.token {
                Some(token) if Instant::now() < token.expires_at => {
                    tracing::warn!(error = %e, "token refresh failed; using the current token until it expires");
                    Ok(token.clone())
                }
                _ => {
                    state.failed = Some((n, e.clone()));
                    Err(e)
                }
            },
        }
    }

    /// Drops the token the API just refused, unless a newer one replaced it already.
    pub async fn invalidate(&self, id: u64) {
        let mut state = self.state.lock().await;
        if state.token.as_ref().is_some_and(|t| t.id == id) {
            state.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    fn same(e: String) -> String {
        e
    }

    #[test]
    fn margins_scale_with_the_lifetime() {
        assert_eq!(
            refresh_margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(86_400)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
    }

    #[tokio::test]
    async fn concurrent_needs_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(
                        || async {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, String>((Secret::new("t"), Duration::from_secs(3600)))
                        },
                        same,
                    )
                    .await
                    .unwrap()
                    .id
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invalidated_tokens_are_fetched_again() {
        let cache = TokenCache::default();
        let ok = || async { Ok::<_, String>((Secret::new("t"), Duration::from_secs(3600))) };
        let first = cache.get(ok, same).await.unwrap();
        cache.invalidate(first.id).await;
        let second = cache.get(ok, same).await.unwrap();
        assert_eq!(second.id, first.id + 1);
        // A late 401 for the first token leaves the second in place.
        cache.invalidate(first.id).await;
        assert_eq!(cache.get(ok, same).await.unwrap().id, second.id);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_an_unexpired_token() {
        let cache = TokenCache::default();
        // Lifetime 1 s: due for refresh after 0.9 s, expired after 1 s.
        cache
            .get(
                || async { Ok::<_, String>((Secret::new("t"), Duration::from_secs(1))) },
                same,
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(920)).await;
        let kept = cache
            .get(
                || async { Err::<(Secret, Duration), _>("down".to_string()) },
                same,
            )
            .await;
        assert!(kept.is_ok());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let gone = cache
            .get(
                || async { Err::<(Secret, Duration), _>("down".to_string()) },
                same,
            )
            .await;
        assert!(gone.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_need_that_waited_for_a_failed_fetch_gets_its_failure() {
        let cache = Arc::new(TokenCache::<String>::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let need = |cache: Arc<TokenCache<String>>, fetches: Arc<AtomicUsize>| async move {
            cache
                .get(
                    || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(4)).await;
                        Err::<(Secret, Duration), _>("timed out (time budget 4.0s)".to_string())
                    },
                    |e| format!("{e}, waited for"),
                )
                .await
                .map(|t| t.id)
        };
        let first = tokio::spawn(need(cache.clone(), fetches.clone()));
        tokio::task::yield_now().await;
        let second = tokio::spawn(need(cache.clone(), fetches.clone()));
        assert_eq!(
            first.await.unwrap(),
            Err("timed out (time budget 4.0s)".into())
        );
        assert_eq!(
            second.await.unwrap(),
            Err("timed out (time budget 4.0s), waited for".into()),
            "the fetch it waited for, not one of its own"
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // A later need, which waited for nothing, fetches again.
        let third = need(cache.clone(), fetches.clone()).await;
        assert_eq!(third, Err("timed out (time budget 4.0s)".into()));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
