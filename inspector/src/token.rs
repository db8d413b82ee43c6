//! The read token (`INSPECTOR_TOKEN`) when the pool protects its reports:
//! asked for once, kept in `sessionStorage` (gone when the tab closes, never
//! sent anywhere but this origin's API as `Authorization: Bearer`).

/// Where the token is kept for the session.
pub const STORAGE_KEY: &str = "dmr-inspector-token";

#[cfg(target_arch = "wasm32")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The token entered in this session, if any.
#[cfg(target_arch = "wasm32")]
pub fn stored() -> Option<String> {
    storage()?
        .get_item(STORAGE_KEY)
        .ok()?
        .filter(|t| !t.is_empty())
}

/// Keeps `token` for the session (an empty one forgets it).
#[cfg(target_arch = "wasm32")]
pub fn store(token: &str) {
    if let Some(storage) = storage() {
        let token = token.trim();
        let _ = if token.is_empty() {
            storage.remove_item(STORAGE_KEY)
        } else {
            storage.set_item(STORAGE_KEY, token)
        };
    }
}
