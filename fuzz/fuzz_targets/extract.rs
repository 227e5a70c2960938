//! Directory extraction of an arbitrary (uncompressed) tar layer titled `d`: it never panics,
//! and whatever it does, nothing appears outside the output directory.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use oras::files::{write_directory, WriteOptions};
use oras::oci::{Descriptor, MEDIA_TYPE_LAYER};
use oras::target::Content as _;
use oras::transfer::Source;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// Names directly under `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fuzz_target!(|tar: &[u8]| {
    let root = tempfile::tempdir().expect("temp dir");
    // `outside/` sits beside the output; the archive must never reach it.
    std::fs::create_dir(root.path().join("outside")).unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let desc = Descriptor::for_bytes(MEDIA_TYPE_LAYER, tar);
    let source = Source::Bytes(Arc::from(tar));
    let fetch = |offset: u64| source.open(offset);
    let _ = runtime().block_on(write_directory(
        &fetch,
        &desc,
        "d",
        &out.join("d"),
        WriteOptions::default(),
        &|_| {},
    ));
    assert_eq!(
        names(root.path()),
        ["out", "outside"],
        "written beside out/"
    );
    assert!(
        names(&root.path().join("outside")).is_empty(),
        "written into outside/"
    );
    for name in names(&out) {
        assert!(
            name == "d",
            "only the layer's own directory may appear in out/, found {name:?}"
        );
    }
});
