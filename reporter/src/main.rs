//! `jdc-reporter`: reports the miners behind a Stratum V2 JD-Client to its
//! pool. The work is in the library (see its module map in `lib.rs`); this
//! file parses the command line, runs, and is the one place errors are
//! printed.

use std::process::ExitCode;

use clap::Parser;
use jdc_reporter::cli::Cli;
use jdc_reporter::error::Error;
use jdc_reporter::settings::Settings;
use jdc_reporter::{app, log};

fn main() -> ExitCode {
    log::init();
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.code)
        }
    }
}

fn run() -> Result<ExitCode, Error> {
    let settings = Settings::resolve(Cli::parse())?;
    // One thread: the work is a line parser and one request a minute.
    // Blocking reads (files, stdin) run on tokio's blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start: {e}")))?;
    runtime.block_on(app::run(settings))
}
