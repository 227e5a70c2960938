//! The edges of the auth loop (auth.md §3.9): a challenge from another origin than the
//! registry's, a token realm on an internal address (§6.2), and a cached token that expired.

use crate::faults::{Fault, FaultProxy, Rule};
use crate::harness::{PASSWORD, Sandbox, USER, registry};
use crate::servers::Recorder;

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
