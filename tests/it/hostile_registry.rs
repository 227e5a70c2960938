//! A hostile or broken registry (and a hostile OCI layout on disk): pagination that loops or
//! leaves the registry's origin, manifests that fan out into the same content over and over,
//! titles that would rewrite the terminal, layout files that never end. Each must end in one
//! clear error (or a correct result), never a hang, unbounded memory or a request elsewhere.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

use crate::harness::{Fifo, Sandbox};

/// One answer of a [`Fake`] registry.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&str, &str) -> Reply + Send + Sync;

/// A registry on 127.0.0.1 that answers every request (`method`, `path` with query) with what
/// its handler says, one request per connection, and records the requests.
struct Fake {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(handler: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (log, handler): (_, Arc<Handler>) = (Arc::clone(&requests), Arc::new(handler));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler) = (Arc::clone(&log), Arc::clone(&handler));
                std::thread::spawn(move || serve(stream, &log, &*handler));
            }
        });
        Fake { port, requests }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Requests received whose `METHOD path` contains `needle`.
    fn count(&self, needle: &str) -> usize {
        let log = self.requests.lock().unwrap();
        log.iter().filter(|r| r.contains(needle)).count()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<String>>, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {path}"));
    let reply = handler(method, path);
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(
        head,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    );
    // One write: a separate body write would wait for the client's delayed ACK.
    let mut out = head.into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(&reply.body);
    }
    let mut stream = stream;
    let _ = stream.write_all(&out);
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An image manifest (empty config) with one layer per `(content, title)`.
fn manifest(layers: &[(&[u8], &str)]) -> Vec<u8> {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|(content, title)| {
            serde_json::json!({
                "mediaType": "application/octet-stream",
                "digest": sha256(content),
                "size": content.len(),
                "annotations": { "org.opencontainers.image.title": title },
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": "application/vnd.test",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": sha256(b"{}"),
            "size": 2,
        },
        "layers": layers,
    }))
    .unwrap()
}

/// An index listing `child` (of `media_type`) `times` times.
fn index_of(child: &[u8], media_type: &str, times: usize) -> Vec<u8> {
    let entry = serde_json::json!({
        "mediaType": media_type,
        "digest": sha256(child),
        "size": child.len(),
    });
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": vec![entry; times],
    }))
    .unwrap()
}

/// A registry serving repository `r`: manifests (by digest, and `tag` for the first one) and
/// blobs, each `(media type, bytes)`.
fn content_registry(manifests: Vec<(&'static str, Vec<u8>)>, blobs: Vec<Vec<u8>>) -> Fake {
    let tagged = sha256(&manifests[0].1);
    let manifests: HashMap<String, (&str, Vec<u8>)> = manifests
        .into_iter()
        .map(|(t, b)| (sha256(&b), (t, b)))
        .collect();
    let blobs: HashMap<String, Vec<u8>> = blobs.into_iter().map(|b| (sha256(&b), b)).collect();
    Fake::start(move |_, path| {
        let last = path.rsplit('/').next().unwrap_or_default();
        if path.starts_with("/v2/r/manifests/") {
            let digest = if last == "tag" { &tagged } else { last };
            if let Some((media_type, bytes)) = manifests.get(digest) {
                return Reply {
                    status: 200,
                    headers: vec![
                        ("Content-Type".into(), (*media_type).into()),
                        ("Docker-Content-Digest".into(), digest.to_owned()),
                    ],
                    body: bytes.clone(),
                };
            }
        }
        if path.starts_with("/v2/r/blobs/")
            && let Some(bytes) = blobs.get(last)
        {
            return Reply {
                status: 200,
                headers: Vec::new(),
                body: bytes.clone(),
            };
        }
        Reply::status(404)
    })
}

// ---------------------------------------------------------------------------------------------
// Manifest graphs
// ---------------------------------------------------------------------------------------------

/// Six levels of indexes, each listing the level below three times, over one manifest: seven
/// manifests, but 3^6 paths to the bottom one.
fn fan_out_registry() -> Fake {
    let leaf = manifest(&[(b"payload\n", "payload.txt")]);
    let mut levels = vec![(MANIFEST, leaf)];
    for _ in 0..6 {
        let (media_type, below) = levels.last().unwrap();
        let index = index_of(below, media_type, 3);
        levels.push((INDEX, index));
    }
    levels.reverse();
    content_registry(levels, vec![b"payload\n".to_vec(), b"{}".to_vec()])
}

#[test]
fn pull_fetches_a_manifest_listed_many_times_once() {
    // Regression: every path to a manifest was walked: an index listing the same child
    // three times at each of six levels cost 1 092 manifest requests (and 3^8 at the depth
    // limit, with a wider index, never ended).
    let fake = fan_out_registry();
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args(["pull", "--plain-http", &format!("{}/r:tag", fake.host())])
        .args(["-o", "out"])
        .success();
    assert_eq!(sb.read("out/payload.txt"), b"payload\n", "{out}");
    let asked = fake.count("GET /v2/r/manifests/");
    assert!(asked <= 7, "{asked} manifest requests\n{out}");
}

#[test]
fn copy_fetches_a_manifest_listed_many_times_once() {
    // Regression: as for pull; `cp` also kept every path's manifest bytes in memory.
    let fake = fan_out_registry();
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args(["cp", "--from-plain-http", &format!("{}/r:tag", fake.host())])
        .args(["--to-oci-layout", "lay:copied"])
        .success();
    let asked = fake.count("GET /v2/r/manifests/");
    assert!(asked <= 8, "{asked} manifest requests\n{out}");
    sb.oras()
        .args(["pull", "--oci-layout", "lay:copied", "-o", "out"])
        .success();
    assert_eq!(sb.read("out/payload.txt"), b"payload\n");
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

/// `oras repo tags` of `<fake>/r`.
fn repo_tags(fake: &Fake, extra: &[&str]) -> crate::harness::Output {
    Sandbox::new()
        .oras()
        .args(["repo", "tags", "--plain-http"])
        .args(extra)
        .arg(format!("{}/r", fake.host()))
        .run()
}

/// A handler answering the tag list with `page(n)` for its n-th request, and 404 otherwise.
fn tag_pages(page: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> Fake {
    let n = std::sync::atomic::AtomicUsize::new(0);
    Fake::start(move |_, path| {
        if path.starts_with("/v2/r/tags/list") {
            return page(n.fetch_add(1, std::sync::atomic::Ordering::SeqCst), path);
        }
        Reply::status(404)
    })
}

#[test]
fn a_tag_list_whose_next_page_is_itself_is_a_loop_not_a_hang() {
    // Regression: a `Link` back to a page already read was followed forever.
    let fake = tag_pages(|n, _| {
        let reply = Reply::json(format!(r#"{{"name":"r","tags":["t{n}"]}}"#));
        // Gives up after a while, so that a client that loops ends (and fails this test).
        if n < 50 {
            reply.header("Link", r#"</v2/r/tags/list?n=1>; rel="next""#)
        } else {
            reply
        }
    });
    let out = repo_tags(&fake, &[]).failure();
    out.error_first_line("Error: the registry's tag list pagination loops");
    out.stderr_contains("/v2/r/tags/list?n=1 again");
    assert_eq!(fake.count("/tags/list"), 2, "{out}");
}

#[test]
fn a_tag_list_paginating_forever_stops_at_a_bound() {
    // Regression: a registry answering page after page (each a new URL) kept the client
    // reading forever; all the pages together are bounded by 16 times --max-manifest-size.
    let fake = tag_pages(|n, _| {
        let reply = Reply::json(format!(r#"{{"name":"r","tags":["tag-{n:06}"]}}"#));
        if n < 2000 {
            reply.header(
                "Link",
                &format!(r#"</v2/r/tags/list?last=tag-{n:06}>; rel="next""#),
            )
        } else {
            reply
        }
    });
    let out = repo_tags(&fake, &["--max-manifest-size", "1KiB"]).failure();
    out.error_first_line("Error: tag list exceeds the limit of 16384 bytes over");
    out.stderr_contains("raise it with --max-manifest-size");
    // About 16 KiB of ~40-byte pages.
    let asked = fake.count("/tags/list");
    assert!((300..=500).contains(&asked), "{asked} pages\n{out}");
}

#[test]
fn a_next_page_on_another_origin_is_refused_not_asked_for() {
    // GHSA-h7vf-4x9w-h99v: the next page must stay on the registry's origin. It used to end
    // the list silently, which printed a truncated tag list with exit code 0.
    let elsewhere = Fake::start(|_, _| Reply::json(r#"{"name":"r","tags":["elsewhere"]}"#));
    let link = format!(
        r#"<http://{}/v2/r/tags/list?last=a>; rel="next""#,
        elsewhere.host()
    );
    let fake =
        tag_pages(move |_, _| Reply::json(r#"{"name":"r","tags":["a"]}"#).header("Link", &link));
    let out = repo_tags(&fake, &[]).failure();
    out.error_first_line("Error: refusing the tag list page at http://127.0.0.1:");
    out.stderr_contains("on another origin than http://127.0.0.1:");
    assert_eq!(elsewhere.count(""), 0, "{out}");
    assert!(!out.stdout.contains('a'), "{out}");
}

#[test]
fn only_the_next_relation_of_a_link_header_is_followed() {
    // Regression: the first URL of the header was taken, whatever its relation: a registry
    // listing `rel="prev"` first sent the client back a page.
    let fake = tag_pages(|_, path| {
        if path.contains("last=b") {
            return Reply::json(r#"{"name":"r","tags":["c"]}"#)
                .header("Link", r#"</v2/r/tags/list?n=2>; rel="prev""#);
        }
        if path.contains("n=2") {
            return Reply::json(r#"{"name":"r","tags":["from-prev"]}"#);
        }
        Reply::json(r#"{"name":"r","tags":["a","b"]}"#).header(
            "Link",
            r#"</v2/r/tags/list?n=2>; rel="prev", </v2/r/tags/list?last=b>; rel="next""#,
        )
    });
    let out = repo_tags(&fake, &[]).success();
    assert_eq!(out.stdout, "a\nb\nc\n", "{out}");
}

#[test]
fn an_absolute_next_page_on_the_registry_s_resolved_name_is_followed() {
    // With `--resolve` to another port, an absolute `Link` naming the registry as the
    // reference does is the registry's own origin (it used to end the list there).
    let fake = tag_pages(|_, path| {
        if path.contains("last=a") {
            return Reply::json(r#"{"name":"r","tags":["b"]}"#);
        }
        Reply::json(r#"{"name":"r","tags":["a"]}"#).header(
            "Link",
            r#"<http://registry.test:1234/v2/r/tags/list?last=a>; rel="next""#,
        )
    });
    let out = Sandbox::new()
        .oras()
        .args(["repo", "tags", "--plain-http", "registry.test:1234/r"])
        .args([
            "--resolve",
            &format!("registry.test:1234:127.0.0.1:{}", fake.port),
        ])
        .success();
    assert_eq!(out.stdout, "a\nb\n", "{out}");
}

#[test]
fn a_catalog_whose_next_page_is_itself_is_a_loop_not_a_hang() {
    let n = std::sync::atomic::AtomicUsize::new(0);
    let fake = Fake::start(move |_, path| {
        if !path.starts_with("/v2/_catalog") {
            return Reply::status(if path == "/v2/" { 200 } else { 404 });
        }
        let reply = Reply::json(r#"{"repositories":["a"]}"#);
        if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 50 {
            reply.header("Link", r#"</v2/_catalog?n=1>; rel="next""#)
        } else {
            reply
        }
    });
    let out = Sandbox::new()
        .oras()
        .args(["repo", "ls", "--plain-http", &fake.host()])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("the registry's repository list pagination loops");
    assert_eq!(fake.count("/_catalog"), 2, "{out}");
}

// ---------------------------------------------------------------------------------------------
// A hostile OCI layout on disk
// ---------------------------------------------------------------------------------------------

/// `oras <args>` in `sb` with its address space capped at 2 GiB (`ulimit -v`): a client that
/// reads an endless file whole dies of it quickly instead of taking the machine's memory.
fn oras_in_2gib(sb: &Sandbox, args: &[&str]) -> crate::harness::Output {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#"ulimit -v 2097152 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_oras"))
        .args(args)
        .current_dir(sb.work())
        .env("HOME", sb.home())
        .env("DOCKER_CONFIG", sb.docker_config())
        .env_remove("ORAS_CACHE");
    crate::harness::run_command(command, None)
}

/// A layout `lay` holding `hi.txt` under tag `v1`; returns the hex of its manifest's digest.
fn hi_layout(sb: &Sandbox) -> String {
    sb.push_to_layout("lay:v1", "hi.txt", "hi\n");
    let index: serde_json::Value = serde_json::from_slice(&sb.read("lay/index.json")).unwrap();
    index["manifests"][0]["digest"].as_str().unwrap()["sha256:".len()..].to_owned()
}

#[test]
fn a_layout_index_json_that_never_ends_is_refused() {
    // Regression: `index.json` was read whole, with no bound: a link to /dev/zero took all
    // the memory there was.
    let sb = Sandbox::new();
    hi_layout(&sb);
    std::fs::remove_file(sb.path("lay/index.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", sb.path("lay/index.json")).unwrap();
    let out = oras_in_2gib(&sb, &["repo", "tags", "--oci-layout", "lay"]).failure();
    out.error_first_line("Error: lay/index.json: not a regular file");
}

#[test]
fn a_layout_manifest_that_never_ends_is_refused() {
    // Regression: the size check read the file's length, which a device does not have, and
    // then the whole "file": a manifest linked to /dev/zero took all the memory there was.
    let sb = Sandbox::new();
    let manifest = hi_layout(&sb);
    let blob = sb.path(&format!("lay/blobs/sha256/{manifest}"));
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &blob).unwrap();
    let out = oras_in_2gib(&sb, &["manifest", "fetch", "--oci-layout", "lay:v1"]).failure();
    out.error_first_line("Error:");
    out.stderr_contains(&format!("{manifest}: not a regular file"));
    let out = oras_in_2gib(&sb, &["pull", "--oci-layout", "lay:v1", "-o", "out"]).failure();
    out.stderr_contains(&format!("{manifest}: not a regular file"));
}

#[test]
fn a_layout_blob_that_is_a_fifo_is_refused_not_waited_for() {
    // Regression: opening a FIFO found where a layer should be waited for a writer forever.
    let sb = Sandbox::new();
    hi_layout(&sb);
    let layer = sha256(b"hi\n");
    let blob = sb.path(&format!("lay/blobs/sha256/{}", &layer["sha256:".len()..]));
    std::fs::remove_file(&blob).unwrap();
    // A writer that would let a client waiting on the FIFO finish (and pass this test).
    let _fifo = Fifo::new(&blob, b"hi\n".to_vec());
    let out = sb
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure();
    out.stderr_contains(&format!(
        "{}: not a regular file",
        &layer["sha256:".len()..]
    ));
    assert!(!sb.path("out/hi.txt").exists(), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Titles
// ---------------------------------------------------------------------------------------------

#[test]
fn a_title_cannot_drive_the_terminal_or_forge_status_lines() {
    // Regression: titles were printed raw in status lines: an escape sequence reached the
    // terminal, and a newline forged a `Digest:` line for scripts that read the output.
    let forged = format!("Digest: sha256:{}", "0".repeat(64));
    let title = format!("x\u{1b}]0;owned\u{7}\n{forged}");
    let content: &[u8] = b"content\n";
    let fake = content_registry(
        vec![(MANIFEST, manifest(&[(content, &title)]))],
        vec![content.to_vec(), b"{}".to_vec()],
    );
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args(["pull", "--plain-http", &format!("{}/r:tag", fake.host())])
        .args(["-o", "out"])
        .success();
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains('\u{1b}') && !stream.contains('\u{7}'),
            "{out}"
        );
        assert!(!stream.lines().any(|l| l == forged), "{out}");
    }
    out.stdout_contains(r"x\u{1b}]0;owned\u{7}\u{a}Digest: sha256:000");
    // The file itself has its name as written (a newline is legal in a Linux file name).
    assert_eq!(sb.read(&format!("out/{title}")), content);
}

// ---------------------------------------------------------------------------------------------
// Referrers
// ---------------------------------------------------------------------------------------------

/// A referrers index listing `digests` (manifests of artifact type `application/x`).
fn referrers_index(digests: &[String]) -> Vec<u8> {
    let manifests: Vec<serde_json::Value> = digests
        .iter()
        .map(|d| {
            serde_json::json!({
                "mediaType": MANIFEST,
                "digest": d,
                "size": 100,
                "artifactType": "application/x",
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": manifests,
    }))
    .unwrap()
}

/// A registry whose `r:tag` is a small manifest and whose referrers API answers for any
/// digest with what `referrers(subject)` lists.
fn referrers_registry(referrers: impl Fn(&str) -> Vec<String> + Send + Sync + 'static) -> Fake {
    let root = manifest(&[]);
    Fake::start(move |_, path| {
        if path.starts_with("/v2/r/manifests/") {
            return Reply {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), MANIFEST.into()),
                    ("Docker-Content-Digest".into(), sha256(&root)),
                ],
                body: root.clone(),
            };
        }
        if let Some(subject) = path.strip_prefix("/v2/r/referrers/") {
            let subject = subject.split('?').next().unwrap_or_default();
            return Reply {
                status: 200,
                headers: vec![("Content-Type".into(), INDEX.into())],
                body: referrers_index(&referrers(subject)),
            };
        }
        Reply::status(404)
    })
}

#[test]
fn discover_stops_in_a_referrers_graph_that_never_ends() {
    // Regression: the listed referrers need not exist, so a registry could answer each level
    // with a new one, and `discover` (unlimited depth by default) walked on until its stack
    // overflowed (an abort, under 300 levels).
    let fake = referrers_registry(|subject| {
        // Ends after 300 levels, so that a client without a bound finishes (and fails this).
        if subject.starts_with("sha256:000") || subject.len() > 300 {
            return Vec::new();
        }
        vec![sha256(subject.as_bytes())]
    });
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args([
            "discover",
            "--plain-http",
            &format!("{}/r:tag", fake.host()),
        ])
        .args(["--format", "json"])
        .failure();
    out.error_first_line("Error: the referrers of sha256:");
    out.stderr_contains("go deeper than 64 levels");
    out.stderr_contains("--depth");
    assert!(fake.count("/referrers/") <= 65, "{out}");
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn discover_refuses_more_referrers_than_any_graph_has() {
    // Regression: with no bound on their number, a registry listing fresh referrers at every
    // level kept `discover` asking forever; past 100 000 it is an error.
    let many: Vec<String> = (0..100_001u32).map(|i| sha256(&i.to_be_bytes())).collect();
    let fake = referrers_registry(move |subject| {
        if subject.starts_with("sha256:") && many.iter().all(|d| d != subject) {
            many.clone()
        } else {
            Vec::new()
        }
    });
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args([
            "discover",
            "--plain-http",
            &format!("{}/r:tag", fake.host()),
        ])
        .args([
            "--depth",
            "1",
            "--max-manifest-size",
            "64MiB",
            "--format",
            "json",
        ])
        .failure();
    out.error_first_line("Error: more than 100000 referrers found");
}

#[test]
fn recursive_copy_stops_in_a_referrers_graph_that_never_ends() {
    // Regression: a source that makes up a new referrer (a real manifest, with the right
    // subject) of every manifest it is asked about kept `cp -r` copying forever.
    let root = manifest(&[]);
    // The manifests made so far, by digest: bytes and level below the root.
    let made: Mutex<HashMap<String, (Vec<u8>, usize)>> =
        Mutex::new(HashMap::from([(sha256(&root), (root, 0))]));
    let fake = Fake::start(move |_, path| {
        let mut made = made.lock().unwrap();
        let last = path.rsplit('/').next().unwrap_or_default();
        let last = last.split('?').next().unwrap_or_default().to_owned();
        if path.starts_with("/v2/r/manifests/") {
            let found = if last == "tag" {
                made.values().find(|(_, level)| *level == 0)
            } else {
                made.get(&last)
            };
            return match found {
                Some((bytes, _)) => Reply {
                    status: 200,
                    headers: vec![
                        ("Content-Type".into(), MANIFEST.into()),
                        ("Docker-Content-Digest".into(), sha256(bytes)),
                    ],
                    body: bytes.clone(),
                },
                None => Reply::status(404),
            };
        }
        if path.starts_with("/v2/r/blobs/") && last == sha256(b"{}") {
            return Reply {
                status: 200,
                headers: Vec::new(),
                body: b"{}".to_vec(),
            };
        }
        if path.starts_with("/v2/r/referrers/") {
            let Some((subject, level)) = made.get(&last).cloned() else {
                return Reply::status(404);
            };
            // Ends after 300 levels, so that a client without a bound finishes (and fails this).
            let listed = if level < 300 {
                let mut referrer: serde_json::Value =
                    serde_json::from_slice(&manifest(&[])).unwrap();
                referrer["subject"] = serde_json::json!({
                    "mediaType": MANIFEST,
                    "digest": last,
                    "size": subject.len(),
                });
                let bytes = serde_json::to_vec(&referrer).unwrap();
                let digest = sha256(&bytes);
                made.insert(digest.clone(), (bytes, level + 1));
                vec![digest]
            } else {
                Vec::new()
            };
            let mut index: serde_json::Value =
                serde_json::from_slice(&referrers_index(&listed)).unwrap();
            for entry in index["manifests"].as_array_mut().unwrap() {
                entry["size"] = made[entry["digest"].as_str().unwrap()].0.len().into();
            }
            return Reply {
                status: 200,
                headers: vec![("Content-Type".into(), INDEX.into())],
                body: serde_json::to_vec(&index).unwrap(),
            };
        }
        Reply::status(404)
    });
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args([
            "cp",
            "-r",
            "--from-plain-http",
            &format!("{}/r:tag", fake.host()),
        ])
        .args(["--to-oci-layout", "lay:v1"])
        .failure();
    out.error_first_line("Error: the referrers of sha256:");
    out.stderr_contains("go deeper than 64 levels");
    assert!(fake.count("/referrers/") <= 66, "{out}");
}

#[test]
fn referrers_listed_over_several_pages_are_all_found() {
    // Regression: only the first page of a paginated referrers index was read (the Go client
    // follows its `Link`, as for tags): a registry paginating them hid all the others.
    let (first, second) = (sha256(b"first"), sha256(b"second"));
    let page_one = referrers_index(std::slice::from_ref(&first));
    let page_two = referrers_index(std::slice::from_ref(&second));
    let root = manifest(&[]);
    let paged = Fake::start(move |_, path| {
        if path.starts_with("/v2/r/manifests/") {
            return Reply {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), MANIFEST.into()),
                    ("Docker-Content-Digest".into(), sha256(&root)),
                ],
                body: root.clone(),
            };
        }
        if !path.starts_with("/v2/r/referrers/") {
            return Reply::status(404);
        }
        let index = |body: &Vec<u8>| Reply {
            status: 200,
            headers: vec![("Content-Type".into(), INDEX.into())],
            body: body.clone(),
        };
        if !path.contains(&sha256(&root)) {
            return index(&referrers_index(&[]));
        }
        if path.contains("page=2") {
            return index(&page_two);
        }
        let next = format!(
            r#"<{}?page=2>; rel="next""#,
            path.split('?').next().unwrap()
        );
        index(&page_one).header("Link", &next)
    });
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args([
            "discover",
            "--plain-http",
            &format!("{}/r:tag", paged.host()),
        ])
        .args(["--format", "json"])
        .success();
    let tree: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found: Vec<&str> = tree["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    assert_eq!(found, [first.as_str(), second.as_str()], "{out}");
}

// ---------------------------------------------------------------------------------------------
// Silence
// ---------------------------------------------------------------------------------------------

/// A registry that reads each request and then sends nothing at all (`headers: None`), or the
/// given status line and headers and then no body, holding the connection open for minutes.
fn silent_registry(headers: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let mut stream = stream;
                if let Some(headers) = headers {
                    let _ = stream.write_all(headers.as_bytes());
                }
                std::thread::sleep(std::time::Duration::from_secs(300));
            });
        }
    });
    port
}

#[test]
fn a_registry_that_stops_answering_is_an_error_not_a_hang() {
    // Regression: manifests, lists and tokens were read with no time limit: a registry that
    // accepted the request and then sent nothing (or headers and no body) hung the client.
    let mute = silent_registry(None);
    let stalled = silent_registry(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000\r\n\r\n{\"schema",
    ));
    let started = std::time::Instant::now();
    let run = |port: u16| {
        std::thread::spawn(move || {
            Sandbox::new()
                .oras()
                .args(["manifest", "fetch", "--plain-http"])
                .arg(format!("127.0.0.1:{port}/r:tag"))
                .failure()
        })
    };
    let (mute, stalled) = (run(mute), run(stalled));
    let (mute, stalled) = (mute.join().unwrap(), stalled.join().unwrap());
    mute.error_first_line("Error:");
    mute.stderr_contains("no response within 60 s");
    stalled.error_first_line("Error:");
    stalled.stderr_contains("no data for 30 s: the response stalled");
    // Well within the harness's own 180 s limit on a command.
    assert!(started.elapsed().as_secs() < 150, "{mute}\n{stalled}");
}

// ---------------------------------------------------------------------------------------------
// Tags that are not tags
// ---------------------------------------------------------------------------------------------

/// A registry that has every blob, takes every manifest, and records the requests.
fn accepting_registry() -> Fake {
    Fake::start(|method, path| match method {
        "HEAD" if path.contains("/blobs/") => Reply::status(200).header("Content-Length", "0"),
        "PUT" if path.contains("/manifests/") => Reply::status(201),
        "GET" if path.contains("/referrers/") => Reply {
            status: 200,
            headers: vec![("Content-Type".into(), INDEX.into())],
            body: referrers_index(&[]),
        },
        _ => Reply::status(404),
    })
}

/// Renames the tag `v1` of the layout at `lay` to `tag` in its `index.json`.
fn retag_layout(sb: &Sandbox, tag: &str) {
    let mut index: serde_json::Value = serde_json::from_slice(&sb.read("lay/index.json")).unwrap();
    index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = tag.into();
    sb.write("lay/index.json", serde_json::to_vec(&index).unwrap());
}

#[test]
fn restore_refuses_a_backup_tag_that_climbs_to_another_repository() {
    // Regression: a tag from the backup went into the manifest URL as it was, and the URL's
    // `..` segments were resolved: `../../other/manifests/pwned` made restore PUT a manifest
    // into repository `other` with the user's credentials.
    for tag in [
        "../../other/manifests/pwned",
        "%2e%2e/%2e%2e/other/manifests/pwned",
    ] {
        let fake = accepting_registry();
        let sb = Sandbox::new();
        hi_layout(&sb);
        retag_layout(&sb, tag);
        let out = sb
            .oras()
            .args(["restore", "--plain-http", "--input", "lay"])
            .arg(format!("{}/r", fake.host()))
            .run();
        assert_eq!(
            fake.count("/v2/other"),
            0,
            "{out}\n{:?}",
            fake.requests.lock().unwrap()
        );
        let out = out.failure();
        out.error_first_line("Error:");
        out.stderr_contains("invalid tag");
        assert_eq!(fake.count("PUT"), 0, "{out}");
    }
}

#[test]
fn discover_shows_the_registry_s_artifact_types_and_annotations_escaped() {
    // Regression: the tree printed artifact types and annotations from the referrers index
    // raw: escape sequences reached the terminal, newlines forged tree lines.
    let root = manifest(&[]);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{
            "mediaType": MANIFEST,
            "digest": sha256(b"referrer"),
            "size": 100,
            "artifactType": "application/x\u{1b}[2J\nforged",
            "annotations": { "k\u{1b}]0;t\u{7}": "v\u{1b}[31m\nforged" },
        }],
    }))
    .unwrap();
    let fake = Fake::start(move |_, path| {
        if path.starts_with("/v2/r/manifests/") {
            return Reply {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), MANIFEST.into()),
                    ("Docker-Content-Digest".into(), sha256(&root)),
                ],
                body: root.clone(),
            };
        }
        let listed = if path.contains(&sha256(&root)) {
            index.clone()
        } else {
            referrers_index(&[])
        };
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), INDEX.into())],
            body: listed,
        }
    });
    let out = Sandbox::new()
        .oras()
        .args([
            "discover",
            "-v",
            "--plain-http",
            &format!("{}/r:tag", fake.host()),
        ])
        .success();
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'),
        "{out}"
    );
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("forged")),
        "{out}"
    );
    out.stdout_contains(r"application/x\u{1b}[2J\u{a}forged");
}

#[test]
fn a_registry_error_message_stays_on_the_error_s_line() {
    // Regression: a newline in the registry's error message printed lines of its choosing
    // under the error, such as a second `Error:` line.
    let fake = Fake::start(|_, _| {
        Reply {
        status: 403,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: br#"{"errors":[{"code":"DENIED","message":"denied\nError: forged\r\nLogin Succeeded"}]}"#
            .to_vec(),
    }
    });
    let out = Sandbox::new()
        .oras()
        .args([
            "manifest",
            "fetch",
            "--plain-http",
            &format!("{}/r:tag", fake.host()),
        ])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains(r"denied\nError: forged\r\nLogin Succeeded");
    assert_eq!(
        out.stderr.lines().filter(|l| l.contains("Error")).count(),
        1,
        "{out}"
    );
    assert!(!out.stderr.lines().any(|l| l == "Login Succeeded"), "{out}");
}

#[test]
fn a_copy_blames_the_source_for_a_blob_the_source_cannot_give() {
    // Regression: a blob the source could not give (missing, or not the size its descriptor
    // says) was reported as `Error from destination oci-layout …`, sending the user to look
    // at the wrong side.
    let content: &[u8] = b"content\n";
    let mut wrong_size = manifest(&[(content, "f.txt")]);
    let text = String::from_utf8(wrong_size.clone()).unwrap();
    wrong_size = text.replace(r#""size":8}"#, r#""size":5}"#).into_bytes();
    assert!(text.as_bytes() != wrong_size.as_slice());
    for (manifest, blobs) in [
        (manifest(&[(content, "f.txt")]), vec![b"{}".to_vec()]),
        (wrong_size, vec![content.to_vec(), b"{}".to_vec()]),
    ] {
        let fake = content_registry(vec![(MANIFEST, manifest)], blobs);
        let sb = Sandbox::new();
        let out = sb
            .oras()
            .args(["cp", "--from-plain-http", &format!("{}/r:tag", fake.host())])
            .args(["--to-oci-layout", "lay:v1"])
            .failure();
        out.error_first_line("Error");
        assert!(!out.stderr.contains("destination"), "{out}");
        assert!(!out.stderr.contains("from source"), "{out}");
    }
}
