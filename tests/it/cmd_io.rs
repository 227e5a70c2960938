//! Streams and archives beyond the Go client: `push … -` reads a layer from stdin, `pull -o -`
//! writes one to stdout, `pull --include-untitled` keeps untitled layers, `.tar` OCI layouts
//! for read-only commands, and `--oci-layout-path` (oras-cli.md §2.2, §14).

use crate::harness::{
    HandLayer, Sandbox, assert_layout_blobs_valid, layout_manifest, registry, sha256_hex, skopeo,
    tree, write_layout,
};

/// Bytes that are not text and span more than one read buffer.
fn binary_content() -> Vec<u8> {
    (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn push_reads_a_layer_from_stdin_into_a_registry_and_a_layout() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let content = binary_content();
    let reference = registry.reference("io/stdin:v1");

    let push = sandbox
        .oras()
        .args(["push", &reference, "-", "--stdin-name", "dir/data.bin"])
        .stdin(content.clone())
        .success();
    // skopeo reads the manifest the registry stored: one layer, titled, with the stdin bytes.
    let raw = registry.manifest("io/stdin:v1");
    assert_eq!(sha256_hex(&raw), push.digest_line());
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "dir/data.bin"
    );
    assert_eq!(
        layers[0]["digest"],
        format!("sha256:{}", sha256_hex(&content))
    );
    assert_eq!(layers[0]["size"], content.len());
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert!(sandbox.read("out/dir/data.bin") == content, "round trip");

    // `-:<type>` into a layout: the media type is kept, skopeo copies it blob by blob.
    sandbox
        .oras()
        .args([
            "push",
            "--oci-layout",
            "lay:v1",
            "-:application/vnd.me.bin",
            "--stdin-name",
            "data.bin",
        ])
        .stdin(content.clone())
        .success();
    let lay = sandbox.path("lay");
    assert_layout_blobs_valid(&lay);
    let (_, manifest) = layout_manifest(&lay, "v1");
    assert_eq!(manifest["layers"][0]["mediaType"], "application/vnd.me.bin");
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "data.bin"
    );
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        &format!("oci:{}:v1", lay.display()),
        &format!("oci:{}:v1", sandbox.path("copy").display()),
    ]);
    assert_layout_blobs_valid(&sandbox.path("copy"));
}

#[test]
fn push_from_stdin_refuses_unclear_or_unsafe_requests() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    let push = |args: &[&str]| {
        sandbox
            .oras()
            .args(["push", "--oci-layout", "lay:v1"])
            .args(args)
            .stdin("from stdin\n")
            .failure()
    };
    let out = push(&["-"]);
    out.error_first_line("Error: `-` reads a file from stdin, but its name is missing");
    out.stderr_contains("--stdin-name");
    for bad in ["../up.txt", "a/../../up.txt", "/etc/passwd", "."] {
        push(&["-", "--stdin-name", bad]).error_first_line("Error: invalid --stdin-name");
    }
    push(&["-", "-:text/plain", "--stdin-name", "x"])
        .error_first_line("Error: `-` reads a file from stdin and can be given only once");
    push(&["-", "--stdin-name", "x", "--password-stdin"]).error_first_line(
        "Error: `-` read file from input and `--password-stdin` read password from input cannot be both used",
    );
    push(&["-", "--stdin-name", "x", "--identity-token-stdin"]).error_first_line(
        "Error: `-` read file from input and `--identity-token-stdin` read password from input cannot be both used",
    );
    push(&["a.txt", "--stdin-name", "x"]).error_first_line("Error: --stdin-name");
    assert!(
        !sandbox.path("lay").exists(),
        "nothing is written before the arguments are checked"
    );
    assert_eq!(tree(&sandbox.work()), ["a.txt"]);
}
