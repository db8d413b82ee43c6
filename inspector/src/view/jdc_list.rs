//! The JDC list: the filter box, then one collapsible card per JDC (live,
//! stale or gone), keyed by identity so a refresh updates cards in place and
//! an opened card stays open.
//!
//! Cards do not watch the roster, the clock and the filter themselves but
//! their [`Shard`]'s copies of them (see [`roster::shard_of`] for why): a
//! thousand cards stay cheap to poll, tick and filter.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::jdc_card::{JdcCard, Shard};
use crate::filter::Filter;
use crate::roster::{self, Entry, Roster, SHARDS};

/// The filter box and the JDC cards it lets through.
#[component]
pub fn JdcList(
    /// The JDCs seen so far.
    roster: Signal<Roster>,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let filter = Memo::new(move |_| Filter::new(&query.get()));
    // Every card stays in the DOM and the filter only hides it, so a card
    // filtered out and back in is still open if it was.
    let identities = Memo::new(move |_| {
        roster.with(|r| {
            r.entries()
                .map(Entry::identity)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    });
    let shards: Vec<Shard> = (0..SHARDS)
        .map(|k| Shard {
            entries: Memo::new(move |_| roster.with(|r| r.shard(k))),
            now: Memo::new(move |_| now.get()),
            filter: Memo::new(move |_| filter.get()),
        })
        .collect();
    // Cards count themselves in while they show (O(1) per change), so the
    // count includes worker matches in open cards.
    let shown = RwSignal::new(0usize);
    let listed = move || roster.with(Roster::len);
    let count = move || filter.with(|f| f.count_line(shown.get(), listed()));
    view! {
        <section class="jdcs" aria-labelledby="jdcs-title" hidden=move || listed() == 0>
            <div class="jdcs-head">
                <h2 id="jdcs-title">"JDCs"</h2>
                <label class="filter">
                    <span>"Filter"</span>
                    <input
                        type="search"
                        id="filter"
                        placeholder="identity, vendor or worker"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || query.get()
                        on:input:target=move |ev| query.set(ev.target().value())
                    />
                </label>
            </div>
            <p class="filter-count" id="filter-count" role="status">
                {count}
            </p>
            <ul class="jdc-list" id="jdc-list">
                <For
                    each=move || identities.get()
                    key=|id| id.clone()
                    children=move |id| {
                        let shard = shards[roster::shard_of(&id)];
                        view! { <JdcCard id shard roster shown /> }
                    }
                />
            </ul>
        </section>
    }
}
