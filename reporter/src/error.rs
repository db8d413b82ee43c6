//! The reporter's one error type: a sentence, an optional hint that points to
//! a fix, and the exit code it ends the process with. `main` prints it in one
//! place.

use std::fmt;
use std::io;

/// Exit codes, each with one meaning. In `-- COMMAND` mode the JDC's own exit
/// status is passed through instead once it has started.
pub mod exit {
    /// A report could not be delivered (`--once`), or reading failed midway.
    pub const FAILURE: u8 = 1;
    /// The command line is wrong (also clap's code for its own errors).
    pub const USAGE: u8 = 2;
    /// The jd-client config cannot be used: unreadable, invalid, solo mining,
    /// no identity or no pool.
    pub const CONFIG: u8 = 3;
    /// The input cannot be opened: the log file, or the JDC command.
    pub const INPUT: u8 = 4;
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
        Self {
            message: message.into(),
            hint: None,
            code,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(exit::CONFIG, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(exit::INPUT, message)
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(exit::FAILURE, message)
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

/// An IO error as the end of a sentence: `no such file`, not
/// `No such file or directory (os error 2)`.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = e.to_string();
            // Drop the "(os error N)" tail; the words say it.
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text.to_lowercase(),
            }
        }
    }
}
