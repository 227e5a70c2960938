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
        path_with(&self.bin)
    }

    fn calls(&self) -> Vec<String> {
        logged_lines(&self.log)
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

/// A `docker-credential-<name>` that logs each run and always fails, like `desktop` with Docker
/// Desktop stopped.
struct BrokenHelper {
    bin: PathBuf,
    log: PathBuf,
}

const BROKEN: &str = "oras-it-down";
const BROKEN_MESSAGE: &str = "error getting credentials: the keychain is locked";

impl BrokenHelper {
    fn install(sandbox: &Sandbox) -> BrokenHelper {
        let bin = sandbox.root().join("broken-helper");
        std::fs::create_dir_all(&bin).unwrap();
        let log = sandbox.root().join("broken-calls.log");
        let script = format!(
            "#!/bin/sh\ncat >/dev/null\necho \"$1\" >> '{log}'\necho '{BROKEN_MESSAGE}'\nexit 1\n",
            log = log.display(),
        );
        let path = bin.join(format!("docker-credential-{BROKEN}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            sandbox.config_json(),
            serde_json::json!({ "credsStore": BROKEN }).to_string(),
        )
        .unwrap();
        BrokenHelper { bin, log }
    }

    fn path_env(&self) -> OsString {
        path_with(&self.bin)
    }

    fn calls(&self) -> Vec<String> {
        logged_lines(&self.log)
    }
}

// oras#743: a broken credsStore must not break anonymous pulls; helpers run only on a 401.
#[test]
fn broken_helper_is_not_run_for_a_registry_without_auth() {
    let registry = crate::harness::registry();
    let sandbox = Sandbox::new();
    let helper = BrokenHelper::install(&sandbox);
    let oras = || sandbox.oras().env("PATH", helper.path_env());
    let reference = registry.reference("helper/broken-anonymous:v1");

    sandbox.write("f.txt", "no credentials needed\n");
    oras().args(["push", &reference, "f.txt"]).success();
    oras().args(["resolve", &reference]).success();
    oras().args(["pull", &reference, "-o", "out"]).success();
    assert_eq!(sandbox.read("out/f.txt"), b"no credentials needed\n");
    assert_eq!(helper.calls(), Vec::<String>::new(), "the helper never ran");

    // A helper that is not installed at all is no obstacle either.
    std::fs::write(sandbox.config_json(), r#"{"credsStore":"oras-it-missing"}"#).unwrap();
    oras().args(["resolve", &reference]).success();
}

#[test]
fn broken_helper_fails_an_auth_registry_naming_the_helper_with_a_hint() {
    for registry in [auth_registry(), token_registry()] {
        let sandbox = Sandbox::new();
        let helper = BrokenHelper::install(&sandbox);
        let reference = registry.reference("helper/broken-auth:v1");
        sandbox.write("f.txt", "needs credentials\n");
        for args in [
            vec!["resolve", &reference],
            vec!["push", &reference, "f.txt"],
        ] {
            let out = sandbox
                .oras()
                .env("PATH", helper.path_env())
                .args(&args)
                .failure();
            out.error_first_line("Error:");
            assert_eq!(
                out.stderr.matches("Error").count(),
                1,
                "one error line\n{out}"
            );
            out.stderr_contains(&format!("docker-credential-{BROKEN}"))
                .stderr_contains(BROKEN_MESSAGE)
                .stderr_contains("\"credsStore\"")
                .stderr_contains(&sandbox.config_json().display().to_string())
                .stderr_contains("--registry-config");
        }
        assert_eq!(
            helper.calls(),
            ["get", "get"],
            "one run per command ({})",
            registry.host()
        );
    }
}

#[test]
fn working_helper_runs_once_per_command() {
    for registry in [auth_registry(), token_registry()] {
        let sandbox = Sandbox::new();
        let helper = Helper::install(&sandbox);
        std::fs::write(sandbox.config_json(), r#"{"credsStore":"oras-it"}"#).unwrap();
        let host = registry.host();
        let oras = || sandbox.oras().env("PATH", helper.path_env());
        oras()
            .args(["login", &host, "-u", USER, "-p", PASSWORD])
            .success();
        let before = helper.calls().len();

        sandbox.write("f.txt", "one helper run\n");
        let reference = registry.reference("helper/once:v1");
        oras().args(["push", &reference, "f.txt"]).success();
        assert_eq!(helper.calls()[before..], [format!("get {host}")], "push");

        // Both sides of a copy within one registry share the lookup.
        let copy = registry.reference("helper/once-copy:v1");
        oras().args(["cp", &reference, &copy]).success();
        assert_eq!(
            helper.calls()[before + 1..],
            [format!("get {host}")],
            "cp within one registry"
        );
    }
}

/// `PATH` with `bin` first.
fn path_with(bin: &std::path::Path) -> OsString {
    let mut dirs = vec![bin.to_owned()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// The lines a fake helper logged, one per run.
fn logged_lines(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}
