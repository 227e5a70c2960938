//! Manifest and index JSON: parsing never panics, and whatever parses survives a round trip
//! through the Go-compatible serialiser unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oras::oci::{parse_index, parse_manifest, to_go_json};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(manifest) = parse_manifest(bytes) {
        let json = to_go_json(&manifest).expect("a parsed manifest serialises");
        let again = parse_manifest(&json).expect("serialised manifest parses");
        assert_eq!(again, manifest);
        assert_eq!(to_go_json(&again).unwrap(), json, "serialisation is stable");
    }
    if let Ok(index) = parse_index(bytes) {
        let json = to_go_json(&index).expect("a parsed index serialises");
        let again = parse_index(&json).expect("serialised index parses");
        assert_eq!(again, index);
        assert_eq!(to_go_json(&again).unwrap(), json, "serialisation is stable");
    }
});
