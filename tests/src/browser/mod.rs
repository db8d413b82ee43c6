//! Page objects for the inspector tests: a headless Chromium driven over the
//! W3C WebDriver protocol (Debian's `chromedriver`), and the inspector page as
//! a person sees it.
//!
//! The WebDriver client is a few JSON calls over the blocking HTTP client the
//! harness already uses, rather than an async WebDriver crate: the tests stay
//! synchronous like the rest of the suite and build nothing new.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use tempfile::TempDir;

pub mod agents;

/// Longest wait for chromedriver to accept sessions.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// Pause between two looks at the page while waiting for it to change.
const POLL: Duration = Duration::from_millis(250);

/// Longest wait for a card to open and read its miners, or to close, after
/// its summary is clicked (one read of the Worker on a loaded machine).
const CARD_SETTLE: Duration = Duration::from_secs(30);

/// The note of an open card whose miners are still being read.
pub const LOADING_NOTE: &str = "Loading miners…";

/// W3C WebDriver key codes.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const BACKSPACE: &str = "\u{E003}";

/// A headless Chromium under chromedriver, with a fresh profile. Dropping it
/// ends the session and stops chromedriver and the browser.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a session.
    pub fn start() -> Browser {
        let chromium = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver =
            std::env::var("CHROMEDRIVER_BIN").unwrap_or_else(|_| "chromedriver".into());
        assert!(
            Path::new(&chromium).exists(),
            "no Chromium at {chromium}: install Debian's chromium and chromium-driver \
             (`bash scripts/setup-test-tools.sh`) or set CHROMIUM_BIN"
        );
        let profile = tempfile::Builder::new()
            .prefix("dmr-chromium-")
            .tempdir()
            .expect("temp profile dir");
        let port = crate::free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).expect("log");
        let driver = {
            use std::os::unix::process::CommandExt;
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                // Its own process group, so stopping it stops Chromium too.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {chromedriver} ({e}): install Debian's chromium-driver \
                         (`bash scripts/setup-test-tools.sh`) or set CHROMEDRIVER_BIN"
                    )
                })
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        browser.wait_for_driver();
        let user_data = browser._profile.path().join("profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", user_data.display()),
        ];
        let session = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}}),
        );
        browser.session = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {session}"))
            .to_owned();
        browser
    }

    fn wait_for_driver(&mut self) {
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        loop {
            if let Some(status) = self.driver.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited ({status}) before it was ready");
            }
            let ready = self
                .agent
                .get(format!("{}/status", self.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready within {DRIVER_START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver command; returns its `value`, panics on a WebDriver error.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self.agent.post(&url).send_json(&body),
        };
        let mut response = result.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status().as_u16();
        let reply: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: reply is not JSON ({e})"));
        assert!(
            status == 200,
            "WebDriver {method} {path} failed ({status}): {}",
            reply["value"]
        );
        reply["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.session_call(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
    }

    /// Runs `source` before any script of every page loaded from now on.
    pub fn before_each_page(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        );
    }

    /// Loads `url` and waits for its document.
    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns what it returns.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Runs `script` like [`Browser::run`], with every element laid out as
    /// if `content-visibility: auto` were not set, and the page handed back
    /// as it was before the next frame.
    ///
    /// The inspector's cards skip their rendering until a frame has found
    /// them on screen: read before that frame (a card the last poll just
    /// added) or while off screen, a card's `innerText` is "" though it is
    /// visible and its text is in the DOM. Reads that go by rendered text
    /// go through here, so what they see is what a user scrolling to the
    /// card sees. (A constructed sheet, as the page's CSP refuses inline
    /// `<style>`.)
    pub fn read(&self, script: &str, args: Value) -> Value {
        self.run(
            &format!(
                "const before = document.adoptedStyleSheets;
                 const laidOut = new CSSStyleSheet();
                 laidOut.replaceSync('* {{ content-visibility: visible !important; }}');
                 document.adoptedStyleSheets = [...before, laidOut];
                 try {{ {script} \n}} finally {{ document.adoptedStyleSheets = before; }}"
            ),
            args,
        )
    }

    /// Resizes the window (the viewport follows in headless mode).
    pub fn set_window(&self, width: u32, height: u32) {
        self.session_call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        );
    }

    /// Presses and releases each key in turn, as a keyboard would, sending
    /// them to whatever has the focus.
    pub fn press(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.session_call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
        self.session_call("DELETE", "/actions", Value::Null);
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let element = self.session_call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element id for {css}: {element}"))
            .to_owned();
        self.session_call("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Saves a PNG of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self.session_call("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("screenshot is base64"))
            .expect("screenshot decodes");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifact dir");
        }
        std::fs::write(path, bytes).expect("write screenshot");
    }

    /// Polls `look` until it returns `Some`, for at most `timeout`; panics
    /// with `what` and the last thing seen otherwise.
    pub fn wait_for<T, S: std::fmt::Debug>(
        &self,
        what: &str,
        timeout: Duration,
        mut look: impl FnMut() -> (Option<T>, S),
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let (found, seen) = look();
            if let Some(found) = found {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {what}; last saw:\n{seen:#?}"
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self.agent.delete(&url).call();
        }
        let pgid = self.driver.id() as libc::pid_t;
        // SAFETY: signals the process group this page object created for
        // chromedriver and the browser it started; no memory is shared.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// Everything the inspector shows, read from the rendered page in one go
/// (visible text, as `innerText` gives it).
#[derive(Debug, Clone, Deserialize)]
pub struct View {
    /// The "Loading reports…" placeholder is up.
    pub loading: bool,
    /// The "updated N s ago" line.
    pub updated: String,
    /// The error panel's text, when shown.
    pub error: Option<String>,
    /// Whether the error panel has a retry button.
    pub retry_button: bool,
    /// The empty hint's text, when shown.
    pub empty: Option<String>,
    /// The totals panel, when shown.
    pub totals: Option<Totals>,
    /// The vendor chart's rows (an inline `<svg>`), top to bottom.
    pub vendors: Vec<VendorBar>,
    /// The JDC cards, top to bottom.
    pub jdcs: Vec<Card>,
    /// "N of M JDCs match", when filtering.
    pub filter_count: String,
}

/// The totals panel.
#[derive(Debug, Clone, Deserialize)]
pub struct Totals {
    pub jdcs: String,
    pub miners: String,
    pub hash_rate: String,
    pub notes: String,
}

/// One vendor's row in the chart.
#[derive(Debug, Clone, Deserialize)]
pub struct VendorBar {
    pub vendor: String,
    pub share: String,
    pub numbers: String,
    /// Width of the hash-rate bar, as set (a percentage).
    pub hash_bar: String,
}

/// One JDC card.
#[derive(Debug, Clone, Deserialize)]
pub struct Card {
    pub identity: String,
    /// `live`, `stale` or `gone`.
    pub state: String,
    pub badge: String,
    pub user_agent: String,
    pub miners: String,
    pub hash_rate: String,
    pub timing: String,
    /// The card is expanded.
    pub open: bool,
    /// The note above its miners table ("Loading miners…", "Showing 1 of 2
    /// miners (filter)."), when expanded and shown.
    pub note: Option<String>,
    /// The miners table's rows (cells' text), when expanded.
    pub rows: Vec<Vec<String>>,
    /// Its text colour differs from a listed card's: greyed out.
    pub greyed: bool,
}

impl View {
    /// The card of `identity`, if listed.
    pub fn card(&self, identity: &str) -> Option<&Card> {
        self.jdcs.iter().find(|c| c.identity == identity)
    }
}

/// Reads the whole page in one script, so a look is one round trip.
const READ_VIEW: &str = r#"
// Only what is rendered counts: hidden elements are not "shown".
const seen = (el) => (el && el.checkVisibility() ? el : null);
const text = (el) => (seen(el) ? el.innerText.trim() : null);
const q = (sel, root = document) => seen(root.querySelector(sel));
const all = (sel, root = document) => [...root.querySelectorAll(sel)].filter((el) => seen(el));
const totals = q('.totals');
const listed = q('.jdc:not([data-state="gone"])');
const normalColor = listed ? getComputedStyle(listed).color : null;
return {
  loading: !!q('.state.loading'),
  updated: text(q('#updated')) || '',
  error: text(q('.state.error')),
  retry_button: !!q('.state.error button.retry'),
  empty: text(q('.state.empty')),
  totals: totals && {
    jdcs: text(q('#total-jdcs')),
    miners: text(q('#total-miners')),
    hash_rate: text(q('#total-hashrate')),
    notes: text(q('#total-notes')) || '',
  },
  vendors: all('#vendor-chart .vendor-row').map((g) => ({
    vendor: q('.vendor-name', g).textContent,
    share: q('.vendor-share', g).textContent,
    numbers: q('.vendor-numbers', g).textContent,
    hash_bar: q('.bar.hash', g).getAttribute('width'),
  })),
  jdcs: all('.jdc').map((li) => ({
    identity: li.dataset.identity,
    state: li.dataset.state,
    badge: text(q('.badge', li)),
    user_agent: text(q('.jdc-ua', li)),
    miners: text(q('.jdc-miners', li)),
    hash_rate: text(q('.jdc-hashrate', li)),
    timing: text(q('.jdc-timing', li)),
    open: li.querySelector('details').open,
    note: text(q('.card-note', li)) || null,
    rows: li.querySelector('details').open
      ? all('tbody tr', li).map((tr) => all('td', tr).map((td) => td.innerText.trim()))
      : [],
    greyed: normalColor !== null && getComputedStyle(li).color !== normalColor,
  })),
  filter_count: text(q('#filter-count')) || '',
};
"#;

/// The inspector page at a Worker's origin.
pub struct InspectorPage<'b> {
    browser: &'b Browser,
    origin: String,
}

impl<'b> InspectorPage<'b> {
    /// Opens the page served at `origin` (`http://127.0.0.1:PORT`).
    pub fn open(browser: &'b Browser, origin: &str) -> Self {
        browser.goto(&format!("{origin}/"));
        InspectorPage {
            browser,
            origin: origin.to_owned(),
        }
    }

    /// What the page shows right now.
    pub fn view(&self) -> View {
        let value = self.browser.read(READ_VIEW, json!([]));
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("unexpected page shape ({e}): {value:#}"))
    }

    /// Waits up to `timeout` until `check` accepts what the page shows.
    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&View) -> bool) -> View {
        self.browser.wait_for(what, timeout, || {
            let view = self.view();
            (check(&view).then(|| view.clone()), view)
        })
    }

    /// Types into the filter box, replacing what was there.
    pub fn filter(&self, text: &str) {
        self.browser.click("#filter");
        let current = self
            .browser
            .run("return document.querySelector('#filter').value", json!([]));
        let erase = vec![BACKSPACE; current.as_str().map_or(0, |s| s.chars().count())];
        self.browser.press(&erase);
        let typed: Vec<String> = text.chars().map(String::from).collect();
        let keys: Vec<&str> = typed.iter().map(String::as_str).collect();
        self.browser.press(&keys);
    }

    /// Types `token` into the read-token form and submits it.
    pub fn enter_token(&self, token: &str) {
        self.browser.click("#token");
        let typed: Vec<String> = token.chars().map(String::from).collect();
        let mut keys: Vec<&str> = typed.iter().map(String::as_str).collect();
        keys.push(ENTER);
        self.browser.press(&keys);
    }

    /// Opens (or closes) the card of `identity` by clicking its summary
    /// line, and waits until it has: closed, or opened with its miners read
    /// (or a note saying why they cannot be). A table still coming in moves
    /// everything below it, so a click made meanwhile could land on another
    /// card than the one it was aimed at.
    pub fn toggle_card(&self, identity: &str) {
        let was_open = self.view().card(identity).is_some_and(|c| c.open);
        self.click_card(identity);
        let wanted = if was_open {
            "closed"
        } else {
            "open, its miners read"
        };
        self.wait_until(&format!("{identity}'s card {wanted}"), CARD_SETTLE, |v| {
            v.card(identity).is_some_and(|c| {
                c.open != was_open && (!c.open || c.note.as_deref() != Some(LOADING_NOTE))
            })
        });
    }

    /// Clicks the summary line of `identity`'s card and returns at once,
    /// for a test that looks at the card while its miners are being read.
    pub fn click_card(&self, identity: &str) {
        self.browser
            .click(&format!(r#".jdc[data-identity="{identity}"] summary"#));
    }

    /// The `aria-label` of cell `column` in the row of `identity`'s open
    /// table whose worker ends with `worker_suffix`.
    pub fn cell_label(&self, identity: &str, worker_suffix: &str, column: usize) -> Option<String> {
        let label = self.browser.read(
            "const [id, suffix, col] = arguments;
             const card = document.querySelector(`.jdc[data-identity=\"${id}\"]`);
             const row = [...card.querySelectorAll('tbody tr')]
               .find((tr) => tr.cells[4].innerText.trim().endsWith(suffix));
             return row ? row.cells[col].getAttribute('aria-label') : null;",
            json!([identity, worker_suffix, column]),
        );
        label.as_str().map(str::to_owned)
    }

    /// Where the keyboard focus is: the element's tag, id and, for a card's
    /// summary, the card's identity.
    pub fn focused(&self) -> Value {
        self.browser.run(
            "const el = document.activeElement; const card = el.closest('.jdc');
             return {tag: el.tagName.toLowerCase(), id: el.id || null,
                     card: card ? card.dataset.identity : null};",
            json!([]),
        )
    }

    /// Shifts the page's clock (`Date`) by `secs` from now on; needs
    /// [`CLOCK_SHIFT`] installed before the page loaded.
    pub fn shift_clock(&self, secs: i64) {
        self.browser
            .run("window.__shiftClockMs(arguments[0])", json!([secs * 1000]));
    }

    /// Every URL the page has loaded (document, scripts, styles, wasm, API).
    pub fn requested_urls(&self) -> Vec<String> {
        let urls = self.browser.run(
            "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]",
            json!([]),
        );
        serde_json::from_value(urls).expect("a list of URLs")
    }

    /// The paths the page requested, in the order it sent them (the
    /// document first).
    pub fn requested_paths(&self) -> Vec<String> {
        let paths = self.browser.run(
            "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]
               .map(u => new URL(u).pathname)",
            json!([]),
        );
        serde_json::from_value(paths).expect("a list of paths")
    }

    /// Whether the page is wider than the window (sideways scrolling).
    pub fn overflows_horizontally(&self) -> bool {
        self.browser
            .run(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth",
                json!([]),
            )
            .as_bool()
            .expect("a boolean")
    }

    /// The page's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Installed with [`Browser::before_each_page`]: makes `Date` (and so the
/// page's `chrono::Utc::now()`) run ahead by an offset the test sets with
/// [`InspectorPage::shift_clock`]. This is how the page's own clock-based
/// states (stale) are reached without waiting minutes: the page compares the
/// browser clock with the pool's `receivedAt`, so a browser clock 95 s ahead
/// is exactly what a JDC silent for 95 s looks like.
pub const CLOCK_SHIFT: &str = r#"
(() => {
  const RealDate = Date;
  let offset = 0;
  window.__shiftClockMs = (ms) => { offset = ms; };
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(RealDate.now() + offset).toString();
    return args.length ? new RealDate(...args) : new RealDate(RealDate.now() + offset);
  }
  ShiftedDate.prototype = RealDate.prototype;
  ShiftedDate.now = () => RealDate.now() + offset;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  window.Date = ShiftedDate;
})();
"#;
