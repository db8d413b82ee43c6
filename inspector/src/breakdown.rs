//! Miners and hash rate by vendor across all served JDCs, as an inline SVG
//! bar chart: no script, no font, nothing fetched. Bars are laid out in
//! percentages of the chart width, so the chart fits a phone without the
//! text shrinking with it.

use leptos::prelude::*;

use crate::format;
use crate::roster::Roster;
use crate::summary;

/// Height of one vendor's row in the chart, in CSS pixels.
const ROW_HEIGHT: usize = 76;

/// The vendor breakdown panel.
#[component]
pub fn Breakdown(
    /// The JDCs seen so far; gone ones are left out.
    roster: Signal<Roster>,
) -> impl IntoView {
    let breakdown = Memo::new(move |_| roster.with(|r| summary::Breakdown::of(r.served())));
    let vendors = move || {
        breakdown.with(|b| {
            b.vendors
                .iter()
                .map(|v| v.vendor.clone())
                .collect::<Vec<_>>()
        })
    };
    let height = move || breakdown.with(|b| b.vendors.len() * ROW_HEIGHT);
    let description = move || {
        breakdown.with(|b| {
            let parts: Vec<String> = b
                .vendors
                .iter()
                .map(|v| {
                    format!(
                        "{}: {}, {}",
                        v.vendor,
                        format::count(v.miners, "miner", "miners"),
                        format::hash_rate(v.hash_rate)
                    )
                })
                .collect();
            format!("Miners and hash rate by vendor. {}", parts.join("; "))
        })
    };
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

/// One vendor's row: name, hash-rate share and numbers, then its hash-rate
/// bar and (thinner) miner bar.
#[component]
fn VendorRow(
    /// The whole breakdown (the row finds its place and numbers in it).
    breakdown: Memo<summary::Breakdown>,
    /// Which vendor this row is.
    vendor: String,
) -> impl IntoView {
    let name = vendor.clone();
    let row = Memo::new(move |_| {
        breakdown.with(|b| {
            b.vendors.iter().position(|v| v.vendor == vendor).map(|i| {
                let v = &b.vendors[i];
                (i, v.miners, v.hash_rate, b.hash_share(v), b.miner_share(v))
            })
        })
    });
    let y = move || row.get().map_or(0, |r| r.0 * ROW_HEIGHT);
    let hash_share = move || row.get().map_or(0.0, |r| r.3);
    let miner_share = move || row.get().map_or(0.0, |r| r.4);
    let share = move || row.get().map_or_else(String::new, |r| format::percent(r.3));
    let numbers = move || {
        row.get()
            .map_or_else(String::new, |(_, miners, hash_rate, _, miner_share)| {
                format!(
                    "{} · {} ({})",
                    format::hash_rate(hash_rate),
                    format::count(miners, "miner", "miners"),
                    format::percent(miner_share)
                )
            })
    };
    view! {
        <g class="vendor-row" transform=move || format!("translate(0 {})", y())>
            <text class="vendor-name" x="0" y="15">{name}</text>
            <text class="vendor-share" x="100%" y="15" text-anchor="end">{share}</text>
            <text class="vendor-numbers" x="0" y="33">{numbers}</text>
            <rect class="track" x="0" y="42" width="100%" height="12" rx="3"></rect>
            <rect class="bar hash" x="0" y="42" width=move || bar_width(hash_share()) height="12" rx="3"></rect>
            <rect class="track" x="0" y="58" width="100%" height="6" rx="2"></rect>
            <rect class="bar miners" x="0" y="58" width=move || bar_width(miner_share()) height="6" rx="2"></rect>
        </g>
    }
}

/// A bar's width for a share; a sliver stays visible for a non-zero share.
fn bar_width(share: f64) -> String {
    if share > 0.0 {
        format!("{:.2}%", (share * 100.0).max(0.5))
    } else {
        "0".to_string()
    }
}
