//! Proxies from the environment, as Go's `net/http` reads them for the Go client: requests to
//! other hosts go through `HTTP_PROXY` (with the credentials in its URL), while `localhost`,
//! loopback addresses and `NO_PROXY` hosts go direct, and `ALL_PROXY` is not read.

use base64::Engine as _;

use crate::harness::{Sandbox, registry};
use crate::servers::Recorder;

/// A proxy that answers every request with a registry's "manifest unknown".
fn recording_proxy() -> Recorder {
    Recorder::start("127.0.0.1", |_| {
        let json = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        let body = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"seen by the proxy"}]}"#;
        (404, json, body.to_owned())
    })
}

#[test]
fn requests_to_other_hosts_go_through_http_proxy_with_its_credentials() {
    let proxy = recording_proxy();
    let out = Sandbox::new()
        .oras()
        .env(
            "HTTP_PROXY",
            format!("http://proxyuser:proxypass@127.0.0.1:{}", proxy.port),
        )
        .args(["resolve", "--plain-http", "oras.test:5000/proxy/app:v1"])
        .failure();
    out.stderr_contains("oras.test:5000/proxy/app:v1: not found");
    let seen = proxy.seen();
    let (target, headers) = seen.first().expect("the proxy got the request");
    assert_eq!(target, "http://oras.test:5000/v2/proxy/app/manifests/v1");
    let expected = base64::engine::general_purpose::STANDARD.encode("proxyuser:proxypass");
    assert_eq!(
        headers.get("proxy-authorization"),
        Some(&format!("Basic {expected}"))
    );
}

#[test]
fn loopback_no_proxy_hosts_and_all_proxy_go_direct() {
    let proxy = recording_proxy();
    let through = format!("http://127.0.0.1:{}", proxy.port);
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "direct\n");
    // localhost and 127.0.0.1 never use a proxy (Go's rule), whatever NO_PROXY says.
    sandbox
        .oras()
        .env("HTTP_PROXY", &through)
        .args(["push", &registry.reference("proxy/direct:v1"), "f.txt"])
        .success();
    sandbox
        .oras()
        .env("http_proxy", &through)
        .args(["resolve", "--plain-http"])
        .arg(registry.ip_reference("proxy/direct:v1"))
        .success();
    // Another name goes direct when NO_PROXY lists it, and ALL_PROXY is not read at all.
    let port = registry.port();
    let named = format!("oras.test:{port}/proxy/direct:v1");
    let resolve = format!("oras.test:{port}:127.0.0.1:{port}");
    for (name, value) in [("NO_PROXY", "example.com, .test"), ("ALL_PROXY", "")] {
        let mut oras = sandbox.oras();
        oras = if value.is_empty() {
            oras.env(name, &through)
        } else {
            oras.env(name, value).env("HTTP_PROXY", &through)
        };
        oras.args(["resolve", "--plain-http", &named, "--resolve", &resolve])
            .success();
    }
    assert_eq!(proxy.seen(), Vec::new(), "requests went through the proxy");
}

#[test]
fn a_proxy_that_refuses_the_connection_is_named_in_the_error() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let out = Sandbox::new()
        .oras()
        .env(
            "HTTPS_PROXY",
            format!("http://u:proxy-secret@127.0.0.1:{port}"),
        )
        .args(["resolve", "oras.test/proxy/app:v1"])
        .failure();
    out.error_first_line("Error: failed to resolve digest:");
    out.stderr_contains(&format!(
        "The connection went through the proxy http://u:*****@127.0.0.1:{port}/ (from HTTPS_PROXY)"
    ));
    assert!(!out.stderr.contains("proxy-secret"), "{out}");
}
