//! The Genesys Cloud transport that every collector of an organisation
//! shares: authentication, retries and backoff, the 429 cooldown, typed
//! errors, the record of requests and responses, and the client's own series.

pub mod auth;
pub mod backoff;
pub mod client;
pub mod error;
pub mod gate;
pub mod ratelimit;
pub mod series;
pub mod telemetry;

pub use client::{Answer, GenesysClient, MAX_BODY_BYTES, MAX_QUERY_BYTES, max_attempts};
pub use error::{ApiErrorDetail, FailureReason, QueryError};
pub use gate::Gate;
pub use telemetry::{Endpoint, RateLimitHeaders, Telemetry, TracedRequest};
