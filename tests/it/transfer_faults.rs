//! Transfers under faults a registry can produce: a blob download cut off mid-body (resumed
//! with `Range`), and a registry that refuses large monolithic uploads (chunked instead).
//! Each test runs a small raw-HTTP fake registry on 127.0.0.1, since the real one cannot be
//! told to misbehave.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::harness::{Sandbox, sha256_hex};

/// One request as the fake registry saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body_len: usize,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes, then close the connection.
    cut_after: Option<usize>,
}

impl Reply {
    fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            cut_after: None,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn body(mut self, body: Vec<u8>) -> Reply {
        self.body = body;
        self
    }
}

/// What the handler is told: the request, and (unless it refused to read it) its body.
type Handler = dyn Fn(&Seen, Option<&[u8]>) -> Reply + Send + Sync;

/// A fake registry: reads a request, lets `refuse_body` decide whether to answer before reading
/// the body (as a server enforcing a size limit does), answers, closes the connection.
struct FakeRegistry {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeRegistry {
    fn start(
        refuse_body: impl Fn(&Seen) -> bool + Send + Sync + 'static,
        handler: impl Fn(&Seen, Option<&[u8]>) -> Reply + Send + Sync + 'static,
    ) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler: Arc<Handler> = Arc::new(handler);
        let refuse: Arc<dyn Fn(&Seen) -> bool + Send + Sync> = Arc::new(refuse_body);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler, refuse) =
                    (Arc::clone(&log), Arc::clone(&handler), Arc::clone(&refuse));
                std::thread::spawn(move || serve(stream, &log, handler.as_ref(), refuse.as_ref()));
            }
        });
        FakeRegistry { port, seen }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Seen>>,
    handler: &Handler,
    refuse: &(dyn Fn(&Seen) -> bool + Send + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut seen = Seen {
        method,
        path,
        headers,
        body_len: len,
    };
    let body = if refuse(&seen) {
        None
    } else {
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        Some(body)
    };
    seen.body_len = body.as_ref().map_or(0, Vec::len);
    log.lock().unwrap().push(seen.clone());
    let reply = handler(&seen, body.as_deref());
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let end = reply
        .cut_after
        .unwrap_or(reply.body.len())
        .min(reply.body.len());
    let _ = out.write_all(&reply.body[..end]);
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    // A simple xorshift stream: incompressible enough, and reproducible.
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

/// A registry serving one artifact whose single layer download is cut after `cut` bytes every
/// time it is requested without `Range` (and, when `always_cut`, with it too).
fn cutting_registry(blob: Vec<u8>, cut: usize, always_cut: bool) -> FakeRegistry {
    let digest = format!("sha256:{}", sha256_hex(&blob));
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}},"layers":[{{"mediaType":"application/octet-stream","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.title":"data.bin"}}}}]}}"#,
        blob.len()
    )
    .into_bytes();
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    FakeRegistry::start(
        |_| false,
        move |req, _| {
            if req.path.ends_with("/manifests/v1") {
                return Reply::new(200)
                    .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    .header("Docker-Content-Digest", manifest_digest.clone())
                    .body(manifest.clone());
            }
            if req.path.ends_with(&format!("/blobs/{digest}")) {
                let range = req
                    .headers
                    .get("range")
                    .and_then(|r| r.strip_prefix("bytes="));
                let Some(start) = range.and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                else {
                    // Full Content-Length announced, then the connection drops.
                    let mut r = Reply::new(200).body(blob.clone());
                    r.cut_after = Some(cut);
                    return r;
                };
                let mut r = Reply::new(206)
                    .header(
                        "Content-Range",
                        format!("bytes {start}-{}/{}", blob.len() - 1, blob.len()),
                    )
                    .body(blob[start..].to_vec());
                if always_cut {
                    r.cut_after = Some(1);
                }
                return r;
            }
            Reply::new(404)
        },
    )
}

#[test]
fn pull_resumes_a_download_cut_mid_blob_with_range() {
    let sb = Sandbox::new();
    let blob = random_bytes(1 << 20, 7);
    let cut = 300 * 1024;
    let reg = cutting_registry(blob.clone(), cut, false);
    let out = sb
        .oras()
        .args([
            "pull",
            "--plain-http",
            &format!("{}/resume/me:v1", reg.host()),
            "-o",
            "out",
        ])
        .success();
    assert_eq!(
        sb.read("out/data.bin"),
        blob,
        "resumed content must be complete and verified"
    );
    let blob_gets: Vec<_> = reg
        .seen()
        .into_iter()
        .filter(|s| s.path.contains("/blobs/"))
        .collect();
    assert_eq!(
        blob_gets.len(),
        2,
        "one cut download and one resumed request: {blob_gets:?}"
    );
    assert_eq!(blob_gets[0].headers.get("range"), None);
    assert_eq!(
        blob_gets[1].headers.get("range").map(String::as_str),
        Some(format!("bytes={cut}-").as_str()),
        "the resumed request continues from the bytes already received"
    );
    assert!(out.stdout.contains("Downloaded"), "{out}");
    // Announced on stderr, as every retry is; stdout keeps the Go client's lines.
    out.stderr_contains(&format!(
        "Warning: the download stopped after {cut} of {} bytes (",
        blob.len()
    ));
    out.stderr_contains("resuming from there in 100ms (attempt 1 of 5)");
}

#[test]
fn pull_that_cannot_complete_leaves_no_file() {
    let sb = Sandbox::new();
    let blob = random_bytes(256 * 1024, 9);
    let reg = cutting_registry(blob, 1000, true);
    let out = sb
        .oras()
        .args([
            "pull",
            "--plain-http",
            &format!("{}/resume/never:v1", reg.host()),
            "-o",
            "out",
        ])
        .failure();
    // Each resume announced, then the one error.
    let lines: Vec<&str> = out.stderr.lines().collect();
    let resumes = lines
        .iter()
        .filter(|l| l.starts_with("Warning: the download stopped after"))
        .count();
    assert_eq!(resumes, 5, "{out}");
    assert!(lines[resumes].starts_with("Error:"), "{out}");
    assert_eq!(lines.len(), resumes + 1, "{out}");
    let left: Vec<_> = std::fs::read_dir(sb.path("out"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "a failed pull leaves nothing behind: {left:?}"
    );
}

/// Blobs a fake registry stored, by digest.
type Store = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A registry that answers 413 to any upload body over `limit` bytes (without reading it) and
/// otherwise takes chunked uploads, checking ranges and the final digest.
fn size_capped_registry(limit: usize, min_chunk: Option<usize>) -> (FakeRegistry, Store) {
    let blobs: Store = Arc::new(Mutex::new(HashMap::new()));
    let uploads: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::new(Mutex::new(HashMap::new()));
    let store = Arc::clone(&blobs);
    let reg = FakeRegistry::start(
        move |req| req.body_len > limit,
        move |req, body| {
            let Some(body) = body else {
                return Reply::new(413).body(
                    br#"{"errors":[{"code":"SIZE_INVALID","message":"request too large"}]}"#
                        .to_vec(),
                );
            };
            let path = req.path.split('?').next().unwrap_or("");
            let query = req.path.split_once('?').map_or("", |(_, q)| q);
            match req.method.as_str() {
                "HEAD" | "GET" if path.contains("/blobs/") => {
                    let d = path.rsplit('/').next().unwrap_or("");
                    if store.lock().unwrap().contains_key(d) {
                        Reply::new(200)
                    } else {
                        Reply::new(404)
                    }
                }
                "POST" if path.ends_with("/blobs/uploads/") => {
                    let id = format!("u{}", uploads.lock().unwrap().len());
                    uploads.lock().unwrap().insert(id.clone(), Vec::new());
                    let mut r = Reply::new(202).header("Location", format!("/upload/{id}?state=a"));
                    if let Some(min) = min_chunk {
                        r = r.header("OCI-Chunk-Min-Length", min.to_string());
                    }
                    r
                }
                "PATCH" if path.starts_with("/upload/") => {
                    let id = path.trim_start_matches("/upload/").to_owned();
                    let mut ups = uploads.lock().unwrap();
                    let data = ups.get_mut(&id).expect("known upload");
                    let range = req
                        .headers
                        .get("content-range")
                        .cloned()
                        .unwrap_or_default();
                    let start: usize = range
                        .split('-')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(usize::MAX);
                    if start != data.len() {
                        return Reply::new(416);
                    }
                    data.extend_from_slice(body);
                    Reply::new(202)
                        .header("Location", format!("/upload/{id}?state=b"))
                        .header("Range", format!("0-{}", data.len() - 1))
                }
                "PUT" if path.starts_with("/upload/") => {
                    let id = path.trim_start_matches("/upload/").to_owned();
                    let mut data = uploads.lock().unwrap().remove(&id).expect("known upload");
                    data.extend_from_slice(body);
                    let digest = query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("digest="))
                        .unwrap_or("")
                        .replace("%3A", ":");
                    if digest != format!("sha256:{}", sha256_hex(&data)) {
                        return Reply::new(400);
                    }
                    store.lock().unwrap().insert(digest, data);
                    Reply::new(201)
                }
                "PUT" if path.contains("/manifests/") => {
                    let digest = format!("sha256:{}", sha256_hex(body));
                    store.lock().unwrap().insert(digest.clone(), body.to_vec());
                    Reply::new(201).header("Docker-Content-Digest", digest)
                }
                _ => Reply::new(404),
            }
        },
    );
    (reg, blobs)
}

#[test]
fn push_falls_back_to_chunks_when_the_registry_refuses_a_large_put() {
    let sb = Sandbox::new();
    let data = random_bytes(300 * 1024, 11);
    sb.write("big.bin", &data);
    let (reg, blobs) = size_capped_registry(100 * 1024, None);
    sb.oras()
        .args([
            "push",
            "--plain-http",
            &format!("{}/chunky/repo:v1", reg.host()),
            "big.bin",
        ])
        .success();
    let digest = format!("sha256:{}", sha256_hex(&data));
    assert_eq!(
        blobs.lock().unwrap().get(&digest),
        Some(&data),
        "the registry assembled the blob"
    );
    let seen = reg.seen();
    assert!(
        seen.iter().any(|s| s.method == "PUT"
            && s.path.starts_with("/upload/")
            && s.body_len == 0
            && s.headers.get("content-length").map(String::as_str)
                == Some(&data.len().to_string())),
        "a monolithic PUT was tried first and refused: {seen:?}"
    );
    let patches: Vec<_> = seen.iter().filter(|s| s.method == "PATCH").collect();
    assert!(
        patches.len() >= 2,
        "the blob went up in chunks: {patches:?}"
    );
    assert!(
        patches.iter().all(|p| p.body_len <= 100 * 1024),
        "every chunk fits the limit: {patches:?}"
    );
}

#[test]
fn chunked_push_honours_the_registry_minimum_chunk_size() {
    let sb = Sandbox::new();
    let data = random_bytes(200 * 1024 + 17, 13);
    sb.write("blob.bin", &data);
    let (reg, blobs) = size_capped_registry(usize::MAX, Some(64 * 1024));
    sb.oras()
        .args([
            "push",
            "--plain-http",
            "--chunk-size",
            "1000",
            &format!("{}/chunky/min:v1", reg.host()),
            "blob.bin",
        ])
        .success();
    let digest = format!("sha256:{}", sha256_hex(&data));
    assert_eq!(blobs.lock().unwrap().get(&digest), Some(&data));
    let patches: Vec<_> = reg
        .seen()
        .into_iter()
        .filter(|s| s.method == "PATCH")
        .collect();
    let ranges: Vec<_> = patches
        .iter()
        .map(|p| p.headers.get("content-range").cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        ranges,
        ["0-65535", "65536-131071", "131072-196607", "196608-204816"],
        "chunks are at least OCI-Chunk-Min-Length, with contiguous Content-Range"
    );
}
