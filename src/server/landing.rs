//! The `/` page: what this is, where the metrics are, and each
//! organisation's latest cycle as its reports show it.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::orgs::{OrgView, Organization};
use crate::report::escape_html as escape;

/// The state of one organisation's latest cycle: each report's status, then
/// each report's findings.
fn org_state(view: &OrgView<'_>) -> String {
    let mut html = String::new();
    for report in view.reports {
        report.status(&mut html, view.clock);
    }
    for report in view.reports {
        report.findings(&mut html, view.clock);
    }
    html
}

/// `orgs` with the flags' organisation first, as the registry lists them.
pub fn page(telemetry_path: &str, orgs: &[Arc<Organization>], flags: Option<&str>) -> String {
    let path = escape(telemetry_path);
    let mut sections = String::new();
    for org in orgs {
        let name = escape(org.name());
        let on_metrics = flags == Some(org.name());
        let _ = write!(
            sections,
            "<section class=\"org\" id=\"org-{name}\">\n<h3>{name}{}</h3>\n",
            if on_metrics {
                " (on the telemetry path)"
            } else {
                ""
            }
        );
        let mut links = Vec::new();
        if on_metrics {
            links.push(format!("<a href=\"{path}\">metrics</a>"));
        }
        // The flags' organisation is a probe target too (`default`, `demo`).
        links.push(format!("<a href=\"/probe?target={name}\">probe</a>"));
        links.push(format!(
            "<a href=\"/probe?target={name}&amp;debug=true\">debug trace</a>"
        ));
        let _ = write!(
            sections,
            "<p>{}</p>\n{}\n</section>\n",
            links.join(" · "),
            org_state(&org.view())
        );
    }
    if orgs.is_empty() {
        sections.push_str("<p>No organisation is configured.</p>");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Genesys EventBridge Exporter</title>\n\
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto}}.ok{{color:#1a7f37}}.failed{{color:#cf222e}}section.org{{border-top:1px solid #ccc}}</style></head>\n\
<body>\n<h1>Genesys EventBridge Exporter</h1>\n<p>Version {version}. Consumer lag of Genesys Cloud EventBridge consumer groups, for Prometheus.</p>\n\
<ul><li><a href=\"{path}\">Metrics</a> ({path})</li><li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\n\
<h2>Organisations</h2>\n{sections}\n</body>\n</html>\n",
        version = env!("CARGO_PKG_VERSION"),
    )
}
