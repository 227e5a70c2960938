//! `oras cp` flag groups (oras-cli.md §2.1, §13.6, §13.10, §13.11): per-side credentials
//! between the htpasswd and the open registry, which side an error names, layouts given by
//! `--from/--to-oci-layout-path`, the `-d` trace, per-side headers and `--resolve`.

use std::collections::{BTreeMap, BTreeSet};

use crate::cmd_manifest::{registry_has, seed_image};
use crate::harness::{Output, PASSWORD, Sandbox, USER, auth_registry, layout_manifest, registry};

/// Pushes a small artifact to the htpasswd registry and returns its manifest digest.
fn push_to_auth(sandbox: &Sandbox, repo_and_tag: &str) -> String {
    sandbox.write("f.txt", format!("content of {repo_and_tag}\n"));
    let out = sandbox
        .oras()
        .args(["push", &auth_registry().reference(repo_and_tag), "f.txt"])
        .args(["-u", USER, "-p", PASSWORD])
        .success();
    format!("sha256:{}", out.digest_line())
}

/// The first stderr line that is not the `--password` warning.
fn first_error_line(out: &Output) -> &str {
    out.stderr
        .lines()
        .find(|l| !l.starts_with("WARNING!"))
        .unwrap_or_default()
}

#[test]
fn cp_between_the_auth_and_the_open_registry_with_side_credentials() {
    let (auth, open) = (auth_registry(), registry());
    let sandbox = Sandbox::new();
    let digest = push_to_auth(&sandbox, "cmd-cp-flags/creds:v1");
    let manifest = auth.manifest("cmd-cp-flags/creds:v1");

    // auth → open with --from-* credentials.
    let src = auth.reference("cmd-cp-flags/creds:v1");
    let dst = open.reference("cmd-cp-flags/from-auth:v1");
    let out = sandbox
        .oras()
        .args(["cp", &src, &dst])
        .args(["--from-username", USER, "--from-password", PASSWORD])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [registry] {dst}"));
    assert_eq!(format!("sha256:{}", out.digest_line()), digest);
    assert_eq!(open.manifest("cmd-cp-flags/from-auth:v1"), manifest);

    // open → auth with --to-* credentials.
    let back = auth.reference("cmd-cp-flags/to-auth:v1");
    sandbox
        .oras()
        .args(["cp", &dst, &back])
        .args(["--to-username", USER, "--to-password", PASSWORD])
        .success();
    assert_eq!(auth.manifest("cmd-cp-flags/to-auth:v1"), manifest);

    // Credentials of one side are not used for the other.
    let out = sandbox
        .oras()
        .args(["cp", &src, &open.reference("cmd-cp-flags/wrong-side:v1")])
        .args(["--to-username", USER, "--to-password", PASSWORD])
        .failure();
    out.stderr_contains("basic credential not found");
    assert!(!registry_has(open, "cmd-cp-flags/wrong-side:v1"));
}

#[test]
fn cp_errors_name_the_side_they_come_from() {
    let (auth, open) = (auth_registry(), registry());
    let sandbox = Sandbox::new();
    push_to_auth(&sandbox, "cmd-cp-flags/sides:v1");
    seed_image(open, &sandbox, "cmd-cp-flags/open-src:v1");

    // A wrong destination password: the destination is named.
    let dst = auth.reference("cmd-cp-flags/bad-to:v1");
    let out = sandbox
        .oras()
        .args(["cp", &open.reference("cmd-cp-flags/open-src:v1"), &dst])
        .args(["--to-username", USER, "--to-password", "wrong-password"])
        .failure();
    let first = first_error_line(&out);
    assert!(
        first.starts_with(&format!("Error from destination registry for \"{dst}\": ")),
        "{out}"
    );
    assert!(first.contains("401"), "{out}");

    // The same from a layout source.
    sandbox
        .oras()
        .args(["cp", "--to-oci-layout"])
        .args([&open.reference("cmd-cp-flags/open-src:v1"), "lay:v1"])
        .success();
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout", "lay:v1", &dst])
        .args(["--to-username", USER, "--to-password", "wrong-password"])
        .failure();
    assert!(
        first_error_line(&out)
            .starts_with(&format!("Error from destination registry for \"{dst}\":")),
        "{out}"
    );

    // A wrong source password: the registry's own error prefix.
    let out = sandbox
        .oras()
        .args([
            "cp",
            &auth.reference("cmd-cp-flags/sides:v1"),
            &open.reference("cmd-cp-flags/bad-from"),
        ])
        .args(["--from-username", USER, "--from-password", "wrong-password"])
        .failure();
    out.error_first_line("Error response from registry: ");
    assert!(!out.stderr.contains("Error from"), "{out}");
}

#[test]
fn cp_without_stored_credentials_names_the_side_and_its_config() {
    let auth = auth_registry();
    let open = registry();
    let sandbox = Sandbox::new();
    push_to_auth(&sandbox, "cmd-cp-flags/no-login:from");
    let (from_config, to_config) = (sandbox.path("from.json"), sandbox.path("to.json"));

    let src = auth.reference("cmd-cp-flags/no-login:from");
    let out = sandbox
        .oras()
        .args(["cp", &src, &auth.reference("cmd-cp-flags/no-login:to")])
        .arg("--from-registry-config")
        .arg(&from_config)
        .arg("--to-registry-config")
        .arg(&to_config)
        .failure();
    assert_eq!(
        first_error_line(&out),
        format!("Error from source registry for \"{src}\": basic credential not found"),
        "{out}"
    );
    out.stderr_contains(&format!(
        "authentication file at \"{}\"",
        from_config.display()
    ));

    // Only the destination lacks credentials: it is named, with its own config file.
    // Regression: the hint named the source's (here: the default) config file.
    seed_image(open, &sandbox, "cmd-cp-flags/open-no-login:v1");
    let dst = auth.reference("cmd-cp-flags/no-login:to");
    let out = sandbox
        .oras()
        .args(["cp", &open.reference("cmd-cp-flags/open-no-login:v1"), &dst])
        .arg("--to-registry-config")
        .arg(&to_config)
        .failure();
    assert_eq!(
        first_error_line(&out),
        format!("Error from destination registry for \"{dst}\": basic credential not found"),
        "{out}"
    );
    out.stderr_contains(&format!(
        "authentication file at \"{}\"",
        to_config.display()
    ));
}

/// The hints under a cp error name flags that cp has: the side's `--from-`/`--to-` ones.
#[test]
fn cp_hints_name_the_flags_of_the_side_that_failed() {
    let (auth, open) = (auth_registry(), registry());
    let sandbox = Sandbox::new();
    push_to_auth(&sandbox, "cmd-cp-flags/hints:v1");
    seed_image(open, &sandbox, "cmd-cp-flags/hints-open:v1");
    let (open_src, copy) = ("cmd-cp-flags/hints-open:v1", "cmd-cp-flags/hints-copy:v1");
    let wrong_source_password = ["--from-username", USER, "--from-password", "wrong-password"];
    // Regression: each of these said `--plain-http`, `-u` or `--password-stdin`, which cp
    // rejects ("unknown flag: --plain-http"). 127.0.0.1 is spoken to over HTTPS unless told
    // otherwise, and the registry speaks HTTP.
    let cases: [(String, String, &[&str], &str); 4] = [
        (
            open.ip_reference(open_src),
            open.reference(copy),
            &[],
            "The registry may be serving plain HTTP: try --from-plain-http.",
        ),
        (
            open.reference(open_src),
            open.ip_reference(copy),
            &[],
            "The registry may be serving plain HTTP: try --to-plain-http.",
        ),
        (
            auth.reference("cmd-cp-flags/hints:v1"),
            open.reference(copy),
            &wrong_source_password,
            "Run `oras login <registry>` or pass `--from-username`/`--from-password` to authenticate.",
        ),
        (
            open.reference(open_src),
            auth.reference(copy),
            &[],
            "To sign in, run `oras login <registry>`, or pass `--to-username` with `--to-password`.",
        ),
    ];
    for (src, dst, args, hint) in cases {
        let out = sandbox.oras().args(["cp", &src, &dst]).args(args).failure();
        let last = out.stderr.trim_end().lines().last().unwrap_or_default();
        assert_eq!(last, hint, "{out}");
    }
}

#[test]
fn cp_username_and_identity_token_conflict_on_either_side() {
    let open = registry();
    let sandbox = Sandbox::new();
    seed_image(open, &sandbox, "cmd-cp-flags/conflict:v1");
    let src = open.reference("cmd-cp-flags/conflict:v1");
    let dst = open.reference("cmd-cp-flags/conflict-dst:v1");
    for side in ["from", "to"] {
        let out = sandbox
            .oras()
            .args(["cp", &src, &dst])
            .args([&format!("--{side}-username"), USER])
            .args([&format!("--{side}-identity-token"), "test-token"])
            .failure();
        // Regression: named `--username, --identity-token`, flags cp does not have.
        out.error_first_line(&format!(
            "Error: --{side}-username, --{side}-identity-token cannot be used at the same time"
        ));
    }
    assert!(!registry_has(open, "cmd-cp-flags/conflict-dst:v1"));
}

#[test]
fn cp_with_oci_layout_path_flags() {
    let open = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(open, &sandbox, "cmd-cp-flags/layout-path:v1");
    let src = open.reference("cmd-cp-flags/layout-path:v1");

    // registry → layout directory: the whole argument is the reference in the layout.
    let out = sandbox
        .oras()
        .args(["cp", "--to-oci-layout-path", "dir", &src, "copied"])
        .success();
    out.assert_line(&format!("Copied [registry] {src} => [oci-layout] copied"));
    assert_eq!(format!("sha256:{}", out.digest_line()), seeded.digest);
    assert_eq!(
        layout_manifest(&sandbox.path("dir"), "copied").0,
        seeded.manifest
    );
    sandbox
        .oras()
        .args([
            "cp",
            "--to-oci-layout-path",
            "dir",
            &src,
            "example.com/app:v1",
        ])
        .success();
    assert_eq!(
        layout_manifest(&sandbox.path("dir"), "example.com/app:v1").0,
        seeded.manifest
    );

    // layout directory → registry, by reference and by digest.
    let dst = open.reference("cmd-cp-flags/from-layout-path:v2");
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout-path", "dir", "copied", &dst])
        .success();
    out.assert_line(&format!("Copied [oci-layout] copied => [registry] {dst}"));
    assert_eq!(
        open.manifest("cmd-cp-flags/from-layout-path:v2"),
        seeded.manifest
    );
    let by_digest = format!("example.com/app@{}", seeded.digest);
    let dst = open.reference("cmd-cp-flags/from-layout-path:v3");
    let out = sandbox
        .oras()
        .args(["cp", "--from-oci-layout-path", "dir", &by_digest, &dst])
        .success();
    assert_eq!(format!("sha256:{}", out.digest_line()), seeded.digest);
    assert_eq!(
        open.manifest("cmd-cp-flags/from-layout-path:v3"),
        seeded.manifest
    );

    // layout → layout, both by path; a destination without a tag is copied by digest.
    sandbox
        .oras()
        .args([
            "cp",
            "--from-oci-layout-path",
            "dir",
            "--to-oci-layout-path",
            "dir2",
            "copied",
            "example.com/untagged",
        ])
        .success();
    let index: serde_json::Value =
        serde_json::from_slice(&sandbox.read("dir2/index.json")).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index}");
    assert_eq!(entries[0]["digest"], seeded.digest.as_str());
    assert!(
        entries[0]["annotations"]["org.opencontainers.image.ref.name"].is_null(),
        "{index}"
    );

    // Both layout flags for one side are refused.
    let out = sandbox
        .oras()
        .args([
            "cp",
            "--from-oci-layout",
            "--from-oci-layout-path",
            "dir",
            "copied",
            &open.reference("cmd-cp-flags/never:v1"),
        ])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("cannot be used at the same time");
}

/// `--> Request #<n>` blocks of a `-d` trace: id, URL and request header lines.
struct TracedRequest {
    id: u64,
    url: String,
    headers: Vec<String>,
}

fn traced_requests(stderr: &str) -> Vec<TracedRequest> {
    let mut requests: Vec<TracedRequest> = Vec::new();
    let mut in_request = false;
    for line in stderr.lines() {
        if let Some(id) = line.strip_prefix("--> Request #") {
            requests.push(TracedRequest {
                id: id.parse().expect("numeric request id"),
                url: String::new(),
                headers: Vec::new(),
            });
            in_request = true;
        } else if line.starts_with("<-- Response #") || line.is_empty() {
            in_request = false;
        } else if in_request {
            let request = requests.last_mut().unwrap();
            if let Some(url) = line.strip_prefix("> Request URL: ") {
                url.trim_matches('"').clone_into(&mut request.url);
            } else if line.starts_with("   ") {
                request.headers.push(line.trim().to_owned());
            }
        }
    }
    requests
}

#[test]
fn cp_debug_traces_each_request_once() {
    let open = registry();
    let sandbox = Sandbox::new();
    seed_image(open, &sandbox, "cmd-cp-flags/debug:v1");
    let out = sandbox
        .oras()
        .args([
            "cp",
            "-d",
            &open.reference("cmd-cp-flags/debug:v1"),
            &open.reference("cmd-cp-flags/debug-dst:v1"),
        ])
        .success();
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| *l == "--> Request #0")
            .count(),
        1,
        "{out}"
    );
    let requests = traced_requests(&out.stderr);
    assert!(requests.len() > 3, "{out}");
    let ids: BTreeSet<u64> = requests.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), requests.len(), "request ids are unique\n{out}");
    // Every request has its response, under the same id.
    let responses: BTreeMap<u64, usize> = out
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("<-- Response #"))
        .fold(BTreeMap::new(), |mut m, id| {
            *m.entry(id.parse().unwrap()).or_default() += 1;
            m
        });
    assert_eq!(
        responses.keys().copied().collect::<BTreeSet<_>>(),
        ids,
        "{out}"
    );
    assert!(responses.values().all(|n| *n == 1), "{out}");
    // The trace goes to stderr; stdout keeps the status lines.
    assert!(!out.stdout.contains("Request #"), "{out}");
    out.digest_line();
}

#[test]
fn cp_headers_go_only_to_their_side() {
    let open = registry();
    let sandbox = Sandbox::new();
    seed_image(open, &sandbox, "cmd-cp-flags/headers:v1");
    let out = sandbox
        .oras()
        .args([
            "cp",
            "-d",
            "--from-header",
            "X-From-Side: from-value",
            "--to-header",
            "X-To-Side: to-value",
            &open.reference("cmd-cp-flags/headers:v1"),
            &open.reference("cmd-cp-flags/headers-dst:v1"),
        ])
        .success();
    assert!(
        !out.stderr.contains("from-value") && !out.stderr.contains("to-value"),
        "{out}"
    );
    let requests = traced_requests(&out.stderr);
    for (repo, own, other) in [
        // Values print as ***** (they may be credentials): the names tell the sides apart.
        ("headers", r#""X-From-Side": "*****""#, "X-To-Side"),
        ("headers-dst", r#""X-To-Side": "*****""#, "X-From-Side"),
    ] {
        let path = format!("/v2/cmd-cp-flags/{repo}/");
        let sent: Vec<&TracedRequest> = requests.iter().filter(|r| r.url.contains(&path)).collect();
        assert!(!sent.is_empty(), "no request to {path}\n{out}");
        for r in sent {
            assert!(r.headers.iter().any(|h| h == own), "{}\n{out}", r.url);
            assert!(
                !r.headers.iter().any(|h| h.contains(other)),
                "{}\n{out}",
                r.url
            );
        }
    }
}

#[test]
fn cp_resolve_flags_map_a_fake_hostname() {
    let open = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(open, &sandbox, "cmd-cp-flags/resolve:v1");
    let port = open.port();
    let fake = format!("oras.e2e.test:{port}");

    // --from-resolve for the source only; the destination is reached directly.
    let out = sandbox
        .oras()
        .args([
            "cp",
            "--from-resolve",
            &format!("{fake}:127.0.0.1"),
            "--from-plain-http",
            &format!("{fake}/cmd-cp-flags/resolve:v1"),
            &open.reference("cmd-cp-flags/resolved:v1"),
        ])
        .success();
    assert_eq!(format!("sha256:{}", out.digest_line()), seeded.digest);
    assert_eq!(open.manifest("cmd-cp-flags/resolved:v1"), seeded.manifest);

    // The shared --resolve with an address port, for both sides (the e2e form).
    let out = sandbox
        .oras()
        .args([
            "cp",
            "--resolve",
            &format!("oras.e2e.test:80:127.0.0.1:{port}"),
            "--from-plain-http",
            "--to-plain-http",
            "oras.e2e.test/cmd-cp-flags/resolve:v1",
            "oras.e2e.test/cmd-cp-flags/resolved-both:v1",
        ])
        .success();
    out.assert_line(
        "Copied [registry] oras.e2e.test/cmd-cp-flags/resolve:v1 => [registry] oras.e2e.test/cmd-cp-flags/resolved-both:v1",
    );
    assert_eq!(
        open.manifest("cmd-cp-flags/resolved-both:v1"),
        seeded.manifest
    );

    // --from-resolve is applied after --resolve and wins; 127.0.0.2 has no registry.
    sandbox
        .oras()
        .args([
            "cp",
            "--resolve",
            &format!("{fake}:127.0.0.2"),
            "--from-resolve",
            &format!("{fake}:127.0.0.1"),
            "--from-plain-http",
            &format!("{fake}/cmd-cp-flags/resolve:v1"),
            &open.reference("cmd-cp-flags/resolved-override:v1"),
        ])
        .success();
    assert!(registry_has(open, "cmd-cp-flags/resolved-override:v1"));
}

#[test]
fn resolve_maps_a_host_and_port_to_another_address_port() {
    let open = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(open, &sandbox, "cmd-cp-flags/resolve-port:v1");
    // The reference names port 1, where nothing listens: only the mapping reaches the registry.
    let mapped = format!("oras.e2e.test:1:127.0.0.1:{}", open.port());
    let out = sandbox
        .oras()
        .args(["resolve", "--plain-http", "--resolve", &mapped])
        .arg("oras.e2e.test:1/cmd-cp-flags/resolve-port:v1")
        .success();
    assert_eq!(out.stdout.trim(), seeded.digest);
    sandbox
        .oras()
        .args(["pull", "--plain-http", "--resolve", &mapped, "-o", "out"])
        .arg("oras.e2e.test:1/cmd-cp-flags/resolve-port:v1")
        .success();
    assert!(sandbox.path("out/a.txt").exists());
    // An entry for another port of the host does not apply.
    let other = format!("oras.e2e.test:2:127.0.0.1:{}", open.port());
    sandbox
        .oras()
        .args(["resolve", "--plain-http", "--resolve", &other])
        .arg("oras.e2e.test:1/cmd-cp-flags/resolve-port:v1")
        .failure();
}
