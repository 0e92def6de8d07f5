//! What the integrations collector shows besides its series: its section of
//! the debug trace and its paragraphs of the landing page.

use std::fmt::Write as _;

use super::Seen;
use crate::logging::short;
use crate::report::{count, escape_html, escape_text};

pub fn trace(out: &mut String, seen: Option<&Seen>, enabled: bool) {
    let Some(seen) = seen else {
        out.push_str(match enabled {
            false => "\nIntegrations: not listed (--no-collector.integrations)\n",
            true => "\nIntegrations: not listed yet\n",
        });
        return;
    };
    let _ = writeln!(
        out,
        "\nIntegrations: latest listing {}; {}",
        if seen.up { "succeeded" } else { "failed" },
        count(seen.list.len() as u64, "EventBridge integration")
    );
    for i in seen.list.iter() {
        let _ = writeln!(
            out,
            "  {} ({}): {}, {}{}",
            short(&i.name),
            short(&i.id),
            i.state.code(),
            if i.enabled { "enabled" } else { "not enabled" },
            i.detail
                .as_deref()
                .map_or(String::new(), |d| format!(": {}", escape_text(d)))
        );
    }
}

pub fn status(html: &mut String, seen: &Seen) {
    if !seen.up {
        html.push_str(
            "<p class=\"failed\">The latest listing of the EventBridge integrations failed.</p>",
        );
    }
    if seen.list.is_empty() {
        html.push_str("<p>No EventBridge integration is listed.</p>");
    }
    for i in seen.list.iter() {
        let healthy = !i.enabled || i.state.label() == "ACTIVE";
        let _ = write!(
            html,
            "<p class=\"{}\">Integration <code>{}</code>: <span class=\"integration-state\">{}</span>{}{}</p>",
            if healthy { "ok" } else { "failed" },
            escape_html(&short(&i.name)),
            escape_html(i.state.code()),
            if i.enabled { "" } else { " (not enabled)" },
            i.detail
                .as_deref()
                .map_or(String::new(), |d| format!(": {}", escape_html(d))),
        );
    }
}
