//! Progress on a terminal: a slow pull run in a pseudo-terminal (util-linux `script`) draws
//! progress bars on stderr and leaves stdout clean; without a terminal, or with `--no-tty` or
//! `--debug`, the same pull prints plain status lines only.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::{Output, Sandbox, run_command, sha256_hex};

/// The layer: 8 MiB, served in 32 chunks over about 2 s so that the bar is redrawn a few times.
const LAYER_SIZE: usize = 8 << 20;
const CHUNK: usize = 256 << 10;
const CHUNK_PAUSE: Duration = Duration::from_millis(60);

/// The empty config of an artifact manifest (`{}`).
const EMPTY_CONFIG_HEX: &str = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// A fake registry over plain HTTP on loopback serving one artifact, whatever the repository
/// and tag: a manifest whose single layer `big.bin` is served slowly and completely.
struct SlowRegistry {
    port: u16,
    layer: Arc<Vec<u8>>,
    layer_hex: String,
    manifest_hex: String,
}

impl SlowRegistry {
    fn start() -> SlowRegistry {
        // Not all zeros, so that a wrong offset would break the digest check.
        let layer: Arc<Vec<u8>> = Arc::new((0..LAYER_SIZE).map(|i| (i % 251) as u8).collect());
        let layer_hex = sha256_hex(&layer);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:{EMPTY_CONFIG_HEX}","size":2,"data":"e30="}},"layers":[{{"mediaType":"application/octet-stream","digest":"sha256:{layer_hex}","size":{LAYER_SIZE},"annotations":{{"org.opencontainers.image.title":"big.bin"}}}}]}}"#
        );
        let manifest_hex = sha256_hex(manifest.as_bytes());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let served = Arc::clone(&layer);
        let (layer_path, manifest_digest) = (
            format!("/blobs/sha256:{layer_hex}"),
            format!("sha256:{manifest_hex}"),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (layer, manifest) = (Arc::clone(&served), manifest.clone());
                let (layer_path, manifest_digest) = (layer_path.clone(), manifest_digest.clone());
                std::thread::spawn(move || {
                    let Ok(read_half) = stream.try_clone() else {
                        return;
                    };
                    let mut reader = BufReader::new(read_half);
                    let mut request = String::new();
                    let _ = reader.read_line(&mut request);
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0
                            || header.trim().is_empty()
                        {
                            break;
                        }
                    }
                    let head_only = request.starts_with("HEAD ");
                    let path = request.split_whitespace().nth(1).unwrap_or_default();
                    let mut out = stream;
                    let (status, headers, body): (&str, String, &[u8]) = if path == "/v2/" {
                        ("200 OK", String::new(), b"{}")
                    } else if path.contains("/manifests/") {
                        (
                            "200 OK",
                            format!(
                                "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n\
                                 Docker-Content-Digest: {manifest_digest}\r\n"
                            ),
                            manifest.as_bytes(),
                        )
                    } else if path.ends_with(&layer_path) {
                        let _ = write!(
                            out,
                            "HTTP/1.1 200 OK\r\nContent-Length: {LAYER_SIZE}\r\n\
                             Connection: close\r\n\r\n"
                        );
                        if !head_only {
                            for chunk in layer.chunks(CHUNK) {
                                if out.write_all(chunk).and_then(|()| out.flush()).is_err() {
                                    return;
                                }
                                std::thread::sleep(CHUNK_PAUSE);
                            }
                        }
                        return;
                    } else if path.ends_with(EMPTY_CONFIG_HEX) {
                        ("200 OK", String::new(), b"{}")
                    } else {
                        ("404 Not Found", String::new(), b"")
                    };
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    if !head_only {
                        let _ = out.write_all(body);
                    }
                });
            }
        });
        SlowRegistry {
            port,
            layer,
            layer_hex,
            manifest_hex,
        }
    }

    fn reference(&self, repo_and_tag: &str) -> String {
        format!("127.0.0.1:{}/{repo_and_tag}", self.port)
    }

    /// The status lines the Go client prints for this pull (plain mode, on stdout).
    fn plain_lines(&self, reference: &str) -> Vec<String> {
        let short = &self.layer_hex[..12];
        vec![
            format!("Downloading {short} big.bin"),
            format!("Downloaded  {short} big.bin"),
            format!("Pulled [registry] {reference}"),
            format!("Digest: sha256:{}", self.manifest_hex),
        ]
    }
}

/// Finds util-linux `script`, which runs a command in a pseudo-terminal.
fn script_tool() -> PathBuf {
    let found = ["/usr/bin/script", "/bin/script"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "`script` (util-linux) is not installed: the terminal tests need it; install it with \
             `apt-get install -y bsdutils` (Debian/Ubuntu, as root) or run ./scripts/test"
        )
    })
}

/// What a pull inside a pseudo-terminal produced: everything written to the terminal (stderr
/// only, since stdout goes to a file) and that file.
struct PtyRun {
    output: Output,
    terminal: String,
    stdout_file: String,
}

/// Runs `oras pull --plain-http <reference> -o out <extra>` with stderr (and stdin) on a
/// 120x40 pseudo-terminal and stdout redirected to `stdout.txt`.
fn pull_in_pty(sb: &Sandbox, reference: &str, extra: &str) -> PtyRun {
    let shell_command = format!(
        "stty cols 120 rows 40; \"$ORAS_BIN\" pull --plain-http \"$REF\" -o out {extra} \
         > stdout.txt"
    );
    let mut command = Command::new(script_tool());
    // A clean environment: no proxies, no COLUMNS, a usual terminal type.
    command
        .env_clear()
        .args(["-q", "-e", "-f", "-c", &shell_command, "/dev/null"])
        .current_dir(sb.work())
        .env("PATH", "/usr/bin:/bin")
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm-256color")
        .env("HOME", sb.home())
        .env("DOCKER_CONFIG", sb.docker_config())
        .env("ORAS_BIN", env!("CARGO_BIN_EXE_oras"))
        .env("REF", reference);
    let output = run_command(command, None);
    let stdout_file = std::fs::read_to_string(sb.path("stdout.txt")).unwrap_or_default();
    PtyRun {
        terminal: output.stdout.clone(),
        output,
        stdout_file,
    }
}

impl std::fmt::Display for PtyRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- terminal (escaped) ---\n{}\n--- stdout.txt ---\n{}\n---",
            self.output,
            self.terminal.escape_debug(),
            self.stdout_file
        )
    }
}

/// Whether `text` holds a drawn bar: `[` then 20 cells of `=`, `>` or space, then `]`.
fn has_bar(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(22).any(|w| {
        w[0] == b'[' && w[21] == b']' && w[1..21].iter().all(|c| matches!(c, b'=' | b'>' | b' '))
    })
}

/// The positions drawn as `<bytes>/8.00 MiB` in the bar's frames.
fn drawn_positions(terminal: &str) -> Vec<String> {
    terminal
        .match_indices("/8.00 MiB")
        .filter_map(|(at, _)| {
            // `<number> <unit>` just before the slash.
            let mut words = terminal[..at].rsplitn(3, ' ');
            let unit = words.next()?;
            let number = words.next()?;
            Some(format!("{number} {unit}"))
        })
        .collect()
}

/// Asserts the pulled file is the served layer.
#[track_caller]
fn assert_pulled(sb: &Sandbox, registry: &SlowRegistry, context: &dyn std::fmt::Display) {
    let pulled = std::fs::read(sb.path("out/big.bin"))
        .unwrap_or_else(|e| panic!("out/big.bin was not written ({e})\n{context}"));
    assert!(
        pulled == *registry.layer,
        "out/big.bin differs from the served layer\n{context}"
    );
}

/// Asserts `text` is plain: no escape sequence, no carriage return, no bar, no tick.
#[track_caller]
fn assert_plain(what: &str, text: &str, context: &dyn std::fmt::Display) {
    assert!(
        !text.contains('\x1b'),
        "{what} has an ANSI escape\n{context}"
    );
    assert!(
        !text.contains('\r'),
        "{what} has a carriage return\n{context}"
    );
    assert!(!has_bar(text), "{what} has a progress bar\n{context}");
    assert!(!text.contains('✓'), "{what} has a bar's tick\n{context}");
}

#[test]
fn a_slow_pull_on_a_terminal_draws_bars_on_stderr_and_keeps_stdout_clean() {
    let registry = SlowRegistry::start();
    let sb = Sandbox::new();
    let reference = registry.reference("slow/tty:v1");
    let run = pull_in_pty(&sb, &reference, "");
    assert_eq!(run.output.code, 0, "the pull should succeed\n{run}");
    assert_pulled(&sb, &registry, &run);

    // stderr (the terminal): bars, redrawn while the layer arrives, then a tick when done.
    assert!(
        run.terminal.contains('\x1b'),
        "bars are drawn with escapes\n{run}"
    );
    assert!(has_bar(&run.terminal), "no progress bar was drawn\n{run}");
    assert!(
        run.terminal.contains("Downloading big.bin"),
        "the bar names the file\n{run}"
    );
    assert!(
        run.terminal.contains("Total: ") && run.terminal.contains(" running, "),
        "an overall line counts the blobs and bytes\n{run}"
    );
    assert!(
        run.terminal.contains("✓ Downloaded big.bin"),
        "a finished blob is ticked off\n{run}"
    );
    let positions = drawn_positions(&run.terminal);
    assert!(
        positions
            .iter()
            .any(|p| p != "0 B" && p != "8.00 MiB" && p.ends_with("MiB")),
        "the bar should be drawn part-way through the transfer, saw positions {positions:?}\n{run}"
    );
    assert!(
        !run.terminal.contains("Pulled") && !run.terminal.contains("Digest:"),
        "the result belongs on stdout, not the terminal's stderr\n{run}"
    );

    // stdout: the result only, plain.
    assert_plain("stdout", &run.stdout_file, &run);
    let expected = &registry.plain_lines(&reference)[2..];
    let lines: Vec<&str> = run.stdout_file.lines().collect();
    assert_eq!(lines, expected, "stdout holds the result only\n{run}");
}

#[test]
fn the_same_pull_without_a_terminal_prints_plain_status_lines_only() {
    let registry = SlowRegistry::start();
    let sb = Sandbox::new();
    let reference = registry.reference("slow/plain:v1");
    let out = sb
        .oras()
        .args(["pull", "--plain-http", &reference, "-o", "out"])
        .env("TERM", "xterm-256color")
        .success();
    assert_pulled(&sb, &registry, &out);
    assert_plain("stdout", &out.stdout, &out);
    assert_plain("stderr", &out.stderr, &out);
    assert!(out.stderr.is_empty(), "nothing on stderr\n{out}");
    for line in registry.plain_lines(&reference) {
        out.assert_line(&line);
    }
}

#[test]
fn no_tty_and_debug_on_a_terminal_print_plain_lines() {
    let registry = SlowRegistry::start();
    for (flag, repo) in [("--no-tty", "slow/notty:v1"), ("--debug", "slow/debug:v1")] {
        let sb = Sandbox::new();
        let reference = registry.reference(repo);
        let run = pull_in_pty(&sb, &reference, flag);
        assert_eq!(run.output.code, 0, "{flag}: the pull should succeed\n{run}");
        assert_pulled(&sb, &registry, &run);
        assert!(
            !has_bar(&run.terminal) && !run.terminal.contains('✓'),
            "{flag}: no bar on the terminal\n{run}"
        );
        assert!(
            !run.terminal.contains('\x1b'),
            "{flag}: no escape sequence on the terminal\n{run}"
        );
        if flag == "--no-tty" {
            assert!(
                run.terminal.trim().is_empty(),
                "{flag}: nothing on stderr\n{run}"
            );
        }
        assert_plain("stdout", &run.stdout_file, &run);
        let lines: Vec<&str> = run.stdout_file.lines().collect();
        for line in registry.plain_lines(&reference) {
            assert!(
                lines.contains(&line.as_str()),
                "{flag}: stdout should have the line {line:?}\n{run}"
            );
        }
    }
}
