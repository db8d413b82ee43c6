//! One run: the input feeding the table on one side, the sender reading it on
//! the other, until the input ends, a signal arrives, or (`--once`) the one
//! report is out.

use std::process::ExitCode;

use crate::error::{io_reason, Error};
use crate::feed::{Feed, SharedFeed, Source};
use crate::http;
use crate::input::{self, Follow};
use crate::log;
use crate::monitor::Monitor;
use crate::send::{Deliver, Http, Print, Sender};
use crate::settings::{monitoring_url_for, Input, Settings};
use crate::translator::api::Api;

pub async fn run(settings: Settings) -> Result<ExitCode, Error> {
    let feed = Feed::shared(settings.verbose);

    let Some(target) = settings.target.clone() else {
        // Nothing to report to: only a child to pass through.
        let Input::Command(command) = &settings.input else {
            unreachable!("settings without a target only come with a command")
        };
        return run_child(command, &feed).await;
    };

    let client = http::client()?;
    let monitor = settings
        .monitoring_url
        .as_ref()
        .map(|url| Monitor::new(url, client.clone(), settings.monitoring_grace));
    let translator = settings
        .translator_api
        .as_ref()
        .map(|url| Api::new(url, client.clone()));
    match target.url.filter(|_| !settings.dry_run) {
        Some(url) => {
            let http = Http {
                client,
                url,
                token: target.token,
            };
            drive(
                &settings,
                feed,
                sender(&settings, target.identity, monitor, translator, http),
            )
            .await
        }
        None => {
            drive(
                &settings,
                feed,
                sender(&settings, target.identity, monitor, translator, Print),
            )
            .await
        }
    }
}

fn sender<D: Deliver>(
    settings: &Settings,
    identity: String,
    monitor: Option<Monitor>,
    translator: Option<Api>,
    deliver: D,
) -> Sender<D> {
    Sender {
        identity,
        interval: settings.interval,
        first_report_after: settings.first_report_after,
        monitor,
        translator,
        deliver,
        without_via: false,
    }
}

/// Reads the input into the table while the sender reports from it.
async fn drive<D: Deliver>(
    settings: &Settings,
    feed: SharedFeed,
    mut sender: Sender<D>,
) -> Result<ExitCode, Error> {
    if settings.once {
        read_translator_log(settings, &feed).await?;
        read_to_end(&settings.input, &feed).await?;
        sender.once(&feed).await?;
        return Ok(ExitCode::SUCCESS);
    }

    announce(settings, &sender);
    let reporting = async {
        tokio::join!(
            sender.run(feed.clone()),
            follow_translator_log(settings, &feed)
        )
    };
    match &settings.input {
        Input::Command(command) => {
            tokio::select! {
                code = run_child(command, &feed) => code,
                _ = reporting => unreachable!("the sender never stops"),
            }
        }
        Input::File { path, from_start } => {
            tokio::select! {
                read = input::follow_file(path, *from_start, Follow::Forever, &feed) => {
                    read.map_err(|e| Error::failure(format!("reading {} failed: {}", path.display(), io_reason(&e))))?;
                    unreachable!("following a file only ends with an error")
                }
                _ = reporting => unreachable!("the sender never stops"),
                _ = stop_requested() => Ok(ExitCode::SUCCESS),
            }
        }
        Input::Stdin => {
            tokio::select! {
                read = input::read_stdin(&feed) => {
                    read.map_err(|e| Error::failure(format!("reading standard input failed: {}", io_reason(&e))))?;
                    log::info("standard input closed (the JDC has exited): stopping");
                    Ok(ExitCode::SUCCESS)
                }
                _ = reporting => unreachable!("the sender never stops"),
                _ = stop_requested() => Ok(ExitCode::SUCCESS),
            }
        }
    }
}

/// `--once`: the translator's log as far as it is written.
async fn read_translator_log(settings: &Settings, feed: &SharedFeed) -> Result<(), Error> {
    let Some(path) = &settings.translator_log else {
        return Ok(());
    };
    input::follow_file_of(Source::Translator, path, true, Follow::ToEnd, feed)
        .await
        .map_err(|e| {
            Error::input(format!(
                "cannot read the translator log {}: {}",
                path.display(),
                io_reason(&e)
            ))
            .hint("--translator-log takes the file translator_sv2 writes with RUST_LOG=debug")
        })
}

/// Follows the translator's log, if one was given, for as long as the run
/// lasts. A log that cannot be read is reported, and the JDC's log still
/// decides who is connected.
async fn follow_translator_log(settings: &Settings, feed: &SharedFeed) {
    let Some(path) = &settings.translator_log else {
        return std::future::pending().await;
    };
    if let Err(e) =
        input::follow_file_of(Source::Translator, path, true, Follow::Forever, feed).await
    {
        log::error(format_args!(
            "reading the translator log {} failed: {}; devices behind the translator are reported with their make unknown from now on",
            path.display(),
            io_reason(&e)
        ));
    }
    std::future::pending().await
}

/// `--once`: everything there is to read now.
async fn read_to_end(input: &Input, feed: &SharedFeed) -> Result<(), Error> {
    match input {
        Input::File { path, from_start } => {
            input::follow_file(path, *from_start, Follow::ToEnd, feed)
                .await
                .map_err(|e| {
                    Error::input(format!("cannot read the log {}: {}", path.display(), io_reason(&e)))
                        .hint("--log takes the file jd_client_sv2 writes (its -f/--log-file, or its redirected output)")
                })
        }
        Input::Stdin => input::read_stdin(feed)
            .await
            .map_err(|e| Error::failure(format!("reading standard input failed: {}", io_reason(&e)))),
        Input::Command(_) => unreachable!("clap refuses --once with a command"),
    }
}

async fn run_child(command: &input::ChildCommand, feed: &SharedFeed) -> Result<ExitCode, Error> {
    let status = input::run_child(command, feed).await.map_err(|e| {
        Error::input(format!(
            "cannot start {}: {}",
            command.program.to_string_lossy(),
            io_reason(&e)
        ))
        .hint("the command after `--` is run as is: is jd_client_sv2 on your PATH, or give its full path")
    })?;
    Ok(ExitCode::from(input::exit_code(status)))
}

fn announce<D: Deliver>(settings: &Settings, sender: &Sender<D>) {
    log::info(format_args!(
        "reporting to {} as {} every {}, first in {}; {}",
        sender.deliver.destination(),
        sender.identity,
        crate::cli::fmt_duration(settings.interval),
        crate::cli::fmt_duration(settings.first_report_after),
        settings.describe_input()
    ));
    if let Some(address) = &settings.monitoring_hint {
        log::info(format_args!(
            "the JDC serves its monitoring API on {address}: add --monitoring-url {} to also drop miners that leave without a log line",
            monitoring_url_for(address)
        ));
    }
}

/// SIGINT or SIGTERM: stop following, cleanly.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
