//! How a JDC's `user_identity` maps to the pool's client `address`.
//!
//! Pools split a mining username `address.worker` at the first `.`, so a JDC
//! reporting as `bc1q....rig1` owns the client rows of address `bc1q...`.

/// The pool-side `address` of a `jdcUserIdentity`: everything before the first
/// `.`, or the whole identity when it has none.
pub fn address_of(identity: &str) -> &str {
    identity
        .split_once('.')
        .map_or(identity, |(address, _)| address)
}

#[cfg(test)]
mod tests {
    use super::address_of;

    #[test]
    fn address_is_the_part_before_the_first_dot() {
        let cases = [
            ("bc1qxyz", "bc1qxyz"),
            ("bc1qxyz.worker1", "bc1qxyz"),
            ("bc1qxyz.rack.2", "bc1qxyz"),
            ("bc1qxyz.", "bc1qxyz"),
            (".worker", ""),
            ("", ""),
        ];
        for (identity, address) in cases {
            assert_eq!(address_of(identity), address, "identity {identity:?}");
        }
    }
}
