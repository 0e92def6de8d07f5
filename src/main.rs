use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use genesys_eventbridge_exporter::config::{Cli, Config};
use genesys_eventbridge_exporter::{app, logging, server};

const NAME: &str = "genesys-eventbridge-exporter";

/// Bad input: one line naming the flag or file, exit status 2.
fn usage_error(message: &str) -> ExitCode {
    eprintln!("{NAME}: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first line names the flag and the problem; its usage lines
            // and hints would break the one-line contract.
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            return usage_error(first.trim_start_matches("error: "));
        }
    };
    let secret_env = std::env::var("GENESYS_CLIENT_SECRET").ok();
    let config = match Config::from_cli(cli, secret_env) {
        Ok(c) => c,
        Err(e) => return usage_error(&e.to_string()),
    };
    if config.check_only {
        let names: Vec<&str> = config
            .orgs
            .flags
            .iter()
            .chain(&config.orgs.configured)
            .map(|o| o.name.as_str())
            .collect();
        println!(
            "{NAME}: configuration is valid: {} organisation(s): {}",
            names.len(),
            names.join(", ")
        );
        return ExitCode::SUCCESS;
    }
    // Taken while the process has one thread: see `systemd_sockets`.
    let inherited = match config.systemd_socket {
        false => Vec::new(),
        true => match server::activation::systemd_sockets() {
            Ok(sockets) => sockets,
            Err(e) => return usage_error(&e.to_string()),
        },
    };
    logging::init(config.log_level, config.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{NAME}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(app::run(config, inherited)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "exporter failed");
            ExitCode::FAILURE
        }
    }
}
