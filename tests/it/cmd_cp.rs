//! `oras cp` (alias `copy`) between the registry and OCI layouts in every direction, multi-tag
//! destinations and platform selection (oras-cli.md §9, §13.6); skopeo reads what it writes.

use std::path::Path;

use crate::cmd_manifest::{
    CONFIG_TYPE, INDEX_TYPE, MANIFEST_TYPE, assert_status, has_status, registry_has, seed_image,
    seed_multi_arch, write_multi_arch_layout,
};
use crate::harness::{
    HandLayer, Output, Sandbox, assert_layout_blobs_valid, layout_manifest, registry, sha256_hex,
    skopeo, write_layout,
};

#[track_caller]
fn assert_digest_line(out: &Output, digest: &str) {
    assert_eq!(format!("sha256:{}", out.digest_line()), digest, "{out}");
}

/// The entries of a layout's index.json.
fn index_entries(layout: &Path) -> Vec<serde_json::Value> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    index["manifests"].as_array().expect("manifests").clone()
}

/// skopeo copies `source` (any transport) into a `dir:` and returns the manifest it wrote;
/// skopeo verifies every blob against its digest on the way.
fn skopeo_to_dir(source: &str, dir: &Path) -> Vec<u8> {
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        source,
        &format!("dir:{}", dir.display()),
    ]);
    std::fs::read(dir.join("manifest.json")).expect("skopeo wrote manifest.json")
}

#[test]
fn cp_between_registry_repositories_by_tag() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-cp/src:v1");
    let src = registry.reference("cmd-cp/src:v1");
    let dst = registry.reference("cmd-cp/dst-tag:copied");

    let out = sandbox.oras().args(["cp", &src, &dst]).success();
    out.assert_line(&format!("Copied [registry] {src} => [registry] {dst}"));
    assert_digest_line(&out, &seeded.digest);
    assert_status(&out, "Copying", &seeded.digest, MANIFEST_TYPE);
    assert_status(&out, "Copied", &seeded.digest, MANIFEST_TYPE);
    // Same registry: blobs are mounted from the source repository, not uploaded again.
    assert_status(&out, "Mounted", &seeded.layer_digest, "a.txt");
    assert_status(&out, "Mounted", &seeded.config_digest, CONFIG_TYPE);
    assert_eq!(registry.manifest("cmd-cp/dst-tag:copied"), seeded.manifest);

    // skopeo reads the copy blob by blob.
    let manifest = skopeo_to_dir(
        &registry.docker_ref("cmd-cp/dst-tag:copied"),
        &sandbox.path("skopeo-dir"),
    );
    assert_eq!(manifest, seeded.manifest);
    assert_eq!(
        std::fs::read(
            sandbox
                .path("skopeo-dir")
                .join(seeded.layer_digest.trim_start_matches("sha256:"))
        )
        .unwrap(),
        b"layer of cmd-cp/src:v1\n"
    );

    // Again: everything exists.
    let out = sandbox.oras().args(["copy", &src, &dst]).success();
    assert_status(&out, "Exists", &seeded.digest, MANIFEST_TYPE);
    assert!(
        !has_status(&out, "Copying", &seeded.digest, MANIFEST_TYPE),
        "{out}"
    );
    assert_digest_line(&out, &seeded.digest);
    // The root exists, so its whole graph is skipped (oras-go copyGraph).
    assert!(!out.stdout.contains("a.txt"), "{out}");
}

#[test]
fn cp_by_digest_and_to_a_digest_reference() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-cp/src-digest:v1");
    let src = registry.reference(&format!("cmd-cp/src-digest@{}", seeded.digest));

    let dst = registry.reference("cmd-cp/dst-digest:copied-tag");
    let out = sandbox.oras().args(["cp", &src, &dst]).success();
    out.assert_line(&format!("Copied [registry] {src} => [registry] {dst}"));
    assert_digest_line(&out, &seeded.digest);
    assert_eq!(
        registry.manifest("cmd-cp/dst-digest:copied-tag"),
        seeded.manifest
    );

    // Tag source, digest destination: stored, no tag created.
    let dst = registry.reference(&format!("cmd-cp/dst-untagged@{}", seeded.digest));
    let out = sandbox
        .oras()
        .args(["cp", &registry.reference("cmd-cp/src-digest:v1"), &dst])
        .success();
    assert_digest_line(&out, &seeded.digest);
    assert!(registry_has(
        registry,
        &format!("cmd-cp/dst-untagged@{}", seeded.digest)
    ));

    // No tag at all on the destination: copied by digest.
    let out = sandbox
        .oras()
        .args([
            "cp",
            &registry.reference("cmd-cp/src-digest:v1"),
            &registry.reference("cmd-cp/dst-bare"),
        ])
        .success();
    assert_digest_line(&out, &seeded.digest);
    assert!(registry_has(
        registry,
        &format!("cmd-cp/dst-bare@{}", seeded.digest)
    ));
}

#[test]
fn cp_to_several_tags() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-cp/src-multi-tag:v1");
    let src = registry.reference(&format!("cmd-cp/src-multi-tag@{}", seeded.digest));
    let dst = registry.reference("cmd-cp/dst-multi-tag:tag1");

    let out = sandbox
        .oras()
        .args(["cp", &src, &format!("{dst},tag2,tag3")])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [registry] {dst}"))
        .assert_line("Tagged tag2")
        .assert_line("Tagged tag3");
    assert!(!out.has_line("Tagged tag1"), "{out}");
    assert_digest_line(&out, &seeded.digest);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.last().unwrap().starts_with("Digest: "),
        "Digest comes last\n{out}"
    );
    for tag in ["tag1", "tag2", "tag3"] {
        assert_eq!(
            registry.manifest(&format!("cmd-cp/dst-multi-tag:{tag}")),
            seeded.manifest
        );
    }

    // Into a layout, with several tags too.
    let out = sandbox
        .oras()
        .args(["cp", &src, "--to-oci-layout", "lay:a,b"])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [oci-layout] lay:a"))
        .assert_line("Tagged b");
    for tag in ["a", "b"] {
        assert_eq!(
            layout_manifest(&sandbox.path("lay"), tag).0,
            seeded.manifest
        );
    }
}

#[test]
fn cp_from_registry_to_oci_layout() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-cp/to-layout:v1");
    let src = registry.reference("cmd-cp/to-layout:v1");

    let out = sandbox
        .oras()
        .args(["cp", "--to-oci-layout", &src, "lay:v1"])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [oci-layout] lay:v1"));
    assert_digest_line(&out, &seeded.digest);
    assert_status(&out, "Copied", &seeded.layer_digest, "a.txt");
    assert_status(&out, "Copied", &seeded.config_digest, CONFIG_TYPE);
    assert_status(&out, "Copied", &seeded.digest, MANIFEST_TYPE);
    let lay = sandbox.path("lay");
    assert_layout_blobs_valid(&lay);
    assert_eq!(layout_manifest(&lay, "v1").0, seeded.manifest);

    // skopeo reads the layout oras wrote.
    let manifest = skopeo_to_dir(&format!("oci:{}:v1", lay.display()), &sandbox.path("dir"));
    assert_eq!(manifest, seeded.manifest);

    // No tag on the layout: stored by digest, index.json entry without a ref.name.
    let out = sandbox
        .oras()
        .args(["cp", &src, "--to-oci-layout", "untagged"])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [oci-layout] untagged"));
    let entries = index_entries(&sandbox.path("untagged"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["digest"], seeded.digest.as_str());
    assert_eq!(entries[0]["mediaType"], MANIFEST_TYPE);
    assert!(
        entries[0]["annotations"]["org.opencontainers.image.ref.name"].is_null(),
        "{entries:?}"
    );
    assert_layout_blobs_valid(&sandbox.path("untagged"));
}

#[test]
fn cp_from_oci_layout_to_registry_is_readable_by_skopeo() {
    // Acceptance (issue 6): skopeo reads what `cp` writes.
    let registry = registry();
    let sandbox = Sandbox::new();
    let hand = sandbox.path("hand");
    let built = write_layout(
        &hand,
        "v1",
        &[
            HandLayer {
                title: "one.txt",
                content: b"first layer, from a hand-built layout\n",
            },
            HandLayer {
                title: "two.bin",
                content: &[0, 1, 2, 3, 254, 255],
            },
        ],
        None,
    );
    let (manifest, _) = layout_manifest(&hand, "v1");
    let dst = registry.reference("cmd-cp/from-layout:v1");

    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout", "hand:v1", &dst])
        .success();
    out.assert_line(&format!("Copied [oci-layout] hand:v1 => [registry] {dst}"));
    assert_digest_line(&out, &built.manifest_digest);
    assert_status(
        &out,
        "Copied",
        &format!("sha256:{}", built.layer_hexes[0]),
        "one.txt",
    );
    assert_status(
        &out,
        "Copied",
        &format!("sha256:{}", built.layer_hexes[1]),
        "two.bin",
    );

    assert_eq!(registry.manifest("cmd-cp/from-layout:v1"), manifest);
    let copied = skopeo_to_dir(
        &registry.docker_ref("cmd-cp/from-layout:v1"),
        &sandbox.path("dir"),
    );
    assert_eq!(copied, manifest);
    for (hex, content) in built.layer_hexes.iter().zip([
        b"first layer, from a hand-built layout\n".as_slice(),
        [0u8, 1, 2, 3, 254, 255].as_slice(),
    ]) {
        assert_eq!(
            std::fs::read(sandbox.path("dir").join(hex)).unwrap(),
            content
        );
    }

    // By digest from the layout.
    let by_digest = format!("hand@{}", built.manifest_digest);
    let dst = registry.reference("cmd-cp/from-layout-digest:v2");
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout", &by_digest, &dst])
        .success();
    out.assert_line(&format!(
        "Copied [oci-layout] {by_digest} => [registry] {dst}"
    ));
    assert_eq!(registry.manifest("cmd-cp/from-layout-digest:v2"), manifest);
}

#[test]
fn cp_from_oci_layout_to_oci_layout() {
    let sandbox = Sandbox::new();
    let multi = write_multi_arch_layout(&sandbox.path("src"), "v1");
    let out = sandbox
        .oras()
        .args([
            "cp",
            "--from-oci-layout",
            "src:v1",
            "--to-oci-layout",
            "dst:copied",
        ])
        .success();
    out.assert_line("Copied [oci-layout] src:v1 => [oci-layout] dst:copied");
    assert_digest_line(&out, &multi.index_digest);
    assert_status(&out, "Copied", &multi.index_digest, INDEX_TYPE);
    assert_status(&out, "Copied", &multi.amd64.digest, MANIFEST_TYPE);
    assert_status(&out, "Copied", &multi.arm64.digest, MANIFEST_TYPE);
    let dst = sandbox.path("dst");
    assert_layout_blobs_valid(&dst);
    assert_eq!(layout_manifest(&dst, "copied").0, multi.index);
    for image in [&multi.amd64, &multi.arm64] {
        for (digest, bytes) in [
            (&image.digest, &image.manifest),
            (&image.config_digest, &image.config),
            (&image.layer_digest, &image.layer),
        ] {
            assert_eq!(
                &std::fs::read(
                    dst.join("blobs/sha256")
                        .join(digest.trim_start_matches("sha256:"))
                )
                .unwrap(),
                bytes
            );
        }
    }
    // skopeo reads the whole index back.
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        &format!("oci:{}:copied", dst.display()),
        &format!("oci:{}:again", sandbox.path("skopeo-copy").display()),
    ]);
    assert_eq!(
        layout_manifest(&sandbox.path("skopeo-copy"), "again").0,
        multi.index
    );
}

#[test]
fn cp_of_a_multi_arch_index_between_registry_and_layout() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-cp/multi-src:v1");
    let src = registry.reference("cmd-cp/multi-src:v1");
    let dst = registry.reference("cmd-cp/multi-dst:v1");

    let out = sandbox.oras().args(["cp", &src, &dst]).success();
    assert_digest_line(&out, &multi.index_digest);
    assert_eq!(registry.manifest("cmd-cp/multi-dst:v1"), multi.index);
    for image in [&multi.amd64, &multi.arm64] {
        assert!(registry_has(
            registry,
            &format!("cmd-cp/multi-dst@{}", image.digest)
        ));
    }
    // skopeo copies every platform of the copy, verifying each blob.
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &registry.docker_ref("cmd-cp/multi-dst:v1"),
        &format!("oci:{}:all", sandbox.path("skopeo-all").display()),
    ]);
    assert_eq!(
        layout_manifest(&sandbox.path("skopeo-all"), "all").0,
        multi.index
    );

    // Layout → registry for an index.
    let layout = write_multi_arch_layout(&sandbox.path("multi"), "v1");
    let dst = registry.reference("cmd-cp/multi-from-layout:v1");
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout", "multi:v1", &dst])
        .success();
    out.assert_line(&format!("Copied [oci-layout] multi:v1 => [registry] {dst}"));
    assert_digest_line(&out, &layout.index_digest);
    assert_eq!(
        registry.manifest("cmd-cp/multi-from-layout:v1"),
        layout.index
    );
    let amd64 = skopeo_to_dir(
        &registry.docker_ref(&format!("cmd-cp/multi-from-layout@{}", layout.amd64.digest)),
        &sandbox.path("amd64-dir"),
    );
    assert_eq!(amd64, layout.amd64.manifest);
}

#[test]
fn cp_with_a_platform_copies_only_that_manifest() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-cp/platform-src:v1");
    let src = registry.reference("cmd-cp/platform-src:v1");
    let dst = registry.reference("cmd-cp/platform-dst:copied");

    let out = sandbox
        .oras()
        .args(["cp", &src, &dst, "--platform", "linux/amd64"])
        .success();
    assert_digest_line(&out, &multi.amd64.digest);
    out.assert_line(&format!("Copied [registry] {src} => [registry] {dst}"));
    assert_eq!(
        registry.manifest("cmd-cp/platform-dst:copied"),
        multi.amd64.manifest
    );
    assert!(!registry_has(
        registry,
        &format!("cmd-cp/platform-dst@{}", multi.index_digest)
    ));
    assert!(!registry_has(
        registry,
        &format!("cmd-cp/platform-dst@{}", multi.arm64.digest)
    ));

    // Source given by the index digest: the Copied line names the digest actually copied.
    let src_digest = registry.reference(&format!("cmd-cp/platform-src@{}", multi.index_digest));
    let dst = registry.reference("cmd-cp/platform-dst2");
    let out = sandbox
        .oras()
        .args(["cp", &src_digest, &dst, "--platform", "linux/arm64"])
        .success();
    out.assert_line(&format!(
        "Copied [registry] {}@{} => [registry] {dst}",
        registry.reference("cmd-cp/platform-src"),
        multi.arm64.digest
    ));
    assert_digest_line(&out, &multi.arm64.digest);
    assert!(registry_has(
        registry,
        &format!("cmd-cp/platform-dst2@{}", multi.arm64.digest)
    ));

    // Into a layout.
    let out = sandbox
        .oras()
        .args([
            "cp",
            &src,
            "--to-oci-layout",
            "lay:amd",
            "--platform",
            "linux/amd64",
        ])
        .success();
    assert_digest_line(&out, &multi.amd64.digest);
    assert_eq!(
        layout_manifest(&sandbox.path("lay"), "amd").0,
        multi.amd64.manifest
    );
    assert!(
        !index_entries(&sandbox.path("lay"))
            .iter()
            .any(|e| e["digest"] == multi.index_digest.as_str()),
        "the index is not copied"
    );
}

#[test]
fn cp_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    seed_image(registry, &sandbox, "cmd-cp/errors:v1");
    let src = registry.reference("cmd-cp/errors:v1");

    let out = sandbox.oras().arg("cp").failure();
    out.error_first_line("Error:");
    out.stderr_contains("Usage: oras cp");
    out.stderr_contains("Run \"oras cp -h\"");
    sandbox
        .oras()
        .args(["cp", &src])
        .failure()
        .error_first_line("Error:");
    sandbox
        .oras()
        .args(["cp", "foo", "bar", "buz"])
        .failure()
        .stderr_contains("Usage: oras cp");

    let out = sandbox
        .oras()
        .args([
            "cp",
            &registry.reference("cmd-cp/errors"),
            &registry.reference("cmd-cp/errors-dst:v1"),
        ])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("no tag or digest specified");
    out.stderr_contains("oras cp");

    let missing = registry.reference("cmd-cp/errors:i-dont-think-this-tag-exists");
    let out = sandbox
        .oras()
        .args(["cp", &missing, &registry.reference("cmd-cp/errors-dst")])
        .failure();
    out.stderr_contains("i-dont-think-this-tag-exists");
    let out = sandbox
        .oras()
        .args(["cp", &missing, "--to-oci-layout", "lay"])
        .failure();
    out.stderr_contains("Error response from registry:");

    let out = sandbox
        .oras()
        .args([
            "cp",
            "--from-oci-layout",
            "no-such-layout:v1",
            &registry.reference("cmd-cp/x:v1"),
        ])
        .failure();
    out.error_first_line("Error:");

    sandbox
        .oras()
        .args([
            "cp",
            &src,
            &registry.reference("cmd-cp/errors-dst:v1"),
            "--from-username",
            "user",
            "--from-identity-token",
            "token",
        ])
        .failure();
    assert!(!registry_has(registry, "cmd-cp/errors-dst:v1"));
}

#[test]
fn cp_copies_the_whole_content_of_an_oras_push() {
    // An artifact with an empty config and a named layer: the same graph in every direction.
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("report.txt", "an artifact, not an image\n");
    let src = registry.reference("cmd-cp/artifact:v1");
    let push = sandbox
        .oras()
        .args([
            "push",
            &src,
            "report.txt",
            "--artifact-type",
            "example/report",
        ])
        .success();
    let digest = format!("sha256:{}", push.digest_line());
    let manifest = registry.manifest("cmd-cp/artifact:v1");

    sandbox
        .oras()
        .args(["cp", &src, "--to-oci-layout", "lay:v1"])
        .success();
    assert_eq!(layout_manifest(&sandbox.path("lay"), "v1").0, manifest);
    let back = registry.reference("cmd-cp/artifact-back:v1");
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout", "lay:v1", &back])
        .success();
    assert_digest_line(&out, &digest);
    assert_eq!(registry.manifest("cmd-cp/artifact-back:v1"), manifest);
    assert_eq!(sha256_hex(&manifest), digest.trim_start_matches("sha256:"));

    let pull = sandbox
        .oras()
        .args(["pull", &back, "-o", "pulled"])
        .success();
    assert_eq!(format!("sha256:{}", pull.digest_line()), digest);
    assert_eq!(
        sandbox.read("pulled/report.txt"),
        b"an artifact, not an image\n"
    );
}
