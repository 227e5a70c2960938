//! Faults injected by a proxy in front of the real registry: transient ones (503 with
//! `Retry-After`, 429, a dropped upload, a download cut mid-blob, a truncated manifest) must be
//! survived; hostile ones (wrong bytes, an oversized manifest, a redirect loop, an upload
//! `Location` on another host) must fail with a clear error and leave no file behind.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{Output, Sandbox, registry, sha256_hex, tree};

/// What the proxy does to a request matched by a [`Rule`].
#[derive(Clone)]
pub enum Fault {
    /// Answer with this status (and `Retry-After` when given) without forwarding.
    Status(u16, Option<&'static str>),
    /// Read the request, forward nothing, close the connection without an answer.
    Drop,
    /// Forward, then send the full headers (`Content-Length` kept) but only this many body
    /// bytes before closing the connection.
    CutAfter(usize),
    /// Forward, then flip the last body byte (same length, wrong digest).
    Corrupt,
    /// Answer with this status and JSON body instead of forwarding.
    Reject(u16, &'static str),
    /// Answer with this body and media type instead of forwarding (headers only for HEAD).
    Serve(Arc<Vec<u8>>, &'static str),
    /// Answer 307 with a `Location` back to this same URL.
    RedirectToSelf,
    /// Forward, then point the `Location` header at this origin (`http://host:port`).
    LocationTo(String),
    /// Answer 307 with a `Location` to the same path on this origin (`http://host:port`).
    RedirectTo(String),
    /// Answer 401 with this `WWW-Authenticate` challenge.
    Challenge(String),
    /// Wait this long, then forward (a request still in flight when another one fails).
    Delay(Duration),
    /// Answer 401 with this challenge, and from then on refuse the `Authorization` the request
    /// carried the same way (a token that expired).
    Revoke(String),
    /// Forward, then send the headers and this many body bytes, and the rest only once the
    /// gate opens (a slow link, with the test deciding when the bytes arrive).
    Hold(usize, Arc<Gate>),
}

/// Holds back the rest of a [`Fault::Hold`] answer until the test opens it (or 60 s pass).
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let open = self.open.lock().unwrap();
        let _ = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
            .unwrap();
    }
}

/// Applies `fault` to requests whose method is in `methods` and whose path contains `path`,
/// `times` times (`None`: every time).
pub struct Rule {
    methods: &'static [&'static str],
    path: String,
    times: Option<usize>,
    fault: Fault,
}

impl Rule {
    pub fn new(methods: &'static [&'static str], path: impl Into<String>, fault: Fault) -> Rule {
        Rule {
            methods,
            path: path.into(),
            times: None,
            fault,
        }
    }

    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }
}

/// One request the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    at: Instant,
    /// Whether a fault was applied to it.
    faulted: bool,
}

/// A proxy on 127.0.0.1 in front of a registry, applying scripted faults.
pub struct FaultProxy {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// What the proxy's connections share: the rules, the log, and the `Authorization` values
/// [`Fault::Revoke`] refuses, each with its challenge.
struct Shared {
    rules: Mutex<Vec<Rule>>,
    log: Arc<Mutex<Vec<Seen>>>,
    revoked: Mutex<Vec<(String, String)>>,
}

impl FaultProxy {
    pub fn start(upstream_port: u16, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            rules: Mutex::new(rules),
            log: Arc::clone(&seen),
            revoked: Mutex::new(Vec::new()),
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (shared, agent) = (Arc::clone(&shared), agent.clone());
                std::thread::spawn(move || {
                    proxy_one(stream, upstream_port, &shared, &agent);
                });
            }
        });
        FaultProxy { port, seen }
    }

    /// `localhost:<port>/<repo_and_tag>` (plain HTTP by default).
    pub fn reference(&self, repo_and_tag: &str) -> String {
        format!("localhost:{}/{repo_and_tag}", self.port)
    }

    /// Requests whose method is `method` and whose path contains `path`.
    pub fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == method && s.path.contains(path))
            .cloned()
            .collect()
    }

    pub fn all_seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A parsed request: method, path, lower-cased headers and the whole body.
struct RawRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<RawRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let mut request = RawRequest {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let len: usize = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; len];
        reader.read_exact(&mut request.body).ok()?;
    }
    Some(request)
}

/// The upstream answer, or one the proxy made up.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `Content-Length` to announce when it differs from the body (HEAD).
    length: Option<String>,
    cut_after: Option<usize>,
    /// Bytes sent before waiting for the gate to open.
    hold: Option<(usize, Arc<Gate>)>,
}

impl Answer {
    fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            length: None,
            cut_after: None,
            hold: None,
        }
    }
}

fn forward(agent: &ureq::Agent, upstream_port: u16, request: &RawRequest) -> Answer {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(format!("http://127.0.0.1:{upstream_port}{}", request.path));
    for (name, value) in &request.headers {
        if !["host", "content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    let upstream = builder.body(request.body.clone()).unwrap();
    let Ok(mut response) = agent.run(upstream) else {
        return Answer::new(502);
    };
    let mut answer = Answer::new(response.status().as_u16());
    for (name, value) in response.headers() {
        let value = value.to_str().unwrap_or_default().to_owned();
        match name.as_str() {
            "content-length" => answer.length = Some(value),
            "transfer-encoding" | "connection" => {}
            other => answer.headers.push((other.to_owned(), value)),
        }
    }
    if request.method != "HEAD" {
        answer.body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap_or_default();
        answer.length = None;
    }
    answer
}

/// Points a `Location` the registry built for its own address at `origin` instead.
fn relocate(answer: &mut Answer, upstream_port: u16, origin: &str) {
    for (name, value) in &mut answer.headers {
        if name == "location" {
            for own in [
                format!("http://127.0.0.1:{upstream_port}"),
                format!("http://localhost:{upstream_port}"),
            ] {
                if let Some(rest) = value.strip_prefix(&own) {
                    *value = format!("{origin}{rest}");
                }
            }
        }
    }
}

/// The fault for `request`: a revoked `Authorization`'s, else the first matching rule's.
fn fault_for(request: &RawRequest, shared: &Shared) -> Option<Fault> {
    let authorization = request.header("authorization");
    let revoked = shared
        .revoked
        .lock()
        .unwrap()
        .iter()
        .find(|(auth, _)| Some(auth.as_str()) == authorization)
        .map(|(_, challenge)| Fault::Challenge(challenge.clone()));
    if revoked.is_some() {
        return revoked;
    }
    let fault = {
        let mut rules = shared.rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| {
                r.methods.contains(&request.method.as_str())
                    && request.path.contains(&r.path)
                    && r.times != Some(0)
            })
            .map(|r| {
                if let Some(n) = &mut r.times {
                    *n -= 1;
                }
                r.fault.clone()
            })
    };
    if let (Some(Fault::Revoke(challenge)), Some(auth)) = (&fault, authorization) {
        let mut revoked = shared.revoked.lock().unwrap();
        revoked.push((auth.to_owned(), challenge.clone()));
    }
    fault
}

fn proxy_one(stream: TcpStream, upstream_port: u16, shared: &Shared, agent: &ureq::Agent) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let fault = fault_for(&request, shared);
    shared.log.lock().unwrap().push(Seen {
        method: request.method.clone(),
        path: request.path.clone(),
        headers: request.headers.iter().cloned().collect(),
        at: Instant::now(),
        faulted: fault.is_some(),
    });
    let own_origin = format!("http://{}", request.header("host").unwrap_or("127.0.0.1"));
    let mut answer = match fault {
        None => forward(agent, upstream_port, &request),
        Some(Fault::Status(status, retry_after)) => {
            let mut a = Answer::new(status);
            if let Some(seconds) = retry_after {
                a.headers.push(("Retry-After".into(), seconds.into()));
            }
            a.body = br#"{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}"#.to_vec();
            a
        }
        Some(Fault::Reject(status, body)) => {
            let mut a = Answer::new(status);
            a.headers
                .push(("Content-Type".into(), "application/json".into()));
            a.body = body.as_bytes().to_vec();
            a
        }
        Some(Fault::Drop) => {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        Some(Fault::Delay(wait)) => {
            std::thread::sleep(wait);
            forward(agent, upstream_port, &request)
        }
        Some(Fault::CutAfter(n)) => {
            let mut a = forward(agent, upstream_port, &request);
            a.cut_after = Some(n);
            a
        }
        Some(Fault::Hold(n, gate)) => {
            let mut a = forward(agent, upstream_port, &request);
            a.hold = Some((n, gate));
            a
        }
        Some(Fault::Corrupt) => {
            let mut a = forward(agent, upstream_port, &request);
            if let Some(last) = a.body.last_mut() {
                *last ^= 0x01;
            }
            a
        }
        Some(Fault::Serve(body, media_type)) => {
            let mut a = Answer::new(200);
            a.headers.push(("Content-Type".into(), media_type.into()));
            a.headers.push((
                "Docker-Content-Digest".into(),
                format!("sha256:{}", sha256_hex(&body)),
            ));
            if request.method == "HEAD" {
                a.length = Some(body.len().to_string());
            } else {
                a.body = body.to_vec();
            }
            a
        }
        Some(Fault::RedirectToSelf) => {
            let mut a = Answer::new(307);
            a.headers
                .push(("Location".into(), format!("{own_origin}{}", request.path)));
            a
        }
        Some(Fault::LocationTo(origin)) => {
            let mut a = forward(agent, upstream_port, &request);
            relocate(&mut a, upstream_port, &origin);
            a
        }
        Some(Fault::RedirectTo(origin)) => {
            let mut a = Answer::new(307);
            a.headers
                .push(("Location".into(), format!("{origin}{}", request.path)));
            a
        }
        Some(Fault::Challenge(challenge) | Fault::Revoke(challenge)) => {
            let mut a = Answer::new(401);
            a.headers.push(("WWW-Authenticate".into(), challenge));
            a.headers
                .push(("Content-Type".into(), "application/json".into()));
            a.body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}"#.to_vec();
            a
        }
    };
    relocate(&mut answer, upstream_port, &own_origin);
    write_answer(stream, &answer);
}

fn write_answer(mut out: TcpStream, answer: &Answer) {
    let reason = match answer.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let length = answer
        .length
        .clone()
        .unwrap_or_else(|| answer.body.len().to_string());
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nConnection: close\r\nContent-Length: {length}\r\n",
        answer.status
    );
    for (k, v) in &answer.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let end = answer
        .cut_after
        .unwrap_or(answer.body.len())
        .min(answer.body.len());
    let mut body = &answer.body[..end];
    if let Some((n, gate)) = &answer.hold {
        let (first, rest) = body.split_at((*n).min(body.len()));
        let _ = out.write_all(first);
        let _ = out.flush();
        gate.wait();
        body = rest;
    }
    let _ = out.write_all(body);
    let _ = out.flush();
    let _ = out.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    // xorshift: incompressible enough, reproducible.
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Pushes `name` with `content` straight to the registry (no proxy) as `repo_and_tag`.
fn push_direct(sb: &Sandbox, repo_and_tag: &str, name: &str, content: &[u8]) {
    sb.write(name, content);
    sb.oras()
        .args(["push", &registry().reference(repo_and_tag), name])
        .success();
}

/// Pulls `repo_and_tag` straight from the registry into `dir` and returns `dir/name`.
fn pull_direct(sb: &Sandbox, repo_and_tag: &str, dir: &str, name: &str) -> Vec<u8> {
    sb.oras()
        .args(["pull", &registry().reference(repo_and_tag), "-o", dir])
        .success();
    sb.read(&format!("{dir}/{name}"))
}

fn retry_lines(out: &Output) -> usize {
    out.stderr
        .lines()
        .filter(|l| l.contains("retrying"))
        .count()
}

/// A failed pull leaves nothing (not even a temp file) in its output directory.
#[track_caller]
fn assert_nothing_written(dir: &Path) {
    if dir.exists() {
        assert_eq!(
            tree(dir),
            Vec::<String>::new(),
            "output dir must stay empty"
        );
    }
}

#[track_caller]
fn assert_clear_error(out: &Output) {
    out.error_first_line("Error");
}

// ---------------------------------------------------------------------------------------------
// Transient faults: the transfer succeeds
// ---------------------------------------------------------------------------------------------

#[test]
fn push_retries_a_manifest_put_answered_503_twice_with_retry_after() {
    let sb = Sandbox::new();
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["PUT"], "/manifests/", Fault::Status(503, Some("1"))).times(2)],
    );
    let content = b"pushed through two 503s\n";
    sb.write("f.txt", content);
    let out = sb
        .oras()
        .args(["push", &proxy.reference("faults/push503:v1"), "f.txt"])
        .success();
    let puts = proxy.seen("PUT", "/manifests/");
    assert_eq!(
        puts.len(),
        3,
        "two refused PUTs, then one that lands\n{out}"
    );
    for pair in puts.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(900),
            "Retry-After: 1 must be honoured, waited {gap:?}\n{out}"
        );
    }
    assert!(retry_lines(&out) >= 2, "each retry is reported\n{out}");
    assert_eq!(
        pull_direct(&sb, "faults/push503:v1", "back", "f.txt"),
        content
    );
}

#[test]
fn pull_retries_a_blob_get_answered_503_twice_with_retry_after() {
    let sb = Sandbox::new();
    let content = random_bytes(64 * 1024, 503);
    push_direct(&sb, "faults/pull503:v1", "data.bin", &content);
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], "/blobs/sha256:", Fault::Status(503, Some("1"))).times(2)],
    );
    let out = sb
        .oras()
        .args(["pull", &proxy.reference("faults/pull503:v1"), "-o", "out"])
        .success();
    assert_eq!(sb.read("out/data.bin"), content);
    let gets = proxy.seen("GET", "/blobs/sha256:");
    assert_eq!(gets.len(), 3, "two refused GETs, then one served\n{out}");
    for pair in gets.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(900),
            "Retry-After: 1 must be honoured, waited {gap:?}\n{out}"
        );
    }
    let retries: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("retrying"))
        .collect();
    assert_eq!(retries.len(), 2, "one line per retry\n{out}");
    assert!(
        retries.iter().all(|l| l.contains("503")),
        "the retry line names the status\n{out}"
    );
}

#[test]
fn any_passing_5xx_is_retried_but_not_a_501() {
    // Cloudflare's 522 is as passing as a 503 (the Go client retries every 5xx); 501 says the
    // request can never work.
    let sb = Sandbox::new();
    push_direct(&sb, "faults/pull522:v1", "data.bin", b"behind a cdn\n");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], "/blobs/sha256:", Fault::Status(522, Some("0"))).times(1)],
    );
    sb.oras()
        .args(["pull", &proxy.reference("faults/pull522:v1"), "-o", "out"])
        .success();
    assert_eq!(sb.read("out/data.bin"), b"behind a cdn\n");
    assert_eq!(proxy.seen("GET", "/blobs/sha256:").len(), 2);

    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["GET"],
            "/blobs/sha256:",
            Fault::Status(501, None),
        )],
    );
    sb.oras()
        .args([
            "pull",
            &proxy.reference("faults/pull522:v1"),
            "-o",
            "out501",
        ])
        .failure();
    assert_eq!(proxy.seen("GET", "/blobs/sha256:").len(), 1);
}

#[test]
fn push_and_pull_retry_a_429_once() {
    let sb = Sandbox::new();
    let proxy = FaultProxy::start(
        registry().port(),
        vec![
            Rule::new(&["POST"], "/blobs/uploads/", Fault::Status(429, None)).times(1),
            Rule::new(&["GET", "HEAD"], "/manifests/", Fault::Status(429, None)).times(1),
        ],
    );
    let content = b"throttled once each way\n";
    sb.write("f.txt", content);
    let reference = proxy.reference("faults/throttled:v1");
    let push = sb.oras().args(["push", &reference, "f.txt"]).success();
    assert!(retry_lines(&push) >= 1, "the retry is reported\n{push}");
    let pull = sb.oras().args(["pull", &reference, "-o", "out"]).success();
    assert!(retry_lines(&pull) >= 1, "the retry is reported\n{pull}");
    assert_eq!(sb.read("out/f.txt"), content);
    let faulted: Vec<_> = proxy.all_seen().into_iter().filter(|s| s.faulted).collect();
    assert_eq!(faulted.len(), 2, "both faults were hit: {faulted:?}");
}

#[test]
fn push_restarts_an_upload_whose_connection_dropped() {
    let sb = Sandbox::new();
    let content = random_bytes(256 * 1024, 77);
    sb.write("data.bin", &content);
    // Any request carrying the blob (monolithic PUT or PATCH) is dropped once.
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["PUT", "PATCH"], "/blobs/uploads/", Fault::Drop).times(1)],
    );
    let out = sb
        .oras()
        .args(["push", &proxy.reference("faults/dropped:v1"), "data.bin"])
        .success();
    assert!(retry_lines(&out) >= 1, "the retry is reported\n{out}");
    let dropped_at = proxy
        .all_seen()
        .iter()
        .find(|s| s.faulted)
        .map(|s| s.at)
        .expect("the drop was hit");
    assert!(
        proxy
            .seen("POST", "/blobs/uploads/")
            .iter()
            .any(|s| s.at > dropped_at),
        "the broken upload restarts from a fresh POST: {:?}",
        proxy.all_seen()
    );
    assert_eq!(
        pull_direct(&sb, "faults/dropped:v1", "back", "data.bin"),
        content
    );
}

#[test]
fn pull_resumes_a_blob_cut_mid_body() {
    let sb = Sandbox::new();
    let content = random_bytes(1 << 20, 1234);
    push_direct(&sb, "faults/cut:v1", "data.bin", &content);
    let cut = 300 * 1024;
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], "/blobs/sha256:", Fault::CutAfter(cut)).times(1)],
    );
    sb.oras()
        .args(["pull", &proxy.reference("faults/cut:v1"), "-o", "out"])
        .success();
    assert_eq!(sb.read("out/data.bin"), content);
    let gets = proxy.seen("GET", "/blobs/sha256:");
    assert_eq!(gets.len(), 2, "one cut download, one resumed: {gets:?}");
    assert_eq!(
        gets[1].headers.get("range").map(String::as_str),
        Some(format!("bytes={cut}-").as_str()),
        "the real registry is asked for the rest only"
    );
}

/// Pushes a directory `site` of 40 incompressible 100 KiB files as `repo_and_tag` and returns
/// the files and the digest of its layer.
fn push_site(sb: &Sandbox, repo_and_tag: &str) -> (Vec<(String, Vec<u8>)>, String) {
    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("site/f{i:02}.bin"),
                random_bytes(100 * 1024, 900 + i),
            )
        })
        .collect();
    for (name, content) in &files {
        sb.write(name, content);
    }
    let reference = registry().reference(repo_and_tag);
    sb.oras().args(["push", &reference, "site"]).success();
    let manifest = sb.oras().args(["manifest", "fetch", &reference]).success();
    let manifest: serde_json::Value = serde_json::from_str(&manifest.stdout).unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    (files, layer)
}

/// A pull of a directory through a proxy that holds back all but the first 2 MiB of its
/// archive, caught while it waits for the rest.
struct HeldPull {
    files: Vec<(String, Vec<u8>)>,
    gate: Arc<Gate>,
    child: std::process::Child,
    /// Whether files of the directory were in the pull's staging directory by then.
    staged: bool,
    _proxy: FaultProxy,
}

/// Pushes a directory as `repo_and_tag` and starts `oras pull` of it into `out` through a
/// holding proxy; waits (up to 20 s) until files of it are in the pull's staging directory
/// (any of them: the archive holds them in the order the file system lists them).
fn held_pull(sb: &Sandbox, repo_and_tag: &str) -> HeldPull {
    let (files, layer) = push_site(sb, repo_and_tag);
    let gate = Arc::new(Gate::default());
    let hold = Fault::Hold(2 << 20, Arc::clone(&gate));
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], format!("/blobs/{layer}"), hold)],
    );
    let out_dir = sb.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let child = sb.spawn_oras(["pull", &proxy.reference(repo_and_tag), "-o", "out"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let staged = loop {
        let staged = std::fs::read_dir(&out_dir).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(".oras-unpack-")
                && tree(&e.path()).iter().any(|f| !f.ends_with('/'))
        });
        if staged || Instant::now() > deadline {
            break staged;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    HeldPull {
        files,
        gate,
        child,
        staged,
        _proxy: proxy,
    }
}

/// `out` holds the directory `files` came from, and nothing else.
#[track_caller]
fn assert_pulled(sb: &Sandbox, files: &[(String, Vec<u8>)]) {
    for (name, content) in files {
        assert_eq!(&sb.read(&format!("out/{name}")), content, "{name}");
    }
    assert_eq!(
        tree(&sb.path("out")).len(),
        files.len() + 1,
        "only the directory is left"
    );
}

#[test]
fn a_directory_is_extracted_while_it_downloads() {
    // Regression: a directory was extracted only once all of it had arrived, so on a slow link
    // a pull took the download and the extraction one after the other.
    let sb = Sandbox::new();
    let held = held_pull(&sb, "faults/overlap:v1");
    assert!(
        !sb.path("out/site").exists(),
        "nothing is moved into place before the download is verified"
    );
    held.gate.open();
    let out = held.child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        held.staged,
        "no file was extracted while the rest of the archive was held back"
    );
    assert_pulled(&sb, &held.files);
}

#[test]
fn a_signal_while_a_directory_waits_for_the_rest_of_its_archive_leaves_nothing() {
    // The extraction waits for bytes that will never come: it must wake up and clean up.
    let sb = Sandbox::new();
    let mut held = held_pull(&sb, "faults/overlap-stop:v1");
    let started = Instant::now();
    crate::harness::stop_with(&mut held.child, "TERM", 143, "terminated");
    held.gate.open();
    assert!(held.staged, "the extraction had started");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped at once, not after a timeout: {:?}",
        started.elapsed()
    );
    assert_nothing_written(&sb.path("out"));
}

#[test]
fn a_directory_whose_first_copy_is_damaged_is_extracted_from_the_second() {
    // The extraction of the damaged copy, already under way, is dropped for the good one.
    let sb = Sandbox::new();
    let (files, layer) = push_site(&sb, "faults/overlap-damaged:v1");
    let blob = format!("/blobs/{layer}");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], blob.as_str(), Fault::Corrupt).times(1)],
    );
    let out = sb
        .oras()
        .args([
            "pull",
            &proxy.reference("faults/overlap-damaged:v1"),
            "-o",
            "out",
        ])
        .success();
    assert_eq!(
        proxy.seen("GET", &blob).len(),
        2,
        "fetched once more\n{out}"
    );
    assert_pulled(&sb, &files);
}

#[test]
fn pull_retries_a_truncated_manifest_body() {
    let sb = Sandbox::new();
    let content = b"behind a truncated manifest\n";
    push_direct(&sb, "faults/truncated:v1", "f.txt", content);
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], "/manifests/", Fault::CutAfter(40)).times(1)],
    );
    let out = sb
        .oras()
        .args(["pull", &proxy.reference("faults/truncated:v1"), "-o", "out"])
        .success();
    assert_eq!(sb.read("out/f.txt"), content);
    assert!(
        proxy.seen("GET", "/manifests/").len() >= 2,
        "the manifest was fetched again\n{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Faults that are not transient: a clear error, no file
// ---------------------------------------------------------------------------------------------

#[test]
fn pull_refuses_wrong_bytes_for_a_blob_digest() {
    let sb = Sandbox::new();
    let content = random_bytes(32 * 1024, 4242);
    let digest = format!("sha256:{}", sha256_hex(&content));
    push_direct(&sb, "faults/corrupt:v1", "data.bin", &content);
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], "/blobs/sha256:", Fault::Corrupt)],
    );
    let out = sb
        .oras()
        .args(["pull", &proxy.reference("faults/corrupt:v1"), "-o", "out"])
        .failure();
    assert_clear_error(&out);
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains("digest") && stderr.contains("mismatch"),
        "stderr names the digest mismatch\n{out}"
    );
    out.stderr_contains(&digest);
    assert_nothing_written(&sb.path("out"));
    // Fetched once more before giving up (a damaged transfer may not repeat), not more.
    assert_eq!(proxy.seen("GET", "/blobs/sha256:").len(), 2, "{out}");
}

/// A registry that keeps answering 503 to the upload's POST gets five attempts in all: the
/// upload, which repeats a broken exchange as a whole, does not repeat the client's retries.
#[test]
fn a_persistent_503_is_tried_five_times_not_five_times_five() {
    let sb = Sandbox::new();
    sb.write("f.txt", "never stored\n");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["POST"],
            "/blobs/uploads/",
            Fault::Status(503, Some("0")),
        )],
    );
    let out = sb
        .oras()
        .args(["push", "--concurrency", "1"])
        .args([&proxy.reference("faults/always503:v1"), "f.txt"])
        .failure();
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("Error response from registry: "), "{out}");
    // One blob at a time: the first one's failure ends the push.
    assert_eq!(proxy.seen("POST", "/blobs/uploads/").len(), 5, "{out}");
    assert_eq!(retry_lines(&out), 4, "{out}");
}

/// Failures that would be the same on every attempt are reported at once: TLS spoken to a
/// plain-HTTP registry, and a port where nothing listens (the Go client retries neither).
#[test]
fn connection_failures_that_would_repeat_are_not_retried() {
    let sb = Sandbox::new();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let plain = format!("127.0.0.1:{}/faults/x:v1", registry().port());
    let nothing = format!("127.0.0.1:{closed}/faults/x:v1");
    for (reference, says) in [(&plain, "--plain-http"), (&nothing, "refused")] {
        let started = std::time::Instant::now();
        let out = sb.oras().args(["resolve", reference]).failure();
        assert_clear_error(&out);
        out.stderr_contains(says);
        assert_eq!(retry_lines(&out), 0, "{out}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{out}"
        );
    }
}

#[test]
fn pull_refuses_a_5mib_manifest_unless_the_limit_is_raised() {
    let sb = Sandbox::new();
    let content = b"under a huge manifest\n";
    push_direct(&sb, "faults/huge:small", "f.txt", content);
    // The real manifest, padded past 5 MiB with an annotation: still valid, just big.
    let small = http_manifest(registry().port(), "faults/huge", "small");
    let mut manifest: serde_json::Value = serde_json::from_slice(&small).unwrap();
    manifest["annotations"]["pad"] = "x".repeat(5 << 20).into();
    let big = Arc::new(serde_json::to_vec(&manifest).unwrap());
    assert!(big.len() > 5 << 20);
    let big_digest = format!("sha256:{}", sha256_hex(&big));
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let proxy = FaultProxy::start(
        registry().port(),
        vec![
            Rule::new(
                &["GET", "HEAD"],
                "/manifests/big",
                Fault::Serve(Arc::clone(&big), media_type),
            ),
            Rule::new(
                &["GET", "HEAD"],
                format!("/manifests/{big_digest}"),
                Fault::Serve(Arc::clone(&big), media_type),
            ),
        ],
    );
    let reference = proxy.reference("faults/huge:big");

    let out = sb.oras().args(["pull", &reference, "-o", "out"]).failure();
    assert_clear_error(&out);
    out.stderr_contains("exceeds the limit");
    assert_nothing_written(&sb.path("out"));

    sb.oras()
        .args([
            "pull",
            &reference,
            "-o",
            "raised",
            "--max-manifest-size",
            "8MiB",
        ])
        .success();
    assert_eq!(sb.read("raised/f.txt"), content);
}

/// The manifest stored under `repo:tag`, fetched from the registry with an OCI `Accept`.
fn http_manifest(port: u16, repo: &str, tag: &str) -> Vec<u8> {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    agent
        .get(format!("http://127.0.0.1:{port}/v2/{repo}/manifests/{tag}"))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .expect("fetch manifest")
        .body_mut()
        .read_to_vec()
        .expect("read manifest")
}

#[test]
fn pull_stops_at_a_redirect_loop() {
    let sb = Sandbox::new();
    push_direct(&sb, "faults/loop:v1", "f.txt", b"never reached\n");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["GET", "HEAD"],
            "/manifests/",
            Fault::RedirectToSelf,
        )],
    );
    let out = sb
        .oras()
        .args(["pull", &proxy.reference("faults/loop:v1"), "-o", "out"])
        .failure();
    assert_clear_error(&out);
    assert!(
        out.stderr.to_lowercase().contains("redirect"),
        "stderr says it gave up on redirects\n{out}"
    );
    let hops = proxy.seen("GET", "/manifests/").len() + proxy.seen("HEAD", "/manifests/").len();
    assert!(
        (2..=60).contains(&hops),
        "the loop is followed a bounded number of times, and not retried forever: {hops}\n{out}"
    );
    assert_nothing_written(&sb.path("out"));
}

#[test]
fn a_manifest_put_and_an_upload_post_follow_a_307() {
    // Registries may redirect any request; a PUT or POST whose body can be sent again follows
    // 307/308 (method and body kept), as Go's net/http does.
    let sb = Sandbox::new();
    sb.write("f.txt", "redirected writes\n");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![
            Rule::new(&["PUT"], "/manifests/", Fault::RedirectToSelf).times(1),
            Rule::new(&["POST"], "/blobs/uploads/", Fault::RedirectToSelf).times(1),
        ],
    );
    let reference = proxy.reference("faults/put307:v1");
    let out = sb.oras().args(["push", &reference, "f.txt"]).success();
    assert_eq!(proxy.seen("PUT", "/manifests/").len(), 2, "{out}");
    assert!(proxy.seen("POST", "/blobs/uploads/").len() >= 2, "{out}");
    sb.oras().args(["pull", &reference, "-o", "out"]).success();
    assert_eq!(sb.read("out/f.txt"), b"redirected writes\n");
}

#[test]
fn push_refuses_an_upload_location_on_another_host() {
    let sb = Sandbox::new();
    // Anything connecting here is a client that followed the foreign Location.
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    trap.set_nonblocking(true).unwrap();
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["POST"],
            "/blobs/uploads/",
            Fault::LocationTo(format!("http://127.0.0.1:{trap_port}")),
        )],
    );
    sb.write("f.txt", b"must not go elsewhere\n");
    let out = sb
        .oras()
        .args(["push", &proxy.reference("faults/foreign:v1"), "f.txt"])
        .failure();
    assert_clear_error(&out);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{trap_port}"))
            && out.stderr.to_lowercase().contains("refus"),
        "stderr names the refused location\n{out}"
    );
    assert!(
        trap.accept().is_err(),
        "the client connected to the foreign upload host\n{out}"
    );
    assert!(
        proxy.seen("PUT", "/manifests/").is_empty(),
        "no manifest is pushed after a failed upload"
    );
}

/// `resolve` asks with `HEAD`, as the Go client does: registries that meter pulls (Docker Hub)
/// count manifest GETs only. With `--platform` the index has to be read.
#[test]
fn resolve_asks_with_head_only() {
    let sb = Sandbox::new();
    push_direct(&sb, "faults/head:v1", "f.txt", b"head\n");
    let proxy = FaultProxy::start(registry().port(), vec![]);
    let out = sb
        .oras()
        .args(["resolve", &proxy.reference("faults/head:v1")])
        .success();
    let digest = out.stdout.trim().to_owned();
    assert_eq!(proxy.seen("HEAD", "/manifests/").len(), 1, "{out}");
    assert!(proxy.seen("GET", "/manifests/").is_empty(), "{out}");
    let by_digest = sb
        .oras()
        .args([
            "resolve",
            &proxy.reference(&format!("faults/head@{digest}")),
        ])
        .success();
    assert_eq!(by_digest.stdout.trim(), digest);
    assert!(proxy.seen("GET", "/manifests/").is_empty(), "{by_digest}");
    // `manifest fetch --descriptor` only needs the descriptor too.
    let descriptor = |tag: &str| {
        sb.oras()
            .args(["manifest", "fetch", "--descriptor"])
            .arg(proxy.reference(&format!("faults/head:{tag}")))
            .run()
    };
    let out = descriptor("v1");
    assert!(out.code == 0 && out.stdout.contains(&digest), "{out}");
    assert!(proxy.seen("GET", "/manifests/").is_empty(), "{out}");
    let out = descriptor("absent");
    assert_eq!(out.code, 1, "{out}");
    out.error_first_line(&format!(
        "Error response from registry: failed to find \"{}\"",
        proxy.reference("faults/head:absent")
    ));
}

#[test]
fn terminal_control_characters_from_a_registry_are_escaped() {
    // An error message is registry-controlled text: escape sequences in it must not reach the
    // terminal as such.
    let sb = Sandbox::new();
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["GET"],
            "/manifests/",
            Fault::Reject(
                403,
                r#"{"errors":[{"code":"DENIED","message":"\u001b]0;owned\u0007\u001b[2Jgone"}]}"#,
            ),
        )],
    );
    let out = sb
        .oras()
        .args(["manifest", "fetch", &proxy.reference("faults/escape:v1")])
        .failure();
    assert!(!out.stderr.contains('\u{1b}'), "{out:?}");
    out.error_first_line(
        "Error response from registry: denied: \\u{1b}]0;owned\\u{7}\\u{1b}[2Jgone",
    );
}

#[test]
fn an_upload_that_fails_is_cancelled_with_delete() {
    // Distribution spec: a client SHOULD end an upload session it abandons, so the registry
    // frees it at once instead of keeping it until it expires.
    let sb = Sandbox::new();
    sb.write("f.txt", "never completes\n");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(
            &["PUT"],
            "/blobs/uploads/",
            Fault::Reject(
                400,
                r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#,
            ),
        )],
    );
    let out = sb
        .oras()
        .args(["push", &proxy.reference("faults/cancel:v1"), "f.txt"])
        .failure();
    out.stderr_contains("digest invalid");
    // Each session opened (the upload is tried again once) is cancelled after its PUT failed.
    let deletes = proxy.seen("DELETE", "/blobs/uploads/");
    let puts = proxy.seen("PUT", "/blobs/uploads/");
    assert!(!puts.is_empty(), "{out}");
    // Sessions run side by side (the file and the config), so match them by path. A session
    // whose own cancel was cut short when the push gave up is cancelled again at the end, as
    // is one that was opened and dropped before its PUT.
    let session = |path: &str| path.split('?').next().unwrap().to_owned();
    for put in &puts {
        let delete = deletes
            .iter()
            .find(|d| session(&d.path) == session(&put.path))
            .unwrap_or_else(|| panic!("{} was not cancelled\n{out}", put.path));
        assert!(delete.at >= put.at, "{out}");
    }
}

#[test]
fn resolve_to_another_port_keeps_the_references_host_header() {
    // `--resolve host:1:127.0.0.1:<port>` changes where oras connects, not what it asks for:
    // `Host` names the reference's host and port, as with Go's dialer, and the upload
    // locations the registry builds from it lead back to the mapped port.
    let sb = Sandbox::new();
    sb.write("f.txt", "resolved elsewhere\n");
    let proxy = FaultProxy::start(registry().port(), vec![]);
    let mapped = format!("oras.e2e.test:1:127.0.0.1:{}", proxy.port);
    let reference = "oras.e2e.test:1/faults/host-header:v1";
    sb.oras()
        .args([
            "push",
            "--plain-http",
            "--resolve",
            &mapped,
            reference,
            "f.txt",
        ])
        .success();
    sb.oras()
        .args([
            "pull",
            "--plain-http",
            "--resolve",
            &mapped,
            reference,
            "-o",
            "out",
        ])
        .success();
    assert_eq!(sb.read("out/f.txt"), b"resolved elsewhere\n");
    // Straight to the registry, which builds its upload locations from `Host`
    // (`http://oras.e2e.test:1/…`): they must lead back to the mapped port.
    let direct = format!("oras.e2e.test:1:127.0.0.1:{}", registry().port());
    sb.oras()
        .args([
            "push",
            "--plain-http",
            "--resolve",
            &direct,
            reference,
            "f.txt",
        ])
        .success();
    let seen = proxy.all_seen();
    assert!(seen.len() > 4, "{seen:?}");
    for request in &seen {
        assert_eq!(
            request.headers.get("host").map(String::as_str),
            Some("oras.e2e.test:1"),
            "{} {}",
            request.method,
            request.path
        );
    }
}

#[test]
fn uploads_in_flight_when_another_fails_are_cancelled_too() {
    // The config's upload is still waiting for its PUT's answer when the file's PUT fails: the
    // push gives up at once, and the session it leaves behind is ended too.
    let sb = Sandbox::new();
    sb.write("f.txt", "fails at once\n");
    let config = sha256_hex(b"{}");
    let proxy = FaultProxy::start(
        registry().port(),
        vec![
            Rule::new(
                &["PUT"],
                format!("digest=sha256%3A{config}"),
                Fault::Delay(Duration::from_secs(2)),
            ),
            Rule::new(
                &["PUT"],
                format!("digest=sha256%3A{}", sha256_hex(b"fails at once\n")),
                Fault::Reject(
                    400,
                    r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#,
                ),
            ),
        ],
    );
    let out = sb
        .oras()
        .args(["push", &proxy.reference("faults/sibling:v1"), "f.txt"])
        .failure();
    out.stderr_contains("digest invalid");
    let session = |path: &str| path.split('?').next().unwrap().to_owned();
    let delayed: Vec<String> = proxy
        .seen("PUT", &config)
        .iter()
        .map(|s| session(&s.path))
        .collect();
    assert!(
        !delayed.is_empty(),
        "the config upload was not started\n{out}"
    );
    let deletes: Vec<String> = proxy
        .seen("DELETE", "/blobs/uploads/")
        .iter()
        .map(|s| session(&s.path))
        .collect();
    for path in &delayed {
        assert!(
            deletes.contains(path),
            "the config's session {path} was left open: {deletes:?}\n{out}"
        );
    }
}

#[test]
fn a_copy_blames_the_source_for_a_blob_whose_bytes_do_not_match_its_digest() {
    // Regression: a source serving the wrong bytes for a blob failed the copy with `Error from
    // destination …`: the destination (a registry, or our own check writing a layout) found
    // the mismatch, but the bytes were the source's.
    let sb = Sandbox::new();
    // Small (hashed inline) and large (hashed on threads) blobs.
    for (i, size) in [4 * 1024, 3 << 20].into_iter().enumerate() {
        let content = random_bytes(size, 77 + i as u64);
        let digest = format!("sha256:{}", sha256_hex(&content));
        let repo = format!("faults/cp-corrupt{i}");
        push_direct(&sb, &format!("{repo}:v1"), "data.bin", &content);
        let proxy = FaultProxy::start(
            registry().port(),
            vec![Rule::new(
                &["GET"],
                format!("/blobs/{digest}"),
                Fault::Corrupt,
            )],
        );
        let source = proxy.reference(&format!("{repo}:v1"));
        let to_registry = registry().reference(&format!("{repo}-copy:v1"));
        let to_layout = format!("lay{i}:v1");
        for destination in [
            vec![to_registry.as_str()],
            vec!["--to-oci-layout", to_layout.as_str()],
        ] {
            let out = sb.oras().args(["cp", &source]).args(&destination).failure();
            // Asked once more first (a registry destination announces it), then refused.
            let last = out.stderr.lines().last().unwrap_or_default();
            assert!(
                last.starts_with(&format!(
                    "Error: {digest}: the source sent content that does not match this digest: "
                )),
                "{out}"
            );
            assert!(!out.stderr.contains("destination"), "{out}");
        }
        // Neither the blob nor a temp file is left in the layout.
        let blobs = tree(&sb.path(&format!("lay{i}/blobs/sha256")));
        assert!(
            !blobs
                .iter()
                .any(|b| b.contains(&digest[7..]) || b.starts_with('.')),
            "{blobs:?}"
        );
    }
}

#[test]
fn a_copy_between_registries_fetches_a_blob_damaged_once_again() {
    // The destination refuses a blob whose bytes came wrong from the source (DIGEST_INVALID):
    // the copy asks the source once more, as a pull does, instead of failing at once.
    let sb = Sandbox::new();
    let content = random_bytes(256 * 1024, 91);
    let digest = format!("sha256:{}", sha256_hex(&content));
    push_direct(&sb, "faults/cp-damaged:v1", "data.bin", &content);
    let blob_path = format!("/blobs/{digest}");
    let source = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], blob_path.clone(), Fault::Corrupt).times(1)],
    );
    // Another host, so that the blob is copied rather than mounted.
    let destination = FaultProxy::start(registry().port(), vec![]);
    let out = sb
        .oras()
        .args(["cp", &source.reference("faults/cp-damaged:v1")])
        .arg(destination.reference("faults/cp-damaged-dst:v1"))
        .success();
    assert_eq!(retry_lines(&out), 1, "{out}");
    assert_eq!(source.seen("GET", &blob_path).len(), 2, "{out}");
    let fetched = sb
        .oras()
        .args(["blob", "fetch", "-o", "-"])
        .arg(destination.reference(&format!("faults/cp-damaged-dst@{digest}")))
        .success();
    assert!(fetched.stdout_bytes == content, "{out}");
}

/// The blob files and anything else (a temp file) in a layout's `blobs/sha256`.
fn layout_blobs(dir: &Path) -> Vec<String> {
    tree(&dir.join("blobs/sha256"))
}

#[test]
fn copies_into_a_layout_resume_a_blob_cut_mid_body() {
    // Regression: `cp --to-oci-layout`, `cp -r` and `backup` failed on a connection cut
    // mid-blob, where `pull` resumes it with `Range` from the bytes already received.
    let sb = Sandbox::new();
    let content = random_bytes(1 << 20, 4321);
    let hex = sha256_hex(&content);
    push_direct(&sb, "faults/cp-cut:v1", "data.bin", &content);
    let referred = random_bytes(600 * 1024, 4322);
    let referred_hex = sha256_hex(&referred);
    sb.write("sbom.json", &referred);
    sb.oras()
        .args(["attach", "--artifact-type", "test/sbom"])
        .args([&registry().reference("faults/cp-cut:v1"), "sbom.json"])
        .success();
    let cut = 300 * 1024;
    for (name, cut_hex, cut_size) in [
        ("cp", &hex, content.len()),
        ("cp-r", &referred_hex, referred.len()),
        ("backup", &hex, content.len()),
    ] {
        let proxy = FaultProxy::start(
            registry().port(),
            vec![
                Rule::new(
                    &["GET"],
                    format!("/blobs/sha256:{cut_hex}"),
                    Fault::CutAfter(cut),
                )
                .times(1),
            ],
        );
        let source = proxy.reference("faults/cp-cut:v1");
        let layout = format!("{name}:v1");
        let args = match name {
            "cp" => vec!["cp", &source, "--to-oci-layout", &layout],
            "cp-r" => vec!["cp", "-r", &source, "--to-oci-layout", &layout],
            _ => vec!["backup", "-o", name, &source],
        };
        let out = sb.oras().args(args).success();
        out.stderr_contains(&format!(
            "Warning: the download stopped after {cut} of {cut_size} bytes ("
        ));
        let gets = proxy.seen("GET", &format!("/blobs/sha256:{cut_hex}"));
        assert_eq!(
            gets.len(),
            2,
            "{name}: one cut, one resumed: {gets:?}\n{out}"
        );
        assert_eq!(
            gets[1].headers.get("range").map(String::as_str),
            Some(format!("bytes={cut}-").as_str()),
            "{name}: the rest only\n{out}"
        );
        assert_eq!(sb.read(&format!("{name}/blobs/sha256/{hex}")), content);
        if name == "cp-r" {
            assert_eq!(
                sb.read(&format!("{name}/blobs/sha256/{referred_hex}")),
                referred
            );
        }
        let blobs = layout_blobs(&sb.path(name));
        assert!(
            !blobs.iter().any(|b| b.starts_with('.')),
            "{name}: {blobs:?}"
        );
    }
}

#[test]
fn a_copy_into_a_layout_fetches_a_blob_with_the_wrong_digest_once_more() {
    // Regression: a blob that arrived whole with the wrong digest failed `cp --to-oci-layout`
    // at once, where `pull` asks for it once more from the start (the damage may not repeat).
    let sb = Sandbox::new();
    let content = random_bytes(512 * 1024, 5432);
    let hex = sha256_hex(&content);
    push_direct(&sb, "faults/cp-refetch:v1", "data.bin", &content);
    let blob_path = format!("/blobs/sha256:{hex}");
    // Wrong once: the second answer is right.
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], blob_path.clone(), Fault::Corrupt).times(1)],
    );
    sb.oras()
        .args(["cp", &proxy.reference("faults/cp-refetch:v1")])
        .args(["--to-oci-layout", "once:v1"])
        .success();
    let gets = proxy.seen("GET", &blob_path);
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets.iter().all(|g| !g.headers.contains_key("range")),
        "fetched again from the start: {gets:?}"
    );
    assert_eq!(sb.read(&format!("once/blobs/sha256/{hex}")), content);
    assert!(
        !layout_blobs(&sb.path("once"))
            .iter()
            .any(|b| b.starts_with('.'))
    );

    // Wrong every time: asked twice, then the source is blamed and nothing is left.
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], blob_path.clone(), Fault::Corrupt)],
    );
    let out = sb
        .oras()
        .args(["backup", "-o", "always"])
        .arg(proxy.reference("faults/cp-refetch:v1"))
        .failure();
    out.error_first_line(&format!(
        "Error: sha256:{hex}: the source sent content that does not match this digest: "
    ));
    assert_eq!(proxy.seen("GET", &blob_path).len(), 2, "{out}");
    let blobs = layout_blobs(&sb.path("always"));
    assert!(
        !blobs.iter().any(|b| b.contains(&hex) || b.starts_with('.')),
        "{blobs:?}"
    );
}

#[test]
fn a_copy_between_registries_restarts_a_blob_whose_source_was_cut() {
    // A blob streamed from one registry into another's monolithic PUT cannot resume: when the
    // source's connection is cut, the upload starts over (a new session, the broken one
    // cancelled) with the blob read again from its start.
    let sb = Sandbox::new();
    let content = random_bytes(1 << 20, 6543);
    let hex = sha256_hex(&content);
    push_direct(&sb, "faults/cp-cut-src:v1", "data.bin", &content);
    let blob_path = format!("/blobs/sha256:{hex}");
    let source = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], blob_path.clone(), Fault::CutAfter(300 * 1024)).times(1)],
    );
    // Another host, so that the blob is copied rather than mounted.
    let destination = FaultProxy::start(registry().port(), vec![]);
    let out = sb
        .oras()
        .args(["cp", &source.reference("faults/cp-cut-src:v1")])
        .arg(destination.reference("faults/cp-cut-dst:v1"))
        .success();
    assert_eq!(retry_lines(&out), 1, "{out}");
    // The retry names what broke, the read of the source, not the destination's upload URL.
    out.stderr_contains(": the content could not be read: ");
    assert!(!out.stderr.contains("/blobs/uploads/"), "{out}");
    let gets = source.seen("GET", &blob_path);
    assert_eq!(gets.len(), 2, "{gets:?}\n{out}");
    assert!(
        gets.iter().all(|g| !g.headers.contains_key("range")),
        "read again from the start: {gets:?}"
    );
    let session = |path: &str| path.split('?').next().unwrap().to_owned();
    let deletes = destination.seen("DELETE", "/blobs/uploads/");
    let put = destination
        .seen("PUT", &format!("digest=sha256%3A{hex}"))
        .pop()
        .expect("the blob was uploaded");
    assert_eq!(deletes.len(), 1, "the broken session is cancelled\n{out}");
    assert_ne!(session(&deletes[0].path), session(&put.path), "{out}");
    assert_eq!(
        pull_direct(&sb, "faults/cp-cut-dst:v1", "back", "data.bin"),
        content
    );
}
