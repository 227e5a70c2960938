//! Upstream acceptance scenarios of oras-cli.md §13.4–§13.6, §13.10 and §13.12 that the
//! per-command files did not pin: what `cp` takes along with a manifest, `repo tags` filters,
//! and `backup`/`restore` edge cases, each against the Debian registry (tag schema).

use crate::cmd_manifest::{has_status, registry_has, seed_image};
use crate::harness::{Sandbox, registry};

/// Attaches a file to `subject` and returns the referrer's digest.
fn attach(sandbox: &Sandbox, subject: &str, artifact_type: &str) -> String {
    let file = format!("{}.txt", artifact_type.replace('/', "-"));
    sandbox.write(&file, format!("{artifact_type} of {subject}\n"));
    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", artifact_type, subject, &file])
        .success();
    format!("sha256:{}", out.digest_line())
}

// ---------------------------------------------------------------------------------------------
// cp (§13.6, "should copy index and its subject")
// ---------------------------------------------------------------------------------------------

#[test]
fn cp_of_a_referrer_copies_its_subject_chain_too() {
    // Regression: `cp` of a signature left its subject (and the subject's subject) behind.
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "e2e-cp/subject-src:v1");
    let src = registry.reference("e2e-cp/subject-src");
    let sbom = attach(&sandbox, &format!("{src}:v1"), "test/sbom.file");
    let signature = attach(&sandbox, &format!("{src}@{sbom}"), "test/signature.file");

    // Registry to registry, by digest, no tag.
    let dst = registry.reference("e2e-cp/subject-dst");
    let out = sandbox
        .oras()
        .args(["cp", &format!("{src}@{signature}"), &dst])
        .success();
    for digest in [&seeded.digest, &sbom, &signature] {
        assert!(
            has_status(
                &out,
                "Copied",
                digest,
                "application/vnd.oci.image.manifest.v1+json"
            ),
            "{digest} is copied\n{out}"
        );
        assert!(
            registry_has(registry, &format!("e2e-cp/subject-dst@{digest}")),
            "{digest} is in the destination\n{out}"
        );
    }
    out.assert_line(&format!("Digest: {signature}"));
    // The chain is discoverable from the image in the destination.
    let out = sandbox
        .oras()
        .args(["discover", "--format", "json"])
        .arg(format!("{dst}@{}", seeded.digest))
        .success();
    let tree: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(tree["referrers"][0]["digest"], sbom.as_str(), "{out}");
    assert_eq!(
        tree["referrers"][0]["referrers"][0]["digest"],
        signature.as_str(),
        "{out}"
    );

    // Into an OCI layout as well; a subject already there is not copied again.
    let out = sandbox
        .oras()
        .args(["cp", &format!("{src}@{sbom}"), "--to-oci-layout", "lay"])
        .success();
    assert!(
        has_status(
            &out,
            "Copied",
            &seeded.digest,
            "application/vnd.oci.image.manifest.v1+json"
        ),
        "{out}"
    );
    sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout"])
        .arg(format!("lay@{}", seeded.digest))
        .success();
    let out = sandbox
        .oras()
        .args([
            "cp",
            &format!("{src}@{signature}"),
            "--to-oci-layout",
            "lay",
        ])
        .success();
    for digest in [&seeded.digest, &sbom] {
        let hex12 = &digest["sha256:".len()..][..12];
        assert!(
            !out.stdout
                .lines()
                .any(|l| l.starts_with("Cop") && l.contains(hex12)),
            "{digest} was already there\n{out}"
        );
    }
    // The signature's own subject is found there; what is under it is not looked at.
    assert!(
        has_status(
            &out,
            "Exists",
            &sbom,
            "application/vnd.oci.image.manifest.v1+json"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains(&seeded.digest[7..19]), "{out}");
}

#[test]
fn cp_of_a_referrer_reports_a_subject_already_there_as_existing() {
    // Go's copy walks a referrer's subject as one of its nodes: one the destination holds is
    // reported `Exists` (once, and not at all for the root of a `cp -r`).
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "e2e-cp/exists-src:v1");
    let src = registry.reference("e2e-cp/exists-src");
    let sbom = attach(&sandbox, &format!("{src}:v1"), "test/sbom.file");
    let dst = registry.reference("e2e-cp/exists-dst");
    sandbox
        .oras()
        .args(["cp", &format!("{src}:v1"), &format!("{dst}:v1")])
        .success();
    let out = sandbox
        .oras()
        .args(["cp", &format!("{src}@{sbom}"), &dst])
        .success();
    let manifest_type = "application/vnd.oci.image.manifest.v1+json";
    assert!(
        has_status(&out, "Exists", &seeded.digest, manifest_type),
        "{out}"
    );
    assert!(has_status(&out, "Copied", &sbom, manifest_type), "{out}");

    let out = sandbox
        .oras()
        .args([
            "cp",
            "-r",
            &format!("{src}:v1"),
            "--to-oci-layout",
            "lay:v1",
        ])
        .success();
    let root_lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("Digest:") && l.contains(&seeded.digest[7..19]))
        .collect();
    assert_eq!(
        root_lines,
        [
            format!("Copying {} {manifest_type}", &seeded.digest[7..19]),
            format!("Copied  {} {manifest_type}", &seeded.digest[7..19]),
        ],
        "{out}"
    );
}

#[test]
fn cp_reports_a_layer_with_the_same_content_as_another_as_skipped() {
    // Regression: foo2, identical to foo1, got no status line at all; Go's copy handler
    // prints `Skipped` for it when its manifest is copied (e2e cp.go counts every layer).
    let registry = registry();
    let sandbox = Sandbox::new();
    let src = registry.reference("e2e-cp/dedup-src:foobar");
    sandbox.write("foobar/foo1", "foo");
    sandbox.write("foobar/foo2", "foo");
    sandbox.write("foobar/bar", "bar");
    let pushed = sandbox
        .oras()
        .args(["push", &src, "foobar/foo1", "foobar/foo2", "foobar/bar"])
        .success();
    let manifest = format!("sha256:{}", pushed.digest_line());
    let manifest_hex = &manifest["sha256:".len()..][..12];
    let foo = "2c26b46b68ff";

    for (dst, layout) in [
        (registry.reference("e2e-cp/dedup-dst:copied"), false),
        ("lay:copied".to_owned(), true),
    ] {
        let mut oras = sandbox.oras().args(["cp", &src]);
        if layout {
            oras = oras.arg("--to-oci-layout");
        }
        let out = oras.arg(&dst).success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        let at = |line: &str| lines.iter().position(|l| *l == line);
        let skipped = at(&format!("Skipped {foo} foobar/foo2")).unwrap_or_else(|| {
            panic!("foo2 is reported as skipped\n{out}");
        });
        let copying = at(&format!(
            "Copying {manifest_hex} application/vnd.oci.image.manifest.v1+json"
        ))
        .unwrap();
        let copied = at(&format!(
            "Copied  {manifest_hex} application/vnd.oci.image.manifest.v1+json"
        ))
        .unwrap();
        assert!(copying < skipped && skipped < copied, "{out}");
        // foo1 itself is copied (or mounted), and foo2 only once.
        assert_eq!(
            lines.iter().filter(|l| l.contains("foobar/foo2")).count(),
            1,
            "{out}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with(&format!("{foo} foobar/foo1"))),
            "{out}"
        );
    }
}

#[test]
fn cp_platform_of_a_single_manifest_fails_in_oras_go_words() {
    // Regression: a manifest whose platform differs said "the manifest's platform linux/amd64
    // does not match", and one without an image config "platform / does not match".
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("bin", "amd64 build\n");
    let amd64 = registry.reference("e2e-cp/platform-src:amd64");
    let out = sandbox
        .oras()
        .args(["push", &amd64, "--artifact-platform", "linux/amd64", "bin"])
        .success();
    let digest = format!("sha256:{}", out.digest_line());
    let dst = registry.reference("e2e-cp/platform-dst:x");
    let out = sandbox
        .oras()
        .args(["cp", "--platform", "linux/arm64", &amd64, &dst])
        .failure();
    assert_eq!(
        out.stderr,
        format!(
            "Error response from registry: {digest}: not found: platform in manifest does not match target platform\n"
        ),
        "{out}"
    );
    // The same manifest for its own platform is copied.
    sandbox
        .oras()
        .args(["cp", "--platform", "linux/amd64", &amd64, &dst])
        .success();

    let artifact = registry.reference("e2e-cp/platform-src:artifact");
    sandbox.oras().args(["push", &artifact, "bin"]).success();
    let out = sandbox
        .oras()
        .args(["cp", "--platform", "linux/amd64", &artifact, &dst])
        .failure();
    assert_eq!(
        out.stderr,
        "Error: fail to recognize platform from unknown config application/vnd.oci.empty.v1+json: expect application/vnd.oci.image.config.v1+json: unsupported\n",
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// discover (§13.5)
// ---------------------------------------------------------------------------------------------

#[test]
fn discover_of_a_missing_tag_prints_the_registry_error_alone() {
    // Regression: the error repeated the reference after a `failed to resolve` that Go's
    // discover does not add (it returns oras.Resolve's error as it is).
    let registry = registry();
    let sandbox = Sandbox::new();
    let missing = registry.reference("e2e-discover/none:missing");
    let out = sandbox.oras().args(["discover", &missing]).failure();
    assert_eq!(
        out.stderr,
        format!("Error response from registry: {missing}: not found\n"),
        "{out}"
    );
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn discover_table_of_no_referrers_says_0_artifact() {
    // Regression: "Discovered 0 artifacts"; Go's table handler pluralises only above one.
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "e2e-discover/lonely:v1");
    let subject = registry.reference("e2e-discover/lonely:v1");
    let out = sandbox
        .oras()
        .args(["discover", "--format", "table", &subject])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "Discovered 0 artifact referencing {subject}\nDigest: {}\n",
            seeded.digest
        ),
        "{out}"
    );
    attach(&sandbox, &subject, "test/one");
    attach(&sandbox, &subject, "test/two");
    let out = sandbox
        .oras()
        .args(["discover", "--format", "table", &subject])
        .success();
    out.assert_line(&format!("Discovered 2 artifacts referencing {subject}"));
}
