//! Pull must never write outside its output directory and never keep bytes that fail their
//! digest, whether the content comes from an OCI image layout or a registry.

use std::path::Path;

use crate::harness::{HandLayer, Output, Sandbox, registry, tree, write_layout};

#[track_caller]
fn assert_traversal_refused(out: &Output) {
    out.error_first_line("Error");
    assert!(out.stderr.contains("Error:"), "{out}");
    assert!(
        out.stderr.contains("path traversal"),
        "stderr should mention path traversal\n{out}"
    );
}

/// Nothing but (possibly) an empty output directory may exist after a refused pull.
#[track_caller]
fn assert_nothing_written(dir: &Path) {
    if dir.exists() {
        assert_eq!(
            tree(dir),
            Vec::<String>::new(),
            "output dir must stay empty"
        );
    }
}

#[test]
fn layout_pull_refuses_a_dot_dot_title() {
    let sandbox = Sandbox::new();
    write_layout(
        &sandbox.path("lay"),
        "v1",
        &[HandLayer {
            title: "../evil.txt",
            content: b"escaped\n",
        }],
        None,
    );
    let out = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure();
    assert_traversal_refused(&out);
    assert!(
        !sandbox.path("evil.txt").exists(),
        "../evil.txt was written next to out/"
    );
    assert!(!sandbox.work().parent().unwrap().join("evil.txt").exists());
    assert_nothing_written(&sandbox.path("out"));
}

#[test]
fn layout_pull_refuses_an_absolute_title() {
    let sandbox = Sandbox::new();
    let target_dir = sandbox.root().join("absolute-target");
    let evil = target_dir.join("evil.txt");
    let title = evil.to_str().unwrap();
    write_layout(
        &sandbox.path("lay"),
        "v1",
        &[HandLayer {
            title,
            content: b"abs\n",
        }],
        None,
    );
    let out = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure();
    assert_traversal_refused(&out);
    assert!(!evil.exists(), "absolute title was written");
    assert!(
        !target_dir.exists(),
        "parent of the absolute title was created"
    );
    assert_nothing_written(&sandbox.path("out"));
}

#[test]
fn layout_pull_refuses_a_blob_whose_bytes_do_not_match_its_digest() {
    let sandbox = Sandbox::new();
    write_layout(
        &sandbox.path("lay"),
        "v1",
        &[HandLayer {
            title: "good.txt",
            content: b"the real content\n",
        }],
        Some(0),
    );
    let out = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure();
    out.error_first_line("Error");
    assert!(
        out.stderr.to_lowercase().contains("digest"),
        "stderr should mention the digest\n{out}"
    );
    assert!(
        !sandbox.path("out/good.txt").exists(),
        "corrupt content was kept"
    );
    assert_nothing_written(&sandbox.path("out"));
}

#[test]
fn registry_pull_refuses_a_dot_dot_title() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let layout = sandbox.path("lay");
    write_layout(
        &layout,
        "v1",
        &[HandLayer {
            title: "../evil.txt",
            content: b"escaped via registry\n",
        }],
        None,
    );
    registry.skopeo_push_layout(&layout, "v1", "safety/traversal:v1");
    let out = sandbox
        .oras()
        .args([
            "pull",
            &registry.reference("safety/traversal:v1"),
            "-o",
            "out",
        ])
        .failure();
    assert_traversal_refused(&out);
    assert!(
        !sandbox.path("evil.txt").exists(),
        "../evil.txt was written next to out/"
    );
    assert_nothing_written(&sandbox.path("out"));
}

#[test]
fn registry_pull_refuses_an_absolute_title() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let evil = sandbox.root().join("abs-from-registry").join("evil.txt");
    let layout = sandbox.path("lay");
    write_layout(
        &layout,
        "v1",
        &[HandLayer {
            title: evil.to_str().unwrap(),
            content: b"abs\n",
        }],
        None,
    );
    registry.skopeo_push_layout(&layout, "v1", "safety/absolute:v1");
    let out = sandbox
        .oras()
        .args([
            "pull",
            &registry.reference("safety/absolute:v1"),
            "-o",
            "out",
        ])
        .failure();
    assert_traversal_refused(&out);
    assert!(!evil.exists(), "absolute title was written");
    assert_nothing_written(&sandbox.path("out"));
}

#[test]
fn allow_path_traversal_flag_permits_a_dot_dot_title() {
    // The escape hatch must exist, or the refusal above could be an unconditional failure.
    let sandbox = Sandbox::new();
    write_layout(
        &sandbox.path("lay"),
        "v1",
        &[HandLayer {
            title: "../allowed.txt",
            content: b"trusted\n",
        }],
        None,
    );
    sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:v1",
            "-o",
            "out",
            "--allow-path-traversal",
        ])
        .success();
    assert_eq!(sandbox.read("allowed.txt"), b"trusted\n");
}

#[test]
fn a_title_with_a_nul_byte_is_refused_in_words() {
    let sandbox = Sandbox::new();
    write_layout(
        &sandbox.path("lay"),
        "v1",
        &[HandLayer {
            title: "a\u{0}b.txt",
            content: b"nul\n",
        }],
        None,
    );
    let out = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure();
    out.error_first_line(
        "Error: failed to resolve path for writing: \"a\\0b.txt\" cannot be a file name: it contains a NUL byte",
    );
    assert_nothing_written(&sandbox.path("out"));
}
