//! One module per oras verb. Each turns its parsed arguments into plain options, opens its
//! target and reports through the output handle.

pub mod backup;
pub mod blob;
pub mod copy;
pub mod discover;
pub mod index;
pub mod login;
pub mod logout;
pub mod manifest;
pub mod manpage;
pub mod pull;
pub mod push;
pub mod repo;
pub mod tag;
pub mod version;

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use crate::cli::{CommonArgs, FormatArgs, RemoteArgs, TargetArgs};
use crate::credentials::{Credential, Lookup, Secret, Store};
use crate::output::{Format, UserError};
use crate::reference::{Reference, Selector, is_localhost};
use crate::registry::{Client, ClientOptions, Repository};
use crate::target::{
    Cached, Layout, ReferrersMode, Remote, Target, TargetKind, parse_layout_reference,
};

/// How many positional arguments a command takes: the Go client's `argument.Exactly` and
/// `argument.AtLeast` (it has no other kind).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

impl Arity {
    /// The Go client's words, singular whatever the count (`exactly 2 argument`).
    fn text(self) -> String {
        match self {
            Self::Exactly(n) => format!("exactly {n} argument"),
            Self::AtLeast(n) => format!("at least {n} argument"),
        }
    }

    fn accepts(self, count: usize) -> bool {
        match self {
            Self::Exactly(n) => count == n,
            Self::AtLeast(n) => count >= n,
        }
    }
}

/// `"oras <cmd>" requires exactly 1 argument but got N`, with usage and a hint, as the Go
/// client's `CheckArgs`; `what` is the description each Go command passes it, word for word.
pub(crate) fn check_args(
    cmd: &str,
    args: &[String],
    arity: Arity,
    usage: &str,
    what: &str,
) -> Result<()> {
    if arity.accepts(args.len()) {
        return Ok(());
    }
    let text = arity.text();
    Err(UserError::new(format!(
        "\"oras {cmd}\" requires {text} but got {}",
        args.len()
    ))
    .usage(usage.to_owned())
    .hint(format!(
        "Please specify {text} as {what}. Run \"oras {cmd} -h\" for more options and examples"
    ))
    .into())
}

/// `-a key=value` flags (split at the first `=`) as annotations. As the Go client's
/// `parseAnnotationFlags`, the first repeated key stops it, in its words, trailing `, ` included.
pub(crate) fn parse_annotation_flags(flags: &[String]) -> Result<crate::oci::Annotations> {
    let mut annotations = crate::oci::Annotations::new();
    for flag in flags {
        let Some((key, value)) = flag.split_once('=') else {
            return Err(
                UserError::new("annotation value doesn't match the required format")
                    .hint("Please use the correct format in the flag: --annotation \"key=value\"")
                    .into(),
            );
        };
        if annotations
            .insert(key.to_owned(), value.to_owned())
            .is_some()
        {
            bail!("duplicate annotation key: {key}, ");
        }
    }
    Ok(annotations)
}

/// A `--format` value: one of a command's named formats, or a Go template.
pub(crate) enum FormatChoice {
    Named(&'static str),
    Template(String),
}

/// Parses `--format` (`name` or `go-template=T`) with `--template`, accepting the names in
/// `known` (`supported` is the hint listing them, in the Go client's words).
pub(crate) fn parse_format_flag(
    raw: &str,
    template: Option<&String>,
    known: &[&'static str],
    supported: &str,
) -> Result<FormatChoice> {
    let template = template.filter(|t| !t.is_empty()).cloned();
    let (kind, inline) = match raw.split_once('=') {
        Some((k, t)) => (k, Some(t.to_owned())),
        None => (raw, None),
    };
    if template.is_some() && kind != "go-template" {
        bail!("--template must be used with --format go-template");
    }
    if kind == "go-template" {
        return match inline.filter(|t| !t.is_empty()).or(template) {
            // Checked before anything is done, as the Go client parses it up front.
            Some(t) => {
                crate::output::check_template(&t)?;
                Ok(FormatChoice::Template(t))
            }
            None => Err(
                UserError::new("\"go-template\" format specified but no template given")
                    .hint("use `--format go-template=TEMPLATE` to specify the template")
                    .into(),
            ),
        };
    }
    match known.iter().find(|k| **k == kind) {
        Some(k) if inline.is_none() => Ok(FormatChoice::Named(k)),
        _ => Err(UserError::new(format!("invalid format type: {raw:?}"))
            .hint(format!("supported types: {supported}"))
            .into()),
    }
}

pub(crate) fn parse_format(args: &FormatArgs) -> Result<(Format, Option<String>)> {
    match parse_format_flag(
        &args.format,
        args.template.as_ref(),
        &["text", "", "json"],
        "json, go-template, text",
    )? {
        FormatChoice::Named("json") => Ok((Format::Json, None)),
        FormatChoice::Named(_) => Ok((Format::Text, None)),
        FormatChoice::Template(t) => Ok((Format::Template, Some(t))),
    }
}

/// What every command does first, in cobra's order: pflag's deprecation warning for
/// `--verbose` (printed as the flags are parsed), then the argument count (cobra's `Args`, the
/// Go client's `CheckArgs`). Options are validated after both, as the Go client does in
/// `PreRunE`. Returns `--verbose` (status lines for unnamed blobs, on by default).
pub(crate) fn begin(
    common: &CommonArgs,
    cmd: &str,
    args: &[String],
    arity: Arity,
    usage: &str,
    what: &str,
) -> Result<bool> {
    let verbose = verbose(common);
    check_args(cmd, args, arity, usage, what)?;
    Ok(verbose)
}

/// The output of a command with `--format` (validated here: call it after [`begin`]), with
/// progress per `--no-tty`/`--debug`.
pub(crate) fn format_output(
    format: &FormatArgs,
    no_tty: bool,
    debug: bool,
    verbose: bool,
) -> Result<crate::output::Output> {
    let (format, template) = parse_format(format)?;
    Ok(crate::output::Output::new(format, no_tty, debug, verbose).with_template(template))
}

/// `--verbose`, warning that it is deprecated when given (on stderr, whatever the format).
pub(crate) fn verbose(common: &CommonArgs) -> bool {
    if common.verbose.is_some() {
        crate::output::warn(
            "Flag --verbose has been deprecated, and will be removed in a future release.",
        );
    }
    common.verbose.unwrap_or(true)
}

/// Reads all of stdin and trims one trailing newline (`\n`, then `\r`).
fn read_stdin_secret() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("failed to read the secret from stdin")?;
    if s.ends_with('\n') {
        s.pop();
    }
    if s.ends_with('\r') {
        s.pop();
    }
    Ok(s)
}

/// `-` (a file read from stdin) cannot share stdin with `--password-stdin` or
/// `--identity-token-stdin`.
pub(crate) fn check_stdin_secret(remote: &RemoteArgs) -> Result<()> {
    let (flag, what) = if remote.password_stdin {
        ("password-stdin", "password")
    } else if remote.identity_token_stdin {
        ("identity-token-stdin", "identity token")
    } else {
        return Ok(());
    };
    bail!("`-` read file from input and `--{flag}` read {what} from input cannot be both used")
}

/// The credential given on the command line, if any; a password without a username is an
/// identity token.
pub(crate) fn flag_credential(
    remote: &RemoteArgs,
    out: &crate::output::Output,
) -> Result<Option<Credential>> {
    // The Go client's checks, in its order: each names the flags of its group that were given.
    let token = !remote.identity_token.is_empty();
    let password = !remote.password.is_empty();
    for group in [
        &[
            ("username", !remote.username.is_empty()),
            ("identity-token", token),
            ("identity-token-stdin", remote.identity_token_stdin),
        ][..],
        &[
            ("password", password),
            ("identity-token", token),
            ("identity-token-stdin", remote.identity_token_stdin),
            ("password-stdin", remote.password_stdin),
        ][..],
    ] {
        let given: Vec<String> = group
            .iter()
            .filter(|(_, set)| *set)
            .map(|(flag, _)| format!("--{flag}"))
            .collect();
        if given.len() > 1 {
            bail!("{} cannot be used at the same time", given.join(", "));
        }
    }
    check_cert_pair(remote)?;
    if password {
        out.warn("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if !remote.identity_token.is_empty() {
        out.warn(
            "WARNING! Using --identity-token via the CLI is insecure. Use --identity-token-stdin.",
        );
    }
    let secret = if remote.password_stdin || remote.identity_token_stdin {
        read_stdin_secret()?
    } else if !remote.identity_token.is_empty() {
        remote.identity_token.clone()
    } else {
        remote.password.clone()
    };
    Ok(match (remote.username.is_empty(), secret.is_empty()) {
        (_, true) => None,
        (true, false) => Some(Credential::identity_token(secret)),
        (false, false) => Some(Credential::Basic {
            username: remote.username.clone(),
            password: Secret::new(secret),
        }),
    })
}

fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>> {
    headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            _ => bail!("invalid header: {h:?}"),
        })
        .collect()
}

/// One `--resolve` entry: connections for `host:port` go to `addr`.
struct ResolveEntry {
    host: String,
    port: u16,
    addr: std::net::SocketAddr,
}

/// `host:port:address[:address_port]` (the Go client's `--resolve`).
fn parse_resolve(raw: &str) -> Result<ResolveEntry> {
    let fail = |why: &str| anyhow::anyhow!("failed to parse resolve flag {raw:?}: {why}");
    let mut parts = raw.splitn(3, ':');
    let (Some(host), Some(port), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(fail("expecting host:port:address[:address_port]"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| fail("expecting uint64 host port"))?;
    let (addr, addr_port) = if let Some(v6) = rest.strip_prefix('[') {
        let (ip, tail) = v6
            .split_once(']')
            .ok_or_else(|| fail("invalid IP address"))?;
        (ip, tail.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((ip, p)) if !ip.contains(':') => (ip, Some(p)),
            _ => (rest, None),
        }
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| fail("invalid IP address"))?;
    let addr_port = match addr_port {
        Some(p) => p
            .parse()
            .map_err(|_| fail("expecting uint64 address port"))?,
        None => port,
    };
    Ok(ResolveEntry {
        host: host.to_owned(),
        port,
        addr: std::net::SocketAddr::new(ip, addr_port),
    })
}

/// Where to connect for `host` (`name[:port]`): itself, or, when a `--resolve` entry maps its
/// `name:port` to another port, `name:<that port>`. The HTTP library overrides addresses but
/// always dials the port in the URL, so the port goes into the URL.
fn connect_host(host: &str, plain_http: bool, resolve: &[ResolveEntry]) -> String {
    let default = if plain_http { 80 } else { 443 };
    let (name, port) = match host.rsplit_once(':').map(|(n, p)| (n, p.parse::<u16>())) {
        Some((n, Ok(p))) => (n, p),
        _ => (host, default),
    };
    match resolve
        .iter()
        .rev()
        .find(|e| e.host == name && e.port == port)
    {
        Some(e) if e.addr.port() != port => format!("{name}:{}", e.addr.port()),
        _ => host.to_owned(),
    }
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "Failed to load {what} in file: {}: {}",
            path.display(),
            crate::output::io_error_text(&e)
        )
    })
}

/// A path flag's value: `None` when it was not given or given empty (`--ca-file "$CA"` with
/// the variable unset), as the Go client checks the flag `!= ""`.
pub(crate) fn given(path: Option<&std::path::PathBuf>) -> Option<&Path> {
    path.map(std::path::PathBuf::as_path)
        .filter(|p| !p.as_os_str().is_empty())
}

/// `--cert-file` and `--key-file` come together.
fn check_cert_pair(remote: &RemoteArgs) -> Result<()> {
    let (cert, key) = (
        given(remote.cert_file.as_ref()),
        given(remote.key_file.as_ref()),
    );
    if cert.is_some() != key.is_some() {
        let (given, missing) = if cert.is_some() {
            ("--cert-file", "--key-file")
        } else {
            ("--key-file", "--cert-file")
        };
        bail!("{given} must be used in conjunction with {missing}");
    }
    Ok(())
}

/// A client for `registry`, with credentials from the flags or else the credential store.
pub(crate) fn registry_client(
    registry: &str,
    host: &str,
    remote: &RemoteArgs,
    credential: Option<Credential>,
    debug: bool,
) -> Result<Client> {
    check_cert_pair(remote)?;
    let ca_pem = match given(remote.ca_file.as_ref()) {
        Some(path) => {
            let pem = read_file(path, "certificate")?;
            if !crate::registry::has_certificates(&pem) {
                bail!("Failed to load certificate in file: {}", path.display());
            }
            Some(pem)
        }
        None => None,
    };
    let identity_pem = match (
        given(remote.cert_file.as_ref()),
        given(remote.key_file.as_ref()),
    ) {
        (Some(cert), Some(key)) => {
            let mut pem = read_file(cert, "certificate")?;
            pem.push(b'\n');
            pem.extend(read_file(key, "key")?);
            Some(pem)
        }
        _ => None,
    };
    let resolve = remote
        .resolve
        .iter()
        .map(|r| parse_resolve(r))
        .collect::<Result<Vec<_>>>()?;
    // Flags need no lookup; a credential helper waits for the registry's challenge.
    let credential = match credential {
        Some(c) => Lookup::known(Some(c)),
        None => Store::new(&remote.registry_config).lookup(registry)?,
    };
    let plain_http = remote.plain_http.unwrap_or_else(|| is_localhost(registry));
    let connect = connect_host(host, plain_http, &resolve);
    let resolve = resolve.into_iter().map(|e| (e.host, e.addr)).collect();
    let options = ClientOptions {
        plain_http,
        insecure: remote.insecure,
        credential,
        headers: parse_headers(&remote.header)?,
        ca_pem,
        identity_pem,
        resolve,
        debug,
        public_host: (connect != host).then(|| host.to_owned()),
    };
    Ok(Client::new(&connect, &options)?)
}

pub(crate) fn invalid_reference(raw: &str, e: impl std::fmt::Display) -> anyhow::Error {
    const FORM: &str =
        "Please make sure the provided reference is in the form of <registry>/<repo>[:tag|@digest]";
    // `alpine:3`, as Docker takes it: oras needs the registry spelled out. A registry given
    // alone (`localhost:5000`, `ghcr.io`) lacks a repository instead: no Docker Hub guess.
    let name = raw.split(':').next().unwrap_or_default();
    let hint = if !raw.is_empty()
        && !raw.contains('/')
        && name != "localhost"
        && !name.contains('.')
        && Reference::parse(&format!("docker.io/library/{raw}")).is_ok()
    {
        format!("{FORM}\nDid you mean \"docker.io/library/{raw}\"?")
    } else {
        FORM.to_owned()
    };
    UserError::new(format!("{raw:?}: {e}")).hint(hint).into()
}

/// An opened target and what the reference selected in it.
pub(crate) struct Opened {
    pub target: Box<dyn Target>,
    pub selector: Option<String>,
}

/// Opens the target a reference names: a layout directory (or, to read, a `.tar` of one) with
/// `--oci-layout` or `--oci-layout-path`, else a remote repository. `write` asks for push
/// access (and creates a missing layout).
pub(crate) fn open_target(
    raw: &str,
    args: &TargetArgs,
    write: bool,
    debug: bool,
    out: &crate::output::Output,
) -> Result<Opened> {
    if args.oci_layout && args.oci_layout_path.is_some() {
        bail!("--oci-layout, --oci-layout-path cannot be used at the same time");
    }
    if args.oci_layout || args.oci_layout_path.is_some() {
        if !args.remote.header.is_empty() {
            bail!("custom header flags cannot be used on an OCI image layout target");
        }
        let (path, selector) = if let Some(dir) = &args.oci_layout_path {
            (dir.as_path(), layout_path_selector(raw))
        } else {
            let (path, selector) = parse_layout_reference(raw);
            if let Some(s) = selector {
                // After `@` only a digest may follow, and go-digest's reason is the one to give.
                let bad = if raw.contains('@') {
                    s.parse::<crate::oci::Digest>()
                        .err()
                        .map(|e| crate::reference::ReferenceError::Digest(s.to_owned(), e))
                } else {
                    (s.parse::<crate::oci::Digest>().is_err() && !crate::reference::is_valid_tag(s))
                        .then(|| crate::reference::ReferenceError::Tag(s.to_owned()))
                };
                if let Some(e) = bad {
                    return Err(invalid_reference(raw, e.to_string()));
                }
            }
            (Path::new(path), selector)
        };
        // As the Go client: any file (not only `*.tar`) given to read is taken as a tar archive.
        let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        let layout = if is_tar_file(path) || (is_file && !write) {
            if write {
                return Err(UserError::new(format!(
                    "{:?} is a tar archive: an OCI layout in a .tar file can only be read",
                    path.display().to_string()
                ))
                .hint("Write to a layout directory instead (archive it afterwards with `tar -cf <file>.tar -C <dir> .`)")
                .into());
            }
            Layout::open_tar(path)?
        } else if write {
            Layout::create(path)?
        } else {
            Layout::open(path, raw)?
        }
        .with_max_manifest(args.max_manifest_size);
        return Ok(Opened {
            target: Box::new(layout),
            selector: selector.map(str::to_owned),
        });
    }
    let reference = Reference::parse(raw).map_err(|e| invalid_reference(raw, e))?;
    let credential = flag_credential(&args.remote, out)?;
    let client = registry_client(
        &reference.registry,
        reference.host(),
        &args.remote,
        credential,
        debug,
    )?;
    let repo = Repository::new(
        Arc::new(client),
        &reference.registry,
        &reference.repository,
        write,
    )
    .with_max_manifest(args.max_manifest_size);
    Ok(Opened {
        target: Box::new(Remote::new(repo, args.chunk_size)),
        selector: reference.selector.as_ref().map(Selector::to_string),
    })
}

/// With `ORAS_CACHE=<dir>` set, a registry target read through a content cache kept as an OCI
/// image layout in that directory, created if missing (oras-cli.md §2.3). Only commands that
/// read call this; layout targets are never cached.
pub(crate) fn read_through_cache(opened: Opened, args: &TargetArgs) -> Result<Opened> {
    let Some(dir) = std::env::var_os("ORAS_CACHE").filter(|d| !d.is_empty()) else {
        return Ok(opened);
    };
    if opened.target.kind() != TargetKind::Registry {
        return Ok(opened);
    }
    let cache = Layout::create(Path::new(&dir))
        .with_context(|| format!("failed to open the cache ORAS_CACHE={}", dir.display()))?
        .with_max_manifest(args.max_manifest_size);
    Ok(Opened {
        target: Box::new(Cached::new(opened.target, cache)),
        selector: opened.selector,
    })
}

/// `--distribution-spec`: how the registry keeps referrers.
pub(crate) fn referrers_mode(args: &crate::cli::ReferrersArgs) -> Result<ReferrersMode> {
    match args.distribution_spec.as_deref() {
        None => Ok(ReferrersMode::Auto),
        Some(spec) => spec.parse().map_err(|()| {
            UserError::new(format!("unknown distribution specification flag: {spec}"))
                .hint("Available options: v1.1-referrers-tag, v1.1-referrers-api")
                .into()
        }),
    }
}

/// Resolves the manifest `selector` names, narrowed to `platform` when given: its descriptor
/// (as the Go client resolves it: the index entry with `platform` for a platform match, the
/// `index.json` entry for a layout tag) and its bytes.
pub(crate) async fn resolve_manifest(
    target: &dyn Target,
    selector: &str,
    platform: Option<&str>,
) -> Result<(crate::oci::Descriptor, Vec<u8>)> {
    let platform = platform_flag(platform)?;
    let (desc, bytes) = target.fetch_manifest(selector).await?;
    match &platform {
        Some(p) => select_platform(target, desc, bytes, p).await,
        None => Ok((desc, bytes)),
    }
}

/// What `raw` selects in the layout given by `--oci-layout-path`: the whole argument, stored
/// as `org.opencontainers.image.ref.name` (`example.com/app:v1`); the digest of
/// `<name>@<digest>`; nothing for a bare repository (`example.com/app`) or an empty argument.
fn layout_path_selector(raw: &str) -> Option<&str> {
    if let Some((_, digest)) = raw.rsplit_once('@')
        && digest.parse::<crate::oci::Digest>().is_ok()
    {
        return Some(digest);
    }
    let bare_repository = Reference::parse(raw).is_ok_and(|r| r.selector.is_none());
    (!raw.is_empty() && !bare_repository).then_some(raw)
}

/// An existing regular file named `*.tar` (any case): an OCI layout saved as an archive.
fn is_tar_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"))
        && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The tag or digest a reference must carry, else the Go client's error with usage and hint.
pub(crate) fn require_selector(
    opened: &Opened,
    raw: &str,
    cmd: &str,
    usage: &str,
) -> Result<String> {
    opened.selector.clone().ok_or_else(|| {
        UserError::new(format!("{raw:?}: no tag or digest specified"))
            .usage(usage.to_owned())
            .hint(format!(
                "Please specify a reference in the form of \"<name>:<tag>\" or \"<name>@<digest>\". Run \"oras {cmd} -h\" for more options and examples"
            ))
            .into()
    })
}

/// The digest a reference must carry (blob commands).
pub(crate) fn require_digest(
    opened: &Opened,
    raw: &str,
    cmd: &str,
    usage: &str,
) -> Result<crate::oci::Digest> {
    match opened.selector.as_deref().map(str::parse::<crate::oci::Digest>) {
        Some(Ok(d)) => Ok(d),
        _ => Err(UserError::new(format!("{raw:?}: no digest specified"))
            .usage(usage.to_owned())
            .hint(format!(
                "Please specify a reference in the form of \"<name>@<digest>\". Run \"oras {cmd} -h\" for more options and examples"
            ))
            .into()),
    }
}

/// Asks `question` on stdout and reads a `y`/`yes` answer from stdin (anything else is no).
pub(crate) fn confirm(out: &crate::output::Output, question: &str) -> bool {
    use std::io::BufRead as _;
    out.prompt(question);
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The start of `manifest delete` / `blob delete`: argument checks, option checks (with
/// `--distribution-spec` where the command has it), then the target opened for writing.
pub(crate) fn open_for_delete(
    cmd: &str,
    args: &crate::cli::DeleteArgs,
    referrers: Option<&crate::cli::ReferrersArgs>,
    usage: &str,
    what: &str,
) -> Result<(crate::output::Output, Opened)> {
    begin(
        &args.common,
        cmd,
        &args.args,
        Arity::Exactly(1),
        usage,
        what,
    )?;
    let out = crate::output::Output::new(Format::Text, true, args.common.debug, true);
    if args.descriptor.descriptor && !args.force {
        bail!("must apply --force to confirm the deletion if the descriptor is outputted");
    }
    let mode = referrers.map(referrers_mode).transpose()?;
    let mut opened = open_target(&args.args[0], &args.target, true, args.common.debug, &out)?;
    if let Some(mode) = mode {
        opened.target.set_referrers_mode(mode);
    }
    Ok((out, opened))
}

/// The rest of `manifest delete` / `blob delete` once the target is looked up: `Missing`
/// with `-f` or an error when absent, the `[y/N]` prompt unless `-f`, the delete itself, and
/// `Deleted …` or the descriptor.
pub(crate) async fn delete_found(
    out: &crate::output::Output,
    args: &crate::cli::DeleteArgs,
    target: &dyn Target,
    found: Option<crate::oci::Descriptor>,
    manifest: bool,
) -> Result<()> {
    let raw = &args.args[0];
    let what = if manifest { "manifest" } else { "blob" };
    let Some(desc) = found else {
        if args.force && !args.descriptor.descriptor {
            out.line(&format!("Missing {raw}"));
            return Ok(());
        }
        bail!("{raw}: the specified {what} does not exist");
    };
    let question = if manifest {
        format!(
            "Are you sure you want to delete the manifest {:?} and all tags associated with it? [y/N] ",
            desc.digest.to_string()
        )
    } else {
        format!(
            "Are you sure you want to delete the blob {:?}? [y/N] ",
            desc.digest.to_string()
        )
    };
    if !args.force && !confirm(out, &question) {
        out.line("Operation cancelled.");
        return Ok(());
    }
    target
        .delete(&desc.digest, manifest)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("failed to delete {raw}")))?;
    if args.descriptor.descriptor {
        return print_descriptor(out, &desc, args.descriptor.pretty);
    }
    out.line(&format!("Deleted [{}] {raw}", target.kind()));
    Ok(())
}

/// A descriptor as `--descriptor` prints it: compact, or indented with `--pretty`.
pub(crate) fn print_descriptor(
    out: &crate::output::Output,
    desc: &crate::oci::Descriptor,
    pretty: bool,
) -> Result<()> {
    if pretty {
        out.bytes(&crate::oci::to_go_json_pretty(desc)?);
    } else {
        out.bytes(&crate::oci::to_go_json(desc)?);
    }
    Ok(())
}

/// A `--platform` value: `os[/arch[/variant]][:os_version]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlatformSpec {
    os: String,
    arch: String,
    variant: Option<String>,
    os_version: Option<String>,
}

/// A `--platform` flag: an empty value (`--platform "$PLATFORM"` with the variable unset) asks
/// for no platform, as in the Go client, which parses the flag only when it is not empty.
pub(crate) fn platform_flag(raw: Option<&str>) -> Result<Option<PlatformSpec>> {
    raw.filter(|p| !p.is_empty())
        .map(parse_platform)
        .transpose()
}

pub(crate) fn parse_platform(raw: &str) -> Result<PlatformSpec> {
    let (spec, os_version) = match raw.split_once(':') {
        Some((s, v)) => (s, Some(v.to_owned())),
        None => (raw, None),
    };
    let parts: Vec<&str> = spec.split('/').collect();
    if parts.len() > 3 {
        bail!("failed to parse platform {raw:?}: expected format os[/arch[/variant]]");
    }
    let os = parts[0].to_owned();
    if os.is_empty() {
        bail!("invalid platform: OS cannot be empty");
    }
    let arch = match parts.get(1) {
        Some(&"") => bail!("invalid platform: Architecture cannot be empty"),
        Some(a) => (*a).to_owned(),
        None => match std::env::consts::ARCH {
            "x86_64" => "amd64".to_owned(),
            "aarch64" => "arm64".to_owned(),
            other => other.to_owned(),
        },
    };
    Ok(PlatformSpec {
        os,
        arch,
        variant: parts.get(2).map(|v| (*v).to_owned()),
        os_version,
    })
}

impl PlatformSpec {
    /// The platform as an image config or index entry records it.
    pub(crate) fn to_platform(&self) -> crate::oci::Platform {
        crate::oci::Platform {
            architecture: self.arch.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: None,
            variant: self.variant.clone(),
        }
    }

    fn matches(
        &self,
        os: &str,
        arch: &str,
        variant: Option<&str>,
        os_version: Option<&str>,
    ) -> bool {
        self.os == os
            && self.arch == arch
            && self.variant.as_deref().is_none_or(|v| Some(v) == variant)
            && self
                .os_version
                .as_deref()
                .is_none_or(|v| Some(v) == os_version)
    }
}

/// oras-go's `ErrNotFound` for `desc`, in its words: with the registry prefix from a registry,
/// bare from an OCI layout.
fn not_found_because(
    target: &dyn Target,
    desc: &crate::oci::Descriptor,
    why: &str,
) -> anyhow::Error {
    match target.kind() {
        crate::target::TargetKind::Registry => {
            anyhow::Error::new(crate::registry::RegistryError::NotFoundBecause {
                subject: desc.digest.to_string(),
                why: why.to_owned(),
            })
        }
        crate::target::TargetKind::OciLayout => {
            anyhow::anyhow!("{}: not found: {why}", desc.digest)
        }
    }
}

/// Narrows a fetched manifest to `platform`: the matching child of an index (its index entry,
/// with `platform`, and its bytes), or the manifest itself when its config says it matches.
pub(crate) async fn select_platform(
    target: &dyn Target,
    desc: crate::oci::Descriptor,
    bytes: Vec<u8>,
    platform: &PlatformSpec,
) -> Result<(crate::oci::Descriptor, Vec<u8>)> {
    #[derive(serde::Deserialize)]
    struct ConfigPlatform {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        variant: Option<String>,
        #[serde(rename = "os.version")]
        os_version: Option<String>,
    }
    if crate::oci::is_index_type(&desc.media_type) {
        let index = crate::oci::parse_index(&bytes)
            .with_context(|| format!("{}: invalid index", desc.digest))?;
        let child = index
            .manifests
            .iter()
            .find(|m| {
                m.platform.as_ref().is_some_and(|p| {
                    platform.matches(
                        &p.os,
                        &p.architecture,
                        p.variant.as_deref(),
                        p.os_version.as_deref(),
                    )
                })
            })
            .ok_or_else(|| {
                not_found_because(
                    target,
                    &desc,
                    "no matching manifest was found in the manifest list",
                )
            })?;
        let (_, child_bytes) = target.fetch_manifest(&child.digest.to_string()).await?;
        return Ok((child.clone(), child_bytes));
    }
    let manifest = crate::oci::parse_manifest(&bytes)
        .with_context(|| format!("{}: invalid manifest", desc.digest))?;
    // oras-go reads a platform only from an image config (its getPlatformFromConfig).
    let expected = if desc.media_type == crate::oci::MEDIA_TYPE_DOCKER_MANIFEST {
        "application/vnd.docker.container.image.v1+json"
    } else {
        "application/vnd.oci.image.config.v1+json"
    };
    if manifest.config.media_type != expected {
        bail!(
            "fail to recognize platform from unknown config {}: expect {expected}: unsupported",
            manifest.config.media_type
        );
    }
    let config = fetch_small_blob(target, &manifest.config, crate::oci::MAX_MANIFEST_BYTES).await?;
    let p: ConfigPlatform = serde_json::from_slice(&config)
        .map_err(|_| anyhow::anyhow!("{}: the manifest has no platform to match", desc.digest))?;
    if !platform.matches(
        &p.os,
        &p.architecture,
        p.variant.as_deref(),
        p.os_version.as_deref(),
    ) {
        return Err(not_found_because(
            target,
            &desc,
            "platform in manifest does not match target platform",
        ));
    }
    Ok((desc, bytes))
}

/// Opens `desc` in `target` from a byte offset, as the verified downloads ask for it.
pub(crate) fn fetcher<'a>(
    target: &'a dyn Target,
    desc: &'a crate::oci::Descriptor,
) -> impl Fn(u64) -> crate::target::ChunksFuture<'a> + Send + Sync + 'a {
    move |offset| {
        Box::pin(async move {
            target
                .fetch_blob_chunks(desc, offset)
                .await
                .map_err(std::io::Error::other)
        })
    }
}

/// Adds `tags` to a manifest the target holds, `concurrency` at a time, calling `tagged` after
/// each.
pub(crate) async fn tag_all<T: AsRef<str> + Sync>(
    target: &dyn Target,
    desc: &crate::oci::Descriptor,
    bytes: &[u8],
    tags: &[T],
    concurrency: usize,
    tagged: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    use futures_util::stream::{self, TryStreamExt as _};
    stream::iter(tags.iter().map(|t| Ok(t.as_ref())))
        .try_for_each_concurrent(concurrency.max(1), |tag| async move {
            target.tag_manifest(desc, bytes, tag).await?;
            tagged(tag);
            Ok::<_, anyhow::Error>(())
        })
        .await
}

/// Reads a small blob (a config) whole, at most `max` bytes, verified against `desc`. One that
/// arrives with other bytes is asked for once more, as a download is: a stale cache entry is
/// then replaced by the registry's copy.
pub(crate) async fn fetch_small_blob(
    target: &dyn Target,
    desc: &crate::oci::Descriptor,
    max: u64,
) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    for _ in 0..2 {
        let reader = target.fetch_blob(desc, 0).await?;
        let mut data = Vec::new();
        reader.take(max + 1).read_to_end(&mut data).await?;
        if data.len() as u64 == desc.size && crate::oci::Digest::of(&data) == desc.digest {
            return Ok(data);
        }
    }
    bail!("{}: mismatched digest", desc.digest)
}

/// Downloads a blob into an anonymous temp file, verified, and rewinds it: what is copied out of
/// it is only ever bytes whose digest matched.
async fn fetch_verified(
    fetch: &crate::transfer::Fetch<'_>,
    desc: &crate::oci::Descriptor,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<std::fs::File> {
    let mut tmp = tempfile::tempfile().context("failed to create a temp file")?;
    crate::transfer::download_verified(fetch, tmp.try_clone()?, desc, progress).await?;
    std::io::Seek::rewind(&mut tmp)?;
    Ok(tmp)
}

/// Downloads a blob, verified, then copies it to stdout. A closed pipe is not an error.
pub(crate) async fn fetch_to_stdout(
    fetch: &crate::transfer::Fetch<'_>,
    desc: &crate::oci::Descriptor,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    use std::io::Write as _;
    let mut tmp = fetch_verified(fetch, desc, progress).await?;
    let mut stdout = std::io::stdout().lock();
    match std::io::copy(&mut tmp, &mut stdout).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Downloads a blob, verified, then copies it into `file` (an output from `open_through`).
pub(crate) async fn fetch_into(
    fetch: &crate::transfer::Fetch<'_>,
    desc: &crate::oci::Descriptor,
    mut file: std::fs::File,
    path: &Path,
) -> Result<()> {
    let mut tmp = fetch_verified(fetch, desc, &|_| {}).await?;
    std::io::copy(&mut tmp, &mut file)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// An output path to write into rather than replace, opened as Go's `os.Create` opens it: a
/// symbolic link (`/dev/stdout`, a link to a file elsewhere) or a file that is neither regular
/// nor a directory (`/dev/null`, the FIFO of `-o >(…)`). A temp file renamed over such a path
/// replaces the link or the device itself (as root, `/dev/null` becomes a plain file) and the
/// bytes never reach the reader. `None` for anything else, which is replaced atomically.
pub(crate) fn open_through(path: &Path) -> Result<Option<std::fs::File>> {
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
    if !link && !special {
        return Ok(None);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map(Some)
        .with_context(|| format!("failed to write {}", path.display()))
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, then rename), or into
/// it when it is a link or a device (`open_through`).
pub(crate) fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    if let Some(mut file) = open_through(path)? {
        return file
            .write_all(bytes)
            .with_context(|| format!("failed to write {}", path.display()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // In the words of Go's `os.WriteFile` (`open out: is a directory`), which names the path
    // given rather than our temp file.
    let failed = |e: &std::io::Error| {
        anyhow::anyhow!(
            "open {}: {}",
            path.display(),
            crate::output::io_error_text(e)
        )
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".oras-tmp-")
        // 0666 less the umask, as a plain create would give.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| failed(&e))?;
    tmp.write_all(bytes)
        .with_context(|| format!("failed to write {}", path.display()))?;
    tmp.persist(path).map_err(|e| failed(&e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platforms() {
        let p = parse_platform("linux/arm/v7").unwrap();
        assert!(p.matches("linux", "arm", Some("v7"), None));
        assert!(!p.matches("linux", "arm", Some("v6"), None));
        assert!(
            parse_platform("linux/amd64")
                .unwrap()
                .matches("linux", "amd64", None, None)
        );
        assert_eq!(
            parse_platform("/amd64").unwrap_err().to_string(),
            "invalid platform: OS cannot be empty"
        );
        assert!(parse_platform("a/b/c/d").is_err());
    }

    #[test]
    fn parses_resolve_flags() {
        let e = parse_resolve("oras.e2e.test:80:127.0.0.1:5000").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.addr.to_string().as_str()),
            ("oras.e2e.test", 80, "127.0.0.1:5000")
        );
        let e = parse_resolve("r.io:443:[::1]:8443").unwrap();
        assert_eq!(e.addr.to_string(), "[::1]:8443");
        let e = parse_resolve("r.io:443:10.0.0.1").unwrap();
        assert_eq!(e.addr.to_string(), "10.0.0.1:443");
        for (bad, why) in [
            ("r.io:443", "expecting host:port:address[:address_port]"),
            ("r.io:x:1.2.3.4", "expecting uint64 host port"),
            ("r.io:1:nope", "invalid IP address"),
            ("r.io:1:1.2.3.4:x", "expecting uint64 address port"),
        ] {
            let e = parse_resolve(bad).err().expect("an error").to_string();
            assert!(e.ends_with(why), "{bad}: {e}");
        }
    }

    #[test]
    fn resolve_entries_move_the_port_into_the_url() {
        let entries = [
            parse_resolve("r.test:5000:127.0.0.1:6000").unwrap(),
            parse_resolve("d.test:80:127.0.0.1:7000").unwrap(),
            parse_resolve("s.test:443:127.0.0.1").unwrap(),
        ];
        for (host, plain, want) in [
            ("r.test:5000", true, "r.test:6000"),
            ("r.test:5001", true, "r.test:5001"),
            ("d.test", true, "d.test:7000"),
            ("d.test", false, "d.test"),
            ("s.test", false, "s.test"),
            ("other:5000", true, "other:5000"),
        ] {
            assert_eq!(connect_host(host, plain, &entries), want, "{host}");
        }
    }
}
