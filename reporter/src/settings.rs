//! The command line and the jd-client config turned into one immutable
//! [`Settings`], early, so every problem with either is reported before
//! anything starts, as a sentence with a hint.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use dmr_shared::validate_identity;
use reqwest::Url;

use crate::cli::Cli;
use crate::error::{io_reason, Error};
use crate::input::ChildCommand;
use crate::jdc_config::JdcConfig;

/// The first report goes out this long after start: long enough for a JDC
/// started with us to accept its miners, short enough to see at once that
/// reporting works.
pub const FIRST_REPORT_AFTER: Duration = Duration::from_secs(10);

/// Where the lines come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File { path: PathBuf, from_start: bool },
    Stdin,
    Command(ChildCommand),
}

/// Where and as whom reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub identity: String,
    /// `None` only with `--dry-run`, which sends nothing.
    pub url: Option<Url>,
    pub token: Option<String>,
}

/// Everything the run needs, decided up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub input: Input,
    /// `None`: nothing to report to (a solo-mining JDC run as a child, which
    /// is then only passed through).
    pub target: Option<Target>,
    pub interval: Duration,
    pub first_report_after: Duration,
    pub monitoring_url: Option<Url>,
    /// How long a miner read from the log is trusted over the monitoring
    /// API (from the config's `monitoring_cache_refresh_secs`).
    pub monitoring_grace: Duration,
    /// The config's `monitoring_address`, when --monitoring-url was not
    /// given: worth a hint.
    pub monitoring_hint: Option<String>,
    /// The SRI translator's log, read from its start and followed.
    pub translator_log: Option<PathBuf>,
    /// The SRI translator's monitoring API.
    pub translator_api: Option<Url>,
    pub once: bool,
    pub dry_run: bool,
    pub verbose: bool,
}

impl Settings {
    /// Resolves the command line; reads the jd-client config when it is
    /// needed (for the identity or the URL) or named.
    pub fn resolve(cli: Cli) -> Result<Settings, Error> {
        let input = if let Some((program, args)) = cli.command.split_first() {
            Input::Command(ChildCommand {
                program: program.clone(),
                args: args.to_vec(),
            })
        } else if let Some(path) = cli.log.clone() {
            Input::File {
                path,
                from_start: cli.from_start || cli.once,
            }
        } else if std::io::stdin().is_terminal() {
            return Err(Error::usage("there is nothing to read: no --log file, no JDC command, and standard input is a terminal").hint(
                "follow the JDC's log with --log FILE, pipe its output in (jd_client_sv2 -c jdc.toml | jdc-reporter -c jdc.toml), or start it with: jdc-reporter -- jd_client_sv2 -c jdc.toml",
            ));
        } else {
            Input::Stdin
        };

        let needs_config = cli.identity.is_none() || (cli.report_url.is_none() && !cli.dry_run);
        let config_path = match (&cli.jdc_config, &input) {
            (Some(path), _) => Some(path.clone()),
            (None, Input::Command(command)) if needs_config => Some(command.config_path()),
            _ => None,
        };
        let config = match &config_path {
            Some(path) => Some(JdcConfig::load(path).map_err(|e| {
                Error::config(e.to_string()).hint(
                    "point --jdc-config at the TOML file jd_client_sv2 runs with (its -c), or give --identity and --report-url",
                )
            })?),
            None => None,
        };

        let monitoring_hint = match (&cli.monitoring_url, &config) {
            (None, Some(c)) => c.monitoring_address.clone(),
            _ => None,
        };
        let mut settings = Settings {
            input,
            target: None,
            interval: cli.interval,
            first_report_after: FIRST_REPORT_AFTER.min(cli.interval),
            monitoring_url: cli.monitoring_url.clone(),
            monitoring_grace: crate::monitor::grace(
                config.as_ref().and_then(|c| c.monitoring_refresh_secs),
            ),
            monitoring_hint,
            translator_log: cli.translator_log.clone(),
            translator_api: translator_api(&cli)?,
            once: cli.once,
            dry_run: cli.dry_run,
            verbose: cli.verbose,
        };

        let config_name = config_path.as_deref().map_or_else(
            || "the jd-client config".to_owned(),
            |p| p.display().to_string(),
        );
        if let Some(c) = &config {
            if c.solo && cli.report_url.is_none() && !cli.dry_run {
                let err = Error::config(format!(
                    "{config_name} runs the JDC in SOLOMINING mode: there is no pool to report to"
                ))
                .hint("downstream reports go to the pool the JDC mines for; give --report-url (and --identity) to send them somewhere anyway");
                if matches!(settings.input, Input::Command(_)) {
                    // The JDC still has to run: pass it through, report nothing.
                    crate::log::warn(format_args!(
                        "{}; running the JDC without reporting",
                        err.message
                    ));
                    return Ok(settings);
                }
                return Err(err);
            }
        }

        let identity = match (&cli.identity, &config) {
            (Some(id), _) => id.clone(),
            (None, Some(c)) => c.user_identity.clone().ok_or_else(|| {
                Error::config(format!("{config_name} has no user_identity (neither in its first [[upstreams]] entry nor at the top level)"))
                    .hint("give the identity the JDC mines with, the pool username or address: --identity bc1q...")
            })?,
            (None, None) => {
                return Err(Error::usage("there is no identity to report as").hint(
                    "give --jdc-config jdc.toml (its user_identity is used) or --identity bc1q...",
                ))
            }
        };
        check_identity(&identity)?;

        let url = match (&cli.report_url, &config) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(c)) => match c.report_url() {
                Some(url) => Some(url),
                None if cli.dry_run => None,
                None => {
                    return Err(Error::config(format!(
                        "{config_name} names no pool: its first [[upstreams]] entry has no pool_address"
                    ))
                    .hint("add the pool to the config, or give --report-url https://pool.example.com/api/downstream-report"))
                }
            },
            (None, None) if cli.dry_run => None,
            (None, None) => {
                return Err(Error::usage("there is no pool to report to").hint(
                    "give --jdc-config jdc.toml (its first upstream's pool_address/pool_port is used) or --report-url URL",
                ))
            }
        };

        let token = token(&cli)?;
        if let (Some(_), Some(url)) = (&token, &url) {
            if !cli.dry_run && !cli.allow_insecure_token {
                check_token_transport(url)?;
            }
        }
        settings.target = Some(Target {
            identity,
            url,
            token,
        });
        Ok(settings)
    }

    /// One line saying what the input is, for the start-up log.
    pub fn describe_input(&self) -> String {
        let mut text = self.describe_jdc_input();
        if let Some(path) = &self.translator_log {
            text.push_str(&format!("; the translator's log {}", path.display()));
        }
        if let Some(url) = &self.translator_api {
            text.push_str(&format!("; the translator's API {url}"));
        }
        text
    }

    fn describe_jdc_input(&self) -> String {
        match &self.input {
            Input::File { path, from_start } => format!(
                "following {} from its {}",
                path.display(),
                if *from_start { "start" } else { "end" }
            ),
            Input::Stdin => "reading the JDC's output from standard input".into(),
            Input::Command(c) => {
                let mut line = c.program.to_string_lossy().into_owned();
                for arg in &c.args {
                    line.push(' ');
                    line.push_str(&arg.to_string_lossy());
                }
                format!("running {line}")
            }
        }
    }
}

/// The bearer token: `--token` (or `JDC_REPORTER_TOKEN`), or the first line
/// of `--token-file`.
fn token(cli: &Cli) -> Result<Option<String>, Error> {
    let Some(path) = &cli.token_file else {
        return Ok(cli.token.clone().filter(|t| !t.is_empty()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!(
            "cannot read the token file {}: {}",
            path.display(),
            io_reason(&e)
        ))
        .hint("--token-file takes a file holding the token the pool gave you, on its first line")
    })?;
    match text.lines().next().map(str::trim) {
        Some(token) if !token.is_empty() => Ok(Some(token.to_owned())),
        _ => Err(
            Error::config(format!("the token file {} is empty", path.display()))
                .hint("put the token the pool gave you on its first line"),
        ),
    }
}

/// A bearer token is as good as a password to whoever reads it: it goes
/// over plain http:// only to this machine.
fn check_token_transport(url: &Url) -> Result<(), Error> {
    if url.scheme() != "http" || is_loopback(url) {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    Err(Error::config(format!(
        "the token would be sent over plain http:// to {host}, where anyone on the way can read it"
    ))
    .hint("use the pool's https:// URL (--report-url https://...), or add --allow-insecure-token if you trust every network between here and the pool"))
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The identity must pass the pool's own rules, or every report would be
/// refused: check it once, now, with the shared validation.
fn check_identity(identity: &str) -> Result<(), Error> {
    validate_identity(identity).map_err(|e| {
        Error::config(format!("the identity {identity:?} cannot be reported: {e}"))
            .hint("use the user_identity the JDC mines with (--identity)")
    })
}

/// `http://127.0.0.1:9091` for a `monitoring_address` such as
/// `0.0.0.0:9091` (a listening address is not a place to connect to).
pub fn monitoring_url_for(address: &str) -> String {
    let address = address
        .strip_prefix("0.0.0.0:")
        .map(|port| format!("127.0.0.1:{port}"))
        .unwrap_or_else(|| address.to_owned());
    format!("http://{address}")
}

/// `--translator-api`, or the `monitoring_address` of `--translator-config`.
fn translator_api(cli: &Cli) -> Result<Option<Url>, Error> {
    if cli.translator_api.is_some() {
        return Ok(cli.translator_api.clone());
    }
    let Some(path) = &cli.translator_config else {
        return Ok(None);
    };
    let hint = "point --translator-config at the TOML file translator_sv2 runs with, or give --translator-api";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!(
            "cannot read the translator config {}: {}",
            path.display(),
            io_reason(&e)
        ))
        .hint(hint)
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        Error::config(format!(
            "the translator config {} is not TOML: {}",
            path.display(),
            e.message()
        ))
        .hint(hint)
    })?;
    let Some(address) = table.get("monitoring_address") else {
        return Err(Error::config(format!(
            "the translator config {} has no monitoring_address: the translator serves no API",
            path.display()
        ))
        .hint("add monitoring_address = \"127.0.0.1:9092\" to it (and restart the translator), or leave --translator-config out and give --translator-log"));
    };
    let address = address.as_str().ok_or_else(|| {
        Error::config(format!(
            "the translator config {}: monitoring_address is not a string",
            path.display()
        ))
        .hint("write it as monitoring_address = \"127.0.0.1:9092\"")
    })?;
    let url = monitoring_url_for(address);
    crate::cli::parse_http_url(&url).map(Some).map_err(|e| {
        Error::config(format!(
            "the translator config {}: monitoring_address {address:?} gives no usable URL ({e})",
            path.display()
        ))
        .hint("write it as monitoring_address = \"127.0.0.1:9092\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_go_over_plain_http_only_to_this_machine() {
        for url in [
            "https://pool.example.com/api/downstream-report",
            "http://127.0.0.1:3333/api/downstream-report",
            "http://127.9.0.1:3333/api/downstream-report",
            "http://localhost:3333/api/downstream-report",
            "http://[::1]:3333/api/downstream-report",
        ] {
            assert!(
                check_token_transport(&Url::parse(url).unwrap()).is_ok(),
                "{url}"
            );
        }
        for url in [
            "http://pool.example.com:3333/api/downstream-report",
            "http://10.0.0.2:3333/api/downstream-report",
            "http://[2001:db8::1]:3333/api/downstream-report",
            "http://localhost.example.com/api/downstream-report",
        ] {
            let err = check_token_transport(&Url::parse(url).unwrap()).unwrap_err();
            assert_eq!(err.code, crate::error::exit::CONFIG, "{url}");
            assert!(err.message.contains("plain http://"), "{url}: {err}");
        }
    }
}
