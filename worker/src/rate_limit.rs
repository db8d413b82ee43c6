//! Request rate limits through the Workers Rate Limiting bindings
//! (`[[ratelimits]]` in `wrangler.toml`; wrangler dev simulates them).
//!
//! Two keys: the client IP, checked before the body is read, so a flood costs
//! almost nothing; and the report's identity, checked after validation and
//! before any storage call, which also keeps each KV key under KV's limit of
//! one write per second. A deployment without a binding is not limited by it.

use worker::Env;

use crate::config::{IDENTITY_LIMITER, IP_LIMITER};
use crate::error::ApiError;

/// Seconds a limited client is told to wait: one period of the bindings in
/// `wrangler.toml` (60 s), after which its count has started over.
const RETRY_AFTER_SECS: u32 = 60;

async fn check(env: &Env, binding: &str, key: String) -> Result<(), ApiError> {
    let Ok(limiter) = env.rate_limiter(binding) else {
        return Ok(());
    };
    let outcome = limiter
        .limit(key)
        .await
        .map_err(|e| ApiError::Internal(format!("rate limiter {binding}: {e}")))?;
    if outcome.success {
        Ok(())
    } else {
        Err(ApiError::RateLimited {
            retry_after: RETRY_AFTER_SECS,
        })
    }
}

/// Limits requests per client IP (see [`crate::client`] for which address
/// that is).
pub async fn per_ip(env: &Env, client: &str) -> Result<(), ApiError> {
    check(env, IP_LIMITER, client.to_owned()).await
}

/// Limits reports per JDC identity.
pub async fn per_identity(env: &Env, identity: &str) -> Result<(), ApiError> {
    check(env, IDENTITY_LIMITER, identity.to_owned()).await
}
