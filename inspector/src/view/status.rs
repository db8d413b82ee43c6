//! The page's states besides "here are the JDCs": loading, the age of the
//! data, an API error with a retry, and the empty hint.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use dmr_shared::api::REPORTS_PATH;
use dmr_shared::limits::{REPORT_INTERVAL_SECS, REPORT_TTL_SECS};

use crate::api::{ApiError, REFRESH_SECS};
use crate::timing;

/// Shown until the first answer arrives.
#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <p class="state loading" role="status">
            "Loading reports…"
        </p>
    }
}

/// "updated N s ago", from the last applied answer and the browser clock.
#[component]
pub fn UpdatedAgo(
    /// When the last applied answer was requested.
    updated_at: Signal<Option<DateTime<Utc>>>,
    /// The browser clock.
    now: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let text = move || timing::updated_line(updated_at.get(), now.get(), REFRESH_SECS);
    view! { <p class="updated" id="updated">{text}</p> }
}

/// The API failed: what it said, and a way to ask again. Refreshing goes on
/// in the background, so the panel also clears by itself once the API is back.
#[component]
pub fn ApiErrorPanel(
    /// Why the last read failed; `None` hides the panel.
    error: Memo<Option<ApiError>>,
    /// Asks the API again now.
    retry: Callback<()>,
) -> impl IntoView {
    let message = move || error.with(|e| e.as_ref().map(ToString::to_string));
    let needs_token = move || error.with(|e| e.as_ref().is_some_and(ApiError::needs_token));
    view! {
        <section
            class="state error"
            role="alert"
            aria-labelledby="error-title"
            hidden=move || error.with(Option::is_none)
        >
            <h2 id="error-title">"No fresh data"</h2>
            <p class="error-message">{message}</p>
            <Show when=needs_token>
                <TokenForm retry />
            </Show>
            <p class="hint">
                {format!("Retrying every {REFRESH_SECS} s. What is shown below, if anything, is the last answer.")}
            </p>
            <button type="button" class="retry" on:click=move |_| retry.run(())>
                "Retry now"
            </button>
        </section>
    }
}

/// The pool wants a read token: asked for once, kept for the session.
#[component]
fn TokenForm(
    /// Asks the API again, with the token.
    retry: Callback<()>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    // A token already sent that still gets a 401 was refused.
    let refused = RwSignal::new(crate::token::stored().is_some());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = input.get() {
            crate::token::store(&input.value());
            input.set_value("");
            refused.set(true);
            retry.run(());
        }
    };
    view! {
        <form class="token" on:submit=submit>
            <label for="token">
                {move || {
                    if refused.get() {
                        "That token was refused. Enter the pool's inspector token:"
                    } else {
                        "This pool protects its reports. Enter its inspector token:"
                    }
                }}
            </label>
            <input id="token" type="password" autocomplete="off" node_ref=input required />
            <button type="submit">"Unlock"</button>
            <p class="hint">"Kept in this tab until it closes; sent only to this site's API."</p>
        </form>
    }
}

/// No JDC has a live report: how to make one appear.
#[component]
pub fn EmptyHint() -> impl IntoView {
    let origin = window().location().origin().unwrap_or_default();
    view! {
        <section class="state empty" aria-labelledby="empty-title">
            <h2 id="empty-title">
                {format!("No JDC has reported in the last {} minutes", REPORT_TTL_SECS / 60)}
            </h2>
            <p>
                "Point your JDC at " <code class="endpoint">{origin} {REPORTS_PATH}</code>
                {format!(
                    " (enable “Report downstream miners to pool”); it reports every {REPORT_INTERVAL_SECS} s."
                )}
            </p>
        </section>
    }
}
