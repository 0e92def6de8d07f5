//! The Genesys Cloud analytics API: authentication, the query and its paging,
//! rate limits and typed errors.

pub mod auth;
pub mod backoff;
pub mod client;
pub mod error;
pub mod integrations;
pub mod ratelimit;
pub mod request;
pub mod response;

pub use client::{
    GenesysClient, MAX_BODY_BYTES, MAX_QUERY_BYTES, MAX_QUERY_ROWS, QueryResult, max_attempts,
};
pub use error::{ApiErrorDetail, FailureReason, QueryError};
pub use response::MAX_PAGE_ROWS;
pub use response::{Field, RawRow};
