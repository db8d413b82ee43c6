//! One JDC's miners as a table. Rows are keyed by their content, so a
//! refresh only touches rows that changed; the table scrolls sideways on a
//! narrow screen instead of squeezing. A device that reached the JDC through
//! a proxy (an SV1 miner behind the SRI translator) says so in the "Via"
//! column, and an empty vendor of such a device is read out as "not known
//! yet" rather than "not reported".

use chrono::{DateTime, Local, Utc};
use dmr_shared::Miner;
use leptos::prelude::*;

use crate::detail::miner_keys;
use crate::format;
use crate::timing::parse_time;

/// The miners table of one JDC.
#[component]
pub fn MinersTable(
    /// The miners to show (already filtered).
    miners: Memo<Vec<Miner>>,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
    /// What a screen reader calls the table's scroll region.
    label: String,
) -> impl IntoView {
    let rows = move || {
        miners.with(|ms| {
            let refs: Vec<&Miner> = ms.iter().collect();
            miner_keys(&refs)
                .into_iter()
                .zip(ms.iter().cloned())
                .collect::<Vec<_>>()
        })
    };
    let empty = move || miners.with(Vec::is_empty);
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=label hidden=empty>
            <table class="miners">
                <thead>
                    <tr>
                        <th scope="col">"Vendor"</th>
                        <th scope="col">"Hardware"</th>
                        <th scope="col">"Firmware"</th>
                        <th scope="col">"Device ID"</th>
                        <th scope="col">"Worker"</th>
                        <th scope="col" class="num">"Hash rate"</th>
                        <th scope="col">"Connected"</th>
                        <th scope="col">"Via"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=rows
                        key=|(key, _)| key.clone()
                        children=move |(_, miner)| view! { <MinerRow miner now /> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One miner. Empty fields (allowed by the protocol) show as a dash.
#[component]
fn MinerRow(
    /// The miner, as reported.
    miner: Miner,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    // One cell type for both cases (attributes left out when `None`).
    let cell = |text: &str, missing: &'static str| {
        let none = text.trim().is_empty();
        let shown = if none {
            "—".to_string()
        } else {
            text.to_string()
        };
        view! {
            <td class=none.then_some("none") aria-label=none.then_some(missing)>{shown}</td>
        }
    };
    let connected = parse_time(&miner.connected_at);
    let since = move || connected.map(|t| format::duration((now.get() - t).num_seconds()));
    let absolute = connected.map_or_else(
        || miner.connected_at.clone(),
        |t| format::date_time(&t.with_timezone(&Local)),
    );
    let via = miner.via.clone().unwrap_or_default();
    let vendor_missing = if via.is_empty() {
        "not reported"
    } else {
        "not known yet"
    };
    view! {
        <tr>
            {cell(&miner.vendor, vendor_missing)}
            {cell(&miner.hardware_version, "not reported")}
            {cell(&miner.firmware, "not reported")}
            {cell(&miner.device_id, "not reported")}
            <td class="worker">{miner.user_identity.clone()}</td>
            <td class="num">{format::hash_rate(miner.nominal_hash_rate)}</td>
            <td class="connected">
                <span class="since">{since}</span>
                " "
                <time datetime=miner.connected_at.clone() title="local time">{absolute}</time>
            </td>
            {cell(&via, "connected to the JDC itself")}
        </tr>
    }
}
