//! No partial state: Ctrl-C or SIGTERM during a 1 GiB pull leaves no file behind, and logins
//! racing each other never lose an entry of config.json or leave it unreadable.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{PASSWORD, Sandbox, USER, registry, stop_with};

/// A fake registry whose single layer is 1 GiB of zeros, served slowly (about 40 MiB/s) for
/// as long as the client keeps reading.
fn slow_gigabyte_registry() -> u16 {
    trickling_gigabyte_registry(4 << 20, Duration::from_millis(100))
}

/// A registry serving a 1 GiB blob `chunk` bytes every `every` (it never finishes in a test).
fn trickling_gigabyte_registry(chunk: usize, every: Duration) -> u16 {
    const SIZE: u64 = 1 << 30;
    // The pull is interrupted long before the digest would be checked.
    let zeros_digest = "5a1d1bd6ab3e2d2d8e5e2d6b6f9a7d8c4b3a2918172635445362718091a2b3c4";
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}},"layers":[{{"mediaType":"application/octet-stream","digest":"sha256:{zeros_digest}","size":{SIZE},"annotations":{{"org.opencontainers.image.title":"big.bin"}}}}]}}"#
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let manifest = manifest.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let mut out = stream;
                if line.contains("/manifests/") {
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{manifest}",
                        manifest.len()
                    );
                } else {
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\nConnection: close\r\n\r\n"
                    );
                    let chunk = vec![0u8; chunk];
                    loop {
                        if out.write_all(&chunk).is_err() {
                            break;
                        }
                        std::thread::sleep(every);
                    }
                }
            });
        }
    });
    port
}

#[test]
fn ctrl_c_during_a_gigabyte_pull_leaves_no_file() {
    signal_during_a_gigabyte_pull_leaves_no_file("INT", 130, "Error: interrupted");
}

#[test]
fn sigterm_during_a_gigabyte_pull_leaves_no_file() {
    // A CI job cancelled or timed out, or `docker stop`, sends SIGTERM: the pull stops as for
    // Ctrl-C, its temp files removed (it used to die on the spot and leave them).
    signal_during_a_gigabyte_pull_leaves_no_file("TERM", 143, "Error: terminated");
}

/// Sends `signal` to a pull while its download is under way: the pull exits with `code` and
/// `says` on stderr, and nothing is left in its output directory.
fn signal_during_a_gigabyte_pull_leaves_no_file(signal: &str, code: i32, says: &str) {
    let sb = Sandbox::new();
    let port = slow_gigabyte_registry();
    let out_dir = sb.path("out");
    let mut child = sb.spawn_oras([
        "pull".as_ref(),
        "--plain-http".as_ref(),
        format!("127.0.0.1:{port}/slow/big:v1").as_ref(),
        "-o".as_ref(),
        out_dir.as_os_str(),
    ]);
    // Wait until the download is under way: its temp file exists and is growing.
    let deadline = Instant::now() + Duration::from_secs(20);
    let partial = loop {
        let found = std::fs::read_dir(&out_dir).ok().and_then(|d| {
            d.flatten()
                .find(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        });
        if let Some(entry) = found {
            break entry.path();
        }
        assert!(Instant::now() < deadline, "the pull never started writing");
        std::thread::sleep(Duration::from_millis(50));
    };
    stop_with(&mut child, signal, code, says);
    assert!(
        !partial.exists(),
        "the partial download {} was removed",
        partial.display()
    );
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "nothing is left in the output: {left:?}");
}

#[test]
fn racing_logins_never_lose_an_entry() {
    let sb = Sandbox::new();
    let port = registry().port();
    // Eight names for one registry (through --resolve): eight keys of config.json written by
    // processes racing each other, fifty rounds.
    let hosts: Vec<String> = (0..8).map(|i| format!("r{i}.race.test")).collect();
    let expected_auth = base64_of(&format!("{USER}:{PASSWORD}"));
    for round in 0..50 {
        let children: Vec<_> = hosts
            .iter()
            .map(|host| {
                Command::new(env!("CARGO_BIN_EXE_oras"))
                    .args(["login", host, "--plain-http", "-u", USER, "-p", PASSWORD])
                    .args(["--resolve", &format!("{host}:80:127.0.0.1:{port}")])
                    .env("HOME", sb.home())
                    .env("DOCKER_CONFIG", sb.docker_config())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = std::fs::read_to_string(sb.config_json()).unwrap();
        let config: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("round {round}: config.json is not valid JSON ({e}):\n{text}")
        });
        for host in &hosts {
            assert_eq!(
                config["auths"][host]["auth"].as_str(),
                Some(expected_auth.as_str()),
                "round {round}: the entry for {host} was lost:\n{text}"
            );
        }
        // Start every round from an empty file, so each round races from scratch.
        std::fs::remove_file(sb.config_json()).unwrap();
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn a_long_download_reports_progress_in_plain_logs() {
    // Without a terminal (a CI log), a transfer still running after a few seconds prints a
    // progress line, where the Go client stays silent until the blob ends.
    progress_line_within(
        slow_gigabyte_registry(),
        Duration::from_secs(20),
        " / 1 GB (",
    );
}

#[test]
fn a_trickling_download_reports_progress_too() {
    // 64 KB/s: the first line comes after 5 s, not when a 1 MiB batch fills up (16 s).
    let port = trickling_gigabyte_registry(32 << 10, Duration::from_millis(500));
    progress_line_within(port, Duration::from_secs(9), " KB / 1 GB (");
}

/// Pulls the endless blob on `port` and checks a `Progress` line (containing `expect`) reaches
/// stderr within `limit`, and none reaches stdout.
fn progress_line_within(port: u16, limit: Duration, expect: &str) {
    let sb = Sandbox::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oras"))
        .args([
            "pull",
            "--plain-http",
            &format!("127.0.0.1:{port}/slow/progress:v1"),
            "-o",
            "out",
        ])
        .current_dir(sb.work())
        .env("HOME", sb.home())
        .env("DOCKER_CONFIG", sb.docker_config())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress goes to stderr: stdout holds only the Go client's status lines.
    let stdout = child.stdout.take().unwrap();
    let stdout_lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    let progress = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("Progress ") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let line =
        progress.unwrap_or_else(|| panic!("no progress line within {limit:?}; saw {seen:?}"));
    let stdout_lines = stdout_lines.join().unwrap();
    assert!(
        !stdout_lines.iter().any(|l| l.starts_with("Progress")),
        "progress on stdout: {stdout_lines:?}"
    );
    assert!(
        line.contains("big.bin") && line.contains(expect) && line.ends_with("/s"),
        "{line}"
    );
}
