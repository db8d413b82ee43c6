//! `mining-gateway`: see the library's module map in `lib.rs`. This file
//! parses the command line, starts logging and the runtime, runs until
//! SIGTERM or SIGINT, and is the one place errors are printed.

use std::process::ExitCode;

use clap::Parser;
use mining_gateway::cli::Cli;
use mining_gateway::error::Error;
use mining_gateway::{fd_limit, Gateway};
use tokio::signal::unix::{signal, SignalKind};
use tracing::level_filters::LevelFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.verbose {
        LevelFilter::DEBUG
    } else if cli.quiet {
        LevelFilter::WARN
    } else {
        LevelFilter::INFO
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let open_files = fd_limit::raise()
        .map_err(|e| Error::failure(format!("cannot read the open-file limit: {e}")))?;
    let config = cli.into_config(open_files)?;
    if config.gateway_token.is_none() {
        tracing::warn!(
            "no --gateway-token: the Worker sees every JDC behind this gateway as one address, \
             sharing one per-IP rate limit"
        );
    }
    // This runtime only waits for signals, serves metrics and runs the
    // drain; connections are served by the gateway's own threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start: {e}")))?;
    runtime.block_on(async {
        let gateway = Gateway::bind(config.clone()).await?;
        tracing::info!(
            listen = %gateway.local_addr(), sv2 = %config.sv2,
            sv1 = %config.sv1.map_or("none".into(), |a| a.to_string()),
            report_url = %config.report_url, proxy_protocol = config.proxy_protocol,
            metrics = %gateway.metrics_addr().map_or("none".into(), |a| a.to_string()),
            max_connections = config.max_connections, threads = config.threads,
            "mining gateway ready"
        );
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| Error::failure(format!("cannot watch for SIGTERM: {e}")))?;
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        gateway.run(stop).await;
        Ok(())
    })
}
