//! Every command that reaches a registry fails the same clear way without credentials, with
//! wrong ones, and with an empty credential file (oras-cli.md §13.11).

use base64::Engine as _;

use crate::harness::{PASSWORD, Sandbox, USER, auth_registry};

#[test]
fn every_command_needs_credentials_on_an_htpasswd_registry() {
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "f\n");
    let repo = registry.reference("auth-commands/app");
    let seeded = sandbox
        .oras()
        .args([
            "push",
            &format!("{repo}:v1"),
            "f.txt",
            "-u",
            USER,
            "-p",
            PASSWORD,
        ])
        .success();
    let digest = format!("sha256:{}", seeded.digest_line());
    let layer = format!("sha256:{}", crate::harness::sha256_hex(b"f\n"));
    let tagged = format!("{repo}:v1");
    let commands: Vec<Vec<String>> = vec![
        vec![
            "attach".into(),
            "--artifact-type".into(),
            "doc/x".into(),
            tagged.clone(),
            "f.txt".into(),
        ],
        vec!["discover".into(), tagged.clone()],
        vec!["push".into(), format!("{repo}:v2"), "f.txt".into()],
        vec!["pull".into(), tagged.clone(), "-o".into(), "out".into()],
        vec!["manifest".into(), "fetch".into(), tagged.clone()],
        vec!["manifest".into(), "fetch-config".into(), tagged.clone()],
        vec![
            "blob".into(),
            "delete".into(),
            "-f".into(),
            format!("{repo}@{layer}"),
        ],
        vec!["blob".into(), "push".into(), repo.clone(), "f.txt".into()],
        vec!["tag".into(), tagged.clone(), "v3".into()],
        vec!["resolve".into(), tagged.clone()],
        vec!["repo".into(), "ls".into(), registry.host()],
        vec!["repo".into(), "tags".into(), repo.clone()],
        vec![
            "backup".into(),
            tagged.clone(),
            "-o".into(),
            "backup-dir".into(),
        ],
    ];
    let empty = sandbox.path("empty.registry.config");
    std::fs::write(&empty, "{}").unwrap();
    for args in &commands {
        // No credentials at all (a config path that does not exist).
        let out = sandbox
            .oras()
            .args(args)
            .args([
                "--registry-config",
                &sandbox.path("absent.json").display().to_string(),
            ])
            .failure();
        out.error_first_line("Error");
        out.stderr_contains("basic credential not found");

        // Wrong credentials.
        let out = sandbox
            .oras()
            .args(args)
            .args(["-u", USER, "-p", "oras-test1"])
            .failure();
        out.error_first_line("Error response from registry: ");

        // An empty credential file: the hint names it.
        let out = sandbox
            .oras()
            .args(args)
            .args(["--registry-config", &empty.display().to_string()])
            .failure();
        out.stderr_contains(&format!(
            "Please check whether the registry credential stored in the authentication file at {:?} is correct",
            empty.display().to_string()
        ));
    }
    // Nothing was changed by the failed commands.
    let out = sandbox
        .oras()
        .args(["resolve", &tagged, "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(out.stdout.trim(), digest);
}

#[test]
fn an_entry_with_an_identity_token_and_a_password_answers_basic_with_the_password() {
    // What a tool that stores both leaves behind: oras-go answers a Basic challenge with the
    // `auth` pair and keeps the token for token servers.
    let registry = auth_registry();
    let sandbox = Sandbox::new();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        sandbox.config_json(),
        serde_json::json!({"auths": {registry.host(): {
            "auth": auth, "identitytoken": "a-refresh-token"}}})
        .to_string(),
    )
    .unwrap();
    sandbox.write("f.txt", "both\n");
    let reference = registry.reference("auth-commands/both:v1");
    sandbox.oras().args(["push", &reference, "f.txt"]).success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"both\n");
}
