//! The Azure Container Registry ORAS walkthrough (issue #2), in the 0.x syntax users still paste
//! (`--manifest-config`, `pull --media-type`/`-t`) and in the 1.x syntax, against the htpasswd
//! registry; skopeo reads back what was stored. Also command lines of the oras.land guides.

use crate::harness::{Output, PASSWORD, Registry, Sandbox, USER, auth_registry, sha256_hex};

const CONFIG_TYPE: &str = "application/vnd.unknown.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.unknown.layer.v1+txt";
const EMPTY_SHA256: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ARTIFACT: &[u8] = b"Hello from the ORAS walkthrough\n";

fn login(sandbox: &Sandbox, registry: &Registry) {
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(out.stdout, "Login Succeeded\n", "{out}");
}

/// Checks the pushed manifest through skopeo and returns its JSON.
#[track_caller]
fn check_pushed(registry: &Registry, repo_and_tag: &str, push: &Output) -> serde_json::Value {
    let raw = registry.manifest(repo_and_tag);
    assert_eq!(
        push.digest_line(),
        sha256_hex(&raw),
        "the printed digest must be the sha256 of the stored manifest bytes"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&raw).expect("manifest JSON");
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    manifest
}

/// The v1.0 manifest that `--manifest-config`/`--config /dev/null:<type>` produces.
#[track_caller]
fn check_walkthrough_manifest(manifest: &serde_json::Value) {
    // --config without --artifact-type switches to image-spec v1.0: no artifactType.
    assert!(
        manifest.get("artifactType").is_none(),
        "unexpected artifactType: {manifest}"
    );
    assert_eq!(manifest["config"]["mediaType"], CONFIG_TYPE, "{manifest}");
    assert_eq!(
        manifest["config"]["digest"], EMPTY_SHA256,
        "/dev/null is an empty blob"
    );
    assert_eq!(manifest["config"]["size"], 0);
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "only the file is a layer: {manifest}");
    assert_eq!(layers[0]["mediaType"], LAYER_TYPE);
    assert_eq!(
        layers[0]["digest"],
        format!("sha256:{}", sha256_hex(ARTIFACT))
    );
    assert_eq!(layers[0]["size"], ARTIFACT.len());
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "artifact.txt"
    );
}

#[track_caller]
fn assert_deprecation_note(out: &Output, flag: &str) {
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains("deprecat"),
        "expected a deprecation note on stderr\n{out}"
    );
    assert!(
        out.stderr.contains(flag),
        "the deprecation note should name {flag}\n{out}"
    );
}

#[test]
fn walkthrough_with_legacy_manifest_config_and_media_type() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    login(&sandbox, registry);
    sandbox.write("artifact.txt", ARTIFACT);
    let reference = registry.reference("samples/artifact-legacy:1.0");

    let push = sandbox
        .oras()
        .args(["push", &reference, "--manifest-config"])
        .arg(format!("/dev/null:{CONFIG_TYPE}"))
        .arg(format!("artifact.txt:{LAYER_TYPE}"))
        .success();
    assert_deprecation_note(&push, "--config");
    let manifest = check_pushed(registry, "samples/artifact-legacy:1.0", &push);
    check_walkthrough_manifest(&manifest);

    std::fs::remove_file(sandbox.path("artifact.txt")).unwrap();
    let pull = sandbox
        .oras()
        .args(["pull", &reference, "--media-type", LAYER_TYPE])
        .success();
    assert_deprecation_note(&pull, "--media-type");
    assert_eq!(sandbox.read("artifact.txt"), ARTIFACT);

    // As in 0.x, `--media-type` selects layers: another type pulls nothing.
    sandbox
        .oras()
        .args([
            "pull",
            &reference,
            "--media-type",
            "application/vnd.other.type",
            "-o",
            "other",
        ])
        .success();
    assert!(
        !sandbox.path("other/artifact.txt").exists(),
        "the filter was ignored"
    );
}

#[test]
fn walkthrough_with_legacy_short_media_type_flag() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    login(&sandbox, registry);
    sandbox.write("artifact.txt", ARTIFACT);
    let reference = registry.reference("samples/artifact-short:1.0");

    let push = sandbox
        .oras()
        .args(["push", &reference, "--manifest-config"])
        .arg(format!("/dev/null:{CONFIG_TYPE}"))
        .arg(format!("artifact.txt:{LAYER_TYPE}"))
        .success();
    check_walkthrough_manifest(&check_pushed(registry, "samples/artifact-short:1.0", &push));

    std::fs::remove_file(sandbox.path("artifact.txt")).unwrap();
    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-t", LAYER_TYPE])
        .success();
    assert!(pull.stderr.to_lowercase().contains("deprecat"), "{pull}");
    assert_eq!(sandbox.read("artifact.txt"), ARTIFACT);
}

#[test]
fn walkthrough_with_current_syntax() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    login(&sandbox, registry);
    sandbox.write("artifact.txt", ARTIFACT);
    let reference = registry.reference("samples/artifact:1.0");

    let push = sandbox
        .oras()
        .args(["push", &reference, "--config"])
        .arg(format!("/dev/null:{CONFIG_TYPE}"))
        .arg(format!("artifact.txt:{LAYER_TYPE}"))
        .success();
    assert!(
        !push.stderr.to_lowercase().contains("deprecat"),
        "1.x syntax must not warn\n{push}"
    );
    check_walkthrough_manifest(&check_pushed(registry, "samples/artifact:1.0", &push));
    push.assert_line(&format!("Pushed [registry] {reference}"));

    std::fs::remove_file(sandbox.path("artifact.txt")).unwrap();
    let pull = sandbox.oras().args(["pull", &reference]).success();
    assert!(
        !pull.stderr.to_lowercase().contains("deprecat"),
        "1.x syntax must not warn\n{pull}"
    );
    assert_eq!(sandbox.read("artifact.txt"), ARTIFACT);
    // The config (/dev/null: zero bytes, not `{}`) has no title: as in Go, a skipped layer,
    // and the hint replaces the `Pulled`/`Digest` lines.
    let manifest = &push.digest_line()[..12];
    pull.assert_line(&format!(
        "Downloaded  {manifest} application/vnd.oci.image.manifest.v1+json"
    ))
    .assert_line(&format!(
        "Use 'oras copy {reference} --to-oci-layout <layout-dir>' to pull all layers."
    ));
}

#[test]
fn walkthrough_dockerfile_with_default_media_types() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    login(&sandbox, registry);
    let dockerfile: &[u8] = b"FROM scratch\nCOPY artifact.txt /\n";
    sandbox.write("Dockerfile", dockerfile);
    let reference = registry.reference("samples/dockerfile:1.0");

    let push = sandbox
        .oras()
        .args(["push", &reference, "Dockerfile"])
        .success();
    let manifest = check_pushed(registry, "samples/dockerfile:1.0", &push);
    assert_eq!(
        manifest["artifactType"], "application/vnd.unknown.artifact.v1",
        "{manifest}"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        manifest["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(manifest["config"]["data"], "e30=");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        layers[0]["digest"],
        format!("sha256:{}", sha256_hex(dockerfile))
    );
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "Dockerfile"
    );
    assert!(
        manifest["annotations"]["org.opencontainers.image.created"].is_string(),
        "push adds the created annotation: {manifest}"
    );

    // Pull with the default `-o .` from a fresh subdirectory.
    std::fs::create_dir(sandbox.path("fresh")).unwrap();
    let pull = sandbox
        .oras()
        .cwd("fresh")
        .args(["pull", &reference])
        .success();
    assert_eq!(sandbox.read("fresh/Dockerfile"), dockerfile);
    assert_eq!(pull.digest_line(), push.digest_line());
}

/// The request header lines (`   "Name": "value"`) of each `--> Request #<n>` block of a trace.
fn traced_request_headers(stderr: &str) -> Vec<Vec<&str>> {
    let mut requests: Vec<Vec<&str>> = Vec::new();
    let mut in_headers = false;
    for line in stderr.lines() {
        if line.starts_with("--> Request #") {
            requests.push(Vec::new());
        } else if line == "> Request headers:" {
            in_headers = true;
        } else if in_headers && line.starts_with("   ") {
            requests.last_mut().unwrap().push(line);
        } else {
            in_headers = false;
        }
    }
    requests
}

/// The zot tutorial on oras.land pushes and pulls with `-d -v`.
// Regression: the trace left out the User-Agent header every request carries (Go lists it, as
// its header map holds it), so a HEAD request showed an empty header block.
#[test]
fn zot_tutorial_debug_trace_lists_the_user_agent_sent() {
    let registry = crate::harness::registry();
    let front = crate::servers::RedirectFront::start(registry.port(), None);
    let sandbox = Sandbox::new();
    sandbox.write("artifact.txt", "hello world\n");
    let reference = format!("localhost:{}/hello-artifact:v1", front.port);

    let push = sandbox
        .oras()
        .args(["push", "--plain-http", &reference])
        .args(["--artifact-type", "application/vnd.acme.rocket.config"])
        .args(["artifact.txt:text/plain", "-d", "-v"])
        .success();
    std::fs::remove_file(sandbox.path("artifact.txt")).unwrap();
    let pull = sandbox
        .oras()
        .args(["pull", "--plain-http", &reference, "-d", "-v"])
        .success();
    assert_eq!(sandbox.read("artifact.txt"), b"hello world\n");

    let sent: Vec<String> = front
        .front_seen
        .lock()
        .unwrap()
        .iter()
        .map(|h| h.get("user-agent").cloned().expect("a User-Agent header"))
        .collect();
    let agent = &sent[0];
    assert!(agent.starts_with("oras/"), "{agent}");
    assert!(sent.iter().all(|a| a == agent), "{sent:?}");
    let line = format!("   \"User-Agent\": {agent:?}");
    for out in [&push, &pull] {
        let requests = traced_request_headers(&out.stderr);
        assert!(!requests.is_empty(), "{out}");
        for headers in requests {
            assert!(
                headers.contains(&line.as_str()),
                "{headers:?} lacks {line}\n{out}"
            );
        }
    }
}
