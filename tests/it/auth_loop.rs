//! The edges of the auth loop (auth.md §3.9): a challenge from another origin than the
//! registry's, a token realm on an internal address (§6.2), and a cached token that expired.

use crate::faults::{Fault, FaultProxy, Rule};
use crate::harness::{
    PASSWORD, Sandbox, USER, auth_registry, registry, token_registry, token_server,
};
use crate::servers::{Recorder, SERVICE};

#[test]
fn a_token_realm_on_another_loopback_address_is_refused() {
    // Regression (GHSA-28r5-37g7-p6mp): a registry could name any internal address as its
    // token realm and be sent the user's credentials there.
    let trap = Recorder::start("127.0.0.2", |_| {
        let json = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        (200, json, r#"{"token":"from-the-trap"}"#.to_owned())
    });
    let realm = format!("http://127.0.0.2:{}/token", trap.port);
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["GET", "HEAD"],
            "/manifests/",
            Fault::Challenge(format!(r#"Bearer realm="{realm}",service="trap""#)),
        )],
    );
    let sandbox = Sandbox::new();
    let reference = format!("127.0.0.1:{}/auth-loop/realm:v1", proxy.port);
    let out = sandbox
        .oras()
        .args(["pull", &reference, "--plain-http", "-o", "out"])
        .args(["-u", USER, "-p", PASSWORD])
        .failure();
    out.error_first_line("Error");
    out.stderr_contains(&format!("refusing token realm \"{realm}\""));
    out.stderr_contains("loopback");
    assert_eq!(
        trap.seen(),
        Vec::new(),
        "the realm was asked for a token\n{out}"
    );
}

#[test]
fn a_token_realm_on_the_address_the_registry_is_reached_at_is_allowed() {
    // `localhost` with a realm on 127.0.0.1, or a `--resolve`d name with a realm on the address
    // it resolves to: no other machine is reached, so the realm is asked (oras-go compares
    // names only and refuses both).
    let realm_host = Recorder::start("127.0.0.1", |_| {
        let json = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        (200, json, r#"{"token":"from-the-same-machine"}"#.to_owned())
    });
    let realm = format!("http://127.0.0.1:{}/token", realm_host.port);
    let sandbox = Sandbox::new();
    for resolve in [false, true] {
        // The first manifest request is challenged; the one repeated with the token is not.
        let challenge = Fault::Challenge(format!(r#"Bearer realm="{realm}",service="same""#));
        let proxy = FaultProxy::start(
            registry().port(),
            vec![Rule::new(&["GET", "HEAD"], "/manifests/", challenge).times(1)],
        );
        let (host, mapping) = if resolve {
            let port = proxy.port;
            (
                format!("registry.test:{port}"),
                vec![
                    "--resolve".to_owned(),
                    format!("registry.test:{port}:127.0.0.1:{port}"),
                ],
            )
        } else {
            (format!("localhost:{}", proxy.port), Vec::new())
        };
        let out = sandbox
            .oras()
            .args([
                "resolve",
                &format!("{host}/auth-loop/same:v1"),
                "--plain-http",
            ])
            .args(mapping)
            .run();
        assert!(
            !out.stderr.contains("refusing token realm"),
            "{host}: the realm was refused\n{out}"
        );
    }
    assert_eq!(realm_host.seen().len(), 2, "one token request per command");
}

#[test]
fn a_challenge_from_a_redirect_target_is_not_answered() {
    // Regression: a 401 from a blob redirect's target was answered, sending the user's
    // credentials to the token realm it named and the token back to the registry.
    let storage = Recorder::start("127.0.0.2", |port| {
        let realm = format!("http://storage.test:{port}/token");
        let headers = vec![
            (
                "WWW-Authenticate".to_owned(),
                format!(r#"Bearer realm="{realm}",service="s""#),
            ),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ];
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#;
        (401, headers, body.to_owned())
    });
    let proxy = FaultProxy::start(
        auth_registry().port(),
        vec![Rule::new(
            &["GET"],
            "/blobs/sha256:",
            Fault::RedirectTo(format!("http://storage.test:{}", storage.port)),
        )],
    );
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "behind a challenging redirect\n");
    sandbox
        .oras()
        .args([
            "push",
            &auth_registry().reference("auth-loop/foreign:v1"),
            "f.txt",
        ])
        .args(["-u", USER, "-p", PASSWORD])
        .success();

    // A host name rather than 127.0.0.2, so that no realm check refuses it on its own.
    let out = sandbox
        .oras()
        .args([
            "pull",
            &proxy.reference("auth-loop/foreign:v1"),
            "-o",
            "out",
        ])
        .args(["-u", USER, "-p", PASSWORD])
        .args([
            "--resolve",
            &format!("storage.test:{}:127.0.0.2", storage.port),
        ])
        .failure();
    out.error_first_line("Error");
    let seen = storage.seen();
    assert!(
        seen.iter().any(|(path, _)| path.contains("/blobs/sha256:")),
        "the blob GET followed the redirect: {seen:?}\n{out}"
    );
    for (path, headers) in &seen {
        assert!(
            !path.starts_with("/token"),
            "a token was asked of the redirect target's realm: {seen:?}\n{out}"
        );
        assert!(
            !headers.contains_key("authorization"),
            "credentials reached the redirect target: {seen:?}\n{out}"
        );
    }
    let bearer_to_registry = proxy.all_seen().into_iter().any(|s| {
        s.headers
            .get("authorization")
            .is_some_and(|a| a.starts_with("Bearer"))
    });
    assert!(!bearer_to_registry, "a token went to the registry\n{out}");
}

#[test]
fn an_expired_token_is_fetched_anew_once() {
    // Regression: a cached token refused with error="invalid_token" was sent again, and the
    // pull failed with "unauthorized: token expired".
    let repo = "auth-loop/expired";
    let sandbox = Sandbox::new();
    let files = ["a.txt", "b.txt", "c.txt"];
    for (i, name) in files.iter().enumerate() {
        sandbox.write(name, format!("blob {i} of an expiring pull\n").repeat(50));
    }
    sandbox
        .oras()
        .args(["push", &token_registry().reference(&format!("{repo}:v1"))])
        .args(files)
        .args(["-u", USER, "-p", PASSWORD])
        .success();
    let before = token_server().requests_for(repo).len();

    let challenge = format!(
        r#"Bearer realm="{}",service="{SERVICE}",scope="repository:{repo}:pull",error="invalid_token""#,
        token_server().realm()
    );
    let proxy = FaultProxy::start(
        token_registry().port(),
        vec![Rule::new(&["GET"], "/blobs/sha256:", Fault::Revoke(challenge)).times(1)],
    );
    sandbox
        .oras()
        .args(["pull", &proxy.reference(&format!("{repo}:v1")), "-o", "out"])
        .args(["-u", USER, "-p", PASSWORD])
        .success();
    for (i, name) in files.iter().enumerate() {
        assert_eq!(
            sandbox.read(&format!("out/{name}")),
            format!("blob {i} of an expiring pull\n")
                .repeat(50)
                .as_bytes()
        );
    }
    let requests = token_server().requests_for(repo);
    assert_eq!(
        requests.len() - before,
        2,
        "one token for the pull, one after it expired: {:?}",
        &requests[before..]
    );
}
