//! Token auth as distribution does it (`auth: token` with a `rootcertbundle`): the harness token
//! server signs JWTs per user and scope; login, push and pull go through it, including the
//! identity (refresh) token `az acr login` leaves in config.json.

use base64::Engine as _;

use crate::harness::{
    Output, PASSWORD, Sandbox, USER, moved_realm_registry, realm_away_registry, token_registry,
    token_server,
};
use crate::servers::REFRESH_TOKEN;

const READER: &str = "reader";
const READER_PASSWORD: &str = "reader-pass";

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read config")).expect("config is JSON")
}

/// Pushes `f.txt` (with `content`) to `repo:v1` with `hello`'s credentials as flags.
#[track_caller]
fn push_as_hello(sandbox: &Sandbox, repo: &str, content: &str) -> Output {
    sandbox.write("f.txt", content);
    sandbox
        .oras()
        .args([
            "push",
            &token_registry().reference(&format!("{repo}:v1")),
            "f.txt",
        ])
        .args(["-u", USER, "-p", PASSWORD])
        .success()
}

#[test]
fn token_login_push_pull() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(out.stdout, "Login Succeeded\n");
    let config = read_json(&sandbox.config_json());
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")),
        "{config}"
    );

    sandbox.write("f.txt", "token auth\n");
    let reference = registry.reference("token/login-push-pull:v1");
    let push = sandbox.oras().args(["push", &reference, "f.txt"]).success();
    assert_eq!(
        push.digest_line(),
        crate::harness::sha256_hex(&registry.manifest("token/login-push-pull:v1"))
    );
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"token auth\n");
    let users: Vec<_> = token_server()
        .requests_for("token/login-push-pull")
        .into_iter()
        .map(|r| (r.method, r.user))
        .collect();
    assert!(
        users
            .iter()
            .all(|(m, u)| m == "GET" && u.as_deref() == Some(USER)),
        "every token request is a GET as {USER}: {users:?}"
    );
}

#[test]
fn token_login_with_a_wrong_password_fails() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", "wrong"])
        .failure();
    out.error_first_line("Error response from registry: unauthorized:");
    assert!(!sandbox.config_json().exists(), "{out}");
}

#[test]
fn token_read_only_user_cannot_push() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    push_as_hello(&sandbox, "token/read-only", "pushed by hello\n");

    // The reader may pull …
    sandbox
        .oras()
        .args([
            "pull",
            &registry.reference("token/read-only:v1"),
            "-o",
            "out",
        ])
        .args(["-u", READER, "-p", READER_PASSWORD])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"pushed by hello\n");

    // … but not push.
    sandbox.write("g.txt", "pushed by reader\n");
    let out = sandbox
        .oras()
        .args(["push", &registry.reference("token/read-only:v2"), "g.txt"])
        .args(["-u", READER, "-p", READER_PASSWORD])
        .failure();
    out.error_first_line("Error response from registry:");
    // distribution lists the actions in map order: `pull,push` or `push,pull`.
    let refused = out
        .stderr
        .split("insufficient scope: the registry requires repository:token/read-only:")
        .nth(1)
        .and_then(|rest| rest.split(',').next());
    assert!(
        matches!(refused, Some("pull" | "push")),
        "the error should name the refused scope\n{out}"
    );
}

#[test]
fn token_anonymous_pull_of_a_public_repository() {
    let registry = token_registry();
    let owner = Sandbox::new();
    push_as_hello(&owner, "public/anonymous", "for everyone\n");

    let anonymous = Sandbox::new();
    std::fs::write(anonymous.config_json(), "{}").unwrap();
    anonymous
        .oras()
        .args([
            "pull",
            &registry.reference("public/anonymous:v1"),
            "-o",
            "out",
        ])
        .success();
    assert_eq!(anonymous.read("out/f.txt"), b"for everyone\n");
    let requests = token_server().requests_for("public/anonymous");
    assert!(
        requests.iter().any(|r| r.user.is_none()),
        "the pull asked for an anonymous token: {requests:?}"
    );
}

#[test]
fn token_push_without_credentials_fails() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "nobody\n");
    let out = sandbox
        .oras()
        .args(["push", &registry.reference("token/nobody:v1"), "f.txt"])
        .failure();
    // The anonymous token grants nothing on a private repository.
    out.error_first_line("Error response from registry: insufficient scope:");
    out.stderr_contains("repository:token/nobody:");
    out.stderr_contains("oras login");
}

#[test]
fn acr_shaped_config_pushes_and_pulls_with_a_refresh_token() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    let null_user =
        base64::engine::general_purpose::STANDARD.encode("00000000-0000-0000-0000-000000000000:");
    std::fs::write(
        sandbox.config_json(),
        serde_json::json!({"auths": {registry.host(): {
            "auth": null_user, "identitytoken": REFRESH_TOKEN}}})
        .to_string(),
    )
    .unwrap();
    sandbox.write("f.txt", "acr shaped\n");
    let reference = registry.reference("token/acr-shape:v1");
    sandbox.oras().args(["push", &reference, "f.txt"]).success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"acr shaped\n");
    let requests = token_server().requests_for("token/acr-shape");
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            (
                r.method.as_str(),
                r.grant_type.as_deref(),
                r.refresh_token.as_deref()
            ),
            ("POST", Some("refresh_token"), Some(REFRESH_TOKEN)),
            "{requests:?}"
        );
    }
}

#[test]
fn login_with_a_password_but_no_username_stores_an_identity_token() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-p", REFRESH_TOKEN])
        .success();
    assert_eq!(out.stdout, "Login Succeeded\n");
    let config = read_json(&sandbox.config_json());
    let entry = &config["auths"][registry.host()];
    assert_eq!(
        *entry,
        serde_json::json!({"identitytoken": REFRESH_TOKEN}),
        "only the identity token is stored: {config}"
    );
    // Login asks for no scope, so the refresh grant carries no `scope` field (as oras-go).
    let logins: Vec<_> = token_server()
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token") && r.scopes.is_empty())
        .collect();
    assert!(!logins.is_empty());
    assert!(logins.iter().all(|r| r.empty_scopes == 0), "{logins:?}");

    sandbox.write("f.txt", "identity token login\n");
    sandbox
        .oras()
        .args([
            "push",
            &registry.reference("token/identity-login:v1"),
            "f.txt",
        ])
        .success();
    let requests = token_server().requests_for("token/identity-login");
    assert!(
        !requests.is_empty()
            && requests
                .iter()
                .all(|r| r.grant_type.as_deref() == Some("refresh_token")),
        "the push used the refresh-token grant: {requests:?}"
    );
}

#[test]
fn one_push_makes_exactly_one_token_request() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "first file\n");
    sandbox.write("b.txt", "second file\n");
    sandbox
        .oras()
        .args([
            "push",
            &registry.reference("token/one-exchange:v1"),
            "a.txt",
            "b.txt",
        ])
        .args(["-u", USER, "-p", PASSWORD])
        .success();
    let requests = token_server().requests_for("token/one-exchange");
    assert_eq!(
        requests.len(),
        1,
        "one token (pull,push) should serve every request of the push: {requests:?}"
    );
    assert_eq!(
        requests[0].scopes,
        ["repository:token/one-exchange:pull,push"],
        "{requests:?}"
    );
}

/// Asserts a `--debug` trace shows requests with `Authorization` masked and no secret.
#[track_caller]
fn assert_trace_hides_secrets(out: &Output, secrets: &[&str]) {
    let authorization: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.to_ascii_lowercase().contains("authorization"))
        .collect();
    assert!(
        !authorization.is_empty(),
        "the trace should show the Authorization headers it sent\n{out}"
    );
    for line in &authorization {
        assert!(
            line.trim_end().ends_with("\"*****\""),
            "Authorization must print as *****: {line:?}\n{out}"
        );
    }
    // Tokens are JWTs: base64 of `{"` starts with `eyJ`.
    assert!(!out.stderr.contains("eyJ"), "a token leaked\n{out}");
    // The service name contains the password's text, so drop it before looking.
    let stderr = out.stderr.replace(crate::servers::SERVICE, "");
    for secret in secrets {
        assert!(!stderr.contains(secret), "{secret:?} leaked\n{out}");
    }
}

#[test]
fn debug_trace_of_a_token_push_hides_credentials_and_tokens() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "traced\n");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let out = sandbox
        .oras()
        .args(["push", &registry.reference("token/debug:v1"), "f.txt"])
        .args(["-u", USER, "-p", PASSWORD, "--debug"])
        .success();
    assert_trace_hides_secrets(&out, &[PASSWORD, &basic]);

    let out = sandbox
        .oras()
        .args(["push", &registry.reference("token/debug:v2"), "f.txt"])
        .args(["--identity-token", REFRESH_TOKEN, "--debug"])
        .success();
    assert_trace_hides_secrets(&out, &[REFRESH_TOKEN]);
}

#[test]
fn a_registry_token_in_the_config_is_sent_as_is() {
    // config.json's `registrytoken` is oras-go's access token: the bearer token itself.
    let registry = token_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "registry token\n");
    let reference = registry.reference("token/registrytoken:v1");
    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "-u", USER, "-p", PASSWORD])
        .success();
    let before = token_server().requests_for("token/registrytoken").len();
    let token = token_server().mint(USER, "token/registrytoken", &["pull"]);
    std::fs::write(
        sandbox.config_json(),
        serde_json::json!({"auths": {registry.host(): {"registrytoken": token}}}).to_string(),
    )
    .unwrap();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"registry token\n");
    assert_eq!(
        token_server().requests_for("token/registrytoken").len(),
        before,
        "no token was asked for"
    );
}

#[test]
fn a_token_realm_that_redirects_is_followed_with_the_credentials_on_its_origin() {
    let registry = moved_realm_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "moved realm\n");
    // Username and password: a GET with Basic credentials, sent again after the 307.
    let reference = registry.reference("token/moved-basic:v1");
    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "-u", USER, "-p", PASSWORD])
        .success();
    let requests = token_server().requests_for("token/moved-basic");
    assert!(!requests.is_empty());
    assert!(
        requests.iter().any(|r| r.user.as_deref() == Some(USER)),
        "the credentials reached the token endpoint behind the redirect: {requests:?}"
    );
    // An identity token: the refresh grant is POSTed again (307 keeps method and body).
    let reference = registry.reference("token/moved-refresh:v1");
    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "-p", REFRESH_TOKEN])
        .success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out", "-p", REFRESH_TOKEN])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"moved realm\n");
    let requests = token_server().requests_for("token/moved-refresh");
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            (r.method.as_str(), r.grant_type.as_deref()),
            ("POST", Some("refresh_token")),
            "{requests:?}"
        );
    }
}

#[test]
fn a_token_realm_redirected_to_another_origin_gets_no_credentials() {
    let registry = realm_away_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "realm away\n");
    // Basic credentials stay behind: the other origin hands out an anonymous token, which
    // may not push.
    let reference = registry.reference("token/away-basic:v1");
    let out = sandbox
        .oras()
        .args(["push", &reference, "f.txt", "-u", USER, "-p", PASSWORD])
        .failure();
    out.stderr_contains("insufficient scope");
    let requests = token_server().requests_for("token/away-basic");
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.user.is_none()),
        "credentials followed the redirect to another origin: {requests:?}"
    );
    // The refresh token travels in the body: that redirect is refused before anything is sent.
    let out = sandbox
        .oras()
        .args([
            "push",
            &registry.reference("token/away-refresh:v1"),
            "f.txt",
        ])
        .args(["-p", REFRESH_TOKEN])
        .failure();
    out.stderr_contains("the refresh token would go to another origin");
    assert!(
        token_server().requests_for("token/away-refresh").is_empty(),
        "the refresh grant reached the other origin"
    );
}
