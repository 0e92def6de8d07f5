//! Discovery of the partner event sources (contract section 12): for each
//! enabled integration, `GET /api/v2/integrations/{id}/config/current`
//! gives the AWS account, region and the source's suffix, and
//! `GET /api/v2/organizations/me` the organisation's id, asked once and
//! kept. Run after a successful listing, in the same cycle, only when the
//! AWS collector needs it.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::Deserialize;
use tokio::time::Instant;

use super::integration::Integration;
use crate::discovery::{Discovered, PartnerSource, partner_source_name};
use crate::genesys::{Endpoint, GenesysClient, QueryError};

pub const CONFIG: Endpoint = Endpoint::new(3, "integration_config");
pub const ORGANIZATION: Endpoint = Endpoint::new(4, "organization");

/// `IntegrationConfiguration`, the part read.
#[derive(Debug, Deserialize)]
struct Configuration {
    #[serde(default)]
    properties: Option<Properties>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    aws_account_id: Option<String>,
    aws_account_region: Option<String>,
    event_source_suffix: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Organization {
    id: String,
}

/// What discovery keeps between cycles: the organisation's id, and which
/// integrations failed last time (so that a failure is logged once).
#[derive(Debug, Default)]
pub struct Discoverer {
    organization_id: Mutex<Option<String>>,
    failing: Mutex<HashSet<String>>,
}

impl Discoverer {
    /// The sources of `integrations` that are meant to run, or why none
    /// could be found (the organisation's id could not be read).
    pub async fn run(
        &self,
        client: &GenesysClient,
        integrations: &[Integration],
        deadline: Instant,
        org: &str,
    ) -> Result<Discovered, QueryError> {
        let organization_id = self.organization_id(client, deadline).await?;
        let enabled = integrations.iter().filter(|i| i.enabled);
        let fetches = enabled.map(|i| async move { (i, config(client, &i.id, deadline).await) });
        let mut sources = Vec::new();
        for (integration, result) in futures_util::future::join_all(fetches).await {
            let source = result.and_then(|c| source_of(integration, c, &organization_id));
            self.note(integration, &source, org);
            sources.extend(source.ok());
        }
        Ok(Discovered { sources })
    }

    async fn organization_id(
        &self,
        client: &GenesysClient,
        deadline: Instant,
    ) -> Result<String, QueryError> {
        if let Some(id) = self.lock_id().clone() {
            return Ok(id);
        }
        let url = format!("{}/api/v2/organizations/me", client.api_url());
        let answer = client
            .with_token(ORGANIZATION, deadline, |http, token| {
                http.get(&url).bearer_auth(token)
            })
            .await?;
        let organization: Organization =
            serde_json::from_slice(&answer.body).map_err(|e| QueryError::Decode {
                endpoint: ORGANIZATION,
                message: e.to_string(),
            })?;
        *self.lock_id() = Some(organization.id.clone());
        Ok(organization.id)
    }

    fn lock_id(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.organization_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Logs a failure the first time an integration's configuration fails.
    fn note(
        &self,
        integration: &Integration,
        result: &Result<PartnerSource, QueryError>,
        org: &str,
    ) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(_) => {
                failing.remove(&integration.id);
            }
            Err(error) => {
                if failing.insert(integration.id.clone()) {
                    tracing::warn!(
                        org,
                        integration_id = %integration.id,
                        integration = %integration.name,
                        reason = error.reason().as_str(),
                        endpoint = CONFIG.as_str(),
                        error = %error,
                        "cannot read the integration's configuration: its event source is not watched on AWS"
                    );
                }
            }
        }
    }
}

async fn config(
    client: &GenesysClient,
    id: &str,
    deadline: Instant,
) -> Result<Configuration, QueryError> {
    // Ids are UUIDs; anything else is escaped rather than trusted.
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let url = format!(
        "{}/api/v2/integrations/{id}/config/current",
        client.api_url()
    );
    let answer = client
        .with_token(CONFIG, deadline, |http, token| {
            http.get(&url).bearer_auth(token)
        })
        .await?;
    serde_json::from_slice(&answer.body).map_err(|e| QueryError::Decode {
        endpoint: CONFIG,
        message: e.to_string(),
    })
}

fn source_of(
    integration: &Integration,
    config: Configuration,
    organization_id: &str,
) -> Result<PartnerSource, QueryError> {
    let properties = config.properties;
    let field = |get: fn(&Properties) -> &Option<String>, name: &str| {
        properties
            .as_ref()
            .and_then(|p| get(p).as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| QueryError::Decode {
                endpoint: CONFIG,
                message: format!("properties.{name} is missing"),
            })
    };
    let suffix = field(|p| &p.event_source_suffix, "eventSourceSuffix")?;
    Ok(PartnerSource {
        name: partner_source_name(organization_id, &suffix),
        integration_id: integration.id.clone(),
        integration_name: integration.name.clone(),
        integration_state: integration.state.label().to_string(),
        account_id: field(|p| &p.aws_account_id, "awsAccountId")?,
        region: field(|p| &p.aws_account_region, "awsAccountRegion")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::integrations::integration::Reported;

    #[test]
    fn a_configuration_gives_the_source_or_names_what_is_missing() {
        let integration = Integration {
            id: "i-1".into(),
            name: "prod".into(),
            enabled: true,
            state: Reported::from_code(Some("ACTIVE")),
            detail: None,
            state_changed: None,
        };
        let config: Configuration = serde_json::from_str(
            r#"{"id":"i-1","properties":{"awsAccountId":"123456789012","awsAccountRegion":"eu-west-1","eventSourceSuffix":"prod","eventFilter":[]}}"#,
        )
        .unwrap();
        let source = source_of(&integration, config, "org-1").unwrap();
        assert_eq!(source.name, "aws.partner/genesys.com/cloud/org-1/prod");
        assert_eq!(
            (source.account_id.as_str(), source.region.as_str()),
            ("123456789012", "eu-west-1")
        );
        let config: Configuration =
            serde_json::from_str(r#"{"properties":{"eventSourceSuffix":"prod"}}"#).unwrap();
        let error = source_of(&integration, config, "org-1").unwrap_err();
        assert!(error.to_string().contains("awsAccountId"), "{error}");
    }
}
