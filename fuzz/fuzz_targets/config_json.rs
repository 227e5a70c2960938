//! A docker `config.json` of any content: looking credentials up never panics.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use oras::credentials::Store;

fuzz_target!(|bytes: &[u8]| {
    static NO_HELPERS: Once = Once::new();
    // A fuzzed `credsStore`/`credHelpers` names a helper: make sure none can be found and run.
    NO_HELPERS.call_once(|| std::env::set_var("PATH", ""));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, bytes).expect("write config.json");
    let _ = Store::new(&[path]).get("r.io");
});
