//! The "Agents" panel: the pool's live client rows by `userAgent` as
//! a bar chart (what the pool's own statistics show, agents renamed by
//! reports marked), how many rows are still `jd-client/sv2`, and the
//! addresses that connect through a JDC but do not report, with a filter.
//!
//! It reads `GET /api/agents` every [`AGENTS_REFRESH_SECS`] (the Worker keeps
//! the answer up to a minute per data centre), says how old the data is, and
//! has its own loading, empty and error states, so the rest of the page
//! never waits for it. Everything it shows from the table or from JDCs is
//! text nodes and attribute values: markup in them stays text.

use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use dmr_shared::agents::LiveReports;
use leptos::prelude::*;

use crate::agents::{
    address_matches, bars, connected_for, fetch_agents, jdc_lines, AgentBar, Fetched, JdcLine,
    JdcStatus, AGENTS_REFRESH_SECS,
};
use crate::api::ApiError;
use crate::format;
use crate::roster::Roster;

/// Height of one agent's row in the chart, in CSS pixels.
const ROW_HEIGHT: usize = 58;

/// What the panel has read: the last good answer (kept under an error) and
/// the last read's error. One signal for both: fewer signal types in the
/// page's wasm.
#[derive(Clone, Default)]
struct Reads {
    last: Option<Fetched>,
    error: Option<ApiError>,
}

/// What the panel shows of the answer: the chart's bars and the listed
/// addresses with their status now.
#[derive(Clone, Default, PartialEq)]
struct Shown {
    bars: Vec<AgentBar>,
    lines: Vec<JdcLine>,
}

/// The panel.
#[component]
pub fn AgentsPanel(
    /// The JDCs the page polls: which addresses report right now.
    roster: Signal<Roster>,
    /// The browser clock, ticking every second.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    // Read on the panel's own clock, apart from the JDC list's polling, so
    // the rest of the page never waits for this panel. The last good answer
    // stays up under an error, ageing.
    let reads = RwSignal::new(Reads::default());
    let busy = StoredValue::new(false);
    let read = move || {
        if busy.try_get_value().unwrap_or(true) {
            return;
        }
        busy.set_value(true);
        leptos::task::spawn_local(async move {
            let outcome = fetch_agents().await;
            busy.try_set_value(false);
            match outcome {
                Ok(fetched) => {
                    reads.try_set(Reads {
                        last: Some(fetched),
                        error: None,
                    });
                }
                Err(e) => {
                    reads.try_update(|r| r.error = Some(e));
                }
            }
        });
    };
    read();
    let poll = set_interval_with_handle(read, Duration::from_secs(AGENTS_REFRESH_SECS));
    on_cleanup(move || {
        if let Ok(handle) = poll {
            handle.clear();
        }
    });
    // After a failure, ask again with the JDC list's next answer (the read
    // token may just have been entered), not only every 30 s.
    Effect::new(move |_| {
        roster.with(Roster::updated_at);
        if reads.with_untracked(|r| r.error.is_some()) {
            read();
        }
    });

    // The bars and the listed addresses, from the answer and the live
    // reports the page sees now; one memo for both keeps the wasm small.
    let shown = Memo::new(move |_| {
        reads.with(|r| {
            let Some(f) = &r.last else {
                return Shown::default();
            };
            let reports = roster.with(|r| r.updated_at().map(|_| LiveReports::of(r.served())));
            Shown {
                bars: bars(&f.agents, reports.as_ref()),
                lines: jdc_lines(&f.agents, reports.as_ref()),
            }
        })
    });
    // Which of the panel's parts show, as classes (the stylesheet hides the
    // others): one attribute to keep up to date instead of one per part.
    let state = move || {
        let (rows, failed) =
            reads.with(|r| (r.last.as_ref().map(|f| f.agents.rows), r.error.is_some()));
        let mut class = String::from("agents");
        match rows {
            None if !failed => class.push_str(" is-loading"),
            Some(0) => class.push_str(" is-empty"),
            Some(_) => class.push_str(" has-rows"),
            None => {}
        }
        if failed {
            class.push_str(" has-error");
        }
        class
    };

    let age = move || {
        reads.with(|r| match &r.last {
            None => String::new(),
            Some(f) => format!(
                "read from the pool's database {} · kept up to {} s · refreshes every {AGENTS_REFRESH_SECS} s",
                format::ago(f.age_at(now.get())),
                f.agents.max_age
            ),
        })
    };
    let error_text = move || reads.with(|r| r.error.as_ref().map(ToString::to_string));
    let error_hint = move || {
        reads.with(|r| match &r.error {
            Some(e) if e.needs_token() => {
                "The pool protects its reads: enter its inspector token above.".to_string()
            }
            Some(_) if r.last.is_some() => {
                format!("Retrying every {AGENTS_REFRESH_SECS} s. Below is the last answer.")
            }
            Some(_) => format!("Retrying every {AGENTS_REFRESH_SECS} s."),
            None => String::new(),
        })
    };
    let headline = move || {
        reads.with(|r| {
            let Some(f) = &r.last else { return String::new() };
            let a = &f.agents;
            if a.jdc_rows == 0 {
                return "No live row is jd-client/sv2: every JDC connection carries its devices' name."
                    .to_string();
            }
            let addresses = a.jdc_addresses.len() as u64 + a.more_jdc_addresses;
            format!(
                "{} still jd-client/sv2, at {} ({} of live rows).",
                format::count(a.jdc_rows as usize, "live row is", "live rows are"),
                format::count(addresses as usize, "address", "addresses"),
                format::percent(crate::breakdown::fraction(a.jdc_rows as f64, a.rows as f64))
            )
        })
    };

    view! {
        <section class=state id="agents" aria-labelledby="agents-title">
            <div class="agents-head">
                <h2 id="agents-title">"Agents"</h2>
                <p class="agents-age" id="agents-age">{age}</p>
            </div>
            <p class="agents-intro">
                "The pool's live client rows by userAgent (the name each client connects with), as its own statistics group them."
            </p>
            <p class="agents-loading" role="status">
                "Reading the pool's client table…"
            </p>
            <div class="agents-error" role="alert">
                <p class="agents-error-message">{error_text}</p>
                <p class="agents-hint">{error_hint}</p>
                <button type="button" class="agents-retry" on:click=move |_| read()>
                    "Retry now"
                </button>
            </div>
            <p class="agents-empty">
                "The pool's client table has no live rows: no miner is connected right now."
            </p>
            <div class="agents-body">
                <AgentChart shown />
                <p class="agents-jdc-rows" id="agents-jdc-rows">{headline}</p>
                <JdcAddresses shown reads now />
            </div>
        </section>
    }
}

/// The label of a bar: its `userAgent`, or what the folded rest is.
fn label(bar: &AgentBar) -> String {
    bar.user_agent.clone().unwrap_or_else(|| {
        format!(
            "({})",
            format::count(bar.folded as usize, "other agent", "other agents")
        )
    })
}

/// Live rows by `userAgent`, an inline SVG like the vendor chart: rows'
/// share as the bar, agents renamed by reports in the accent colour,
/// `jd-client/sv2` in the warning colour. Redrawn whole when the bars
/// change (an answer, or a report naming a new agent): a few dozen rows,
/// and a plain redraw keeps the page's WebAssembly small.
#[component]
fn AgentChart(
    /// The bars, most rows first.
    shown: Memo<Shown>,
) -> impl IntoView {
    view! {
        <p class="legend" aria-hidden="true">
            <span class="swatch agents-reported"></span>
            "renamed by reports"
            <span class="swatch agents-jdc"></span>
            "still jd-client/sv2"
            <span class="swatch agents-other"></span>
            "other clients"
        </p>
        {move || shown.with(|s| chart(&s.bars))}
    }
}

/// The chart's SVG for `bars`.
fn chart(bars: &[AgentBar]) -> impl IntoView {
    let description = bars
        .iter()
        .map(|b| {
            format!(
                "{}: {}{}",
                label(b),
                format::count(b.rows as usize, "row", "rows"),
                if b.from_reports {
                    ", renamed by reports"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let rows = bars
        .iter()
        .enumerate()
        .map(|(i, b)| agent_row(i, b))
        .collect::<Vec<_>>();
    view! {
        <svg
            class="chart"
            id="agent-chart"
            width="100%"
            height=bars.len() * ROW_HEIGHT
            role="img"
            aria-label=format!("Live client rows by userAgent. {description}")
        >
            {rows}
        </svg>
    }
}

/// One agent's row at place `i`: name (and mark), share, numbers, bar.
fn agent_row(i: usize, b: &AgentBar) -> impl IntoView {
    let (kind, mark) = if b.from_reports {
        ("agent-row reported", " · renamed by reports")
    } else if b.jdc {
        ("agent-row jdc", " · not named by a report")
    } else {
        ("agent-row", "")
    };
    let mut numbers = vec![format::count(b.rows as usize, "row", "rows")];
    if let Some(addresses) = b.addresses {
        numbers.push(format::count(addresses as usize, "address", "addresses"));
    }
    numbers.push(format::hash_rate(b.hash_rate));
    let width = crate::breakdown::bar_width(b.share);
    view! {
        <g class=kind transform=format!("translate(0 {})", i * ROW_HEIGHT)>
            <text class="agent" x="0" y="15">
                <tspan class="agent-name">{label(b)}</tspan>
                <tspan class="agent-mark">{mark}</tspan>
            </text>
            <text class="agent-share" x="100%" y="15" text-anchor="end">
                {format::percent(b.share)}
            </text>
            <text class="agent-numbers" x="0" y="33">{numbers.join(" · ")}</text>
            <rect class="track" x="0" y="42" width="100%" height="10" rx="3"></rect>
            <rect class="agent-bar" x="0" y="42" width=width height="10" rx="3"></rect>
        </g>
    }
}

/// The addresses still connected as `jd-client/sv2`: those that do not
/// report (filterable), then those that report but are not renamed yet.
/// Lists are redrawn whole when they change, the filter moves, or a minute
/// passes (how long each has been connected).
#[component]
fn JdcAddresses(
    /// The listed addresses with their status now.
    shown: Memo<Shown>,
    /// The answer (for what the bound left out).
    reads: RwSignal<Reads>,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    // The clock to the minute (as a time, the type the page's other clock
    // memos have, so no new memo type enters the wasm).
    let minute = Memo::new(move |_| {
        let secs = now.get().timestamp();
        DateTime::from_timestamp(secs - secs.rem_euclid(60), 0).unwrap_or_default()
    });
    let silent = move || {
        shown.with(|Shown { lines, .. }| {
            lines
                .iter()
                .filter(|l| l.status == JdcStatus::NotReporting)
                .count()
        })
    };
    let matching = move || {
        query.with(|q| {
            shown.with(|Shown { lines, .. }| {
                lines
                    .iter()
                    .filter(|l| {
                        l.status == JdcStatus::NotReporting && address_matches(q, &l.address)
                    })
                    .count()
            })
        })
    };
    let pending = move || {
        shown.with(|Shown { lines, .. }| {
            lines
                .iter()
                .filter(|l| l.status != JdcStatus::NotReporting)
                .count()
        })
    };
    let any_silent = move || silent() > 0;
    let count = move || {
        let (shown, all) = (matching(), silent());
        if query.with(|q| q.trim().is_empty()) {
            String::new()
        } else if shown == 0 {
            format!("No address matches (of {all}).")
        } else {
            format!("{shown} of {all} addresses match.")
        }
    };
    let beyond = move || {
        reads.with(|r| {
            let Some(f) = &r.last else {
                return String::new();
            };
            let a = &f.agents;
            let mut notes = Vec::new();
            if a.more_jdc_addresses > 0 {
                notes.push(format!(
                    "Listing the {} addresses connected longest; {} more have jd-client/sv2 rows.",
                    a.jdc_addresses.len(),
                    a.more_jdc_addresses
                ));
            }
            if !a.reports_complete {
                notes.push(format!(
                    "Checked against the first {} live reports only.",
                    a.live_reports
                ));
            }
            notes.join(" ")
        })
    };
    let silent_list = move || {
        // Redrawn each minute, with the time of the redraw.
        minute.track();
        let at = now.get_untracked().timestamp();
        query.with(|q| {
            shown.with(|Shown { lines, .. }| {
                lines
                    .iter()
                    .filter(|l| {
                        l.status == JdcStatus::NotReporting && address_matches(q, &l.address)
                    })
                    .map(|l| address_line(l, since_text(l, at)))
                    .collect::<Vec<_>>()
            })
        })
    };
    let pending_list = move || {
        shown.with(|Shown { lines, .. }| {
            lines
                .iter()
                .filter_map(|l| {
                    let status = match &l.status {
                        JdcStatus::NotReporting => return None,
                        JdcStatus::Renaming(to) => format!("renamed to {to} at its next report"),
                        JdcStatus::NoVendor => {
                            "its report names no vendor: these rows stay jd-client/sv2".to_string()
                        }
                    };
                    Some(address_line(l, status))
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="agents-jdcs">
            <div class="agents-jdcs-head">
                <h3 id="agents-silent-title">
                    {move || format!("Connected through a JDC, not reporting ({})", silent())}
                </h3>
                <label class="filter" hidden=move || !any_silent()>
                    <span>"Filter"</span>
                    <input
                        type="search"
                        id="agents-filter"
                        placeholder="address"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || query.get()
                        on:input:target=move |ev| query.set(ev.target().value())
                    />
                </label>
            </div>
            <p class="agents-note" hidden=any_silent>
                "None: every JDC address with jd-client/sv2 rows reports."
            </p>
            <p class="filter-count" id="agents-filter-count" role="status">{count}</p>
            <ul class="agents-list" id="agents-silent" aria-labelledby="agents-silent-title">
                {silent_list}
            </ul>
            <p class="agents-note" id="agents-beyond">{beyond}</p>
            <div class="agents-pending" hidden=move || pending() == 0>
                <h3 id="agents-pending-title">"Reporting, rows not renamed yet"</h3>
                <ul class="agents-list" id="agents-pending" aria-labelledby="agents-pending-title">
                    {pending_list}
                </ul>
            </div>
        </div>
    }
}

/// How long `line` has been connected at `at` (seconds since the epoch),
/// to the minute, and since when in local time.
fn since_text(line: &JdcLine, at: i64) -> String {
    match line.connected_at {
        None => format!("connected since {}", line.since),
        Some(t) => format!(
            "connected {} {}",
            connected_for(at - t.timestamp()),
            format::date_time(&t.with_timezone(&Local))
        ),
    }
}

/// One address: the address, its rows, and a line about it.
fn address_line(line: &JdcLine, detail: String) -> impl IntoView {
    view! {
        <li class="agents-address-line" data-address=line.address.clone()>
            <span class="agents-address">{line.address.clone()}</span>
            <span class="agents-address-rows">
                {format::count(line.rows as usize, "row", "rows")}
            </span>
            <span class="agents-detail">{detail}</span>
        </li>
    }
}
