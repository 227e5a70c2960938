//! Test harness: throw-away `docker-registry` processes, a sandbox per test, a builder that runs
//! the real `oras` binary, skopeo helpers and a writer for hand-built OCI image layouts.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::pki::{Pki, write_pem};
use crate::servers::{self, TokenServer};

/// Credentials accepted by the htpasswd registry (the same pair the Go client's e2e suite uses).
pub const USER: &str = "hello";
pub const PASSWORD: &str = "oras-test";

const INSTALL_HINT: &str = "install it with `apt-get install -y docker-registry skopeo` \
                            (Debian/Ubuntu, as root) or run ./scripts/test, which installs it";

/// How long a single `oras` or `skopeo` invocation may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

/// Environment variables that would make child processes talk to something other than the
/// loopback registry or read configuration outside the sandbox.
const SCRUBBED_ENV: &[&str] = &[
    "DOCKER_CONFIG",
    "ORAS_CACHE",
    "REGISTRY_AUTH_FILE",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

// ---------------------------------------------------------------------------------------------
// Prerequisites
// ---------------------------------------------------------------------------------------------

/// Finds `name` on `PATH`; a missing tool fails the test loudly instead of skipping it.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not on PATH: the integration tests need it; {INSTALL_HINT}")
        })
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/// How a harness registry authenticates and which transport it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain HTTP, no authentication.
    Open,
    /// Plain HTTP, htpasswd basic auth (`hello` / `oras-test`).
    Htpasswd,
    /// Plain HTTP, `auth: token` backed by the harness [`TokenServer`].
    Token,
    /// As `Token`, with a realm the token server answers with a 307 to its `/token`.
    TokenMovedRealm,
    /// As `Token`, with a realm the token server redirects (307) to another origin.
    TokenRealmAway,
    /// HTTPS with a certificate from the test CA ([`pki`]), no authentication.
    Tls,
    /// HTTPS that also requires a client certificate from the test CA (`http.tls.clientcas`).
    MutualTls,
    /// HTTPS with [`pki`]'s lone self-signed certificate (a CA one, as openssl makes them).
    SelfSignedTls,
}

/// A `docker-registry` on 127.0.0.1, started once per test binary.
pub struct Registry {
    port: u16,
    mode: Mode,
    log: PathBuf,
    /// Holds the write end of the pipe whose closing (at process exit) stops the registry.
    _guard: Mutex<Child>,
}

/// The registry without authentication.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::Open))
}

/// The registry with htpasswd basic auth (`hello` / `oras-test`).
pub fn auth_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::Htpasswd))
}

/// The registry with token auth; its tokens come from [`token_server`].
pub fn token_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::Token))
}

/// A token-auth registry whose realm is redirected to another origin (127.0.0.1 for localhost).
pub fn realm_away_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::TokenRealmAway))
}

/// A second token-auth registry whose realm is redirected (307) by the token server.
pub fn moved_realm_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::TokenMovedRealm))
}

/// The HTTPS registry (certificate for `localhost` and 127.0.0.1 from [`pki`]'s CA).
pub fn tls_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::Tls))
}

/// The HTTPS registry that requires a client certificate signed by [`pki`]'s CA.
pub fn mtls_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::MutualTls))
}

/// The HTTPS registry serving [`pki`]'s self-signed certificate (for `localhost` and
/// 127.0.0.1, basicConstraints CA:TRUE).
pub fn self_signed_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Mode::SelfSignedTls))
}

/// The token server behind [`token_registry`], started once per test binary.
pub fn token_server() -> &'static TokenServer {
    static SERVER: OnceLock<TokenServer> = OnceLock::new();
    SERVER.get_or_init(TokenServer::start)
}

/// The test CA with its server and client certificates, generated once per test binary.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(Pki::generate)
}

impl Registry {
    fn start(mode: Mode) -> Registry {
        let binary = require_tool("docker-registry");
        let mut last_error = String::new();
        // A port picked from a dropped listener can be taken by someone else before the
        // registry binds it; try a few ports before giving up.
        for _ in 0..3 {
            match Self::try_start(&binary, mode) {
                Ok(registry) => return registry,
                Err(error) => last_error = error,
            }
        }
        panic!("docker-registry ({mode:?}) did not start:\n{last_error}");
    }

    fn try_start(binary: &Path, mode: Mode) -> Result<Registry, String> {
        let dir = tempfile::Builder::new()
            .prefix("oras-it-registry-")
            .tempdir()
            .expect("create registry temp dir")
            // The static handle is never dropped; the shell wrapper below removes the dir.
            .keep();
        let port = free_port();
        let storage = dir.join("storage");
        let log = dir.join("registry.log");
        let config = dir.join("config.yml");
        let mut yaml = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            storage = storage.display(),
        );
        if matches!(mode, Mode::Tls | Mode::MutualTls | Mode::SelfSignedTls) {
            let pki = pki();
            let (cert, key) = if mode == Mode::SelfSignedTls {
                (&pki.self_signed_cert, &pki.self_signed_key)
            } else {
                (&pki.server_cert, &pki.server_key)
            };
            write!(
                yaml,
                "  tls:\n    certificate: {}\n    key: {}\n",
                write_pem(&dir, "server.pem", cert).display(),
                write_pem(&dir, "server-key.pem", key).display(),
            )
            .unwrap();
            if mode == Mode::MutualTls {
                write!(
                    yaml,
                    "    clientcas:\n      - {}\n",
                    write_pem(&dir, "ca.pem", &pki.ca_cert).display()
                )
                .unwrap();
            }
        }
        match mode {
            Mode::Htpasswd => {
                let hash = bcrypt::hash_with_result(PASSWORD, 4)
                    .expect("bcrypt hash")
                    .format_for_version(bcrypt::Version::TwoY);
                let htpasswd = dir.join("htpasswd");
                std::fs::write(&htpasswd, format!("{USER}:{hash}\n")).expect("write htpasswd");
                write!(
                    yaml,
                    "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                    htpasswd.display()
                )
                .unwrap();
            }
            Mode::Token | Mode::TokenMovedRealm | Mode::TokenRealmAway => {
                let server = token_server();
                let realm = match mode {
                    Mode::TokenMovedRealm => server.moved_realm(),
                    Mode::TokenRealmAway => server.realm().replace("/token", "/away"),
                    _ => server.realm(),
                };
                let bundle = write_pem(&dir, "token-root.pem", &server.key.cert_pem);
                write!(
                    yaml,
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                     rootcertbundle: {}\n",
                    realm,
                    servers::SERVICE,
                    servers::ISSUER,
                    bundle.display()
                )
                .unwrap();
            }
            Mode::Open | Mode::Tls | Mode::MutualTls | Mode::SelfSignedTls => {}
        }
        std::fs::write(&config, yaml).expect("write registry config");
        let log_file = std::fs::File::create(&log).expect("create registry log");

        // Statics are never dropped, so the registry cannot be stopped from Rust. Instead the
        // wrapper shell waits on a pipe that only this process holds: when the test process
        // exits, the pipe closes, `read` returns and the registry is killed and cleaned up.
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" serve "$1" & pid=$!; read dummy; kill $pid; wait $pid; rm -rf "$2""#)
            .arg(binary)
            .arg(&config)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot spawn docker-registry: {e}"))?;

        let registry = Registry {
            port,
            mode,
            log,
            _guard: Mutex::new(child),
        };
        // Expect the answer of *this* registry's mode, so that another server that grabbed
        // the port meanwhile is not mistaken for it. A TLS registry answers a plain HTTP
        // request with Go's `400 … Client sent an HTTP request to an HTTPS server.`
        let ready = |response: &str| match mode {
            Mode::Open => status_of(response) == Some(200),
            Mode::Htpasswd => status_of(response) == Some(401) && response.contains("Basic realm="),
            Mode::Token | Mode::TokenMovedRealm | Mode::TokenRealmAway => {
                status_of(response) == Some(401) && response.contains("Bearer realm=")
            }
            Mode::Tls | Mode::MutualTls | Mode::SelfSignedTls => {
                status_of(response) == Some(400) && response.contains("HTTPS server")
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match http_get(port, "/v2/") {
                Some(response) if ready(&response) => return Ok(registry),
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "registry on 127.0.0.1:{port} did not answer GET /v2/ within 10 s; log:\n{}",
                        registry.log()
                    ));
                }
                _ => thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// `localhost:<port>`: the form the CLI treats as plain HTTP by default.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `localhost:<port>/<repo_and_tag>`.
    pub fn reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.host())
    }

    /// `127.0.0.1:<port>`: the form the CLI reaches over HTTPS by default.
    pub fn ip_host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>/<repo_and_tag>`.
    pub fn ip_reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.ip_host())
    }

    /// `docker://127.0.0.1:<port>/<repo_and_tag>` for skopeo.
    pub fn docker_ref(&self, repo_and_tag: &str) -> String {
        format!("docker://127.0.0.1:{}/{repo_and_tag}", self.port)
    }

    /// Whether the registry asks for credentials (htpasswd or token).
    pub fn has_auth(&self) -> bool {
        matches!(
            self.mode,
            Mode::Htpasswd | Mode::Token | Mode::TokenMovedRealm | Mode::TokenRealmAway
        )
    }

    /// The registry's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("<no log: {e}>"))
    }

    /// The raw manifest stored under `repo:tag`, as skopeo reads it.
    pub fn manifest(&self, repo_and_tag: &str) -> Vec<u8> {
        let docker_ref = self.docker_ref(repo_and_tag);
        let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
        let creds = format!("{USER}:{PASSWORD}");
        if self.has_auth() {
            args.extend(["--creds", &creds]);
        }
        args.push(&docker_ref);
        // docker-registry 2.8 writes a manifest in place, not atomically: while another test
        // pushes the same bytes, a read can meet a half-written file and get a 500. Such a read
        // is repeated; any other failure is not.
        let mut out = skopeo_unchecked(&args);
        for _ in 0..3 {
            if out.code == 0 || !out.stderr.contains("500 Internal Server Error") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            out = skopeo_unchecked(&args);
        }
        assert_eq!(out.code, 0, "skopeo failed\n{out}");
        out.stdout_bytes
    }

    /// Pushes an OCI image layout tag to `repo:tag` with skopeo, keeping digests unchanged.
    pub fn skopeo_push_layout(&self, layout: &Path, tag: &str, repo_and_tag: &str) {
        let src = format!("oci:{}:{tag}", layout.display());
        let dest = self.docker_ref(repo_and_tag);
        let creds = format!("{USER}:{PASSWORD}");
        let mut args = vec![
            "--insecure-policy",
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ];
        if self.has_auth() {
            args.extend(["--dest-creds", &creds]);
        }
        args.extend([src.as_str(), dest.as_str()]);
        skopeo(&args);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Minimal HTTP/1.1 GET returning the status code, or `None` if nothing answers yet.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    status_of(&http_get(port, path)?)
}

fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Minimal plain HTTP/1.1 GET returning the whole response (head and body), or `None` if
/// nothing answers yet.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    Some(String::from_utf8_lossy(&response).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

/// Exit code and captured output of one process.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout exactly as written (for byte-level comparisons).
    pub stdout_bytes: Vec<u8>,
    pub command: String,
}

impl Output {
    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(self) -> Output {
        assert_eq!(self.code, 0, "expected success\n{self}");
        self
    }

    /// Asserts exit code 1 (the Go client's code for every error).
    #[track_caller]
    pub fn failure(self) -> Output {
        assert_eq!(self.code, 1, "expected exit code 1\n{self}");
        self
    }

    /// Asserts the first stderr line that is not a `WARNING!` (the Go client warns about
    /// `-p` before doing anything) starts with `prefix` (`Error:` or `Error response from
    /// registry:`).
    #[track_caller]
    pub fn error_first_line(&self, prefix: &str) {
        let first = self
            .stderr
            .lines()
            .find(|l| !l.starts_with("WARNING!"))
            .unwrap_or_default();
        assert!(
            first.starts_with(prefix),
            "stderr's first line should start with {prefix:?}\n{self}"
        );
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Output {
        assert!(
            self.stderr.contains(needle),
            "stderr should contain {needle:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Output {
        assert!(
            self.stdout.contains(needle),
            "stdout should contain {needle:?}\n{self}"
        );
        self
    }

    /// Whether stdout has exactly this line.
    pub fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }

    /// Asserts stdout has exactly this line.
    #[track_caller]
    pub fn assert_line(&self, line: &str) -> &Output {
        assert!(
            self.has_line(line),
            "stdout should have the line {line:?}\n{self}"
        );
        self
    }

    /// The hex of the `Digest: sha256:<hex>` line on stdout.
    #[track_caller]
    pub fn digest_line(&self) -> String {
        let digests: Vec<&str> = self
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Digest: sha256:"))
            .collect();
        assert_eq!(
            digests.len(),
            1,
            "expected exactly one `Digest: sha256:` line\n{self}"
        );
        let hex = digests[0];
        assert!(is_hex(hex, 64), "bad digest {hex:?}\n{self}");
        hex.to_owned()
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n---",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs a fully configured command with optional stdin and a timeout.
pub fn run_command(mut command: Command, stdin: Option<Vec<u8>>) -> Output {
    let description = format!("{command:?}");
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {description}: {e}"));
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let mut out = child.stdout.take().expect("stdout pipe");
    let mut err = child.stderr.take().expect("stderr pipe");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} did not finish within {COMMAND_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    Output {
        // A signal death has no code; report it as -1 so it never passes success/failure.
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stdout_bytes: stdout,
        command: description,
    }
}

fn scrubbed(program: &Path) -> Command {
    let mut command = Command::new(program);
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    command
}

/// Runs skopeo with `args` and asserts success.
#[track_caller]
pub fn skopeo(args: &[&str]) -> Output {
    let output = skopeo_unchecked(args);
    assert_eq!(output.code, 0, "skopeo failed\n{output}");
    output
}

/// Runs skopeo with `args`, whatever the outcome.
pub fn skopeo_unchecked(args: &[&str]) -> Output {
    let mut command = scrubbed(&require_tool("skopeo"));
    command.args(args);
    run_command(command, None)
}

// ---------------------------------------------------------------------------------------------
// Sandbox and the oras builder
// ---------------------------------------------------------------------------------------------

/// One test's private directories: `home/`, `docker/` (`DOCKER_CONFIG`) and `work/` (cwd).
pub struct Sandbox {
    root: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let root = tempfile::Builder::new()
            .prefix("oras-it-")
            .tempdir()
            .expect("temp dir");
        for sub in ["home", "docker", "work"] {
            std::fs::create_dir(root.path().join(sub)).expect("create sandbox dir");
        }
        Sandbox { root }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The working directory of every `oras` run (unless overridden with `Oras::cwd`).
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The `DOCKER_CONFIG` directory.
    pub fn docker_config(&self) -> PathBuf {
        self.root.path().join("docker")
    }

    /// `$DOCKER_CONFIG/config.json`.
    pub fn config_json(&self) -> PathBuf {
        self.docker_config().join("config.json")
    }

    /// A path inside the work dir.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.work().join(relative)
    }

    /// Writes a file inside the work dir, creating parent directories.
    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// Writes `file` with `content` and pushes it to the OCI layout `reference` (`dir:tag`).
    pub fn push_to_layout(&self, reference: &str, file: &str, content: &str) {
        self.write(file, content);
        self.oras()
            .args(["push", "--oci-layout", reference, file])
            .success();
    }

    /// Reads a file inside the work dir.
    #[track_caller]
    pub fn read(&self, relative: &str) -> Vec<u8> {
        let path = self.path(relative);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Starts `oras <args>` in this sandbox without waiting for it: stdin empty, stdout
    /// dropped, stderr piped (read by [`stop_with`], or by `wait_with_output`).
    pub fn spawn_oras<S: AsRef<std::ffi::OsStr>>(
        &self,
        args: impl IntoIterator<Item = S>,
    ) -> Child {
        Command::new(env!("CARGO_BIN_EXE_oras"))
            .args(args)
            .current_dir(self.work())
            .env("HOME", self.home())
            .env("DOCKER_CONFIG", self.docker_config())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start oras")
    }

    /// An `oras` invocation running in this sandbox.
    pub fn oras(&self) -> Oras {
        Oras {
            args: Vec::new(),
            cwd: self.work(),
            home: self.home(),
            docker_config: self.docker_config(),
            envs: Vec::new(),
            stdin: None,
            one_core: false,
        }
    }
}

/// Sends `signal` (`INT`, `TERM`) to `child` and checks that it exits with `code` and says
/// `says` on stderr (piped), which it returns.
#[track_caller]
pub fn stop_with(child: &mut std::process::Child, signal: &str, code: i32, says: &str) -> String {
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -{signal}");
    let exit = child.wait().expect("wait for oras").code();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("read stderr");
    }
    assert_eq!(exit, Some(code), "SIG{signal} exits {code}: {stderr}");
    assert!(stderr.contains(says), "SIG{signal}: {stderr}");
    stderr
}

/// Builder for one run of the real `oras` binary.
pub struct Oras {
    args: Vec<OsString>,
    cwd: PathBuf,
    home: PathBuf,
    docker_config: PathBuf,
    envs: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    /// Run under `taskset -c 0`, so that the binary sees one core.
    one_core: bool,
}

impl Oras {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Oras {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Oras
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Working directory; relative paths are taken from the sandbox work dir.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Oras {
        self.cwd = self.cwd.join(dir);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Oras {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Oras {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs the binary on CPU 0 alone (`taskset -c 0`): it sees one core.
    pub fn one_core(mut self) -> Oras {
        self.one_core = true;
        self
    }

    /// Runs the binary and returns whatever happened.
    pub fn run(self) -> Output {
        let binary = Path::new(env!("CARGO_BIN_EXE_oras"));
        let mut command = if self.one_core {
            let mut command = scrubbed(&require_tool("taskset"));
            command.args(["-c", "0"]).arg(binary);
            command
        } else {
            scrubbed(binary)
        };
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .env("HOME", &self.home)
            .env("DOCKER_CONFIG", &self.docker_config)
            .env("NO_COLOR", "1")
            .envs(self.envs);
        let mut output = run_command(command, self.stdin);
        output.command = std::iter::once("oras".to_owned())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" ");
        output
    }

    /// Runs and asserts exit code 0.
    #[track_caller]
    pub fn success(self) -> Output {
        self.run().success()
    }

    /// Runs and asserts exit code 1.
    #[track_caller]
    pub fn failure(self) -> Output {
        self.run().failure()
    }
}

// ---------------------------------------------------------------------------------------------
// Digests and hand-built OCI image layouts
// ---------------------------------------------------------------------------------------------

/// Positions of `"key":` in raw JSON text must increase in the given order.
#[track_caller]
pub fn assert_key_order(json: &str, keys: &[&str]) {
    let mut last = 0;
    for key in keys {
        let needle = format!("\"{key}\":");
        let at = json
            .find(&needle)
            .unwrap_or_else(|| panic!("missing key {key} in {json}"));
        assert!(at >= last, "key {key} out of order in {json}");
        last = at;
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One layer of a hand-built layout.
pub struct HandLayer<'a> {
    pub title: &'a str,
    pub content: &'a [u8],
}

/// What [`write_layout`] produced.
pub struct HandLayout {
    pub manifest_digest: String,
    pub layer_hexes: Vec<String>,
}

/// Writes an OCI image layout by hand (`oci-layout`, `index.json`, `blobs/sha256/`) holding one
/// image manifest tagged `tag`, with an image config and one titled layer per entry. The blob
/// files are written with the given bytes; `corrupt` replaces the *stored* bytes of the layer
/// with that index while keeping the descriptor of the original content.
pub fn write_layout(
    dir: &Path,
    tag: &str,
    layers: &[HandLayer<'_>],
    corrupt: Option<usize>,
) -> HandLayout {
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).expect("create blobs dir");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();

    let layer_hexes: Vec<String> = layers.iter().map(|l| sha256_hex(l.content)).collect();
    for (index, (layer, hex)) in layers.iter().zip(&layer_hexes).enumerate() {
        let stored: Vec<u8> = if corrupt == Some(index) {
            // Same length, different bytes: only a real digest check notices.
            let mut bytes = layer.content.to_vec();
            let last = bytes.last_mut().expect("corrupted layer must not be empty");
            *last ^= 0x01;
            bytes
        } else {
            layer.content.to_vec()
        };
        std::fs::write(blobs.join(hex), stored).unwrap();
    }

    let diff_ids: Vec<String> = layer_hexes.iter().map(|h| format!("sha256:{h}")).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_hex = sha256_hex(&config);
    std::fs::write(blobs.join(&config_hex), &config).unwrap();

    let layer_descriptors: Vec<serde_json::Value> = layers
        .iter()
        .zip(&layer_hexes)
        .map(|(layer, hex)| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": format!("sha256:{hex}"),
                "size": layer.content.len(),
                "annotations": {"org.opencontainers.image.title": layer.title},
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_hex}"),
            "size": config.len(),
        },
        "layers": layer_descriptors,
    }))
    .unwrap();
    let manifest_hex = sha256_hex(&manifest);
    std::fs::write(blobs.join(&manifest_hex), &manifest).unwrap();

    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_hex}"),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    }))
    .unwrap();
    std::fs::write(dir.join("index.json"), index).unwrap();

    HandLayout {
        manifest_digest: format!("sha256:{manifest_hex}"),
        layer_hexes,
    }
}

/// A FIFO whose one writer gives `content` to the first reader and is then gone: a file that
/// can be read only once. Dropped, it releases a writer that nobody read from.
pub struct Fifo(PathBuf);

impl Fifo {
    pub fn new(path: &Path, content: Vec<u8>) -> Fifo {
        let made = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(made.success(), "mkfifo {}", path.display());
        let writer = path.to_owned();
        thread::spawn(move || {
            if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(writer) {
                let _ = w.write_all(&content);
            }
        });
        Fifo(path.to_owned())
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        // Opened read-write, a FIFO never blocks.
        drop(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.0),
        );
    }
}

/// All paths (relative, `/`-separated, sorted) of files and directories below `dir`.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let relative = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let is_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
            if is_dir {
                out.push(format!("{relative}/"));
                walk(base, &path, out);
            } else {
                out.push(relative);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The manifest tagged `tag` in the OCI image layout at `dir`: its raw bytes and parsed JSON.
#[track_caller]
pub fn layout_manifest(dir: &Path, tag: &str) -> (Vec<u8>, serde_json::Value) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("read index.json"))
            .expect("index.json is JSON");
    let entry = index["manifests"]
        .as_array()
        .expect("index.json has manifests")
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no manifest tagged {tag:?} in index.json: {index}"));
    let hex = layout_blob_hex(entry["digest"].as_str().expect("digest string"));
    let bytes = std::fs::read(dir.join("blobs/sha256").join(hex)).expect("read manifest blob");
    let json = serde_json::from_slice(&bytes).expect("manifest is JSON");
    (bytes, json)
}

/// The hex part of a `sha256:<hex>` digest string.
#[track_caller]
pub fn layout_blob_hex(digest: &str) -> &str {
    let hex = digest
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("not sha256: {digest}"));
    assert!(is_hex(hex, 64), "bad digest {digest}");
    hex
}

/// Asserts every file under `blobs/sha256/` is named after the sha256 of its content.
#[track_caller]
pub fn assert_layout_blobs_valid(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).expect("read blobs dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).expect("read blob");
        assert_eq!(
            sha256_hex(&bytes),
            name,
            "blob {} does not match its name",
            path.display()
        );
    }
}
