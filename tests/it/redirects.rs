//! Blob GETs answered with a redirect to a storage host on another origin (as ACR, S3 and GCS
//! registries do): the pull follows it without sending `Authorization` or custom headers there.

use crate::harness::{PASSWORD, Sandbox, USER, auth_registry};
use crate::servers::{RedirectFront, STORAGE_SIGNATURE};

#[test]
fn blob_redirect_to_another_host_gets_no_credentials() {
    let registry = auth_registry();
    let front = RedirectFront::start(registry.port(), Some(&format!("{USER}:{PASSWORD}")));
    let sandbox = Sandbox::new();
    let content = "behind a redirect\n".repeat(100);
    sandbox.write("f.txt", &content);
    sandbox
        .oras()
        .args(["push", &registry.reference("redirect/blob:v1"), "f.txt"])
        .args(["-u", USER, "-p", PASSWORD])
        .success();

    let through_front = format!("localhost:{}/redirect/blob:v1", front.port);
    sandbox
        .oras()
        .args(["pull", &through_front, "-o", "out"])
        .args(["-u", USER, "-p", PASSWORD, "-H", "X-Secret: v"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), content.as_bytes());

    let front_seen = front.front_seen.lock().unwrap().clone();
    assert!(
        front_seen
            .iter()
            .any(|h| h.get("x-secret").map(String::as_str) == Some("v")),
        "the registry's origin gets the custom header: {front_seen:?}"
    );
    assert!(
        front_seen.iter().any(|h| h.contains_key("authorization")),
        "the registry's origin gets credentials: {front_seen:?}"
    );
    let storage_seen = front.storage_seen.lock().unwrap().clone();
    assert!(
        !storage_seen.is_empty(),
        "the blob was fetched from the storage host"
    );
    for headers in &storage_seen {
        assert!(
            !headers.contains_key("authorization"),
            "Authorization sent to the storage host: {headers:?}"
        );
        assert!(
            !headers.contains_key("x-secret"),
            "custom header sent to the storage host: {headers:?}"
        );
    }
}

#[test]
fn debug_trace_hides_the_signature_of_a_storage_redirect() {
    let registry = auth_registry();
    let front = RedirectFront::start(registry.port(), Some(&format!("{USER}:{PASSWORD}")));
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "signed redirect\n");
    sandbox
        .oras()
        .args(["push", &registry.reference("redirect/signed:v1"), "f.txt"])
        .args(["-u", USER, "-p", PASSWORD])
        .success();

    let through_front = format!("localhost:{}/redirect/signed:v1", front.port);
    let out = sandbox
        .oras()
        .args(["pull", &through_front, "-o", "out", "--debug"])
        .args(["-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"signed redirect\n");
    assert!(
        out.stderr
            .contains("/storage/redirect/signed/blobs/sha256:"),
        "the trace shows the redirect\n{out}"
    );
    // A pre-signed URL's query is a credential (GHSA-5jhf-2qmf-m8c5).
    assert!(
        !out.stderr.contains(STORAGE_SIGNATURE),
        "the storage signature leaked into the trace\n{out}"
    );
}
