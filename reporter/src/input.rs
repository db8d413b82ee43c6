//! Where the JDC's lines come from: a log file followed like `tail -F`,
//! standard input, or the JDC itself started as a child. All three end in the
//! same [`LineBuffer`] and [`Feed`], so they are parsed alike.
//!
//! Only whole lines are parsed. A pipe or a file being written delivers lines
//! in pieces; the piece after the last newline waits for the rest, and a
//! piece that never gets its newline (a log truncated under us, a process
//! killed mid-write) is dropped, never parsed.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

#[cfg(unix)]
use nix::sys::signal::Signal;
#[cfg(unix)]
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::feed::{lock, SharedFeed, Source};
use crate::log;

/// How often a followed file is checked for new data, rotation and
/// truncation once its end is reached.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Longest line kept. JDC lines are at most a few KB (a template's coinbase
/// in hex); a "line" longer than this is not one, and is dropped rather than
/// buffered without bound.
pub const MAX_LINE: usize = 1 << 20;

const CHUNK: usize = 64 * 1024;

/// Splits a byte stream into whole lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    partial: Vec<u8>,
    /// The current line grew past [`MAX_LINE`]: skip to its end.
    overlong: bool,
}

impl LineBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `chunk` and hands every line it completes to `on_line`,
    /// without its newline.
    pub fn push(&mut self, mut chunk: &[u8], on_line: &mut impl FnMut(&str)) {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&chunk[..end], &chunk[end + 1..]);
            chunk = rest;
            if self.overlong {
                self.overlong = false;
                self.partial.clear();
                continue;
            }
            if self.partial.is_empty() {
                emit(head, on_line);
            } else {
                self.partial.extend_from_slice(head);
                emit(&self.partial, on_line);
                self.partial.clear();
            }
        }
        if !self.overlong {
            self.partial.extend_from_slice(chunk);
            if self.partial.len() > MAX_LINE {
                self.partial.clear();
                self.overlong = true;
            }
        }
    }

    /// Forgets an unfinished line (its end will never come).
    pub fn discard_partial(&mut self) {
        self.partial.clear();
        self.overlong = false;
    }

    /// Bytes waiting for their newline.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

fn emit(line: &[u8], on_line: &mut impl FnMut(&str)) {
    // Vendor strings are printed raw and may not be UTF-8; the lines that
    // matter still parse with a replacement character in them.
    on_line(&String::from_utf8_lossy(line));
}

/// Feeds one chunk of `source` into the shared table, under one lock for
/// all its lines.
fn feed_chunk(feed: &SharedFeed, source: Source, lines: &mut LineBuffer, chunk: &[u8]) {
    let mut feed = lock(feed);
    lines.push(chunk, &mut |line| feed.line_of(source, line));
}

/// How a followed file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Like `tail -F`: wait for more, survive rotation and truncation.
    Forever,
    /// Read to the current end once and stop (`--once`, the benchmark).
    ToEnd,
}

/// Follows `path`, from its start or its current end.
///
/// Once at the end, the file is checked every [`POLL_INTERVAL`] before
/// reading on: a new file at `path` (rotation) is switched to after the old
/// one is drained; a file that got shorter, or whose bytes just before our
/// position changed (truncated and rewritten between two checks), is read
/// again from its start.
pub async fn follow_file(
    path: &Path,
    from_start: bool,
    mode: Follow,
    feed: &SharedFeed,
) -> io::Result<()> {
    follow_file_of(Source::Jdc, path, from_start, mode, feed).await
}

/// [`follow_file`] for the output of `source`.
pub async fn follow_file_of(
    source: Source,
    path: &Path,
    from_start: bool,
    mode: Follow,
    feed: &SharedFeed,
) -> io::Result<()> {
    let Some(file) = open(path, mode).await? else {
        return Ok(());
    };
    let identity = file_identity(&file.metadata().await?);
    let mut followed = Followed {
        source,
        file,
        identity,
        position: 0,
        tail: Vec::new(),
        lines: LineBuffer::new(),
        buf: vec![0u8; CHUNK],
    };
    if !from_start {
        followed.position = followed.file.seek(io::SeekFrom::End(0)).await?;
    }
    loop {
        followed.read_available(feed).await?;
        if mode == Follow::ToEnd {
            lock(feed).finish_of(source);
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
        match tokio::fs::metadata(path).await {
            Ok(meta) if file_identity(&meta) != followed.identity => {
                // Rotated: what the JDC wrote to the old file before
                // switching comes first.
                followed.read_available(feed).await?;
                match tokio::fs::File::open(path).await {
                    Ok(new) => {
                        log::info(format_args!(
                            "{} was rotated: following the new file",
                            path.display()
                        ));
                        followed.identity = file_identity(&new.metadata().await?);
                        followed.file = new;
                        followed.restart();
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(meta) if meta.len() < followed.position || !followed.unchanged().await? => {
                // Truncated in place (logrotate's copytruncate).
                log::info(format_args!(
                    "{} was truncated: reading it from its start",
                    path.display()
                ));
                followed.file.seek(io::SeekFrom::Start(0)).await?;
                followed.restart();
            }
            // Unchanged, or moved away and not recreated yet: read on.
            _ => {}
        }
    }
}

/// The followed file and how far it has been read.
struct Followed {
    source: Source,
    file: tokio::fs::File,
    identity: (u64, u64),
    position: u64,
    /// The last bytes read, to notice a rewrite that left the size larger.
    tail: Vec<u8>,
    lines: LineBuffer,
    buf: Vec<u8>,
}

const TAIL: usize = 64;

impl Followed {
    async fn read_available(&mut self, feed: &SharedFeed) -> io::Result<()> {
        loop {
            let n = self.file.read(&mut self.buf).await?;
            if n == 0 {
                // Caught up with the writer.
                lock(feed).flush_of(self.source);
                return Ok(());
            }
            self.position += n as u64;
            let read = &self.buf[..n];
            let keep = TAIL.saturating_sub(read.len()).min(self.tail.len());
            self.tail.drain(..self.tail.len() - keep);
            self.tail
                .extend_from_slice(&read[read.len().saturating_sub(TAIL)..]);
            feed_chunk(feed, self.source, &mut self.lines, read);
        }
    }

    /// Whether the bytes just before our position are still the ones read.
    /// Leaves the file at `position`.
    async fn unchanged(&mut self) -> io::Result<bool> {
        if self.tail.is_empty() {
            return Ok(true);
        }
        let start = self.position - self.tail.len() as u64;
        self.file.seek(io::SeekFrom::Start(start)).await?;
        let mut now = vec![0u8; self.tail.len()];
        let same = match self.file.read_exact(&mut now).await {
            Ok(_) => now == self.tail,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => false,
            Err(e) => return Err(e),
        };
        self.file.seek(io::SeekFrom::Start(self.position)).await?;
        Ok(same)
    }

    /// Starts over at the beginning of the (new or truncated) file; an
    /// unfinished line from before will never be finished.
    fn restart(&mut self) {
        self.position = 0;
        self.tail.clear();
        self.lines.discard_partial();
    }
}

/// Opens the log. A log that does not exist yet is waited for when
/// following (the JDC may start after the reporter); with `--once` it is an
/// error.
async fn open(path: &Path, mode: Follow) -> io::Result<Option<tokio::fs::File>> {
    let mut warned = false;
    loop {
        match tokio::fs::File::open(path).await {
            Ok(file) => return Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && mode == Follow::Forever => {
                if !warned {
                    log::warn(format_args!(
                        "{} does not exist yet: waiting for it to appear",
                        path.display()
                    ));
                    warned = true;
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    // No inode to compare: rotation is seen as truncation only.
    (0, 0)
}

/// Reads a stream to its end into the table, optionally copying every byte
/// to `echo` first (the child's output, passed through unchanged).
pub async fn read_stream(
    mut reader: impl AsyncRead + Unpin,
    mut echo: Option<impl AsyncWrite + Unpin>,
    feed: &SharedFeed,
) -> io::Result<()> {
    let mut lines = LineBuffer::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            lock(feed).finish();
            return Ok(());
        }
        if let Some(out) = echo.as_mut() {
            // Pass-through comes first and its failure (our stdout closed)
            // must not stop the reading: the JDC would block on a full pipe.
            let written = async {
                out.write_all(&buf[..n]).await?;
                out.flush().await
            };
            if written.await.is_err() {
                echo = None;
            }
        }
        feed_chunk(feed, Source::Jdc, &mut lines, &buf[..n]);
        if n < buf.len() {
            // A read that did not fill the buffer emptied the pipe: caught
            // up with the JDC.
            lock(feed).flush();
        }
    }
}

/// Reads standard input to its end.
pub async fn read_stdin(feed: &SharedFeed) -> io::Result<()> {
    read_stream(tokio::io::stdin(), None::<tokio::io::Stdout>, feed).await
}

/// The JDC command to run as a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl ChildCommand {
    /// The jd-client config the command will use: its `-c`/`--config`
    /// argument (the last one, so a wrapper's own `-c` in front does not
    /// count), or `jdc-config.toml`, jd_client_sv2's default.
    pub fn config_path(&self) -> PathBuf {
        let mut found = None;
        let mut args = self.args.iter().map(|a| a.to_string_lossy());
        while let Some(arg) = args.next() {
            if arg == "-c" || arg == "--config" {
                if let Some(path) = args.next() {
                    found = Some(PathBuf::from(path.as_ref()));
                }
            } else if let Some(path) = arg.strip_prefix("--config=") {
                found = Some(PathBuf::from(path));
            } else if let Some(path) = arg.strip_prefix("-c").filter(|p| !p.is_empty()) {
                found = Some(PathBuf::from(path));
            }
        }
        found.unwrap_or_else(|| PathBuf::from("jdc-config.toml"))
    }
}

/// Signals passed on to the child: whoever stops or reloads the reporter
/// means the JDC.
#[cfg(unix)]
const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Starts the JDC, passes its stdout and stderr through unchanged while
/// feeding both to the table, forwards signals to it, and returns its exit
/// status once it has exited and its output is drained.
///
/// The child gets its own process group, so a Ctrl+C in the terminal reaches
/// it exactly once (forwarded by us) instead of twice.
pub async fn run_child(command: &ChildCommand, feed: &SharedFeed) -> io::Result<ExitStatus> {
    let mut cmd = tokio::process::Command::new(&command.program);
    cmd.args(&command.args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    cmd.process_group(0);
    #[cfg(unix)]
    let caught = catch_signals()?;
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    #[cfg(unix)]
    let forwarding = forward_signals(caught, child.id());

    let out = read_stream(stdout, Some(tokio::io::stdout()), feed);
    let err = read_stream(stderr, Some(tokio::io::stderr()), feed);
    let (out, err) = tokio::join!(out, err);
    // A read error on one pipe must not leave the child unwaited for.
    let status = child.wait().await;
    #[cfg(unix)]
    forwarding.iter().for_each(|task| task.abort());
    out?;
    err?;
    status
}

/// Handlers for the forwarded signals. Installed before the child starts:
/// from then on these signals no longer kill the reporter, which exits when
/// the JDC does.
#[cfg(unix)]
fn catch_signals() -> io::Result<Vec<(Signal, tokio::signal::unix::Signal)>> {
    use tokio::signal::unix::{signal, SignalKind};
    FORWARDED
        .into_iter()
        .map(|sig| Ok((sig, signal(SignalKind::from_raw(sig as i32))?)))
        .collect()
}

/// One task per signal, each passing its signal on to the child.
#[cfg(unix)]
fn forward_signals(
    caught: Vec<(Signal, tokio::signal::unix::Signal)>,
    pid: Option<u32>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let pid = pid.and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw);
    let mut tasks = Vec::new();
    for (sig, mut stream) in caught {
        tasks.push(tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if let Some(pid) = pid {
                    // The child may have exited meanwhile; its status is
                    // what counts then.
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
        }));
    }
    tasks
}

/// The exit code the reporter should end with for the child's status: its
/// code, or 128 + the signal that killed it, as a shell reports it.
pub fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(1);
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> (Vec<String>, usize) {
        let mut lb = LineBuffer::new();
        let mut out = Vec::new();
        for chunk in chunks {
            lb.push(chunk, &mut |l| out.push(l.to_string()));
        }
        (out, lb.pending())
    }

    #[test]
    fn lines_split_across_reads_come_out_whole() {
        let (lines, pending) = split(&[b"ab", b"c\nde", b"f\n\ng", b"hi"]);
        assert_eq!(lines, ["abc", "def", ""]);
        assert_eq!(pending, 3, "`ghi` waits for its newline");
    }

    #[test]
    fn an_overlong_line_is_dropped_whole() {
        let big = vec![b'x'; MAX_LINE + 10];
        let (lines, pending) = split(&[b"a\n", &big, b"tail\nnext\n"]);
        assert_eq!(lines, ["a", "next"]);
        assert_eq!(pending, 0);
    }

    #[test]
    fn invalid_utf8_does_not_hide_a_line() {
        let (lines, _) = split(&[b"vendor: \xff\xfe\n"]);
        assert_eq!(lines, ["vendor: \u{fffd}\u{fffd}"]);
    }

    #[test]
    fn the_child_config_is_taken_from_its_arguments() {
        let cmd = |args: &[&str]| ChildCommand {
            program: "jd_client_sv2".into(),
            args: args.iter().map(OsString::from).collect(),
        };
        assert_eq!(
            cmd(&["-c", "a.toml"]).config_path(),
            PathBuf::from("a.toml")
        );
        assert_eq!(
            cmd(&["--config", "b.toml"]).config_path(),
            PathBuf::from("b.toml")
        );
        assert_eq!(
            cmd(&["--config=c.toml"]).config_path(),
            PathBuf::from("c.toml")
        );
        assert_eq!(
            cmd(&["-f", "x.log", "-cd.toml"]).config_path(),
            PathBuf::from("d.toml")
        );
        assert_eq!(cmd(&[]).config_path(), PathBuf::from("jdc-config.toml"));
        assert_eq!(
            cmd(&["-c", "script", "-c", "e.toml"]).config_path(),
            PathBuf::from("e.toml")
        );
    }
}
