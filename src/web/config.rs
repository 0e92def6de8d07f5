//! The web configuration file (`--web.config.file`) in the exporter-toolkit
//! `web-config.yml` format: TLS, basic auth and extra response headers.
//! Parsed strictly (an unknown key is an error) and validated whole at start,
//! certificates and hashes included, so that a mistake stops the exporter
//! instead of serving less protection than asked for.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::auth::{AuthError, BasicAuth};
use super::files::{
    MAX_FILE_BYTES, MAX_YAML_FLOW_DEPTH, ReadError, check_yaml_nesting, read_capped,
};
use super::follow::{Stamp, hash, stamp};
use super::tls::{self, ClientAuth, Pem, TlsError, TlsSettings, TlsVersion};

// `expecting` words messages such as "invalid type: integer, expected a
// mapping of tls_server_config settings" (serde would name the Rust type).
#[derive(Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping of web configuration settings"
)]
struct RawFile {
    tls_server_config: Option<RawTls>,
    http_server_config: Option<RawHttp>,
    basic_auth_users: Option<BTreeMap<String, String>>,
    /// Known to the format, not implemented here: refused by name.
    rate_limit: Option<serde_yaml_ng::Value>,
}

// No Debug: `key` may hold a private key.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping of tls_server_config settings"
)]
struct RawTls {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_ca_file: Option<PathBuf>,
    client_auth_type: Option<ClientAuth>,
    /// Known to the format, not implemented here: refused by name.
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping of http_server_config settings"
)]
struct RawHttp {
    /// Accepted for compatibility; HTTP/1.1 is served either way.
    #[allow(dead_code)]
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// Response headers the format lets an operator set, with the values allowed
/// where the header is an enumeration (the exporter-toolkit list).
const HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("cannot read: {0}")]
    Read(ReadError),
    #[error("{0}")]
    Nesting(String),
    #[error("{0}")]
    Yaml(String),
    #[error("{0}: not supported by this build")]
    Unsupported(&'static str),
    #[error("tls_server_config: missing one of {0} or {0}_file")]
    Missing(&'static str),
    #[error("tls_server_config: {0} and {0}_file are both set; give one")]
    Both(&'static str),
    #[error("tls_server_config: {0}")]
    Tls(#[from] TlsError),
    #[error("basic_auth_users: {0}")]
    Auth(#[from] AuthError),
    #[error("http_server_config: headers: {name}: {reason}")]
    Header { name: String, reason: String },
}

/// The loaded web configuration; the default serves plain HTTP to anyone.
#[derive(Clone, Default)]
pub struct WebConfig {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub auth: Option<Arc<BasicAuth>>,
    /// Added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The files read (the configuration file itself first, when loaded from
    /// one; then certificate, key and CA files), each with its stamp as read.
    pub files: Vec<(PathBuf, Stamp)>,
    /// With TLS: what is asked of clients, and the lowest version served.
    pub client_auth: Option<ClientAuth>,
    pub min_version: Option<TlsVersion>,
}

/// Terse, and never the TLS configuration itself: it holds the private key.
impl fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("auth", &self.auth)
            .field("headers", &self.headers)
            .field("files", &self.files)
            .field("client_auth", &self.client_auth)
            .field("min_version", &self.min_version)
            .finish()
    }
}

/// Reads and validates the file; the error names what is wrong, the caller
/// adds the path.
pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
    let bytes = read_capped(path, MAX_FILE_BYTES).map_err(WebConfigError::Read)?;
    // The stamp of the very bytes parsed: a write after this read is a change.
    let read = hash(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| {
        WebConfigError::Read(ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )))
    })?;
    // Relative paths in the file are relative to the file's folder.
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut config = parse(&text, dir)?;
    config.files.insert(0, (path.to_path_buf(), Ok(read)));
    Ok(config)
}

pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, WebConfigError> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile::default()
    } else {
        check_yaml_nesting(text, MAX_YAML_FLOW_DEPTH).map_err(WebConfigError::Nesting)?;
        serde_yaml_ng::from_str(text)
            .map_err(|e| WebConfigError::Yaml(hide_values(&one_line(&e.to_string()))))?
    };
    if raw.rate_limit.is_some() {
        return Err(WebConfigError::Unsupported("rate_limit"));
    }
    let settings = raw
        .tls_server_config
        .map(|t| settings(t, dir))
        .transpose()?;
    // Stamped before they are read: a write in between shows as a change.
    let files = settings
        .iter()
        .flat_map(TlsSettings::files)
        .map(|path| {
            let stamp = stamp(&path);
            (path, stamp)
        })
        .collect();
    let client_auth = settings.as_ref().map(|s| s.client_auth);
    let min_version = settings.as_ref().map(|s| s.min_version);
    let tls = settings.map(|s| tls::server_config(&s)).transpose()?;
    let auth = match raw.basic_auth_users {
        Some(users) if !users.is_empty() => Some(Arc::new(BasicAuth::new(users)?)),
        _ => None,
    };
    let headers = match raw.http_server_config.and_then(|h| h.headers) {
        Some(h) => headers(h)?,
        None => Vec::new(),
    };
    Ok(WebConfig {
        tls,
        auth,
        headers,
        files,
        client_auth,
        min_version,
    })
}

/// serde shows the offending value (``invalid type: string "..."``,
/// ``integer `...` ``, ``unknown variant `...` ``), which may be a password
/// or a key put in the wrong place: those values are hidden. Key names
/// (``unknown field `...` ``), the location and the expected type stay.
pub fn hide_values(message: &str) -> String {
    const VALUES: [(&str, char); 6] = [
        ("string \"", '"'),
        ("integer `", '`'),
        ("floating point `", '`'),
        ("boolean `", '`'),
        ("character `", '`'),
        ("unknown variant `", '`'),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for (prefix, close) in VALUES {
            let Some(after) = rest.strip_prefix(prefix) else {
                continue;
            };
            // The value ends at the first unescaped closing delimiter; with
            // none, this is not a quoted value and is left as it is.
            let mut escaped = false;
            for (at, c) in after.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    c if c == close && !escaped => {
                        out.push_str(&prefix[..prefix.len() - 1]);
                        out.push_str("(value hidden)");
                        rest = &after[at + c.len_utf8()..];
                        continue 'scan;
                    }
                    _ => escaped = false,
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// serde's messages can span lines; the exit message is one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One PEM source out of a key's inline and `_file` forms.
fn pem(
    (key, file_key): (&'static str, &'static str),
    inline: Option<String>,
    file: Option<PathBuf>,
    dir: &Path,
) -> Result<Option<Pem>, WebConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(WebConfigError::Both(key)),
        (Some(text), None) => Ok(Some(Pem::Inline { key, text })),
        (None, Some(path)) => Ok(Some(Pem::File {
            key: file_key,
            path: dir.join(path),
        })),
        (None, None) => Ok(None),
    }
}

fn settings(raw: RawTls, dir: &Path) -> Result<TlsSettings, WebConfigError> {
    if raw.client_allowed_sans.is_some() {
        return Err(WebConfigError::Unsupported(
            "tls_server_config: client_allowed_sans",
        ));
    }
    let cert = pem(("cert", "cert_file"), raw.cert, raw.cert_file, dir)?
        .ok_or(WebConfigError::Missing("cert"))?;
    let key = pem(("key", "key_file"), raw.key, raw.key_file, dir)?
        .ok_or(WebConfigError::Missing("key"))?;
    Ok(TlsSettings {
        cert,
        key,
        client_ca: pem(
            ("client_ca", "client_ca_file"),
            raw.client_ca,
            raw.client_ca_file,
            dir,
        )?,
        client_auth: raw.client_auth_type.unwrap_or_default(),
        min_version: raw.min_version.unwrap_or(TlsVersion::TLS12),
        max_version: raw.max_version.unwrap_or(TlsVersion::TLS13),
        cipher_suites: raw.cipher_suites.unwrap_or_default(),
        curve_preferences: raw.curve_preferences.unwrap_or_default(),
        prefer_server_cipher_suites: raw.prefer_server_cipher_suites.unwrap_or(true),
    })
}

fn headers(
    configured: BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, WebConfigError> {
    let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for (name, value) in configured {
        let error = |reason: String| WebConfigError::Header {
            name: name.clone(),
            reason,
        };
        let Some((_, allowed)) = HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) else {
            let names: Vec<&str> = HEADERS.iter().map(|(n, _)| *n).collect();
            return Err(error(format!(
                "cannot be configured; one of {}",
                names.join(", ")
            )));
        };
        // Blank means unset, as in the format's documentation.
        if value.trim().is_empty() {
            continue;
        }
        if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(value.trim())) {
            return Err(error(format!(
                "the value is not one of {}",
                allowed.join(", ")
            )));
        }
        let header_name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| error(e.to_string()))?;
        let header_value = HeaderValue::from_str(value.trim())
            .map_err(|_| error("invalid header value".into()))?;
        if out.iter().any(|(n, _)| *n == header_name) {
            return Err(error("set twice".into()));
        }
        out.push((header_name, header_value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("/nonexistent"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_empty_file_serves_plain_http_to_anyone() {
        for text in ["", "# nothing yet\n", "---\n", "tls_server_config:\n"] {
            let c = parse(text, Path::new(".")).unwrap();
            assert!(c.tls.is_none() && c.auth.is_none() && c.headers.is_empty());
        }
        let c = parse(
            "basic_auth_users: {}\nhttp_server_config:\n  http2: false\n",
            Path::new("."),
        )
        .unwrap();
        assert!(c.auth.is_none());
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err("tls_server_config:\n  cert_fil: x\n");
        assert!(
            e.contains("tls_server_config") && e.contains("cert_fil"),
            "{e}"
        );
        let e = err("basic_auth_user:\n  a: b\n");
        assert!(e.contains("basic_auth_user"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn format_keys_not_implemented_are_refused_by_name() {
        assert_eq!(
            err("rate_limit:\n  interval: 1s\n  burst: 5\n"),
            "rate_limit: not supported by this build"
        );
        let e =
            err("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n");
        assert!(e.contains("client_allowed_sans: not supported"), "{e}");
    }

    #[test]
    fn tls_needs_one_cert_and_one_key() {
        assert_eq!(
            err("tls_server_config:\n  key_file: k\n"),
            "tls_server_config: missing one of cert or cert_file"
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  cert: x\n  key_file: k\n"),
            "tls_server_config: cert and cert_file are both set; give one"
        );
        let e = err("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
        assert!(
            e.starts_with("tls_server_config: cert_file /nonexistent/c.pem:"),
            "{e}"
        );
        let e = err("tls_server_config:\n  cert: junk\n  key: junk\n");
        assert!(e.contains("cert: no PEM certificate found"), "{e}");
    }

    #[test]
    fn old_tls_versions_and_unknown_client_auth_are_refused() {
        let e = err("tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS11\n");
        assert!(e.contains("min_version: TLS11 is not supported"), "{e}");
        let e = err("tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: Always\n");
        // The value is not repeated (it could be anything); the choices are.
        assert!(
            e.contains("unknown variant (value hidden)")
                && e.contains("RequireAndVerifyClientCert"),
            "{e}"
        );
    }

    #[test]
    fn headers_are_checked_against_the_format() {
        let c = parse(
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    x-content-type-options: nosniff\n    X-XSS-Protection: ''\n",
            Path::new("."),
        )
        .unwrap();
        let names: Vec<&str> = c.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-frame-options", "x-content-type-options"]);
        let e = err("http_server_config:\n  headers:\n    Server: mine\n");
        assert!(
            e.starts_with("http_server_config: headers: Server: cannot be configured"),
            "{e}"
        );
        let e = err("http_server_config:\n  headers:\n    X-Frame-Options: allow\n");
        assert!(
            e.contains("X-Frame-Options: the value is not one of deny, sameorigin")
                && !e.contains("allow\""),
            "{e}"
        );
        let e = err("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\nb\"\n");
        assert!(e.contains("invalid header value"), "{e}");
    }

    #[test]
    fn debug_output_holds_no_key_material() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-days", "1", "-subj", "/CN=x",
            ])
            .current_dir(dir)
            .output();
        if !made.is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "openssl is required in CI"
            );
            eprintln!("SKIPPED: openssl not available");
            return;
        }
        let c = parse(
            "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n",
            dir,
        )
        .unwrap();
        let text = format!("{c:?}");
        assert!(text.starts_with("WebConfig { tls: true, auth: None, headers: [], files: [("));
        assert!(text.ends_with("client_auth: Some(NoClientCert), min_version: Some(TLS12) }"));
        let key = std::fs::read_to_string(dir.join("k.pem")).unwrap();
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!text.contains(line), "{text}");
        }
    }

    #[test]
    fn values_in_syntax_errors_are_hidden() {
        for (text, hidden) in [
            ("basic_auth_users: hunter2\n", "hunter2"),
            (
                "http_server_config: \"quo\\\"ted, still secret\"\n",
                "secret",
            ),
            (
                "tls_server_config: \"-----BEGIN PRIVATE KEY-----\"\n",
                "PRIVATE",
            ),
            ("basic_auth_users: 12345678\n", "12345678"),
            ("basic_auth_users: 1234.5678\n", "1234.5678"),
            ("basic_auth_users: true\n", "true"),
            (
                "tls_server_config:\n  client_auth_type: hunter2\n",
                "hunter2",
            ),
            ("tls_server_config:\n  min_version: hunter2\n", "hunter2"),
        ] {
            let e = err(text);
            assert!(!e.contains(hidden), "{e}");
            assert!(e.contains("(value hidden)") && e.contains("line"), "{e}");
        }
        // Key names stay, quotes in them included: they say what to fix.
        let e = err("tls_server_config:\n  cert_fil: x\n");
        assert!(e.contains("unknown field `cert_fil`"), "{e}");
        let e = err("tls_server_config:\n  ce\"rt: x\n");
        assert!(
            e.contains("unknown field `ce\"rt`") && e.contains("line 2"),
            "{e}"
        );
        let e = err("basic_auth_users:\n  al\"ice: [x]\n");
        assert!(e.contains("al\"ice") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn deeply_nested_yaml_is_refused_before_it_is_parsed() {
        // Parsed, this would take minutes; the scan refuses it first.
        let e = err(&format!("basic_auth_users: {}", "[".repeat(1 << 20)));
        assert_eq!(e, "line 1: collections nested deeper than 32 levels");
    }

    #[test]
    fn bad_hashes_name_the_user() {
        let e = err("basic_auth_users:\n  alice: hunter2\n");
        assert!(
            e.starts_with("basic_auth_users: \"alice\": not a bcrypt hash"),
            "{e}"
        );
    }
}
