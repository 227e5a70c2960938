//! `oras blob fetch|push|delete` against the registry and OCI layouts (oras-cli.md §9, §13.9).

use crate::cmd_manifest::{
    ABSENT_DIGEST, LAYER_TYPE, assert_status, descriptor_json, has_status, seed_image,
    write_multi_arch_layout,
};
use crate::harness::{Sandbox, registry, sha256_hex};

/// The upstream e2e blob: 9 bytes.
const PUSH_CONTENT: &str = "test-blob";
const PUSH_DIGEST: &str = "sha256:e1ca41574914ba00e8ed5c8fc78ec8efdfd48941c7e48ad74dad8ada7f2066d8";

#[test]
fn blob_push_from_a_file_then_fetch_it_back() {
    let registry = registry();
    let sandbox = Sandbox::new();
    assert_eq!(
        format!("sha256:{}", sha256_hex(PUSH_CONTENT.as_bytes())),
        PUSH_DIGEST
    );
    sandbox.write("blob", PUSH_CONTENT);
    let reference = registry.reference("cmd-blob/push-file");

    let first = sandbox
        .oras()
        .args(["blob", "push", &reference, "blob"])
        .success();
    assert_status(&first, "Uploading", PUSH_DIGEST, LAYER_TYPE);
    assert_status(&first, "Uploaded", PUSH_DIGEST, LAYER_TYPE);
    first.assert_line(&format!("Digest: {PUSH_DIGEST}"));

    let by_digest = format!("{reference}@{PUSH_DIGEST}");
    let out = sandbox
        .oras()
        .args(["blob", "fetch", &by_digest, "--output", "-"])
        .success();
    assert_eq!(out.stdout, PUSH_CONTENT, "{out}");

    // Pushing again finds the blob: no upload.
    let out = sandbox
        .oras()
        .args(["blob", "push", &reference, "blob"])
        .success();
    assert_status(&out, "Exists", PUSH_DIGEST, LAYER_TYPE);
    assert!(
        !has_status(&out, "Uploading", PUSH_DIGEST, LAYER_TYPE),
        "{out}"
    );
    out.assert_line(&format!("Digest: {PUSH_DIGEST}"));

    // --descriptor prints only the descriptor, with the --media-type given.
    let out = sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference("cmd-blob/push-file-desc"),
            "blob",
            "--media-type",
            "test.media",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json("test.media", PUSH_DIGEST, 9),
        "{out}"
    );

    // With the digest in the reference.
    let out = sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference(&format!("cmd-blob/push-file-at@{PUSH_DIGEST}")),
            "blob",
        ])
        .success();
    out.assert_line(&format!("Digest: {PUSH_DIGEST}"));

    // The raw reference as given, without the computed digest (oras-cli.md §9, §15.2).
    first.assert_line(&format!("Pushed: [registry] {reference}"));
}

#[test]
fn blob_push_from_stdin() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference(&format!("cmd-blob/push-stdin@{PUSH_DIGEST}"));

    let out = sandbox
        .oras()
        .args(["blob", "push", &reference, "-", "--size", "9"])
        .stdin(PUSH_CONTENT)
        .success();
    assert_status(&out, "Uploaded", PUSH_DIGEST, LAYER_TYPE);
    out.assert_line(&format!("Pushed: [registry] {reference}"))
        .assert_line(&format!("Digest: {PUSH_DIGEST}"));
    let out = sandbox
        .oras()
        .args(["blob", "fetch", &reference, "-o", "-"])
        .success();
    assert_eq!(out.stdout, PUSH_CONTENT);

    let out = sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference(&format!("cmd-blob/push-stdin-desc@{PUSH_DIGEST}")),
            "-",
            "--size",
            "9",
            "--media-type",
            "test.media",
            "--descriptor",
        ])
        .stdin(PUSH_CONTENT)
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json("test.media", PUSH_DIGEST, 9),
        "{out}"
    );

    let out = sandbox
        .oras()
        .args(["blob", "push", &reference, "-"])
        .stdin(PUSH_CONTENT)
        .failure();
    out.stderr_contains("Error: `--size` must be provided if the blob is read from stdin");

    let out = sandbox
        .oras()
        .args(["blob", "push", &reference, "--password-stdin", "-"])
        .stdin(PUSH_CONTENT)
        .failure();
    out.stderr_contains(
        "Error: `-` read file from input and `--password-stdin` read password from input cannot be both used",
    );

    // Wrong size, wrong digest, no digest: all refused, nothing stored under the wrong digest.
    let wrong_size = registry.reference(
        "cmd-blob/push-stdin-bad@sha256:c897eff15c4586525388034f8246346681cb48d75a619039c566c4939a18102e",
    );
    sandbox
        .oras()
        .args(["blob", "push", &wrong_size, "-", "--size", "3"])
        .stdin("another-test")
        .failure();
    let wrong_digest = registry.reference(&format!("cmd-blob/push-stdin-bad@{ABSENT_DIGEST}"));
    sandbox
        .oras()
        .args(["blob", "push", &wrong_digest, "-", "--size", "9"])
        .stdin(PUSH_CONTENT)
        .failure();
    sandbox
        .oras()
        .args(["blob", "fetch", &wrong_digest, "-o", "-"])
        .failure();
    sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference("cmd-blob/push-stdin-bad"),
            "-",
            "--size",
            "9",
        ])
        .stdin(PUSH_CONTENT)
        .failure()
        .stderr_contains("content digest must be provided if it is read from stdin");
}

#[test]
fn blob_push_rejects_a_file_that_does_not_match_the_reference() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("blob", PUSH_CONTENT);
    sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference(&format!("cmd-blob/push-mismatch@{ABSENT_DIGEST}")),
            "blob",
        ])
        .failure();
    sandbox
        .oras()
        .args([
            "blob",
            "push",
            &registry.reference(&format!("cmd-blob/push-mismatch@{PUSH_DIGEST}")),
            "blob",
            "--size",
            "3",
        ])
        .failure();
    sandbox.oras().args(["blob", "push"]).failure();
}

#[test]
fn blob_fetch_descriptor_stdout_and_file() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-blob/fetch:v1");
    let config = registry.reference(&format!("cmd-blob/fetch@{}", seeded.config_digest));

    let out = sandbox
        .oras()
        .args(["blob", "fetch", &config, "--descriptor"])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            "application/octet-stream",
            &seeded.config_digest,
            seeded.config.len()
        ),
        "{out}"
    );

    let out = sandbox
        .oras()
        .args(["blob", "get", &config, "--output", "-"])
        .success();
    assert_eq!(out.stdout_bytes, seeded.config, "exact bytes\n{out}");

    let out = sandbox
        .oras()
        .args(["blob", "fetch", &config, "--output", "config.json"])
        .success();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(sandbox.read("config.json"), seeded.config);

    let out = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            &config,
            "--output",
            "again.json",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            "application/octet-stream",
            &seeded.config_digest,
            seeded.config.len()
        )
    );
    assert_eq!(sandbox.read("again.json"), seeded.config);
}

#[test]
fn blob_fetch_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-blob/fetch-errors:v1");
    let layer = registry.reference(&format!("cmd-blob/fetch-errors@{}", seeded.layer_digest));

    let out = sandbox.oras().args(["blob", "fetch", &layer]).failure();
    out.stderr_contains("either `--output` or `--descriptor` must be provided");
    let out = sandbox
        .oras()
        .args(["blob", "fetch", &layer, "--descriptor", "--output", "-"])
        .failure();
    out.stderr_contains("`--output -` cannot be used with `--descriptor` at the same time");
    let out = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            "--descriptor",
            &registry.reference("cmd-blob/fetch-errors"),
        ])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("no digest specified");
    out.stderr_contains("oras blob fetch");
    let out = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            &registry.reference(&format!("cmd-blob/fetch-errors@{ABSENT_DIGEST}")),
            "-o",
            "nothing",
        ])
        .failure();
    out.error_first_line("Error response from registry: failed to fetch the content of");
    out.stderr_contains("not found");
    assert!(
        !sandbox.path("nothing").exists(),
        "no file for a failed fetch"
    );

    let out = sandbox.oras().args(["blob", "fetch"]).failure();
    out.stderr_contains("Usage: oras blob fetch");
    out.stderr_contains("Run \"oras blob fetch -h\"");
}

#[test]
fn blob_delete_in_the_registry() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-blob/delete:v1");
    let layer = registry.reference(&format!("cmd-blob/delete@{}", seeded.layer_digest));
    let config = registry.reference(&format!("cmd-blob/delete@{}", seeded.config_digest));
    let prompt = format!(
        "Are you sure you want to delete the blob \"{}\"? [y/N] ",
        seeded.layer_digest
    );

    let out = sandbox.oras().args(["blob", "delete", &layer]).success();
    assert_eq!(
        out.stdout,
        format!("{prompt}Operation cancelled.\n"),
        "{out}"
    );
    sandbox
        .oras()
        .args(["blob", "fetch", &layer, "-o", "-"])
        .success();

    let out = sandbox
        .oras()
        .args(["blob", "delete", &layer, "--descriptor"])
        .failure();
    out.stderr_contains(
        "must apply --force to confirm the deletion if the descriptor is outputted",
    );

    let out = sandbox
        .oras()
        .args(["blob", "rm", &layer])
        .stdin("y\n")
        .success();
    assert_eq!(
        out.stdout,
        format!("{prompt}Deleted [registry] {layer}\n"),
        "{out}"
    );
    sandbox
        .oras()
        .args(["blob", "fetch", &layer, "-o", "-"])
        .failure();

    let out = sandbox
        .oras()
        .args(["blob", "remove", &config, "--force", "--descriptor"])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            "application/octet-stream",
            &seeded.config_digest,
            seeded.config.len()
        ),
        "{out}"
    );

    // Missing blobs.
    let missing = registry.reference(&format!("cmd-blob/delete@{ABSENT_DIGEST}"));
    let out = sandbox.oras().args(["blob", "delete", &missing]).failure();
    out.stderr_contains(&format!("{missing}: the specified blob does not exist"));
    let out = sandbox
        .oras()
        .args(["blob", "delete", &missing, "--force", "--descriptor"])
        .failure();
    out.stderr_contains(&format!("{missing}: the specified blob does not exist"));
    let out = sandbox
        .oras()
        .args(["blob", "delete", &missing, "--force"])
        .success();
    assert_eq!(out.stdout, format!("Missing {missing}\n"));

    // Only `<name>@<digest>` references.
    let out = sandbox
        .oras()
        .args(["blob", "delete", &registry.reference("cmd-blob/delete")])
        .failure();
    out.stderr_contains("no digest specified");
    out.stderr_contains("oras blob delete");
    sandbox
        .oras()
        .args([
            "blob",
            "delete",
            &registry.reference("cmd-blob/delete:v1"),
            "--force",
            "--descriptor",
        ])
        .failure();
    sandbox
        .oras()
        .args([
            "blob",
            "delete",
            &registry.reference("cmd-blob/delete@test"),
            "--force",
            "--descriptor",
        ])
        .failure();
}

#[test]
fn blob_commands_on_an_oci_layout() {
    let sandbox = Sandbox::new();
    sandbox.write("blob", PUSH_CONTENT);

    // push into a fresh layout, with the digest in the reference.
    let lay_ref = format!("lay@{PUSH_DIGEST}");
    let out = sandbox
        .oras()
        .args([
            "blob",
            "push",
            "--oci-layout",
            &lay_ref,
            "blob",
            "--media-type",
            "test.media",
            "--descriptor",
        ])
        .success();
    assert_eq!(out.stdout, descriptor_json("test.media", PUSH_DIGEST, 9));
    assert_eq!(
        sandbox.read(&format!(
            "lay/blobs/sha256/{}",
            PUSH_DIGEST.trim_start_matches("sha256:")
        )),
        PUSH_CONTENT.as_bytes()
    );
    let out = sandbox
        .oras()
        .args(["blob", "push", "--oci-layout", &lay_ref, "blob"])
        .success();
    assert_status(&out, "Exists", PUSH_DIGEST, LAYER_TYPE);
    out.assert_line(&format!("Pushed: [oci-layout] {lay_ref}"));

    let out = sandbox
        .oras()
        .args([
            "blob",
            "push",
            "--oci-layout",
            "stdin-lay",
            "-",
            "--size",
            "2",
        ])
        .stdin("{}")
        .failure();
    out.stderr_contains("content digest must be provided if it is read from stdin");
    let empty = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    sandbox
        .oras()
        .args([
            "blob",
            "push",
            "--oci-layout",
            &format!("stdin-lay@{empty}"),
            "-",
            "--size",
            "2",
        ])
        .stdin("{}")
        .success();

    // fetch
    let out = sandbox
        .oras()
        .args(["blob", "fetch", "--oci-layout", &lay_ref, "--output", "-"])
        .success();
    assert_eq!(out.stdout, PUSH_CONTENT);
    let out = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            "--oci-layout",
            &format!("stdin-lay@{empty}"),
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json("application/octet-stream", empty, 2)
    );

    // fetch from a layout with images in it, to a file
    let multi = write_multi_arch_layout(&sandbox.path("multi"), "v1");
    let layer_ref = format!("multi@{}", multi.amd64.layer_digest);
    let out = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            "--oci-layout",
            &layer_ref,
            "--output",
            "layer.out",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            "application/octet-stream",
            &multi.amd64.layer_digest,
            multi.amd64.layer.len()
        )
    );
    assert_eq!(sandbox.read("layer.out"), multi.amd64.layer);

    // delete: prompt, confirm, missing
    let out = sandbox
        .oras()
        .args(["blob", "delete", "--oci-layout", &layer_ref])
        .stdin("y\n")
        .success();
    out.stdout_contains(&format!("Deleted [oci-layout] {layer_ref}"));
    sandbox
        .oras()
        .args(["blob", "fetch", "--oci-layout", &layer_ref, "--output", "-"])
        .failure();
    let out = sandbox
        .oras()
        .args([
            "blob",
            "delete",
            "--oci-layout",
            &lay_ref,
            "--force",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json("application/octet-stream", PUSH_DIGEST, 9)
    );
    sandbox
        .oras()
        .args(["blob", "fetch", "--oci-layout", &lay_ref, "--output", "-"])
        .failure();
    let out = sandbox
        .oras()
        .args(["blob", "delete", "--oci-layout", &lay_ref, "--force"])
        .success();
    assert_eq!(out.stdout, format!("Missing {lay_ref}\n"));
}
