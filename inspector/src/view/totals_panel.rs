//! The totals panel over the JDCs the pool still serves.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::format;
use crate::roster::Roster;
use crate::totals::Totals;

/// JDCs, miners and hash rate, with how many JDCs are stale or gone.
#[component]
pub fn TotalsPanel(
    /// The JDCs seen so far.
    roster: Signal<Roster>,
    /// The browser clock (staleness moves with it).
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let totals = Memo::new(move |_| {
        let now = now.get();
        roster.with(|r| Totals::of(r.entries(), now))
    });
    view! {
        <section class="totals" aria-label="Totals">
            <dl>
                <div class="total">
                    <dt>"JDCs"</dt>
                    <dd id="total-jdcs">{move || totals.get().jdcs}</dd>
                </div>
                <div class="total">
                    <dt>"Miners"</dt>
                    <dd id="total-miners">{move || totals.get().miners}</dd>
                </div>
                <div class="total">
                    <dt>"Nominal hash rate"</dt>
                    <dd id="total-hashrate">{move || format::hash_rate(totals.get().hash_rate)}</dd>
                </div>
            </dl>
            <p class="total-notes" id="total-notes">{move || totals.get().notes()}</p>
        </section>
    }
}
