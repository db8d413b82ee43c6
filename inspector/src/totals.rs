//! The totals over the JDCs the pool still serves.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::format;
use crate::roster::Roster;
use crate::summary;

/// JDCs, miners and hash rate, with how many JDCs are stale or gone.
#[component]
pub fn Totals(
    /// The JDCs seen so far.
    roster: Signal<Roster>,
    /// The browser clock (staleness moves with it).
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let totals = Memo::new(move |_| roster.with(|r| summary::Totals::of(r.served(), now.get())));
    let gone = Memo::new(move |_| roster.with(Roster::gone));
    let notes = move || {
        let stale = totals.get().stale;
        let gone = gone.get();
        let mut parts = Vec::new();
        if stale > 0 {
            parts.push(format!("{stale} stale"));
        }
        if gone > 0 {
            parts.push(format!("{gone} gone"));
        }
        parts.join(" · ")
    };
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
            <p class="total-notes" id="total-notes">{notes}</p>
        </section>
    }
}
