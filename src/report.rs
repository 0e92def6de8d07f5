//! What each owner of an organisation's series (a collector, the Genesys
//! client) shows besides its series: its section of the debug trace and its
//! facts on the landing page. The server writes both from the organisation's
//! owners in order, so that each owner's facts stay in its own module.

use crate::clock::Clock;
use crate::exposition::Series;

pub trait Report: Series {
    /// Its section of `/probe?debug=true`, plain text.
    fn trace(&self, _out: &mut String) {}

    /// How its latest requests went, as HTML paragraphs of the landing page.
    fn status(&self, _html: &mut String, _clock: Clock) {}

    /// What its data says, as HTML paragraphs after every owner's status.
    fn findings(&self, _html: &mut String, _clock: Clock) {}
}

/// `n` of a noun, in the plural unless there is one: "1 page", "2 pages".
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// `s` as one line of the plain-text debug trace: control characters
/// (a newline in an upstream message) escaped as Rust writes them, so that
/// no message can start a line of its own.
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c.is_control() {
            true => out.extend(c.escape_default()),
            false => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` as HTML text, safe in elements and quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
