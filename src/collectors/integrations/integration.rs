//! An organisation's Amazon EventBridge integrations as the exporter sees
//! them (Genesys Cloud's integrations API): whether each is meant to run and
//! the state it reports. Plain data, decoded by the client, recorded by
//! telemetry, encoded by the exposition.

use std::time::SystemTime;

/// The codes of `IntegrationStatusInfo.code`, in the order the exposition
/// writes them.
pub const STATES: [&str; 5] = ["ACTIVE", "ACTIVATING", "INACTIVE", "DEACTIVATING", "ERROR"];

/// The `state` label of a code the exporter does not know (or of a missing
/// `reportedState`).
pub const UNKNOWN: &str = "unknown";

/// What an integration reports, as the `state` label shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// One of [`STATES`].
    Known(&'static str),
    /// A code the exporter does not know (kept for the log), or none.
    Unknown(Option<String>),
}

impl Reported {
    pub fn from_code(code: Option<&str>) -> Reported {
        match code.and_then(|c| STATES.iter().find(|s| **s == c)) {
            Some(known) => Reported::Known(known),
            None => Reported::Unknown(code.map(str::to_string)),
        }
    }

    /// The `state` label.
    pub fn label(&self) -> &str {
        match self {
            Reported::Known(s) => s,
            Reported::Unknown(_) => UNKNOWN,
        }
    }

    /// For log lines: the code as reported, even an unknown one.
    pub fn code(&self) -> &str {
        match self {
            Reported::Known(s) => s,
            Reported::Unknown(Some(code)) => code,
            Reported::Unknown(None) => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub id: String,
    pub name: String,
    /// `intendedState` is `ENABLED`.
    pub enabled: bool,
    pub state: Reported,
    /// `reportedState.detail.message`, when there is one.
    pub detail: Option<String>,
    /// `reportedState.lastUpdated`: the last change of the state.
    pub state_changed: Option<SystemTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_keep_what_they_said() {
        assert_eq!(Reported::from_code(Some("ERROR")).label(), "ERROR");
        let odd = Reported::from_code(Some("MAINTENANCE"));
        assert_eq!((odd.label(), odd.code()), ("unknown", "MAINTENANCE"));
        let none = Reported::from_code(None);
        assert_eq!((none.label(), none.code()), ("unknown", "none"));
    }
}
