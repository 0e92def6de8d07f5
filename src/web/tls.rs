//! The rustls server configuration built from the web configuration file's
//! `tls_server_config`: certificate and key, client certificates, protocol
//! versions, cipher suites and curves.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{VerifierBuilderError, WebPkiClientVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use serde::Deserialize;

use super::files::{MAX_FILE_BYTES, ReadError, read_capped};

/// Where a PEM block comes from: a file (path already resolved) or the
/// configuration file itself.
#[derive(Clone)]
pub enum Pem {
    File { key: &'static str, path: PathBuf },
    Inline { key: &'static str, text: String },
}

impl Pem {
    fn read(&self) -> Result<Vec<u8>, TlsError> {
        match self {
            Pem::File { path, .. } => {
                read_capped(path, MAX_FILE_BYTES).map_err(|error| TlsError::Read {
                    what: self.to_string(),
                    error,
                })
            }
            Pem::Inline { text, .. } => Ok(text.as_bytes().to_vec()),
        }
    }
}

/// Names the source in errors; never prints inline content (a key is secret).
impl fmt::Display for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File { key, path } => write!(f, "{key} {}", path.display()),
            Pem::Inline { key, .. } => f.write_str(key),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Go's `tls.ClientAuthType` names, as the exporter-toolkit format uses them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ClientAuth {
    #[default]
    NoClientCert,
    RequestClientCert,
    #[serde(alias = "RequireClientCert")]
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// TLS versions by their exporter-toolkit names. TLS 1.0 and 1.1 are known
/// so that they can be refused by name: rustls does not implement them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum TlsVersion {
    TLS10,
    TLS11,
    TLS12,
    TLS13,
}

/// Validated `tls_server_config` settings, paths resolved.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert: Pem,
    pub key: Pem,
    pub client_ca: Option<Pem>,
    pub client_auth: ClientAuth,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// Go cipher suite names; empty means rustls' defaults.
    pub cipher_suites: Vec<String>,
    /// Go curve names; empty means rustls' defaults.
    pub curve_preferences: Vec<String>,
    pub prefer_server_cipher_suites: bool,
}

impl TlsSettings {
    /// The files the PEM blocks come from (inline ones have none).
    pub fn files(&self) -> Vec<PathBuf> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|pem| match pem {
                Pem::File { path, .. } => Some(path.clone()),
                Pem::Inline { .. } => None,
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: {error}")]
    Read { what: String, error: ReadError },
    #[error("{what}: {reason}")]
    Pem { what: String, reason: String },
    #[error("{key}: {version:?} is not supported (TLS 1.2 and 1.3 are)")]
    Version {
        key: &'static str,
        version: TlsVersion,
    },
    #[error("min_version {min:?} is above max_version {max:?}")]
    VersionOrder { min: TlsVersion, max: TlsVersion },
    #[error(
        "a client CA is configured but client_auth_type is NoClientCert; set client_auth_type (RequireAndVerifyClientCert to check client certificates)"
    )]
    CaWithoutClientAuth,
    #[error("client_auth_type {0:?} needs client_ca_file or client_ca")]
    ClientAuthWithoutCa(ClientAuth),
    #[error("cipher_suites: {0:?} is not supported; use one of {supported}", supported = SUITE_NAMES.join(", "))]
    CipherSuite(String),
    #[error("cipher_suites: none is a TLS 1.2 suite, yet min_version allows TLS 1.2")]
    NoTls12Suite,
    #[error("curve_preferences: {0:?} is not supported; use one of X25519, CurveP256, CurveP384")]
    Curve(String),
    #[error("certificate and key: {0}")]
    KeyPair(rustls::Error),
    #[error("client CA: {0}")]
    ClientCa(VerifierBuilderError),
    #[error("{0}")]
    Rustls(rustls::Error),
}

/// TLS 1.2 suites by Go name (and Go's older names without `_SHA256`).
/// TLS 1.3 suites are not configurable in Go either: all are always offered.
const SUITES: [(&str, SupportedCipherSuite); 6] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

const SUITE_NAMES: [&str; 6] = [
    SUITES[0].0,
    SUITES[1].0,
    SUITES[2].0,
    SUITES[3].0,
    SUITES[4].0,
    SUITES[5].0,
];

const TLS13_SUITE_NAMES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

fn cipher_suite(name: &str) -> Option<SupportedCipherSuite> {
    // Go also names the ChaCha20 suites without the hash.
    let name = match name {
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        other => other,
    };
    SUITES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

fn curve(name: &str) -> Option<&'static dyn SupportedKxGroup> {
    match name {
        "X25519" => Some(ring::kx_group::X25519),
        "CurveP256" => Some(ring::kx_group::SECP256R1),
        "CurveP384" => Some(ring::kx_group::SECP384R1),
        _ => None,
    }
}

/// The ring provider narrowed to the configured suites and curves.
fn provider(s: &TlsSettings) -> Result<CryptoProvider, TlsError> {
    let mut provider = ring::default_provider();
    if !s.cipher_suites.is_empty() {
        let mut suites = Vec::new();
        for name in &s.cipher_suites {
            // Go accepts the TLS 1.3 names too, to no effect: all are always on.
            if TLS13_SUITE_NAMES.contains(&name.as_str()) {
                continue;
            }
            suites.push(cipher_suite(name).ok_or_else(|| TlsError::CipherSuite(name.clone()))?);
        }
        if s.min_version <= TlsVersion::TLS12 && suites.is_empty() {
            return Err(TlsError::NoTls12Suite);
        }
        suites.extend(
            provider
                .cipher_suites
                .iter()
                .filter(|c| matches!(c, SupportedCipherSuite::Tls13(_))),
        );
        provider.cipher_suites = suites;
    }
    if !s.curve_preferences.is_empty() {
        provider.kx_groups = s
            .curve_preferences
            .iter()
            .map(|n| curve(n).ok_or_else(|| TlsError::Curve(n.clone())))
            .collect::<Result<Vec<_>, _>>()?;
    }
    Ok(provider)
}

fn versions(s: &TlsSettings) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    for (key, version) in [
        ("min_version", s.min_version),
        ("max_version", s.max_version),
    ] {
        if version < TlsVersion::TLS12 {
            return Err(TlsError::Version { key, version });
        }
    }
    if s.min_version > s.max_version {
        return Err(TlsError::VersionOrder {
            min: s.min_version,
            max: s.max_version,
        });
    }
    let mut versions = Vec::new();
    if s.min_version == TlsVersion::TLS12 {
        versions.push(&rustls::version::TLS12);
    }
    if s.max_version == TlsVersion::TLS13 {
        versions.push(&rustls::version::TLS13);
    }
    Ok(versions)
}

fn certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = pem.read()?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what: pem.to_string(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what: pem.to_string(),
            reason: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}

fn private_key(pem: &Pem) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = pem.read()?;
    // The parser's own message could quote key material: say what is missing instead.
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsError::Pem {
        what: pem.to_string(),
        reason: "no PEM private key (PKCS#8, PKCS#1 or SEC1) found".into(),
    })
}

fn client_verifier(
    s: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    let roots = match &s.client_ca {
        None => None,
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(pem)? {
                roots.add(cert).map_err(|e| TlsError::Pem {
                    what: pem.to_string(),
                    reason: e.to_string(),
                })?;
            }
            Some(Arc::new(roots))
        }
    };
    let webpki = |roots: Arc<RootCertStore>| {
        WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
    };
    Ok(match (s.client_auth, roots) {
        (ClientAuth::NoClientCert, None) => None,
        (ClientAuth::NoClientCert, Some(_)) => return Err(TlsError::CaWithoutClientAuth),
        (ClientAuth::RequestClientCert, _) => Some(Arc::new(AnyClientCert {
            mandatory: false,
            provider: provider.clone(),
        })),
        (ClientAuth::RequireAnyClientCert, _) => Some(Arc::new(AnyClientCert {
            mandatory: true,
            provider: provider.clone(),
        })),
        (auth @ ClientAuth::VerifyClientCertIfGiven, None)
        | (auth @ ClientAuth::RequireAndVerifyClientCert, None) => {
            return Err(TlsError::ClientAuthWithoutCa(auth));
        }
        (ClientAuth::VerifyClientCertIfGiven, Some(roots)) => Some(
            webpki(roots)
                .allow_unauthenticated()
                .build()
                .map_err(TlsError::ClientCa)?,
        ),
        (ClientAuth::RequireAndVerifyClientCert, Some(roots)) => {
            Some(webpki(roots).build().map_err(TlsError::ClientCa)?)
        }
    })
}

/// Builds the server configuration, reading every file once: any problem is
/// found at start, not at the first connection.
pub fn server_config(s: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let versions = versions(s)?;
    let provider = Arc::new(provider(s)?);
    let chain = certificates(&s.cert)?;
    let key = private_key(&s.key)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(TlsError::Rustls)?;
    let builder = match client_verifier(s, &provider)? {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(TlsError::KeyPair)?;
    config.ignore_client_order = s.prefer_server_cipher_suites;
    // Only HTTP/1.1 is served; saying so lets HTTP/2-capable clients settle on it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Go's RequestClientCert and RequireAnyClientCert: a certificate is asked
/// for (and with `mandatory`, required) but not checked against any CA. The
/// handshake signature is still verified, so the client holds the key.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_suite_names_map_to_rustls_suites() {
        for name in SUITE_NAMES {
            assert!(cipher_suite(name).is_some(), "{name}");
        }
        assert!(cipher_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305").is_some());
        assert!(cipher_suite("TLS_RSA_WITH_AES_128_CBC_SHA").is_none());
        assert!(curve("CurveP521").is_none());
        assert!(curve("X25519").is_some());
    }
}
