//! Miners and hash rate by vendor across all served JDCs, as an inline SVG
//! bar chart: no script, no font, nothing fetched. Bars are laid out in
//! percentages of the chart width, so the chart fits a phone without the
//! text shrinking with it. What the bars say comes from [`Breakdown`].

use leptos::prelude::*;

use crate::breakdown::{bar_width, Breakdown, VendorTotal};
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
                {move || {
                    breakdown.with(|b| {
                        b.vendors.iter().enumerate().map(|(i, v)| vendor_row(i, b, v)).collect::<Vec<_>>()
                    })
                }}
            </svg>
        </section>
    }
}

/// One vendor's row at place `i` of breakdown `b`: name, hash-rate share
/// and numbers, then its hash-rate bar and (thinner) miner bar. The chart
/// is redrawn whole when the breakdown changes: at most `TOP_VENDORS + 1`
/// rows, and a plain redraw keeps the page's WebAssembly small.
fn vendor_row(i: usize, b: &Breakdown, v: &VendorTotal) -> impl IntoView {
    view! {
        <g class="vendor-row" transform=format!("translate(0 {})", i * ROW_HEIGHT)>
            <text class="vendor-name" x="0" y="15">{v.vendor.clone()}</text>
            <text class="vendor-share" x="100%" y="15" text-anchor="end">{format::percent(b.hash_share(v))}</text>
            <text class="vendor-numbers" x="0" y="33">{b.numbers(v)}</text>
            <rect class="track" x="0" y="42" width="100%" height="12" rx="3"></rect>
            <rect class="bar hash" x="0" y="42" width=bar_width(b.hash_share(v)) height="12" rx="3"></rect>
            <rect class="track" x="0" y="58" width="100%" height="6" rx="2"></rect>
            <rect class="bar miners" x="0" y="58" width=bar_width(b.miner_share(v)) height="6" rx="2"></rect>
        </g>
    }
}
