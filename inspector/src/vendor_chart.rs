//! Miners and hash rate by vendor across all served JDCs, as an inline SVG
//! bar chart: no script, no font, nothing fetched. Bars are laid out in
//! percentages of the chart width, so the chart fits a phone without the
//! text shrinking with it. What the bars say comes from [`Breakdown`].

use leptos::prelude::*;

use crate::breakdown::{bar_width, Breakdown};
use crate::format;
use crate::roster::Roster;

/// Height of one vendor's row in the chart, in CSS pixels.
const ROW_HEIGHT: usize = 76;

/// The vendor breakdown panel.
#[component]
pub fn VendorChart(
    /// The JDCs seen so far; gone ones are left out.
    roster: Signal<Roster>,
) -> impl IntoView {
    let breakdown = Memo::new(move |_| roster.with(|r| Breakdown::of(r.served())));
    let vendors = move || {
        breakdown.with(|b| {
            b.vendors
                .iter()
                .map(|v| v.vendor.clone())
                .collect::<Vec<_>>()
        })
    };
    let height = move || breakdown.with(|b| b.vendors.len() * ROW_HEIGHT);
    let description = move || breakdown.with(Breakdown::description);
    view! {
        <section class="breakdown" aria-labelledby="breakdown-title">
            <h2 id="breakdown-title">"Devices by vendor"</h2>
            <p class="legend" aria-hidden="true">
                <span class="swatch hash"></span>
                "share of hash rate"
                <span class="swatch miners"></span>
                "share of miners"
            </p>
            <svg
                class="chart"
                id="vendor-chart"
                width="100%"
                height=height
                role="img"
                aria-label=description
            >
                <For each=vendors key=|vendor| vendor.clone() let:vendor>
                    <VendorRow breakdown vendor />
                </For>
            </svg>
        </section>
    }
}

/// What one row shows, worked out from the breakdown.
#[derive(Clone, PartialEq)]
struct Row {
    index: usize,
    share: String,
    numbers: String,
    hash_bar: String,
    miner_bar: String,
}

/// One vendor's row: name, hash-rate share and numbers, then its hash-rate
/// bar and (thinner) miner bar.
#[component]
fn VendorRow(
    /// The whole breakdown (the row finds its place and numbers in it; at
    /// most `TOP_VENDORS + 1` rows, so a scan).
    breakdown: Memo<Breakdown>,
    /// Which vendor this row is.
    vendor: String,
) -> impl IntoView {
    let name = vendor.clone();
    let row = Memo::new(move |_| {
        breakdown.with(|b| {
            b.vendors
                .iter()
                .enumerate()
                .find(|(_, v)| v.vendor == vendor)
                .map(|(index, v)| Row {
                    index,
                    share: format::percent(b.hash_share(v)),
                    numbers: b.numbers(v),
                    hash_bar: bar_width(b.hash_share(v)),
                    miner_bar: bar_width(b.miner_share(v)),
                })
        })
    });
    let field =
        move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let y = move || row.with(|r| r.as_ref().map_or(0, |r| r.index * ROW_HEIGHT));
    view! {
        <g class="vendor-row" transform=move || format!("translate(0 {})", y())>
            <text class="vendor-name" x="0" y="15">{name}</text>
            <text class="vendor-share" x="100%" y="15" text-anchor="end">{field(|r| r.share.clone())}</text>
            <text class="vendor-numbers" x="0" y="33">{field(|r| r.numbers.clone())}</text>
            <rect class="track" x="0" y="42" width="100%" height="12" rx="3"></rect>
            <rect class="bar hash" x="0" y="42" width=field(|r| r.hash_bar.clone()) height="12" rx="3"></rect>
            <rect class="track" x="0" y="58" width="100%" height="6" rx="2"></rect>
            <rect class="bar miners" x="0" y="58" width=field(|r| r.miner_bar.clone()) height="6" rx="2"></rect>
        </g>
    }
}
