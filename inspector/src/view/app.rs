//! The page: owns the state every panel reads, the loops that move it, and
//! the layout (one line per panel).
//!
//! Two clocks drive it. Every [`REFRESH_SECS`] the JDC summaries are polled
//! again; every second `now` ticks, so ages, countdowns and "updated N s ago"
//! move between polls, measured on the browser clock against the pool's
//! `receivedAt`/`expiresAt`. Answers go into the [`Roster`], and the panels
//! read the roster, not the fetch: a refresh updates rows in place (keyed by
//! identity), so nothing flickers and open rows and scroll position survive.

use std::time::Duration;

use chrono::{DateTime, Utc};
use dmr_shared::limits::{REPORT_TTL_SECS, STALE_AFTER_SECS};
use leptos::prelude::*;

use super::agents::AgentsPanel;
use super::jdc_list::JdcList;
use super::status::{ApiErrorPanel, EmptyHint, Loading, UpdatedAgo};
use super::totals_panel::TotalsPanel;
use super::vendor_chart::VendorChart;
use crate::api::{self, ApiError, REFRESH_SECS};
use crate::roster::Roster;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let now = RwSignal::new(Utc::now());
    let roster = RwSignal::new(Roster::default());
    // The last read's outcome: `None` before the first answer, then `Ok`
    // or why it failed. Reads are numbered as sent: only the latest one
    // says whether the API failed, and the roster ignores an answer
    // overtaken by one it already applied.
    let last = RwSignal::new(None::<Result<(), ApiError>>);
    let sent = StoredValue::new(0u64);
    let read = move || {
        let Some(seq) = sent.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let outcome = api::fetch_jdcs(seq).await;
            let latest = sent.try_get_value() == Some(seq);
            let outcome = outcome.map(|snapshot| {
                roster.maybe_update(|r| r.apply(snapshot.jdcs, snapshot.seq, snapshot.fetched_at));
            });
            if latest {
                last.try_set(Some(outcome));
            }
        });
    };
    read();

    let clock = set_interval_with_handle(move || now.set(Utc::now()), Duration::from_secs(1));
    let poll = set_interval_with_handle(read, Duration::from_secs(REFRESH_SECS));
    on_cleanup(move || {
        for handle in [clock, poll].into_iter().flatten() {
            handle.clear();
        }
    });

    let retry = Callback::new(move |()| read());
    // Before the first answer the page says it is loading; after it, the
    // last read's error (if any) stands above the last answer. A refresh
    // keeps the page as it is until its answer is in.
    let answered = move || last.with(Option::is_some);
    let error = Memo::new(move |_| last.with(|r| r.clone().and_then(Result::err)));
    let now = Signal::from(now);
    let roster = Signal::from(roster);

    view! {
        <header class="top">
            <h1>"Downstream miners"</h1>
            <UpdatedAgo updated_at=Signal::derive(move || roster.with(Roster::updated_at)) now />
        </header>
        <main>
            <Show when=answered fallback=Loading>
                <ApiErrorPanel error retry />
                <Dashboard roster now />
            </Show>
        </main>
        <footer class="foot">
            {format!(
                "The pool keeps a JDC's report {} min after storing it; a JDC whose stored report is older than {} s has missed a report (stale). ",
                REPORT_TTL_SECS / 60,
                STALE_AFTER_SECS,
            )}
            <a href=dmr_shared::api::REPORTS_PATH>"Raw JSON"</a>
        </footer>
    }
}

/// Everything below the header, once there is an answer to show. After an
/// API error it keeps showing the last answer (ageing on the browser clock)
/// under the error.
#[component]
fn Dashboard(
    /// The JDCs seen so far.
    roster: Signal<Roster>,
    /// The browser clock, ticking every second.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let answered = move || roster.with(|r| r.updated_at().is_some());
    let any_served = move || roster.with(|r| r.served().next().is_some());
    view! {
        <div hidden=move || !answered()>
            <Show when=any_served fallback=EmptyHint>
                <TotalsPanel roster now />
                <VendorChart roster />
            </Show>
            <AgentsPanel roster now />
            <JdcList roster now />
        </div>
    }
}
