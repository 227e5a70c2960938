//! skopeo as an independent client: what skopeo stores, oras pulls; what oras writes to an OCI
//! image layout, skopeo copies (and verifies) blob by blob.

use crate::harness::{
    HandLayer, Sandbox, assert_layout_blobs_valid, layout_blob_hex, layout_manifest, registry,
    sha256_hex, skopeo, tree, write_layout,
};

#[test]
fn oras_pulls_an_image_that_skopeo_pushed() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let layout = sandbox.path("hand-layout");
    let built = write_layout(
        &layout,
        "v1",
        &[
            HandLayer {
                title: "a.txt",
                content: b"layer a from skopeo\n",
            },
            HandLayer {
                title: "b.txt",
                content: b"layer b from skopeo\n",
            },
        ],
        None,
    );
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", layout.display()),
        &registry.docker_ref("interop/img:v1"),
    ]);

    let pull = sandbox
        .oras()
        .args(["pull", &registry.reference("interop/img:v1"), "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/a.txt"), b"layer a from skopeo\n");
    assert_eq!(sandbox.read("out/b.txt"), b"layer b from skopeo\n");
    assert_eq!(
        tree(&sandbox.path("out")),
        ["a.txt", "b.txt"],
        "only the titled layers"
    );
    pull.assert_line(&format!(
        "Downloaded  {} application/vnd.oci.image.manifest.v1+json",
        &built.manifest_digest["sha256:".len()..][..12]
    ));
    // The image config has no title: as in Go, that is a skipped layer, and the hint replaces
    // the `Pulled`/`Digest` lines.
    pull.assert_line(
        "Skipped pulling layers without file name in \"org.opencontainers.image.title\"",
    );
    pull.stdout_contains(&format!(
        "Downloaded  {} a.txt",
        &built.layer_hexes[0][..12]
    ));
}

#[test]
fn skopeo_copies_a_layout_that_oras_pushed() {
    let sandbox = Sandbox::new();
    let content: &[u8] = b"pushed by oras, copied by skopeo\n";
    sandbox.write("file.txt", content);
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "file.txt"])
        .success();
    assert_layout_blobs_valid(&sandbox.path("lay"));
    let (manifest_bytes, _) = layout_manifest(&sandbox.path("lay"), "v1");

    // skopeo verifies every blob digest while copying.
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        &format!("oci:{}:v1", sandbox.path("lay").display()),
        &format!("oci:{}:v1", sandbox.path("other").display()),
    ]);
    let other = sandbox.path("other");
    let (copied_bytes, copied) = layout_manifest(&other, "v1");
    assert_eq!(
        copied_bytes, manifest_bytes,
        "skopeo keeps the manifest as oras wrote it"
    );
    let layer = &copied["layers"][0];
    assert_eq!(
        layer["annotations"]["org.opencontainers.image.title"],
        "file.txt"
    );
    let hex = layout_blob_hex(layer["digest"].as_str().expect("layer digest"));
    assert_eq!(hex, sha256_hex(content));
    assert_eq!(
        std::fs::read(other.join("blobs/sha256").join(hex)).unwrap(),
        content
    );

    // And into skopeo's own `dir:` format.
    let dir = sandbox.path("as-dir");
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        &format!("oci:{}:v1", sandbox.path("lay").display()),
        &format!("dir:{}", dir.display()),
    ]);
    assert_eq!(
        std::fs::read(dir.join(sha256_hex(content))).unwrap(),
        content
    );
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        manifest_bytes
    );
}

#[test]
fn skopeo_copies_what_oras_pushed_to_the_registry() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let content: &[u8] = b"registry round trip\n";
    sandbox.write("notes.txt", content);
    let push = sandbox
        .oras()
        .args([
            "push",
            &registry.reference("interop/from-oras:v1"),
            "notes.txt",
        ])
        .success();

    let dir = sandbox.path("copied");
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &registry.docker_ref("interop/from-oras:v1"),
        &format!("dir:{}", dir.display()),
    ]);
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    assert_eq!(sha256_hex(&manifest), push.digest_line());
    assert_eq!(
        std::fs::read(dir.join(sha256_hex(content))).unwrap(),
        content
    );
}
