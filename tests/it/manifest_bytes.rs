//! The manifest bytes `oras push` writes are pinned: they must equal what the Go client writes for
//! the same inputs, so that digests agree between the two clients.

use crate::harness::{Sandbox, layout_manifest, registry, sha256_hex};

/// sha256 of `hello world\n` (computed once with sha256sum).
const HELLO_SHA256: &str = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

/// The manifest for `hello.txt` with a fixed created annotation, compact, no trailing newline.
const PINNED_MANIFEST: &str = concat!(
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
    r#""artifactType":"application/vnd.unknown.artifact.v1","#,
    r#""config":{"mediaType":"application/vnd.oci.empty.v1+json","#,
    r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","#,
    r#""size":2,"data":"e30="},"#,
    r#""layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","#,
    r#""digest":"sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447","#,
    r#""size":12,"annotations":{"org.opencontainers.image.title":"hello.txt"}}],"#,
    r#""annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}}"#,
);

/// sha256 of [`PINNED_MANIFEST`] (computed once with sha256sum).
const PINNED_DIGEST: &str = "bb995ac481ef6e1e46cb2a7c23e7d9a8cb3d00e4318f92b7a2e779408756b611";

#[test]
fn pinned_constants_agree() {
    assert_eq!(sha256_hex(b"hello world\n"), HELLO_SHA256);
    assert_eq!(sha256_hex(PINNED_MANIFEST.as_bytes()), PINNED_DIGEST);
}

#[test]
fn layout_push_writes_the_pinned_manifest_bytes() {
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "./lay:v1", "hello.txt"])
        .args([
            "-a",
            "org.opencontainers.image.created=2024-01-01T00:00:00Z",
        ])
        .args(["--export-manifest", "m.json"])
        .success();
    assert_eq!(
        String::from_utf8(sandbox.read("m.json")).unwrap(),
        PINNED_MANIFEST,
        "exported manifest bytes"
    );
    assert_eq!(push.digest_line(), PINNED_DIGEST);

    let (stored, _) = layout_manifest(&sandbox.path("lay"), "v1");
    assert_eq!(
        stored,
        PINNED_MANIFEST.as_bytes(),
        "manifest blob in the layout"
    );
    let index: serde_json::Value = serde_json::from_slice(&sandbox.read("lay/index.json")).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        format!("sha256:{PINNED_DIGEST}")
    );
    assert_eq!(
        sandbox.read(&format!("lay/blobs/sha256/{HELLO_SHA256}")),
        b"hello world\n",
        "layer blob"
    );
}

#[test]
fn registry_push_stores_the_pinned_manifest_bytes() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let push = sandbox
        .oras()
        .args(["push", &registry.reference("pinned/hello:v1"), "hello.txt"])
        .args([
            "-a",
            "org.opencontainers.image.created=2024-01-01T00:00:00Z",
        ])
        .success();
    assert_eq!(push.digest_line(), PINNED_DIGEST);
    assert_eq!(
        registry.manifest("pinned/hello:v1"),
        PINNED_MANIFEST.as_bytes()
    );
}

/// `--annotation-file` (oras-cli.md §5.3): `$manifest`, `$config` and per-file entries land on
/// the manifest, the config and the layer; it cannot be combined with `-a`; a file that cannot
/// be read or decoded gets the Go client's message.
#[test]
fn annotation_file_annotates_the_manifest_config_and_layers() {
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    sandbox.write(
        "annotations.json",
        r#"{"$manifest":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z","a":"<&>"},
            "$config":{"c":"1"},"hello.txt":{"x":"y"}}"#,
    );
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "hello.txt"])
        .args(["--annotation-file", "annotations.json"])
        .success();
    let (bytes, manifest) = layout_manifest(&sandbox.path("lay"), "v1");
    assert_eq!(
        manifest["annotations"],
        serde_json::json!({"a": "<&>", "org.opencontainers.image.created": "2024-01-01T00:00:00Z"})
    );
    assert_eq!(
        manifest["config"]["annotations"],
        serde_json::json!({"c": "1"})
    );
    assert_eq!(
        manifest["layers"][0]["annotations"],
        serde_json::json!({"org.opencontainers.image.title": "hello.txt", "x": "y"})
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains(r#""a":"\u003c\u0026\u003e""#),
        "Go's escaping: {text}"
    );

    let both = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v2", "hello.txt", "-a", "k=v"])
        .args(["--annotation-file", "annotations.json"])
        .failure();
    both.error_first_line("Error: `--annotation` and `--annotation-file` cannot be both specified");

    sandbox.write("broken.json", "{not json");
    for (file, hint) in [
        (
            "broken.json",
            "Annotation file doesn't match the required format",
        ),
        ("missing.json", "no such file or directory"),
    ] {
        let out = sandbox
            .oras()
            .args(["push", "--oci-layout", "lay:v3", "hello.txt"])
            .args(["--annotation-file", file])
            .failure();
        out.error_first_line(&format!(
            "Error: invalid annotation json file: failed to load annotations from {file}"
        ));
        out.stderr_contains(hint);
    }
}
