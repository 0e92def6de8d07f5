//! Tools from outside cargo that some tests run: openssl, curl, promtool,
//! python3 with prometheus_client, libfaketime. `scripts/test` installs them
//! all, and CI runs `scripts/test`, so there a missing tool means a broken
//! set-up and fails, naming the tool; a plain `cargo test` elsewhere skips
//! what needs it, loudly, so that the rest still runs on a bare machine.

use std::path::{Path, PathBuf};

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Whether `tool` was `found`. When it was not: in CI this fails, naming
/// it; elsewhere it prints why the test is skipped and returns false.
#[track_caller]
pub fn present(tool: &str, found: bool) -> bool {
    if !found {
        assert!(
            !in_ci(),
            "{tool} is required in CI but is not installed (scripts/test installs it)"
        );
        eprintln!("SKIPPED: {tool} is not installed; run ./scripts/test to install it");
    }
    found
}

/// The executable `name` on `PATH`, if present (see [`present`]).
#[track_caller]
pub fn program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    });
    present(name, found.is_some());
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// libfaketime, which moves the wall clock of one process (no root
/// needed) and leaves the monotonic clock alone; if present (see [`present`]).
#[track_caller]
pub fn libfaketime() -> Option<PathBuf> {
    // Debian installs it under /usr/lib/<multiarch triplet>/faketime.
    let multiarch = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("faketime/libfaketime.so.1"));
    let found = [
        "/usr/lib/faketime/libfaketime.so.1",
        "/usr/local/lib/faketime/libfaketime.so.1",
    ]
    .into_iter()
    .map(PathBuf::from)
    .chain(multiarch)
    .find(|p| p.exists());
    present("libfaketime", found.is_some());
    found
}
