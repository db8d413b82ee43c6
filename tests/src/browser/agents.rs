//! The inspector's Agents panel as a person sees it, read from the
//! rendered page in one script (visible text only), next to the page objects
//! in `mod.rs`.

use serde::Deserialize;
use serde_json::json;

use super::{Browser, BACKSPACE};

/// Everything the panel shows. `None` (from [`AgentsPanel::view`]) when the
/// panel itself is not shown.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentsView {
    /// "read from the pool's database N s ago · ...".
    pub age: String,
    /// The loading line is up.
    pub loading: bool,
    /// The panel's error box, when shown.
    pub error: Option<String>,
    pub retry_button: bool,
    /// The empty-table line, when shown.
    pub empty: Option<String>,
    /// The chart's rows, top to bottom.
    pub agents: Vec<AgentBar>,
    /// How many rows are still `jd-client/sv2`.
    pub jdc_rows: String,
    /// The "not reporting" list's heading, with its count.
    pub silent_title: String,
    pub silent: Vec<AddressLine>,
    /// "Reporting, rows not renamed yet".
    pub pending: Vec<AddressLine>,
    /// "N of M addresses match", when filtering.
    pub filter_count: String,
    /// What the bounds left out.
    pub beyond: String,
}

/// One `userAgent` in the chart.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AgentBar {
    pub name: String,
    /// " · renamed by reports", " · not named by a report" or empty.
    pub mark: String,
    pub share: String,
    pub numbers: String,
    /// `reported`, `jdc` or `other`: which colour.
    pub kind: String,
    /// The bar's width, as set.
    pub bar: String,
}

/// One address in either list.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AddressLine {
    pub address: String,
    pub rows: String,
    /// "connected 4 d 06 h 2026-11-27 13:11:12", or the report's effect.
    pub detail: String,
}

impl AgentsView {
    /// The chart's rows as (name, numbers, kind).
    pub fn chart(&self) -> Vec<(&str, &str, &str)> {
        self.agents
            .iter()
            .map(|a| (a.name.as_str(), a.numbers.as_str(), a.kind.as_str()))
            .collect()
    }

    /// The addresses of the "not reporting" list.
    pub fn silent_addresses(&self) -> Vec<&str> {
        self.silent.iter().map(|l| l.address.as_str()).collect()
    }

    /// The addresses of the "not renamed yet" list.
    pub fn pending_addresses(&self) -> Vec<&str> {
        self.pending.iter().map(|l| l.address.as_str()).collect()
    }
}

const READ_POOL: &str = r#"
const seen = (el) => (el && el.checkVisibility() ? el : null);
const text = (el) => (seen(el) ? el.innerText.trim() : null);
const root = seen(document.querySelector('#agents'));
if (!root) return null;
const q = (sel, r = root) => seen(r.querySelector(sel));
const all = (sel, r = root) => [...r.querySelectorAll(sel)].filter((el) => seen(el));
const line = (li) => ({
  address: li.querySelector('.agents-address').textContent,
  rows: li.querySelector('.agents-address-rows').textContent.trim(),
  detail: (li.querySelector('.agents-detail') || {}).textContent || '',
});
return {
  age: text(q('#agents-age')) || '',
  loading: !!q('.agents-loading'),
  error: text(q('.agents-error')),
  retry_button: !!q('.agents-error button.agents-retry'),
  empty: text(q('.agents-empty')),
  agents: all('#agent-chart .agent-row').map((g) => {
    const cls = g.getAttribute('class');
    return {
      name: g.querySelector('.agent-name').textContent,
      mark: g.querySelector('.agent-mark').textContent,
      share: g.querySelector('.agent-share').textContent,
      numbers: g.querySelector('.agent-numbers').textContent,
      kind: cls.includes('reported') ? 'reported' : cls.includes('jdc') ? 'jdc' : 'other',
      bar: g.querySelector('.agent-bar').getAttribute('width'),
    };
  }),
  jdc_rows: text(q('#agents-jdc-rows')) || '',
  silent_title: text(q('#agents-silent-title')) || '',
  silent: all('#agents-silent .agents-address-line').map(line),
  pending: all('#agents-pending .agents-address-line').map(line),
  filter_count: text(q('#agents-filter-count')) || '',
  beyond: text(q('#agents-beyond')) || '',
};
"#;

/// The panel in a page the browser has open.
pub struct AgentsPanel<'b> {
    browser: &'b Browser,
}

impl<'b> AgentsPanel<'b> {
    pub fn new(browser: &'b Browser) -> Self {
        AgentsPanel { browser }
    }

    /// What the panel shows right now; `None` when it is not shown.
    pub fn view(&self) -> Option<AgentsView> {
        let value = self.browser.read(READ_POOL, json!([]));
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("unexpected panel shape ({e}): {value:#}"))
    }

    /// Waits up to `timeout` until `check` accepts what the panel shows.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: std::time::Duration,
        check: impl Fn(&AgentsView) -> bool,
    ) -> AgentsView {
        self.browser.wait_for(what, timeout, || {
            let view = self.view();
            (view.as_ref().filter(|v| check(v)).cloned(), view)
        })
    }

    /// Types into the panel's filter box, replacing what was there.
    pub fn filter(&self, text: &str) {
        self.browser.click("#agents-filter");
        let current = self.browser.run(
            "return document.querySelector('#agents-filter').value",
            json!([]),
        );
        let erase = vec![BACKSPACE; current.as_str().map_or(0, |s| s.chars().count())];
        self.browser.press(&erase);
        let typed: Vec<String> = text.chars().map(String::from).collect();
        let keys: Vec<&str> = typed.iter().map(String::as_str).collect();
        self.browser.press(&keys);
    }

    /// Scrolls the panel to the top of the window (for a screenshot).
    pub fn scroll_into_view(&self) {
        self.browser.run(
            "document.querySelector('#agents').scrollIntoView({block: 'start'})",
            json!([]),
        );
    }
}
