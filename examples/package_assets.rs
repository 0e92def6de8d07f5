//! The Debian package's generated files, made from the flags themselves so
//! that they never drift from `--help`: the man page (gzip-compressed, as
//! Debian installs man pages) and the bash, zsh and fish completions.
//!
//! ```text
//! cargo run --example package_assets -- target/release/package
//! ```
//!
//! writes, into the folder given (made when missing), the files that
//! `[package.metadata.deb]`'s assets in `Cargo.toml` name:
//! `genesys-eventbridge-exporter.1.gz`, `genesys-eventbridge-exporter.bash`,
//! `_genesys-eventbridge-exporter` (zsh) and `genesys-eventbridge-exporter.fish`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory as _;
use clap_complete::Shell;
use genesys_eventbridge_exporter::config::Cli;

const NAME: &str = "genesys-eventbridge-exporter";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: package_assets FOLDER");
        return ExitCode::from(2);
    };
    match write_all(Path::new(&dir)) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("package_assets: {}: {e}", dir.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = vec![write_man_page(dir)?];
    for (shell, file) in [
        (Shell::Bash, format!("{NAME}.bash")),
        (Shell::Zsh, format!("_{NAME}")),
        (Shell::Fish, format!("{NAME}.fish")),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), NAME, &mut script);
        let path = dir.join(file);
        std::fs::write(&path, script)?;
        written.push(path);
    }
    Ok(written)
}

/// The man page, section 1, compressed at the highest level with no file
/// name or time in the gzip header (what Debian's tools do, and what
/// keeps the package reproducible).
fn write_man_page(dir: &Path) -> std::io::Result<PathBuf> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .section("1")
        .render(&mut page)?;
    let path = dir.join(format!("{NAME}.1.gz"));
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(std::fs::File::create(&path)?, flate2::Compression::best());
    gz.write_all(&page)?;
    gz.finish()?;
    Ok(path)
}
