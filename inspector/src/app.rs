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

use crate::api::{self, REFRESH_SECS};
use crate::jdc_list::JdcList;
use crate::roster::Roster;
use crate::status::{ApiErrorPanel, EmptyHint, Loading, UpdatedAgo};
use crate::totals_panel::TotalsPanel;
use crate::vendor_chart::VendorChart;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let now = RwSignal::new(Utc::now());
    let roster = RwSignal::new(Roster::default());
    let jdcs = LocalResource::new(api::fetch_jdcs);

    // Every successful answer goes into the roster, which remembers gone JDCs.
    Effect::new(move |_| {
        if let Some(Ok(snapshot)) = jdcs.get() {
            roster.maybe_update(|r| r.apply(snapshot.jdcs, snapshot.seq, snapshot.fetched_at));
        }
    });

    let clock = set_interval_with_handle(move || now.set(Utc::now()), Duration::from_secs(1));
    let poll = set_interval_with_handle(move || jdcs.refetch(), Duration::from_secs(REFRESH_SECS));
    on_cleanup(move || {
        for handle in [clock, poll].into_iter().flatten() {
            handle.clear();
        }
    });

    let retry = Callback::new(move |()| jdcs.refetch());
    let now = Signal::from(now);
    let roster = Signal::from(roster);

    view! {
        <header class="top">
            <h1>"Downstream miners"</h1>
            <UpdatedAgo updated_at=Signal::derive(move || roster.with(Roster::updated_at)) now />
        </header>
        <main>
            // The first load shows the fallback; later refreshes keep the page
            // as it is (Transition) until the new answer is in.
            <Transition fallback=Loading>
                <ErrorBoundary fallback=move |errors| view! { <ApiErrorPanel errors retry /> }>
                    {move || Suspend::new(async move { jdcs.await.map(|_| ()) })}
                </ErrorBoundary>
                <Dashboard roster now />
            </Transition>
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
            <crate::pool::panel::PoolDevices roster now />
            <JdcList roster now />
        </div>
    }
}
