//! login/logout and the Docker-compatible `config.json` they maintain, and how push/pull find
//! credentials (stored, `-u/-p`, `--registry-config`) against the htpasswd registry.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;

use crate::harness::{Output, PASSWORD, Sandbox, USER, auth_registry};

fn expected_auth() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read config")).expect("config is JSON")
}

#[track_caller]
fn assert_credential_error(out: &Output) {
    out.error_first_line("Error");
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains("basic credential not found") || stderr.contains("unauthorized"),
        "expected a missing-credential error\n{out}"
    );
}

#[test]
fn login_writes_a_private_config_and_keeps_unknown_keys() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config_json(), r#"{"psFormat":"x"}"#).unwrap();

    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(out.stdout, "Login Succeeded\n");
    out.stderr_contains("WARNING! Using --password via the CLI is insecure.");

    let mode = std::fs::metadata(sandbox.config_json())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "config.json must be private, got {mode:o}"
    );
    let config = read_json(&sandbox.config_json());
    assert_eq!(
        config["psFormat"], "x",
        "unknown keys are preserved: {config}"
    );
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        expected_auth(),
        "{config}"
    );
}

#[test]
fn login_creates_the_config_file_when_missing() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    // DOCKER_CONFIG points at a directory that does not exist yet.
    std::fs::remove_dir(sandbox.docker_config()).unwrap();
    sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    let config = read_json(&sandbox.config_json());
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        expected_auth(),
        "{config}"
    );
}

#[test]
fn login_honours_the_docker_config_variable() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    let alternative = sandbox.root().join("alt-docker");
    sandbox
        .oras()
        .env("DOCKER_CONFIG", &alternative)
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    let config = read_json(&alternative.join("config.json"));
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        expected_auth(),
        "{config}"
    );
    assert!(!sandbox.config_json().exists());
}

#[test]
fn login_with_a_wrong_password_fails_and_leaves_the_config_alone() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    let original = "{\n  \"psFormat\": \"x\",\n  \"auths\": {}\n}\n";
    std::fs::write(sandbox.config_json(), original).unwrap();

    let out = sandbox
        .oras()
        .args([
            "login",
            &registry.host(),
            "-u",
            USER,
            "-p",
            "wrong-password",
        ])
        .failure();
    out.error_first_line("Error");
    assert!(
        out.stderr.contains("Error response from registry:")
            || out.stderr.to_lowercase().contains("unauthorized"),
        "{out}"
    );
    assert_ne!(out.stdout, "Login Succeeded\n");
    assert_eq!(
        std::fs::read_to_string(sandbox.config_json()).unwrap(),
        original
    );
}

#[test]
fn login_with_a_corrupt_config_fails_and_leaves_it_alone() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config_json(), "{not json").unwrap();
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("config.json");
    assert_eq!(
        std::fs::read_to_string(sandbox.config_json()).unwrap(),
        "{not json"
    );
}

#[test]
fn login_reads_the_password_from_stdin() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "--password-stdin"])
        .stdin(format!("{PASSWORD}\n"))
        .success();
    assert_eq!(out.stdout, "Login Succeeded\n");
    assert!(
        !out.stderr.contains("WARNING"),
        "no insecure-password warning expected\n{out}"
    );
    let config = read_json(&sandbox.config_json());
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        expected_auth(),
        "{config}"
    );
}

#[test]
fn registry_config_flag_redirects_the_credential_store() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .args(["--registry-config", "creds.json"])
        .success();
    let config = read_json(&sandbox.path("creds.json"));
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        expected_auth(),
        "{config}"
    );
    assert!(
        !sandbox.config_json().exists(),
        "the default config must stay untouched"
    );

    sandbox.write("f.txt", "with custom config\n");
    let reference = registry.reference("login/custom-config:v1");
    let without = sandbox.oras().args(["push", &reference, "f.txt"]).failure();
    assert_credential_error(&without);
    sandbox
        .oras()
        .args([
            "push",
            &reference,
            "f.txt",
            "--registry-config",
            "creds.json",
        ])
        .success();
}

#[test]
fn logout_removes_the_stored_credential() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config_json(), r#"{"psFormat":"x"}"#).unwrap();
    sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    let out = sandbox.oras().args(["logout", &registry.host()]).success();
    assert_eq!(out.stdout, "", "logout prints nothing");

    let config = read_json(&sandbox.config_json());
    assert!(
        config["auths"].get(registry.host()).is_none(),
        "credential still present after logout: {config}"
    );
    assert_eq!(config["psFormat"], "x");

    sandbox.write("f.txt", "after logout\n");
    let push = sandbox
        .oras()
        .args(["push", &registry.reference("login/logout:v1"), "f.txt"])
        .failure();
    assert_credential_error(&push);
}

#[test]
fn push_needs_credentials_and_works_after_login() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "needs auth\n");
    let reference = registry.reference("login/after-login:v1");

    let denied = sandbox.oras().args(["push", &reference, "f.txt"]).failure();
    assert_credential_error(&denied);

    sandbox
        .oras()
        .args(["login", &registry.host(), "-u", USER, "-p", PASSWORD])
        .success();
    let push = sandbox.oras().args(["push", &reference, "f.txt"]).success();
    assert_eq!(
        push.digest_line(),
        crate::harness::sha256_hex(&registry.manifest("login/after-login:v1"))
    );
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"needs auth\n");
}

#[test]
fn push_and_pull_accept_credentials_as_flags() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "flag credentials\n");
    let reference = registry.reference("login/flags:v1");
    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "-u", USER, "-p", PASSWORD])
        .success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out", "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"flag credentials\n");
    assert!(!sandbox.config_json().exists(), "flags must not be stored");

    let wrong = sandbox
        .oras()
        .args([
            "pull",
            &reference,
            "-o",
            "out2",
            "-u",
            USER,
            "-p",
            "wrong-password",
        ])
        .failure();
    wrong.error_first_line("Error");
    assert!(!sandbox.path("out2/f.txt").exists());
}

#[test]
fn missing_credentials_name_the_config_file() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "no credentials\n");
    let out = sandbox
        .oras()
        .args(["push", &registry.reference("login/missing:v1"), "f.txt"])
        .failure();
    out.error_first_line("Error: basic credential not found");
    out.stderr_contains(&format!(
        "Please check whether the registry credential stored in the authentication file at {:?} is correct",
        sandbox.config_json().display().to_string()
    ));
}

#[test]
fn secret_flag_conflicts_name_the_flags_given_and_come_before_any_warning() {
    // Go's CheckMutuallyExclusiveFlags: each group names the flags of it that were given.
    let sandbox = Sandbox::new();
    for (args, error) in [
        (
            &["--identity-token-stdin", "--password-stdin"][..],
            "--identity-token-stdin, --password-stdin",
        ),
        (
            &["-u", "a", "--identity-token-stdin"][..],
            "--username, --identity-token-stdin",
        ),
        (
            &["-u", "a", "--identity-token", "t"][..],
            "--username, --identity-token",
        ),
        (
            &["-p", "a", "--identity-token", "t"][..],
            "--password, --identity-token",
        ),
        (
            &["-p", "a", "--password-stdin"][..],
            "--password, --password-stdin",
        ),
    ] {
        let out = sandbox
            .oras()
            .args(["login", "localhost:1"])
            .args(args)
            .stdin("secret\n")
            .failure();
        assert_eq!(
            out.stderr,
            format!("Error: {error} cannot be used at the same time\n"),
            "{out}"
        );
    }
    // The certificate pair is checked before the password warning is printed.
    let out = sandbox
        .oras()
        .args([
            "login",
            "localhost:1",
            "--cert-file",
            "c.pem",
            "-u",
            "a",
            "-p",
            "b",
        ])
        .failure();
    assert_eq!(
        out.stderr, "Error: --cert-file must be used in conjunction with --key-file\n",
        "{out}"
    );
}

/// login and logout refusals in the Go client's words (§16): an empty secret, a username
/// config.json cannot hold, and a credential store that cannot delete.
#[test]
fn login_and_logout_refusals_are_the_go_clients_words() {
    let sandbox = Sandbox::new();
    let open = crate::harness::registry().host();
    let host = auth_registry().host();
    sandbox.write("helper.json", r#"{"credsStore":"oras-rs-no-such-helper"}"#);
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["login", &host, "-u", USER, "--password-stdin"], "Error: password required"),
        (&["login", &host, "--identity-token-stdin"], "Error: token required"),
        (&["login", &open, "-u", "a:b", "-p", "x"], &format!("Error: failed to store the credentials for {open}: bad credential format: colons(:) are not allowed in username")),
        (&["logout", "--registry-config", "helper.json", "example.com"], "Error: failed to delete the credential for example.com: …"),
    ];
    for (args, first) in cases {
        let out = sandbox.oras().args(*args).stdin("").failure();
        let line = out
            .stderr
            .lines()
            .find(|l| !l.starts_with("WARNING!"))
            .unwrap_or_default();
        match first.strip_suffix('…') {
            Some(start) => assert!(line.starts_with(start), "{out}"),
            None => assert_eq!(line, *first, "{out}"),
        }
    }
    assert!(!sandbox.config_json().exists(), "nothing may be stored");
}
