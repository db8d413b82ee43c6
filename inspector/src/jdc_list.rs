//! The JDC list: the filter box, then one collapsible card per JDC (live,
//! stale or gone), keyed by identity so a refresh updates cards in place and
//! an opened card stays open.
//!
//! A card's summary line comes from the polled summaries. Its miners come
//! from the JDC's full report, read when the card is opened and again only
//! when the JDC's summary changes (new `receivedAt` or content), or at the
//! next poll after a failed read.

use chrono::{DateTime, Utc};
use dmr_shared::{Miner, StoredReport};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::format;
use crate::miners_table::MinersTable;
use crate::roster::Roster;
use crate::summary::{self, Filter, Health, Timing};

/// A card's full report: `None` until first read; then the read's outcome
/// (`Ok(None)`: the report expired).
type Loaded = Option<Result<Option<StoredReport>, ApiError>>;

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
                .iter()
                .map(|e| e.identity().to_string())
                .collect::<Vec<_>>()
        })
    });
    // Cards report whether they show, so the count includes worker matches
    // in open cards.
    let shown = RwSignal::new(Vec::<String>::new());
    let listed = move || roster.with(|r| r.entries().len());
    let count = move || {
        let listed = listed();
        let shown = shown.with(|s| s.len()).min(listed);
        if filter.with(Filter::is_empty) {
            String::new()
        } else if shown == 0 {
            format!("No JDC matches (of {listed}).")
        } else {
            format!("{shown} of {listed} JDCs match.")
        }
    };
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
                <For each=move || identities.get() key=|id| id.clone() let:id>
                    <JdcCard id roster now filter shown />
                </For>
            </ul>
        </section>
    }
}

/// One JDC: a summary line that opens onto its miners.
#[component]
fn JdcCard(
    /// The JDC's identity (the card's key).
    id: String,
    /// The JDCs seen so far (the card reads its entry from it).
    roster: Signal<Roster>,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
    /// The current filter (hides the card, or some of its miners).
    filter: Memo<Filter>,
    /// Identities of the cards the filter lets through; the card keeps its
    /// own membership up to date.
    shown: RwSignal<Vec<String>>,
) -> impl IntoView {
    let entry = Memo::new({
        let id = id.clone();
        move |_| roster.with(|r| r.get(&id).cloned())
    });
    let open = RwSignal::new(false);
    let report = RwSignal::new(Loaded::None);

    // Read the full report while open, again when the summary changes, and
    // after a failed read at each poll.
    let wanted = Memo::new(move |_| {
        if !open.get() {
            return None;
        }
        let retry = report
            .with(|r| matches!(r, Some(Err(_))))
            .then(|| roster.with(Roster::updated_at))
            .flatten();
        entry.with(|e| {
            e.as_ref().filter(|e| e.gone_since.is_none()).map(|e| {
                (
                    e.summary.received_at.clone(),
                    e.summary.content.clone(),
                    retry,
                )
            })
        })
    });
    Effect::new({
        let id = id.clone();
        move |_| {
            if wanted.with(Option::is_some) {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    report.set(Some(api::fetch_report(&id).await));
                });
            }
        }
    });

    let jdc_matches = move || {
        entry.with(|e| {
            e.as_ref()
                .is_some_and(|e| filter.with(|f| f.matches_jdc(&e.summary)))
        })
    };
    let miners = Memo::new(move |_| {
        let jdc_matches = jdc_matches();
        report.with(|r| match r {
            Some(Ok(Some(r))) => filter.with(|f| {
                f.miners(jdc_matches, &r.report.miners)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<Miner>>()
            }),
            _ => Vec::new(),
        })
    });
    let visible = Memo::new(move |_| jdc_matches() || miners.with(|m| !m.is_empty()));
    Effect::new({
        let id = id.clone();
        move |_| {
            let visible = visible.get();
            shown.update(|s| match s.iter().position(|x| *x == id) {
                Some(i) if !visible => {
                    s.swap_remove(i);
                }
                None if visible => s.push(id.clone()),
                _ => {}
            });
        }
    });
    on_cleanup({
        let id = id.clone();
        move || shown.update(|s| s.retain(|x| *x != id))
    });

    let health = move || {
        entry.with(|e| {
            e.as_ref().map_or(Health::Gone, |e| {
                summary::health(&e.summary, e.gone_since.is_some(), now.get())
            })
        })
    };
    let user_agent = move || {
        entry.with(|e| {
            e.as_ref()
                .and_then(|e| e.summary.user_agent.clone())
                .unwrap_or_else(|| "no vendor named".into())
        })
    };
    let miner_count = move || {
        entry.with(|e| {
            format::count(
                e.as_ref().map_or(0, |e| e.summary.miners),
                "miner",
                "miners",
            )
        })
    };
    let hash_rate =
        move || entry.with(|e| format::hash_rate(e.as_ref().map_or(0.0, |e| e.summary.hash_rate)));
    let timing = move || {
        let now = now.get();
        entry.with(|e| {
            let Some(e) = e else { return String::new() };
            let Some(t) = Timing::of(&e.summary, now) else {
                return "report time unreadable".into();
            };
            // `receivedAt` is when the pool last stored the report: an
            // unchanged report is stored again only every third time, so
            // the card says "stored", not "reported".
            match summary::health(&e.summary, e.gone_since.is_some(), now) {
                Health::Live => format!(
                    "stored {} · expires {}",
                    format::ago(t.age_secs),
                    format::until(t.expires_in_secs)
                ),
                Health::Stale if t.expires_in_secs > 0 => format!(
                    "not stored for {}, missed a report · expires {}",
                    format::duration(t.age_secs),
                    format::until(t.expires_in_secs)
                ),
                Health::Stale => format!(
                    "not stored for {}, missed a report · expired, leaving the list",
                    format::duration(t.age_secs)
                ),
                Health::Gone => format!(
                    "gone: no longer reported, its report expired · stored {}",
                    format::ago(t.age_secs)
                ),
            }
        })
    };
    // What the card says instead of (or above) the table.
    let note = move || {
        let total = report.with(|r| match r {
            Some(Ok(Some(r))) => Some(r.report.miners.len()),
            _ => None,
        });
        let shown = miners.with(Vec::len);
        let gone = entry.with(|e| e.as_ref().is_none_or(|e| e.gone_since.is_some()));
        report.with(|r| match r {
            None if gone => Some("Its report expired: its miners can no longer be read.".into()),
            None => Some("Loading miners…".into()),
            Some(Err(e)) => Some(format!("Could not read the miners. {e}")),
            Some(Ok(None)) => Some("Its report expired: its miners can no longer be read.".into()),
            Some(Ok(Some(_))) if total == Some(0) => Some("No miners connected.".into()),
            Some(Ok(Some(_))) if total > Some(shown) => Some(format!(
                "Showing {shown} of {} miners (filter).",
                total.unwrap_or(0)
            )),
            Some(Ok(Some(_))) => None,
        })
    };
    let identity = id.clone();
    view! {
        <li
            class="jdc"
            data-identity=id.clone()
            data-state=move || health().label()
            hidden=move || !visible.get()
        >
            <details on:toggle:target=move |ev| open.set(ev.target().open())>
                <summary>
                    <span class="jdc-line">
                        <span class="badge">{move || health().label()}</span>
                        <span class="jdc-identity">{identity}</span>
                    </span>
                    <span class="jdc-facts">
                        <span class="jdc-ua">{user_agent}</span>
                        <span class="jdc-miners">{miner_count}</span>
                        <span class="jdc-hashrate">{hash_rate}</span>
                    </span>
                    <span class="jdc-timing">{timing}</span>
                </summary>
                <p class="card-note" role="status">{note}</p>
                <MinersTable miners now label=format!("Miners of {id}") />
            </details>
        </li>
    }
}
