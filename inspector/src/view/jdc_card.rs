//! One JDC's card: a summary line that opens onto its miners.
//!
//! The summary line comes from the polled summaries. The miners come from
//! the JDC's full report, read through a resource keyed by the summary's
//! version ([`DetailKey`]): read when the card opens, again only when the
//! summary changes (or at the next poll after a failed read), and shown
//! only under the summary it was read for ([`Detail::of`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dmr_shared::Miner;
use leptos::prelude::*;

use super::miners_table::MinersTable;
use crate::api;
use crate::detail::{Answer, Detail, DetailKey};
use crate::filter::Filter;
use crate::format;
use crate::roster::{Entry, Roster};
use crate::timing::Health;

/// What the cards of one shard watch: the shard's entries (by identity),
/// and relays of the page clock and of the filter.
#[derive(Clone, Copy)]
pub struct Shard {
    /// The shard's JDCs; changes only when one of them does.
    pub entries: Memo<Vec<Entry>>,
    /// The browser clock.
    pub now: Memo<DateTime<Utc>>,
    /// The filter.
    pub filter: Memo<Filter>,
}

/// One JDC: a summary line that opens onto its miners.
#[component]
pub fn JdcCard(
    /// The JDC's identity (the card's key).
    id: String,
    /// The card's shard: its entry, the clock, the filter (which hides the
    /// card, or some of its miners).
    shard: Shard,
    /// The JDCs seen so far: only a card whose read failed watches it, to
    /// try again at the next poll.
    roster: Signal<Roster>,
    /// How many cards the filter lets through; the card counts itself in
    /// while it shows.
    shown: RwSignal<usize>,
) -> impl IntoView {
    let Shard {
        entries,
        now,
        filter,
    } = shard;
    let entry = Memo::new({
        let id = id.clone();
        move |_| {
            entries.with(|es| {
                es.binary_search_by(|e| e.identity().cmp(&id))
                    .ok()
                    .map(|i| es[i].clone())
            })
        }
    });
    let open = RwSignal::new(false);

    // What to read: the current version while the card is open and the JDC
    // listed. Once it is gone nothing more is read, and what was read stays.
    let request = Memo::new(move |before: Option<&Option<DetailKey>>| {
        if !open.get() {
            return None;
        }
        let listed = entry.with(|e| e.as_ref().filter(|e| !e.is_gone()).map(DetailKey::of));
        listed.or_else(|| before.cloned().flatten())
    });
    // Reads again whenever the key changes, one read at a time, so what it
    // ends up holding is the answer for the latest key.
    let detail = LocalResource::new(move || {
        let key = request.get();
        async move {
            let key = key?;
            let outcome = api::fetch_report(&key.identity).await;
            Some(Answer { key, outcome })
        }
    });
    // A failed read is tried again at the next poll. Only a card whose read
    // failed watches the polls: a thousand cards all subscribed to the
    // roster would make every poll wake them all.
    Effect::new(move |polled_at: Option<Option<DateTime<Utc>>>| {
        let failed = detail.with(|d| {
            d.as_ref()
                .and_then(Option::as_ref)
                .is_some_and(Answer::failed)
        });
        if !failed {
            return None;
        }
        let now_polled = roster.with(Roster::updated_at);
        if polled_at.flatten().is_some_and(|at| Some(at) != now_polled) {
            detail.refetch();
        }
        now_polled
    });
    let shows = Shows { entry, detail };

    let jdc_matches = move || {
        filter.with(|f| entry.with(|e| e.as_ref().is_some_and(|e| f.matches_jdc(&e.summary))))
    };
    // Only cards with miners to filter watch the filter (and the JDC's own
    // match): closed cards stay out of every keystroke.
    let miners = Memo::new(move |_| {
        shows.with(|shown| {
            let all = shown.miners();
            if all.is_empty() {
                return Vec::new();
            }
            let jdc_matches = jdc_matches();
            filter.with(|f| {
                f.miners(jdc_matches, all)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<Miner>>()
            })
        })
    });
    let visible = Memo::new(move |_| jdc_matches() || miners.with(|m| !m.is_empty()));
    let counted = Arc::new(AtomicBool::new(false));
    Effect::new({
        let counted = Arc::clone(&counted);
        move |_| {
            let visible = visible.get();
            if counted.swap(visible, Ordering::Relaxed) != visible {
                shown.update(|n| if visible { *n += 1 } else { *n -= 1 });
            }
        }
    });
    on_cleanup(move || {
        if counted.load(Ordering::Relaxed) {
            shown.try_update(|n| *n -= 1);
        }
    });

    // The health changes far less often than the timing line: as a memo,
    // the badge and `data-state` are only touched when it does.
    let health = Memo::new(move |_| {
        let now = now.get();
        entry.with(|e| e.as_ref().map_or(Health::Gone, |e| e.health(now)))
    });
    let timing = move || {
        let now = now.get();
        entry.with(|e| e.as_ref().map(|e| e.timing_line(now)).unwrap_or_default())
    };
    let user_agent = move || {
        entry.with(|e| {
            e.as_ref()
                .and_then(|e| e.summary.user_agent.clone())
                .unwrap_or_else(|| "no vendor named".into())
        })
    };
    let miner_count = move || {
        let n = entry.with(|e| e.as_ref().map_or(0, |e| e.summary.miners));
        format::count(n, "miner", "miners")
    };
    let hash_rate =
        move || entry.with(|e| format::hash_rate(e.as_ref().map_or(0.0, |e| e.summary.hash_rate)));
    let note = move || {
        let shown = miners.with(Vec::len);
        shows.with(|detail| detail.note(shown))
    };
    let label = format!("Miners of {id}");
    let identity = id.clone();
    view! {
        <li
            class="jdc"
            data-identity=id
            data-state=move || health.get().label()
            hidden=move || !visible.get()
        >
            <details on:toggle:target=move |ev| open.set(ev.target().open())>
                <summary>
                    <span class="jdc-line">
                        <span class="badge">{move || health.get().label()}</span>
                        <span class="jdc-identity">{identity}</span>
                    </span>
                    <span class="jdc-facts">
                        <span class="jdc-ua">{user_agent}</span>
                        <span class="jdc-miners">{miner_count}</span>
                        <span class="jdc-hashrate">{hash_rate}</span>
                    </span>
                    <span class="jdc-timing">{timing}</span>
                </summary>
                // Closed cards render no table: a thousand JDCs stay light.
                <Show when=move || open.get()>
                    <p class="card-note" role="status">{note}</p>
                    <MinersTable miners now=now.into() label=label.clone() />
                </Show>
            </details>
        </li>
    }
}

/// What decides which of the report the card shows.
#[derive(Clone, Copy)]
struct Shows {
    entry: Memo<Option<Entry>>,
    detail: LocalResource<Option<Answer>>,
}

impl Shows {
    /// Calls `f` with what the card shows of the report right now
    /// (tracked): the answer for the version of the report the entry
    /// stands for (a gone JDC keeps its last one).
    fn with<R>(self, f: impl FnOnce(Detail) -> R) -> R {
        self.entry.with(|e| {
            let current = e.as_ref().map(DetailKey::of);
            let gone = e.as_ref().is_none_or(Entry::is_gone);
            self.detail.with(|d| {
                f(Detail::of(
                    current.as_ref(),
                    d.as_ref().and_then(Option::as_ref),
                    gone,
                ))
            })
        })
    }
}
