//! Credential helpers (`credsStore`, `credHelpers`): a `docker-credential-<name>` script on PATH
//! that speaks the get/store/erase JSON protocol (auth.md §2) and keeps credentials in files.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use crate::harness::{
    PASSWORD, Registry, Sandbox, USER, auth_registry, token_registry, token_server,
};
use crate::servers::REFRESH_TOKEN;

const HELPER: &str = "oras-it";

/// The script installed as `docker-credential-oras-it` in a sandbox.
struct Helper {
    bin: PathBuf,
    store: PathBuf,
    log: PathBuf,
}

impl Helper {
    fn install(sandbox: &Sandbox) -> Helper {
        let root = sandbox.root().join("helper");
        let (bin, store) = (root.join("bin"), root.join("store"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&store).unwrap();
        let log = root.join("calls.log");
        let script = format!(
            r#"#!/bin/sh
# A credential helper that keeps one JSON file per server and logs "<action> <server>".
store='{store}'
log='{log}'
input=$(cat)
file_of() {{ printf '%s/%s.json' "$store" "$(printf '%s' "$1" | tr '/:' '__')"; }}
case "$1" in
store)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL" *: *"\([^"]*\)".*/\1/p')
    user=$(printf '%s' "$input" | sed -n 's/.*"Username" *: *"\([^"]*\)".*/\1/p')
    [ -n "$server" ] || {{ echo "no credentials server URL"; exit 1; }}
    [ -n "$user" ] || {{ echo "no credentials username"; exit 1; }}
    echo "store $server" >> "$log"
    printf '%s' "$input" > "$(file_of "$server")"
    ;;
get)
    server=$(printf '%s' "$input" | tr -d ' \t\r\n')
    echo "get $server" >> "$log"
    if [ -f "$(file_of "$server")" ]; then
        cat "$(file_of "$server")"
    else
        echo "credentials not found in native keychain"
        exit 1
    fi
    ;;
erase)
    server=$(printf '%s' "$input" | tr -d ' \t\r\n')
    echo "erase $server" >> "$log"
    if [ -f "$(file_of "$server")" ]; then
        rm "$(file_of "$server")"
    else
        echo "credentials not found in native keychain"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 <store|get|erase|list|version>"
    exit 1
    ;;
esac
"#,
            store = store.display(),
            log = log.display(),
        );
        let path = bin.join(format!("docker-credential-{HELPER}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Helper { bin, store, log }
    }

    /// `PATH` with the helper's directory first.
    fn path_env(&self) -> OsString {
        let mut dirs = vec![self.bin.clone()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// What the helper holds for `server`, as JSON.
    fn stored(&self, server: &str) -> Option<serde_json::Value> {
        let file = self
            .store
            .join(format!("{}.json", server.replace([':', '/'], "_")));
        let bytes = std::fs::read(file).ok()?;
        Some(serde_json::from_slice(&bytes).expect("helper file is JSON"))
    }
}

/// login stores through the helper, push reads through it, logout erases through it; the
/// secret never reaches config.json.
fn round_trip(registry: &Registry, config: &serde_json::Value, repo: &str) {
    let sandbox = Sandbox::new();
    let helper = Helper::install(&sandbox);
    let config_text = config.to_string();
    std::fs::write(sandbox.config_json(), &config_text).unwrap();
    let host = registry.host();
    let oras = || sandbox.oras().env("PATH", helper.path_env());

    oras()
        .args(["login", &host, "-u", USER, "-p", PASSWORD])
        .success();
    assert_eq!(helper.calls(), [format!("store {host}")]);
    assert_eq!(
        helper.stored(&host),
        Some(serde_json::json!({"ServerURL": host, "Username": USER, "Secret": PASSWORD})),
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.config_json()).unwrap(),
        config_text,
        "login through a helper leaves config.json alone"
    );

    sandbox.write("f.txt", "through a helper\n");
    let reference = registry.reference(&format!("{repo}:v1"));
    oras().args(["push", &reference, "f.txt"]).success();
    assert!(
        helper.calls().contains(&format!("get {host}")),
        "push asked the helper: {:?}",
        helper.calls()
    );

    oras().args(["logout", &host]).success();
    assert_eq!(
        helper.calls().last(),
        Some(&format!("erase {host}")),
        "{:?}",
        helper.calls()
    );
    assert_eq!(helper.stored(&host), None, "logout erased the credential");
    assert_eq!(
        std::fs::read_to_string(sandbox.config_json()).unwrap(),
        config_text
    );

    // With the helper empty (it answers "credentials not found"), the push has no credentials.
    let out = oras().args(["pull", &reference, "-o", "out"]).failure();
    out.error_first_line("Error");
    assert!(
        !out.stderr.contains("credential helper"),
        "not-found from a helper means no credentials, not a helper failure\n{out}"
    );
}

#[test]
fn creds_store_helper_stores_gets_and_erases() {
    round_trip(
        token_registry(),
        &serde_json::json!({"credsStore": HELPER}),
        "helper/creds-store",
    );
}

#[test]
fn cred_helpers_entry_stores_gets_and_erases() {
    let registry = auth_registry();
    round_trip(
        registry,
        &serde_json::json!({"credHelpers": {registry.host(): HELPER}, "auths": {}}),
        "helper/cred-helpers",
    );
}

#[test]
fn identity_token_goes_through_the_helper_as_the_token_user() {
    let registry = token_registry();
    let sandbox = Sandbox::new();
    let helper = Helper::install(&sandbox);
    std::fs::write(sandbox.config_json(), r#"{"credsStore":"oras-it"}"#).unwrap();
    let host = registry.host();
    let oras = || sandbox.oras().env("PATH", helper.path_env());

    oras()
        .args(["login", &host, "--identity-token", REFRESH_TOKEN])
        .success();
    assert_eq!(
        helper.stored(&host),
        Some(
            serde_json::json!({"ServerURL": host, "Username": "<token>", "Secret": REFRESH_TOKEN})
        ),
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.config_json()).unwrap(),
        r#"{"credsStore":"oras-it"}"#
    );

    sandbox.write("f.txt", "identity token from a helper\n");
    oras()
        .args(["push", &registry.reference("helper/identity:v1"), "f.txt"])
        .success();
    let requests = token_server().requests_for("helper/identity");
    assert!(
        !requests.is_empty()
            && requests
                .iter()
                .all(|r| r.grant_type.as_deref() == Some("refresh_token")),
        "the helper's `<token>` secret is used as a refresh token: {requests:?}"
    );
}
