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
        assert!(
            !out.stdout.contains(&digest["sha256:".len()..][..12]),
            "{digest} was already there\n{out}"
        );
    }
}
