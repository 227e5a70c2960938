//! `oras tag` and `oras resolve` (alias `digest`) against the registry and OCI layouts
//! (oras-cli.md §9, §13.10).

use crate::cmd_manifest::{registry_has, seed_image, seed_multi_arch, write_multi_arch_layout};
use crate::harness::{Output, Sandbox, USER, auth_registry, layout_manifest, registry, sha256_hex};

/// Pushes one file with `oras push` and returns the manifest digest (`sha256:…`).
fn push_artifact(sandbox: &Sandbox, reference: &str, args: &[&str]) -> String {
    sandbox.write("tagme.txt", format!("content for {reference}\n"));
    let out = sandbox
        .oras()
        .arg("push")
        .args(args)
        .args([reference, "tagme.txt"])
        .success();
    format!("sha256:{}", out.digest_line())
}

#[track_caller]
fn assert_tag_output(out: &Output, tagging: &str, tags: &[&str]) {
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("Tagging ")).count(),
        1,
        "exactly one Tagging line\n{out}"
    );
    out.assert_line(tagging);
    for tag in tags {
        out.assert_line(&format!("Tagged {tag}"));
    }
    assert_eq!(lines.len(), 1 + tags.len(), "nothing else on stdout\n{out}");
    assert_eq!(lines[0], tagging, "the Tagging line comes first\n{out}");
}

#[test]
fn tag_adds_tags_in_the_registry() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference("cmd-tag/registry:v1");
    let digest = push_artifact(&sandbox, &reference, &[]);
    let repo = registry.reference("cmd-tag/registry");

    let out = sandbox
        .oras()
        .args(["tag", &reference, "v2", "v3", "latest"])
        .success();
    assert_tag_output(
        &out,
        &format!("Tagging [registry] {repo}@{digest}"),
        &["v2", "v3", "latest"],
    );
    for tag in ["v1", "v2", "v3", "latest"] {
        assert_eq!(
            format!(
                "sha256:{}",
                sha256_hex(&registry.manifest(&format!("cmd-tag/registry:{tag}")))
            ),
            digest
        );
    }

    // By digest, with the concurrency flag.
    let out = sandbox
        .oras()
        .args([
            "tag",
            "--concurrency",
            "1",
            &format!("{repo}@{digest}"),
            "by-digest",
        ])
        .success();
    assert_tag_output(
        &out,
        &format!("Tagging [registry] {repo}@{digest}"),
        &["by-digest"],
    );
    assert!(registry_has(registry, "cmd-tag/registry:by-digest"));

    let tags = sandbox.oras().args(["repo", "tags", &repo]).success();
    for tag in ["by-digest", "latest", "v1", "v2", "v3"] {
        tags.assert_line(tag);
    }
}

#[test]
fn tag_in_an_oci_layout() {
    let sandbox = Sandbox::new();
    let digest = push_artifact(&sandbox, "lay:v1", &["--oci-layout"]);
    let out = sandbox
        .oras()
        .args(["tag", "--oci-layout", "lay:v1", "v2", "v3"])
        .success();
    assert_tag_output(
        &out,
        &format!("Tagging [oci-layout] lay@{digest}"),
        &["v2", "v3"],
    );
    let (v1, _) = layout_manifest(&sandbox.path("lay"), "v1");
    for tag in ["v2", "v3"] {
        let (bytes, _) = layout_manifest(&sandbox.path("lay"), tag);
        assert_eq!(bytes, v1);
    }

    // A layout path given relative to a working directory elsewhere.
    std::fs::create_dir_all(sandbox.path("sub")).unwrap();
    let out = sandbox
        .oras()
        .cwd("sub")
        .args(["tag", "--oci-layout", &format!("../lay@{digest}"), "v4"])
        .success();
    assert_tag_output(
        &out,
        &format!("Tagging [oci-layout] ../lay@{digest}"),
        &["v4"],
    );
    assert_eq!(layout_manifest(&sandbox.path("lay"), "v4").0, v1);
}

#[test]
fn tag_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference("cmd-tag/errors:v1");
    push_artifact(&sandbox, &reference, &[]);

    let invalid = registry.reference("INVALID:v1");
    let out = sandbox.oras().args(["tag", &invalid, "v2"]).failure();
    out.error_first_line("Error:");
    out.stderr_contains(&format!("unable to add tag for '{invalid}'"));
    out.stderr_contains("invalid reference");

    let out = sandbox
        .oras()
        .args([
            "tag",
            &registry.reference("cmd-tag/errors:no-such-tag"),
            "v2",
        ])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains("not found");
    assert!(!registry_has(registry, "cmd-tag/errors:v2"));

    let out = sandbox.oras().args(["tag", "list", &reference]).failure();
    out.stderr_contains("Error: there is no \"list\" sub-command for \"oras tag\" command");
    out.stderr_contains(
        "If you want to list available tags in a repository, use \"oras repo tags\"",
    );
    let out = sandbox.oras().arg("tag").failure();
    out.stderr_contains("Usage: oras tag");

    let out = sandbox
        .oras()
        .args(["tag", &registry.reference("cmd-tag/errors"), "v2"])
        .failure();
    out.stderr_contains("no tag or digest specified");

    let out = sandbox
        .oras()
        .args(["tag", "ls", "--oci-layout", "lay"])
        .failure();
    out.stderr_contains(
        "If you want to list available tags in an OCI image layout, use \"oras repo tags\"",
    );
}

#[test]
fn resolve_prints_the_digest_or_the_full_reference() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-resolve/image:v1");
    let reference = registry.reference("cmd-resolve/image:v1");
    let repo = registry.reference("cmd-resolve/image");

    let out = sandbox.oras().args(["resolve", &reference]).success();
    assert_eq!(out.stdout, format!("{}\n", seeded.digest), "{out}");
    assert_eq!(out.stderr, "", "{out}");
    let out = sandbox.oras().args(["digest", &reference]).success();
    assert_eq!(out.stdout, format!("{}\n", seeded.digest), "{out}");
    let out = sandbox.oras().args(["resolve", "-l", &reference]).success();
    assert_eq!(out.stdout, format!("{repo}@{}\n", seeded.digest), "{out}");
    let out = sandbox
        .oras()
        .args([
            "digest",
            "--full-reference",
            &format!("{repo}@{}", seeded.digest),
        ])
        .success();
    assert_eq!(out.stdout, format!("{repo}@{}\n", seeded.digest), "{out}");
    // The resolved digest names the manifest's bytes.
    assert_eq!(
        format!(
            "sha256:{}",
            sha256_hex(&registry.manifest("cmd-resolve/image:v1"))
        ),
        seeded.digest
    );
}

#[test]
fn resolve_selects_a_platform() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-resolve/multi:v1");
    let reference = registry.reference("cmd-resolve/multi:v1");

    let out = sandbox.oras().args(["resolve", &reference]).success();
    assert_eq!(out.stdout, format!("{}\n", multi.index_digest));
    let out = sandbox
        .oras()
        .args(["resolve", &reference, "--platform", "linux/amd64"])
        .success();
    assert_eq!(out.stdout, format!("{}\n", multi.amd64.digest));
    let out = sandbox
        .oras()
        .args(["resolve", &reference, "--platform", "linux/arm64", "-l"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "{}@{}\n",
            registry.reference("cmd-resolve/multi"),
            multi.arm64.digest
        )
    );
    sandbox
        .oras()
        .args(["resolve", &reference, "--platform", "windows/amd64"])
        .failure();
}

#[test]
fn resolve_in_an_oci_layout() {
    let sandbox = Sandbox::new();
    let multi = write_multi_arch_layout(&sandbox.path("multi"), "v1");

    let out = sandbox
        .oras()
        .args(["resolve", "--oci-layout", "multi:v1"])
        .success();
    assert_eq!(out.stdout, format!("{}\n", multi.index_digest));
    let out = sandbox
        .oras()
        .args(["resolve", "--oci-layout", "multi:v1", "-l"])
        .success();
    assert_eq!(out.stdout, format!("multi@{}\n", multi.index_digest));
    let absolute = sandbox.path("multi");
    let out = sandbox
        .oras()
        .args([
            "resolve",
            "--oci-layout",
            "--full-reference",
            &format!("{}:v1", absolute.display()),
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!("{}@{}\n", absolute.display(), multi.index_digest)
    );

    let out = sandbox
        .oras()
        .args(["resolve", "--oci-layout", "multi:no-such-tag"])
        .failure();
    out.stderr_contains("not found");

    let out = sandbox
        .oras()
        .args([
            "digest",
            "--oci-layout",
            "multi:v1",
            "--platform",
            "linux/amd64",
        ])
        .success();
    assert_eq!(out.stdout, format!("{}\n", multi.amd64.digest));
}

#[test]
fn resolve_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    seed_image(registry, &sandbox, "cmd-resolve/errors:v1");

    let invalid = registry.reference("INVALID");
    let out = sandbox.oras().args(["resolve", &invalid]).failure();
    out.error_first_line("Error:");
    out.stderr_contains(&invalid);
    out.stderr_contains("invalid reference");
    out.stderr_contains("<registry>/<repo>[:tag|@digest]");

    let out = sandbox
        .oras()
        .args(["resolve", &registry.reference("cmd-resolve/errors")])
        .failure();
    out.stderr_contains("no tag or digest specified");

    let out = sandbox
        .oras()
        .args([
            "resolve",
            &registry.reference("cmd-resolve/errors:no-such-tag"),
        ])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains("failed to resolve digest:");
    out.stderr_contains("not found");
    assert_eq!(out.stdout, "", "{out}");

    let out = sandbox.oras().arg("resolve").failure();
    out.stderr_contains("Usage: oras resolve");

    // A wrong password: the HEAD's 401 has no body, so the status line is what is shown.
    let out = sandbox
        .oras()
        .args([
            "resolve",
            &auth_registry().reference("cmd-resolve/errors:v1"),
        ])
        .args(["-u", USER, "-p", "wrong"])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains("response status code 401: Unauthorized");
}
