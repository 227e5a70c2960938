//! `parse_file_ref` never panics; an accepted `path[:type]` has a non-empty path and puts the
//! two parts back together.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oras::files::parse_file_ref;

fuzz_target!(|raw: &str| {
    if let Ok(file) = parse_file_ref(raw) {
        assert!(!file.path.is_empty(), "{raw:?}");
        let media_type = file.media_type.as_deref().unwrap_or("");
        assert!(raw.starts_with(&file.path), "{raw:?} -> {file:?}");
        assert!(raw.ends_with(media_type), "{raw:?} -> {file:?}");
    }
});
