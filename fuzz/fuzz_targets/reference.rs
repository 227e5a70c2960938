//! `Reference::parse` never panics, and what it accepts prints back to a string that parses to
//! the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oras::reference::Reference;

fuzz_target!(|raw: &str| {
    if let Ok(reference) = Reference::parse(raw) {
        let printed = reference.to_string();
        assert_eq!(
            Reference::parse(&printed).as_ref(),
            Ok(&reference),
            "{raw:?} printed as {printed:?}"
        );
        let _ = reference.host();
        let _ = reference.repo_path();
    }
});
