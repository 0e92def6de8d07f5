//! The analytics query's requests: every page of one query, paged by
//! `pageToken` while `nextPage` says there is more.

use std::collections::HashSet;

use tokio::time::Instant;

use super::QUERY;
use super::request::QueryBody;
use super::response::{Page, RawRow};
use crate::config::QueryConfig;
use crate::genesys::{GenesysClient, MAX_QUERY_BYTES, QueryError};

/// Rows one query may collect over all its pages: 100 pages of the API's
/// largest page (1000 rows). A query that collects more stops with reason
/// `pagination`.
pub const MAX_QUERY_ROWS: usize = 100_000;

/// What one successful query returns: every row of every page, as it arrived.
#[derive(Debug)]
pub struct QueryResult {
    pub rows: Vec<RawRow>,
    pub pages: u32,
}

/// Runs one full query (every page), giving up at `deadline`.
pub async fn run(
    client: &GenesysClient,
    query: &QueryConfig,
    mut body: QueryBody,
    deadline: Instant,
) -> Result<QueryResult, QueryError> {
    let url = format!("{}{}", client.api_url(), query.path);
    let mut rows = Vec::new();
    let mut seen_tokens = HashSet::new();
    let mut pages = 0u32;
    let mut read = 0usize;
    loop {
        if pages == query.max_pages {
            return Err(QueryError::Pagination(format!(
                "more than {} pages (--query.max-pages)",
                query.max_pages
            )));
        }
        let (page, bytes) = fetch_page(client, &url, &body, deadline).await?;
        pages += 1;
        read += bytes;
        tracing::debug!(org = %client.org(), page = pages, rows = page.rows.len(), bytes, "page received");
        rows.extend(page.rows);
        if rows.len() > MAX_QUERY_ROWS {
            return Err(QueryError::Pagination(format!(
                "more than {MAX_QUERY_ROWS} rows in {pages} pages (the query's row budget)"
            )));
        }
        if read > MAX_QUERY_BYTES {
            return Err(QueryError::Pagination(format!(
                "more than {} MiB in {pages} pages (the query's byte budget)",
                MAX_QUERY_BYTES >> 20
            )));
        }
        match next_token(page.next_page, page.page_token, pages, &mut seen_tokens)? {
            None => break,
            Some(token) => body.page_token = Some(token),
        }
    }
    Ok(QueryResult { rows, pages })
}

/// The token of the next page while `nextPage` says there is one; an error
/// for a page that names no token or repeats one.
fn next_token(
    next_page: Option<String>,
    page_token: Option<String>,
    pages: u32,
    seen: &mut HashSet<String>,
) -> Result<Option<String>, QueryError> {
    if next_page.filter(|n| !n.is_empty()).is_none() {
        return Ok(None);
    }
    let token = page_token.filter(|t| !t.is_empty()).ok_or_else(|| {
        QueryError::Pagination(format!("page {pages} has nextPage but no pageToken"))
    })?;
    if !seen.insert(token.clone()) {
        return Err(QueryError::Pagination(format!(
            "page {pages} repeated an earlier pageToken"
        )));
    }
    Ok(Some(token))
}

/// One page and the size of its body.
async fn fetch_page(
    client: &GenesysClient,
    url: &str,
    body: &QueryBody,
    deadline: Instant,
) -> Result<(Page, usize), QueryError> {
    let answer = client
        .with_token(QUERY, deadline, |http, token| {
            http.post(url).bearer_auth(token).json(body)
        })
        .await?;
    let page = serde_json::from_slice(&answer.body).map_err(|e| QueryError::Decode {
        endpoint: QUERY,
        message: e.to_string(),
    })?;
    Ok((page, answer.body.len()))
}
