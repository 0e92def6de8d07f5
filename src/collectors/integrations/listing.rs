//! The integrations listing's requests: every page of
//! `GET /api/v2/integrations`, paged by `pageNumber` while it is below
//! `pageCount`.

use std::collections::HashSet;

use tokio::time::Instant;

use super::LISTING;
use super::decode::{self, EVENTBRIDGE_TYPE, MAX_PAGES, PAGE_SIZE, PATH};
use super::integration::Integration;
use crate::genesys::{GenesysClient, MAX_QUERY_BYTES, QueryError};

/// What one successful listing returns.
#[derive(Debug, Default)]
pub struct IntegrationsResult {
    pub integrations: Vec<Integration>,
    /// Malformed entities skipped.
    pub invalid: u64,
    pub pages: u32,
}

/// Every EventBridge integration of the organisation, giving up at
/// `deadline`. Malformed entities are skipped and counted in the result.
pub async fn run(
    client: &GenesysClient,
    deadline: Instant,
) -> Result<IntegrationsResult, QueryError> {
    let mut result = IntegrationsResult::default();
    let mut seen = HashSet::new();
    let mut read = 0usize;
    for number in 1..=MAX_PAGES {
        // Every part is a constant or a number: nothing to escape.
        let url = format!(
            "{}{PATH}?integrationType={EVENTBRIDGE_TYPE}&pageSize={PAGE_SIZE}&pageNumber={number}",
            client.api_url(),
        );
        let answer = client
            .with_token(LISTING, deadline, |http, token| {
                http.get(&url).bearer_auth(token)
            })
            .await?;
        read += answer.body.len();
        if read > MAX_QUERY_BYTES {
            return Err(QueryError::Pagination(format!(
                "integrations: more than {} MiB in {number} pages",
                MAX_QUERY_BYTES >> 20
            )));
        }
        let page: decode::Page =
            serde_json::from_slice(&answer.body).map_err(|e| QueryError::Decode {
                endpoint: LISTING,
                message: e.to_string(),
            })?;
        result.pages = number;
        if page.page_number.is_some_and(|n| n != number) {
            // A server that answers another page than asked for would
            // be read forever.
            return Err(QueryError::Pagination(format!(
                "integrations: asked for page {number}, got page {}",
                page.page_number.unwrap_or(0)
            )));
        }
        for raw in page.entities.unwrap_or_default() {
            match decode::entity(raw) {
                // Paging is by offset: an integration created or deleted
                // mid-listing moves another onto two pages. One series
                // per id; the repeat is counted with the malformed.
                Some(i) if seen.insert(i.id.clone()) => result.integrations.push(i),
                _ => result.invalid += 1,
            }
        }
        if number >= page.page_count.unwrap_or(1) {
            return Ok(result);
        }
    }
    Err(QueryError::Pagination(format!(
        "integrations: more than {MAX_PAGES} pages"
    )))
}
