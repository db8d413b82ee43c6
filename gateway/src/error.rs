//! The gateway's one error type: what stops it from starting, as a sentence
//! for the operator, a hint that points to a fix, and the exit code. `main`
//! prints it in one place. Problems while running (a miner's reset, an
//! unreachable Worker) are logged and counted, never fatal.

use std::fmt;
use std::io;

/// Exit codes, each with one meaning.
pub mod exit {
    /// The gateway could not run (no runtime, a failure while running).
    pub const FAILURE: u8 = 1;
    /// The command line is wrong (also clap's code for its own errors).
    pub const USAGE: u8 = 2;
    /// A port cannot be listened on (in use, no permission, no such address).
    pub const LISTEN: u8 = 3;
}

/// An error as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl Error {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            code,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(exit::FAILURE, message)
    }

    /// `what` (`the mining port 0.0.0.0:3333`) cannot be listened on.
    pub fn listen(what: &str, e: &io::Error) -> Self {
        let hint = match e.kind() {
            io::ErrorKind::AddrInUse => {
                "another program (the pool itself?) listens there: move the pool's listener to another port, or pick another address"
            }
            io::ErrorKind::PermissionDenied => {
                "ports below 1024 need root or CAP_NET_BIND_SERVICE (AmbientCapabilities= in the systemd unit)"
            }
            io::ErrorKind::AddrNotAvailable => "this machine has no such address: use 0.0.0.0 or one of its own",
            _ => "check the address and that nothing else holds it",
        };
        Self::new(
            exit::LISTEN,
            format!("cannot listen on {what}: {}", io_reason(e)),
        )
        .hint(hint)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// An IO error as the end of a sentence: `address already in use`, not
/// `Address already in use (os error 98)`.
pub fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_a_sentence_and_a_hint() {
        let e = Error::listen(
            "the mining port 0.0.0.0:3333",
            &io::Error::from(io::ErrorKind::AddrInUse),
        );
        let text = e.to_string();
        assert!(
            text.starts_with(
                "error: cannot listen on the mining port 0.0.0.0:3333: address in use"
            ),
            "{text}"
        );
        assert!(text.contains("\n  hint: another program"), "{text}");
        assert_eq!(e.code, exit::LISTEN);
        assert_eq!(
            io_reason(&io::Error::from_raw_os_error(libc::EADDRINUSE)),
            "address already in use"
        );
    }
}
