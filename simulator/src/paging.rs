//! Result paging: page tokens, `nextPage`, and the misbehaving modes that
//! tests switch on to check a client's pagination guards.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::auth::random_token;

/// How the query endpoint pages its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PagingMode {
    /// Pages of `pageSize` rows; `pageToken` and `nextPage` name the next
    /// page and are both null on the last one.
    #[default]
    Normal,
    /// Every page (the first included) returns the same non-null token and
    /// `nextPage`, and that token always yields the second page.
    RepeatToken,
    /// Every page returns a fresh token and a `nextPage`, forever; pages past
    /// the end hold no rows.
    Endless,
    /// Every page returns a non-empty `nextPage` but a null `pageToken`.
    NextPageWithoutToken,
}

/// Page tokens are remembered up to this many, oldest forgotten first.
const MAX_CURSORS: usize = 10_000;

/// Where a page token points: an offset into one query's rows.
struct Cursor {
    fingerprint: String,
    offset: usize,
}

#[derive(Default)]
pub(crate) struct Cursors {
    cursors: HashMap<String, Cursor>,
    order: VecDeque<String>,
    /// The one token per query that [`PagingMode::RepeatToken`] hands out.
    repeat: HashMap<String, String>,
}

/// One page of a result.
pub(crate) struct Page {
    pub(crate) rows: Vec<Value>,
    pub(crate) total: usize,
    pub(crate) page_token: Option<String>,
    pub(crate) next_page: Option<String>,
}

impl Cursors {
    /// The row offset a page token stands for; `Err` is the 400 message.
    /// Tokens stay usable, so a client may retry a failed page.
    pub(crate) fn resolve(&self, token: &str, fingerprint: &str) -> Result<usize, String> {
        match self.cursors.get(token) {
            None => Err("pageToken is not a token this API issued (or it has expired)".into()),
            Some(c) if c.fingerprint != fingerprint => Err(
                "pageToken belongs to another query: dateFrom, dateTo, interval, filter and \
                 pageSize must stay the same from page to page"
                    .into(),
            ),
            Some(c) => Ok(c.offset),
        }
    }

    /// Cuts the page at `offset` out of `rows` and links it to the next.
    pub(crate) fn page(
        &mut self,
        mode: PagingMode,
        rows: &[Value],
        offset: usize,
        page_size: usize,
        fingerprint: &str,
        query_path: &str,
    ) -> Page {
        let total = rows.len();
        let start = offset.min(total);
        let end = offset.saturating_add(page_size).min(total);
        let next_offset = offset.saturating_add(page_size);
        let page_rows = rows[start..end].to_vec();

        let page_token = match mode {
            PagingMode::Normal if next_offset < total => Some(self.issue(fingerprint, next_offset)),
            PagingMode::Normal | PagingMode::NextPageWithoutToken => None,
            PagingMode::Endless => Some(self.issue(fingerprint, next_offset)),
            PagingMode::RepeatToken => Some(self.repeat_token(fingerprint, page_size)),
        };
        let next_page = match (&page_token, mode) {
            (Some(token), _) => Some(format!("{query_path}?pageToken={token}")),
            (None, PagingMode::NextPageWithoutToken) => Some(format!(
                "{query_path}?pageNumber={}",
                next_offset / page_size.max(1) + 1
            )),
            (None, _) => None,
        };
        Page {
            rows: page_rows,
            total,
            page_token,
            next_page,
        }
    }

    fn issue(&mut self, fingerprint: &str, offset: usize) -> String {
        let token = random_token(32);
        if self.order.len() >= MAX_CURSORS
            && let Some(oldest) = self.order.pop_front()
        {
            self.cursors.remove(&oldest);
        }
        self.cursors.insert(
            token.clone(),
            Cursor {
                fingerprint: fingerprint.to_owned(),
                offset,
            },
        );
        self.order.push_back(token.clone());
        token
    }

    fn repeat_token(&mut self, fingerprint: &str, page_size: usize) -> String {
        if let Some(token) = self.repeat.get(fingerprint)
            && self.cursors.contains_key(token)
        {
            return token.clone();
        }
        if self.repeat.len() >= 1024 {
            self.repeat.clear();
        }
        let token = self.issue(fingerprint, page_size);
        self.repeat.insert(fingerprint.to_owned(), token.clone());
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!(i)).collect()
    }

    #[test]
    fn normal_paging_walks_to_the_end() {
        let mut cursors = Cursors::default();
        let first = cursors.page(PagingMode::Normal, &rows(5), 0, 2, "q", "/p");
        assert_eq!(first.rows, rows(2));
        assert_eq!(first.total, 5);
        let token = first.page_token.unwrap();
        assert_eq!(first.next_page.unwrap(), format!("/p?pageToken={token}"));
        let offset = cursors.resolve(&token, "q").unwrap();
        assert!(cursors.resolve(&token, "other").is_err());
        assert!(cursors.resolve("unknown", "q").is_err());
        let second = cursors.page(PagingMode::Normal, &rows(5), offset, 2, "q", "/p");
        let third = cursors.page(
            PagingMode::Normal,
            &rows(5),
            cursors.resolve(&second.page_token.unwrap(), "q").unwrap(),
            2,
            "q",
            "/p",
        );
        assert_eq!(third.rows, vec![json!(4)]);
        assert!(third.page_token.is_none() && third.next_page.is_none());
    }

    #[test]
    fn cursor_store_is_bounded() {
        let mut cursors = Cursors::default();
        let first = cursors.page(PagingMode::Endless, &rows(1), 0, 1, "q", "/p");
        for _ in 0..MAX_CURSORS {
            cursors.page(PagingMode::Endless, &rows(1), 0, 1, "q", "/p");
        }
        assert!(cursors.cursors.len() <= MAX_CURSORS);
        assert!(cursors.resolve(&first.page_token.unwrap(), "q").is_err());
    }
}
