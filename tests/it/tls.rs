//! HTTPS registries with a private CA or a self-signed certificate: `127.0.0.1:<port>` (unlike
//! `localhost`) is reached over HTTPS by default. `--ca-file`, `--insecure` and mutual TLS with
//! `--cert-file`/`--key-file`.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::harness::{
    Output, Sandbox, mtls_registry, pki, registry, self_signed_registry, sha256_hex, tls_registry,
};

/// A sandbox holding `ca.pem`, `client.pem`, `client-key.pem` and `f.txt`.
fn sandbox_with_pki(content: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    let pki = pki();
    sandbox.write("ca.pem", &pki.ca_cert);
    sandbox.write("client.pem", &pki.client_cert);
    sandbox.write("client-key.pem", &pki.client_key);
    sandbox.write("f.txt", content);
    sandbox
}

#[track_caller]
fn assert_untrusted_certificate(out: &Output) {
    out.error_first_line("Error");
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains("certificate"),
        "the error should name the certificate problem\n{out}"
    );
    out.stderr_contains("--ca-file");
    out.stderr_contains("--insecure");
}

#[test]
fn tls_registry_needs_its_ca_or_insecure() {
    let registry = tls_registry();
    let sandbox = sandbox_with_pki("over tls\n");
    let reference = registry.ip_reference("tls/ca-file:v1");

    let out = sandbox.oras().args(["push", &reference, "f.txt"]).failure();
    assert_untrusted_certificate(&out);

    // A --ca-file with no certificate in it is refused before any request, as in Go.
    sandbox.write("not-a-ca.pem", "no certificate here\n");
    let out = sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--ca-file", "not-a-ca.pem"])
        .failure();
    assert_eq!(
        out.stderr, "Error: Failed to load certificate in file: not-a-ca.pem\n",
        "{out}"
    );

    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--ca-file", "ca.pem"])
        .success();

    pull_needs_the_ca(&sandbox, &reference, b"over tls\n");
}

/// Pulling `reference` fails on the untrusted certificate (and writes nothing), then succeeds
/// with `--ca-file`, giving `f.txt` with `content`.
#[track_caller]
fn pull_needs_the_ca(sandbox: &Sandbox, reference: &str, content: &[u8]) {
    let out = sandbox
        .oras()
        .args(["pull", reference, "-o", "untrusted"])
        .failure();
    assert_untrusted_certificate(&out);
    assert!(!sandbox.path("untrusted/f.txt").exists());

    sandbox
        .oras()
        .args(["pull", reference, "-o", "with-ca", "--ca-file", "ca.pem"])
        .success();
    assert_eq!(sandbox.read("with-ca/f.txt"), content);
}

#[test]
fn tls_registry_works_with_insecure() {
    let registry = tls_registry();
    let sandbox = sandbox_with_pki("insecure\n");
    let reference = registry.ip_reference("tls/insecure:v1");
    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--insecure"])
        .success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out", "--insecure"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"insecure\n");
}

#[test]
fn mutual_tls_registry_needs_the_client_certificate() {
    let registry = mtls_registry();
    let sandbox = sandbox_with_pki("mutual tls\n");
    let reference = registry.ip_reference("tls/mutual:v1");
    let client = ["--cert-file", "client.pem", "--key-file", "client-key.pem"];

    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--ca-file", "ca.pem"])
        .args(client)
        .success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out", "--ca-file", "ca.pem"])
        .args(client)
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"mutual tls\n");

    let out = sandbox
        .oras()
        .args(["pull", &reference, "-o", "no-cert", "--ca-file", "ca.pem"])
        .failure();
    out.error_first_line("Error");
    assert!(!sandbox.path("no-cert/f.txt").exists());

    let out = sandbox
        .oras()
        .args(["pull", &reference, "-o", "half", "--ca-file", "ca.pem"])
        .args(["--cert-file", "client.pem"])
        .failure();
    assert!(
        out.stderr
            .starts_with("Error: --cert-file must be used in conjunction with --key-file"),
        "{out}"
    );
}

/// A plain-HTTP front whose every answer is a redirect to the same path on the TLS registry
/// (as a registry that keeps its blobs behind an https storage host does).
fn redirect_to_https(tls_port: u16) -> u16 {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind the redirecting front");
    let port = server.server_addr().to_ip().expect("an IP address").port();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let location = format!("https://127.0.0.1:{tls_port}{}", req.url());
            let header = tiny_http::Header::from_bytes(&b"Location"[..], location.as_bytes())
                .expect("a valid header");
            let _ = req.respond(tiny_http::Response::empty(307).with_header(header));
        }
    });
    port
}

#[test]
fn a_plain_http_registry_redirecting_to_https_gets_verified_tls() {
    // A plain-HTTP client is built without the system's TLS roots (they cost start-up time);
    // an https URL it meets is fetched with a client that has them, and --ca-file.
    let registry = tls_registry();
    let sandbox = sandbox_with_pki("redirected to tls\n");
    sandbox
        .oras()
        .args(["push", &registry.ip_reference("tls/redirected:v1"), "f.txt"])
        .args(["--ca-file", "ca.pem"])
        .success();
    let front = redirect_to_https(registry.port());
    let reference = format!("localhost:{front}/tls/redirected:v1");
    pull_needs_the_ca(&sandbox, &reference, b"redirected to tls\n");
}

/// A sandbox holding `ca.pem` (the self-signed registry's certificate itself),
/// `private-ca.pem` (the test CA) and `f.txt`.
fn sandbox_with_self_signed(content: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("ca.pem", &pki().self_signed_cert);
    sandbox.write("private-ca.pem", &pki().ca_cert);
    sandbox.write("f.txt", content);
    sandbox
}

/// Asserts stderr has exactly the hint line `hint`, and no suggestion to pass `--ca-file`.
#[track_caller]
fn assert_hint_without_ca_file_advice(out: &Output, hint: &str) {
    out.error_first_line("Error");
    assert!(
        out.stderr.lines().any(|l| l == hint),
        "stderr should have the hint {hint:?}\n{out}"
    );
    assert!(!out.stderr.contains("pass its CA"), "{out}");
}

#[test]
fn a_self_signed_ca_certificate_given_with_ca_file_is_trusted() {
    // Regression: a self-signed certificate marked CA:TRUE (openssl req -x509) was refused with
    // CaUsedAsEndEntity even when given with --ca-file.
    let registry = self_signed_registry();
    let sandbox = sandbox_with_self_signed("self-signed\n");
    let reference = registry.ip_reference("tls/self-signed:v1");

    let out = sandbox.oras().args(["push", &reference, "f.txt"]).failure();
    assert_untrusted_certificate(&out);

    sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--ca-file", "ca.pem"])
        .success();

    pull_needs_the_ca(&sandbox, &reference, b"self-signed\n");
}

#[test]
fn a_self_signed_ca_certificate_is_still_checked_against_the_host_name() {
    let registry = self_signed_registry();
    let sandbox = sandbox_with_self_signed("wrong name\n");
    let port = registry.port();
    let out = sandbox
        .oras()
        .args([
            "push",
            &format!("oras-rs.test:{port}/tls/wrong-name:v1"),
            "f.txt",
        ])
        .args(["--resolve", &format!("oras-rs.test:{port}:127.0.0.1")])
        .args(["--ca-file", "ca.pem"])
        .failure();
    out.stderr_contains("not valid for name \"oras-rs.test\"");
    assert_hint_without_ca_file_advice(
        &out,
        "The registry's TLS certificate is not valid for the host name or address in the \
         reference: use a name the certificate covers, or reissue it for this one.",
    );
}

#[test]
fn with_ca_file_the_certificate_hint_says_what_is_wrong() {
    // Regression: with --ca-file given, a refused certificate's hint said to pass --ca-file.
    let sandbox = sandbox_with_self_signed("hint\n");

    // A CA-signed certificate, checked against a file without that CA.
    let reference = tls_registry().ip_reference("tls/hint:v1");
    let out = sandbox
        .oras()
        .args(["push", &reference, "f.txt", "--ca-file", "ca.pem"])
        .failure();
    assert_hint_without_ca_file_advice(
        &out,
        "The registry's TLS certificate is not signed by a CA in the file given with --ca-file.",
    );

    // A self-signed CA certificate, checked against a file without it.
    let reference = self_signed_registry().ip_reference("tls/hint:v1");
    let out = sandbox
        .oras()
        .args([
            "pull",
            &reference,
            "-o",
            "out",
            "--ca-file",
            "private-ca.pem",
        ])
        .failure();
    assert_hint_without_ca_file_advice(
        &out,
        "The registry's TLS certificate is a CA certificate that is not itself in the file \
         given with --ca-file: a CA certificate is accepted as a registry's own only when \
         listed there.",
    );
}

/// An answer of [`CertRecorder`]: status, headers, body.
type TlsAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// An HTTPS server on 127.0.0.1 with [`pki`]'s server certificate that asks for a client
/// certificate signed by the test CA without requiring one, and records for each request
/// whether one was presented.
struct CertRecorder {
    port: u16,
    presented: Arc<Mutex<Vec<bool>>>,
}

impl CertRecorder {
    /// `answer` makes the response to a request from its method and path.
    fn start(answer: impl Fn(&str, &str) -> TlsAnswer + Send + Sync + 'static) -> CertRecorder {
        let pki = pki();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_cert.as_bytes()).unwrap())
            .unwrap();
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .allow_unauthenticated()
                .build()
                .unwrap();
        let chain = CertificateDer::pem_slice_iter(pki.server_cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let presented = Arc::new(Mutex::new(Vec::new()));
        let (log, answer) = (Arc::clone(&presented), Arc::new(answer));
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, log, answer) =
                    (Arc::clone(&config), Arc::clone(&log), Arc::clone(&answer));
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    serve_tls(rustls::StreamOwned::new(conn, tcp), &log, &*answer);
                });
            }
        });
        CertRecorder { port, presented }
    }

    fn presented(&self) -> Vec<bool> {
        self.presented.lock().unwrap().clone()
    }
}

/// Answers one request on a TLS connection (then closes it), noting whether the client
/// presented a certificate.
fn serve_tls(
    mut tls: rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    log: &Mutex<Vec<bool>>,
    answer: &dyn Fn(&str, &str) -> TlsAnswer,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    log.lock()
        .unwrap()
        .push(tls.conn.peer_certificates().is_some_and(|c| !c.is_empty()));
    let (status, headers, body) = answer(method, path);
    let mut out = format!(
        "HTTP/1.1 {status} Status\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if method != "HEAD" {
        bytes.extend_from_slice(&body);
    }
    let _ = tls.write_all(&bytes);
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

#[test]
fn the_client_certificate_is_not_shown_to_a_blob_redirect_target() {
    // Regression (GHSA-h3wm-jjqf-8jm2): the --cert-file identity was presented to every host,
    // a storage host behind a blob redirect included.
    let blob = b"behind an https redirect\n".repeat(40);
    let digest = format!("sha256:{}", sha256_hex(&blob));
    let stored = blob.clone();
    let storage = CertRecorder::start(move |_, _| (200, Vec::new(), stored.clone()));
    let storage_port = storage.port;
    let front = CertRecorder::start(move |_, path| {
        if path.contains("/blobs/") {
            let location = format!("https://127.0.0.1:{storage_port}/storage{path}");
            (307, vec![("Location".to_owned(), location)], Vec::new())
        } else {
            let json = ("Content-Type".to_owned(), "application/json".to_owned());
            (200, vec![json], b"{}".to_vec())
        }
    });
    let sandbox = sandbox_with_pki("");
    sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            &format!("127.0.0.1:{}/tls/redirect@{digest}", front.port),
            "--output",
            "out.bin",
            "--ca-file",
            "ca.pem",
            "--cert-file",
            "client.pem",
            "--key-file",
            "client-key.pem",
        ])
        .success();
    assert_eq!(sandbox.read("out.bin"), blob);
    let (front, storage) = (front.presented(), storage.presented());
    assert!(
        !front.is_empty() && front.iter().all(|p| *p),
        "the registry's origin gets the certificate: {front:?}"
    );
    assert!(!storage.is_empty(), "the blob came from the storage host");
    assert!(
        storage.iter().all(|p| !p),
        "the client certificate was presented to the storage host: {storage:?}"
    );
}

#[test]
fn ssl_cert_file_adds_a_ca_as_go_reads_it() {
    // CI machines behind a corporate CA set SSL_CERT_FILE (or SSL_CERT_DIR), which Go's
    // crypto/x509 reads as the system roots: no --ca-file needed.
    let registry = tls_registry();
    let sandbox = sandbox_with_pki("system roots from SSL_CERT_FILE\n");
    let reference = registry.ip_reference("tls/ssl-cert-file:v1");
    sandbox
        .oras()
        .env("SSL_CERT_FILE", sandbox.path("ca.pem"))
        .args(["push", &reference, "f.txt"])
        .success();
    std::fs::create_dir(sandbox.path("certs")).unwrap();
    std::fs::copy(sandbox.path("ca.pem"), sandbox.path("certs/ca.pem")).unwrap();
    sandbox
        .oras()
        .env("SSL_CERT_DIR", sandbox.path("certs"))
        .args(["resolve", &reference])
        .success();
}

#[test]
fn empty_tls_path_flags_are_not_given() {
    // Regression: `--ca-file "$CA"` with the variable unset failed with a garbled "flag needs an
    // argument"; the Go client checks these flags `!= ""`, so an empty one is not given.
    let sb = Sandbox::new();
    sb.write("f.txt", "tls flags\n");
    let source = registry().reference("tls/empty-flags:v1");
    sb.oras().args(["push", &source, "f.txt"]).success();
    let out = sb
        .oras()
        .args(["repo", "tags", &registry().reference("tls/empty-flags")])
        .args(["--ca-file", "", "--cert-file", "", "--key-file", ""])
        .success();
    assert_eq!(out.stdout, "v1\n");
    sb.oras()
        .args([
            "cp",
            &source,
            &registry().reference("tls/empty-flags-copy:v1"),
        ])
        .args([
            "--from-ca-file",
            "",
            "--from-cert-file",
            "",
            "--from-key-file",
            "",
        ])
        .args([
            "--to-ca-file",
            "",
            "--to-cert-file",
            "",
            "--to-key-file",
            "",
        ])
        .success();
    let out = sb
        .oras()
        .args(["repo", "tags", &registry().reference("tls/empty-flags")])
        .args(["--cert-file", "", "--key-file", "key.pem"])
        .failure();
    out.error_first_line("Error: --key-file must be used in conjunction with --cert-file");
}
