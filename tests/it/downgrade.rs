//! A registry on https that redirects to http: the client refuses to follow, so nothing
//! (credentials, or a request at all) reaches the plain-http host.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::harness::{Sandbox, pki};

/// An https server (certificate from the test CA) answering every request with a redirect to
/// `http://127.0.0.1:<http_port>/…`.
fn https_redirecting_to_http(http_port: u16) -> u16 {
    let pki = pki();
    let certs = CertificateDer::pem_slice_iter(pki.server_cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let path = {
                    let mut reader = BufReader::new(&mut tls);
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                    }
                    line.split_whitespace().nth(1).unwrap_or("/").to_owned()
                };
                let _ = write!(
                    tls,
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{http_port}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn an_https_registry_redirecting_to_http_is_not_followed() {
    let sb = Sandbox::new();
    sb.write("ca.pem", &pki().ca_cert);
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reached);
    std::thread::spawn(move || {
        for _ in plain.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let https_port = https_redirecting_to_http(plain_port);
    let out = sb
        .oras()
        .args([
            "pull",
            &format!("127.0.0.1:{https_port}/downgrade/me:v1"),
            "--ca-file",
            "ca.pem",
            "-u",
            "hello",
            "-p",
            "secret-password",
            "-o",
            "out",
        ])
        .failure();
    out.stderr_contains("https to http");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the http host was contacted: {out}"
    );
    assert!(
        !sb.path("out").exists() || std::fs::read_dir(sb.path("out")).unwrap().next().is_none()
    );
}
