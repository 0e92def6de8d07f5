//! What the Genesys side says about the delivery path on AWS: the partner
//! event sources that an organisation's EventBridge integrations deliver to
//! (contract section 12). The integrations collector publishes it with each
//! listing; the AWS collector reads it. Both know this module, not each
//! other.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

/// Where Genesys Cloud puts an integration's events:
/// `aws.partner/genesys.com/cloud/{organisationId}/{eventSourceSuffix}`.
pub fn partner_source_name(organization_id: &str, suffix: &str) -> String {
    format!("aws.partner/genesys.com/cloud/{organization_id}/{suffix}")
}

/// An enabled EventBridge integration and the source it delivers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSource {
    pub name: String,
    pub integration_id: String,
    pub integration_name: String,
    /// The state the integration reports (`ACTIVE`, `ERROR`, ...).
    pub integration_state: String,
    pub account_id: String,
    pub region: String,
}

/// One publication: every source found, as of one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub sources: Vec<PartnerSource>,
}

/// What the AWS collector reads: the sources of the latest discovery that
/// succeeded, or why none has yet.
pub type Latest = Result<Arc<Discovered>, String>;

/// The organisation's channel from the integrations collector to the AWS
/// collector: the latest publication, `None` until the first.
#[derive(Debug)]
pub struct Discovery {
    tx: watch::Sender<Option<Latest>>,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            tx: watch::channel(None).0,
        }
    }
}

impl Discovery {
    pub fn publish(&self, discovered: Discovered) {
        self.tx.send_if_modified(|latest| {
            let changed = !matches!(latest, Some(Ok(d)) if **d == discovered);
            if changed {
                *latest = Some(Ok(Arc::new(discovered)));
            }
            changed
        });
    }

    /// Discovery failed (`why`): said until one succeeds; after one has,
    /// its sources stay watched.
    pub fn failed(&self, why: String) {
        self.tx.send_if_modified(|latest| match latest {
            Some(Ok(_)) => false,
            _ => {
                *latest = Some(Err(why));
                true
            }
        });
    }

    /// The latest publication, if any.
    pub fn latest(&self) -> Option<Latest> {
        self.tx.borrow().clone()
    }

    /// The latest publication, waiting for the first until `deadline`.
    pub async fn first(&self, deadline: Instant) -> Option<Latest> {
        let mut rx = self.tx.subscribe();
        let wait = rx.wait_for(Option::is_some);
        match tokio::time::timeout_at(deadline, wait).await {
            Ok(Ok(latest)) => latest.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_first_publication_is_waited_for_until_the_deadline() {
        let discovery = Arc::new(Discovery::default());
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(discovery.first(soon).await.is_none());
        let waiting = {
            let d = discovery.clone();
            tokio::spawn(async move { d.first(Instant::now() + Duration::from_secs(5)).await })
        };
        discovery.failed("no token".into());
        assert_eq!(waiting.await.unwrap(), Some(Err("no token".into())));
        discovery.publish(Discovered { sources: vec![] });
        discovery.failed("listing failed".into());
        assert!(
            matches!(discovery.latest(), Some(Ok(_))),
            "a failure after a success keeps the sources"
        );
        assert_eq!(
            partner_source_name("o", "s"),
            "aws.partner/genesys.com/cloud/o/s"
        );
    }
}
