//! The workerd process behind a `wrangler dev` and its entry socket, where
//! every Worker of that `wrangler dev` can be reached by name (wrangler's
//! own port serves only the first config's Worker). Found from `/proc`: the
//! workerd of the server's process group that has an inspector, and the
//! sockets it listens on.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::procfs;

/// The header that picks a Worker of the runtime at its entry socket.
pub const ROUTE_HEADER: &str = "MF-Route-Override";

/// The workerd that runs the Workers of process group `group` (not the
/// ones `wrangler d1` or `kv` commands start for themselves).
pub fn workerd_pid(group: i32) -> Option<i32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let dir = Path::new("/proc").join(pid.to_string());
            let cmdline = std::fs::read_to_string(dir.join("cmdline")).unwrap_or_default();
            procfs::stat(&dir).is_some_and(|stat| {
                stat.pgrp == i64::from(group) && stat.comm.starts_with("workerd")
            }) && cmdline.contains("--inspector-addr")
        })
}

/// The TCP ports `pid` listens on, from its socket descriptors and the
/// kernel's socket tables.
pub fn listening_ports(pid: i32) -> Vec<u16> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| {
            let target = std::fs::read_link(fd.path()).ok()?;
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is field 1 (ADDR:PORT in hex), st field 3
            // (0A: listening), inode field 9.
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                if let Some(port) = f[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                {
                    ports.push(port);
                }
            }
        }
    }
    ports
}

/// Of the ports workerd `pid` listens on, its entry socket: the one where
/// `GET path`, routed to the Worker named `route`, answers 200 with a body
/// that `is_it` accepts (its other sockets speak other protocols).
pub fn entry_port(pid: i32, route: &str, path: &str, is_it: impl Fn(&str) -> bool) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    listening_ports(pid).into_iter().find(|port| {
        agent
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header(ROUTE_HEADER, route)
            .call()
            .ok()
            .filter(|r| r.status() == 200)
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|body| is_it(&body))
    })
}
