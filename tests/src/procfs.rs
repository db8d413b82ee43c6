//! A process's group, command name and CPU time from `/proc/PID/stat`, for
//! the benchmarks' CPU figures and for finding workerd among wrangler's
//! processes.

use std::path::Path;

/// The fields of one `/proc/PID/stat` the benchmarks use.
pub struct ProcStat {
    /// The command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// The process group.
    pub pgrp: i64,
    /// User + system CPU time so far, in seconds.
    pub cpu_secs: f64,
}

/// Reads `dir/stat` (`dir` a `/proc/PID` directory); `None` when the
/// process is gone or the line is not one.
pub fn stat(dir: &Path) -> Option<ProcStat> {
    let line = std::fs::read_to_string(dir.join("stat")).ok()?;
    // pid (comm) state ppid pgrp ... utime(14) stime(15): split at the
    // comm's last closing parenthesis, as the comm may hold spaces and ')'.
    let (head, rest) = line.rsplit_once(") ")?;
    let comm = head.split_once(" (")?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ProcStat {
        comm,
        pgrp: fields.get(2)?.parse().ok()?,
        cpu_secs: (field(11).unwrap_or(0.0) + field(12).unwrap_or(0.0)) / ticks,
    })
}
