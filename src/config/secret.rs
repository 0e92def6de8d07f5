//! A string that must never be printed (the client secret and access
//! tokens), and where the client secret comes from.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::web::files::{ReadError, read_capped};

/// Holds a credential. `Debug` and `Display` print `[redacted]`, so a secret
/// that ends up in a struct that is logged or formatted into an error stays hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The OAuth client secret: given once (the environment), or a file read
/// again for every token request, as Prometheus reads its password files, so
/// that a rotated secret is used without a restart.
#[derive(Debug, Clone)]
pub enum ClientSecret {
    Value(Secret),
    File {
        path: PathBuf,
        /// The secret as last read, used while the file cannot be read.
        last: Arc<Mutex<Secret>>,
    },
}

impl ClientSecret {
    /// Reads the file now: a missing, unreadable or empty file is an error
    /// at start.
    pub fn from_file(path: PathBuf) -> Result<ClientSecret, SecretError> {
        let secret = read(&path)?;
        Ok(ClientSecret::File {
            path,
            last: Arc::new(Mutex::new(secret)),
        })
    }

    /// The secret to send now. A file that cannot be read or is empty leaves
    /// the last secret read in use (a rotation in progress, say); said in a warning.
    pub fn current(&self, org: &str) -> Secret {
        match self {
            ClientSecret::Value(secret) => secret.clone(),
            ClientSecret::File { path, last } => {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                match read(path) {
                    Ok(secret) if secret != *last => {
                        tracing::info!(org, file = %path.display(), "client secret file changed; using the new secret");
                        *last = secret;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(
                        org,
                        file = %path.display(),
                        %error,
                        "cannot read the client secret file; using the secret read before"
                    ),
                }
                last.clone()
            }
        }
    }
}

/// Two secrets are the same setting when they come from the same place: a
/// file's contents may change, its path says where the secret is.
impl PartialEq for ClientSecret {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ClientSecret::Value(a), ClientSecret::Value(b)) => a == b,
            (ClientSecret::File { path: a, .. }, ClientSecret::File { path: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// The largest secret file read.
const SECRET_MAX_BYTES: u64 = 64 * 1024;

/// Why a secret file cannot be used; names the file.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    #[error("{}: not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("{} is empty", path.display())]
    Empty { path: PathBuf },
}

/// The secret in a file, without its trailing line break.
fn read(path: &Path) -> Result<Secret, SecretError> {
    // A secret is a line; a file that never ends (a device) or holds
    // megabytes is not one.
    let bytes = read_capped(path, SECRET_MAX_BYTES).map_err(|source| SecretError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SecretError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(SecretError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::{ClientSecret, Secret};

    #[test]
    fn never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(
            format!("{s:?} {s} {:?}", Some(&s)),
            "[redacted] [redacted] Some([redacted])"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn a_secret_file_is_read_again_and_its_last_good_value_kept() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("secret");
        std::fs::write(&path, "first\n").unwrap();
        let secret = ClientSecret::from_file(path.clone()).unwrap();
        assert_eq!(secret.current("test").expose(), "first");
        std::fs::write(&path, "second\r\n").unwrap();
        assert_eq!(secret.current("test").expose(), "second");
        for broken in [Some(""), Some("\n"), None] {
            match broken {
                Some(text) => std::fs::write(&path, text).unwrap(),
                None => std::fs::remove_file(&path).unwrap(),
            }
            assert_eq!(secret.current("test").expose(), "second", "{broken:?}");
        }
        assert_eq!(format!("{secret:?}").matches("[redacted]").count(), 1);
        assert!(!format!("{secret:?}").contains("second"));
    }

    #[test]
    fn an_endless_or_oversized_file_is_refused() {
        let err = ClientSecret::from_file("/dev/zero".into())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/dev/zero") && err.contains("larger than"),
            "{err}"
        );
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("secret");
        std::fs::write(&path, "x".repeat(100 * 1024)).unwrap();
        assert!(
            ClientSecret::from_file(path)
                .unwrap_err()
                .to_string()
                .contains("larger than")
        );
    }

    #[test]
    fn a_missing_or_empty_file_is_refused_at_start() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("secret");
        let missing = ClientSecret::from_file(path.clone())
            .unwrap_err()
            .to_string();
        assert!(missing.contains("No such file"), "{missing}");
        std::fs::write(&path, "\n").unwrap();
        let empty = ClientSecret::from_file(path).unwrap_err().to_string();
        assert!(empty.ends_with("is empty"), "{empty}");
    }
}
