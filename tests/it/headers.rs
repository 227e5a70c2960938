//! `-H` custom headers (oras-cli.md §13.10): every command that talks to a registry sends them
//! on every request to the registry's origin, and `--debug` prints their values as `*****`
//! (they often carry credentials; the Go client's main branch does the same).

use crate::harness::{Sandbox, registry};
use crate::servers::RedirectFront;

const SECRET: &str = "s3cr3t-h34der-value";

#[test]
fn custom_headers_reach_the_registry_and_stay_out_of_debug_traces() {
    let registry = registry();
    let front = RedirectFront::start(registry.port(), None);
    let sandbox = Sandbox::new();
    let repo = format!("localhost:{}/headers/app", front.port);
    sandbox.write("hi.txt", "hi\n");
    sandbox
        .oras()
        .args(["push", &format!("{repo}:v1"), "hi.txt"])
        .success();
    let layer = format!("sha256:{}", crate::harness::sha256_hex(b"hi\n"));
    sandbox.write("note.txt", "note\n");

    let headers = ["-H", &format!("Foo: {SECRET}"), "-H", "A: b", "-d"];
    let commands: Vec<Vec<String>> = vec![
        vec!["push".into(), format!("{repo}:v2"), "hi.txt".into()],
        vec![
            "pull".into(),
            format!("{repo}:v1"),
            "-o".into(),
            "out".into(),
        ],
        vec![
            "attach".into(),
            "--artifact-type".into(),
            "doc/x".into(),
            format!("{repo}:v1"),
            "note.txt".into(),
        ],
        vec!["discover".into(), format!("{repo}:v1")],
        vec!["manifest".into(), "fetch".into(), format!("{repo}:v1")],
        vec![
            "blob".into(),
            "fetch".into(),
            format!("{repo}@{layer}"),
            "-o".into(),
            "blob.out".into(),
        ],
        vec!["tag".into(), format!("{repo}:v1"), "v3".into()],
        vec!["resolve".into(), format!("{repo}:v1")],
        vec!["repo".into(), "tags".into(), repo.clone()],
        vec![
            "repo".into(),
            "ls".into(),
            format!("localhost:{}", front.port),
        ],
    ];
    for args in commands {
        let before = front.front_seen.lock().unwrap().len();
        let out = sandbox.oras().args(&args).args(headers).success();
        assert!(
            !out.stderr.contains(SECRET),
            "the header value leaked into the trace\n{out}"
        );
        let requests = out.stderr.matches("--> Request #").count();
        assert!(requests > 0, "{out}");
        assert!(
            out.stderr.matches("\"Foo\": \"*****\"").count() >= 1,
            "the trace shows the custom header masked\n{out}"
        );
        let seen = front.front_seen.lock().unwrap()[before..].to_vec();
        assert!(!seen.is_empty(), "{args:?} reached the registry");
        for h in &seen {
            assert_eq!(
                h.get("foo").map(String::as_str),
                Some(SECRET),
                "{args:?}: {h:?}"
            );
            assert!(
                h.get("a").is_some_and(|v| v.trim() == "b"),
                "{args:?}: {h:?}"
            );
        }
    }
    assert_eq!(sandbox.read("blob.out"), b"hi\n");
}

/// A header value a request cannot carry is refused naming the header, never printing the
/// value: `-H "Authorization: Bearer $(cat token)"` with a CRLF token file is a common slip.
#[test]
fn an_invalid_header_value_is_refused_without_printing_it() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference("headers/invalid:v1");
    let value = format!("Authorization: Bearer {SECRET}\r");
    let to_header = format!("X-Token: {SECRET}\r");
    // Regression: the error was `invalid header: " Bearer s3cr3t-h34der-value\r"`.
    for (args, name) in [
        (vec!["resolve", "-H", &value, &reference], "Authorization"),
        (
            vec!["cp", "--to-header", &to_header, &reference, &reference],
            "X-Token",
        ),
    ] {
        let out = sandbox.oras().args(args).failure();
        assert!(!out.stderr.contains(SECRET), "{out}");
        assert!(!out.stdout.contains(SECRET), "{out}");
        out.error_first_line(&format!("Error: invalid header field value for {name:?}"));
    }
}
