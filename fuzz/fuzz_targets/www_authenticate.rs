//! `parse_challenges` never panics on any header value, and names schemes and parameters in
//! lower case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oras::registry::auth::parse_challenges;

fuzz_target!(|header: &str| {
    for challenge in parse_challenges(header) {
        assert_eq!(challenge.scheme, challenge.scheme.to_ascii_lowercase());
        for name in challenge.params.keys() {
            assert_eq!(name, &name.to_ascii_lowercase());
            assert_eq!(
                challenge.param(name),
                challenge.params.get(name).map(String::as_str)
            );
        }
    }
});
