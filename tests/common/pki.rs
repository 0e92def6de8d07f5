//! Certificates made with `openssl` at run time (none are checked in, so
//! none expire in the repository), once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::tools;

/// A web configuration serving `server.crt`, relative to [`pki`]'s folder.
pub const TLS: &str = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
";

/// The folder holding, each as `NAME.key` and `NAME.crt`:
/// - `ca`, and `server` (for 127.0.0.1 and localhost) and `client` it signed;
/// - `rogue-ca`, a CA the server does not trust, and `rogue-client` and
///   `server-next` (what a rotation replaces `server` with) it signed.
///
/// Tests write their web configurations into the same folder, so that
/// relative paths name the certificates. `None` when openssl is missing
/// outside CI (see [`tools::present`]).
pub fn pki() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let openssl = tools::program("openssl")?;
        // Inside the target folder (cargo clean removes it), one per run so
        // that runs side by side do not share certificates.
        let dir = tempfile::Builder::new()
            .prefix("pki-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        std::fs::write(dir.join("openssl.cnf"), OPENSSL_CONFIG).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new(&openssl)
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "rogue-ca"] {
            let (k, c, s) = (
                format!("{ca}.key"),
                format!("{ca}.crt"),
                format!("/CN={ca}"),
            );
            let mut args = vec![
                "req",
                "-x509",
                "-config",
                "openssl.cnf",
                "-extensions",
                "ca",
            ];
            args.extend(key);
            args.extend(["-keyout", &k, "-out", &c, "-days", "2", "-subj", &s]);
            run(&args);
        }
        for (name, ca, ext) in [
            ("server", "ca", "server"),
            ("server-next", "rogue-ca", "server"),
            ("client", "ca", "client"),
            ("rogue-client", "rogue-ca", "client"),
        ] {
            let (k, r, c) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
            );
            let subject = format!("/CN={name}");
            let mut args = vec!["req", "-new", "-config", "openssl.cnf"];
            args.extend(key);
            args.extend(["-keyout", &k, "-out", &r, "-subj", &subject]);
            run(&args);
            let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
            run(&[
                "x509",
                "-req",
                "-in",
                &r,
                "-CA",
                &ca_crt,
                "-CAkey",
                &ca_key,
                "-set_serial",
                "2",
                "-days",
                "2",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                ext,
                "-out",
                &c,
            ]);
        }
        Some(dir)
    })
    .as_deref()
}
