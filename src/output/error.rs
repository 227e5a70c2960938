//! Rendering errors the Go client's way: `Error: <message>` (or `Error response from
//! registry: <errors>` for what a registry said), then usage and hint lines where they help.

use std::fmt::Write as _;

use crate::registry::RegistryError;

/// An error the user can fix, with optional usage and hint lines.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    pub message: String,
    pub usage: Option<String>,
    pub hint: Option<String>,
}

impl UserError {
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: None,
            hint: None,
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn usage(mut self, usage: impl Into<String>) -> Self {
        self.usage = Some(usage.into());
        self
    }
}

/// The side of a copy an error came from (oras-go's `CopyError` origin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Source,
    Destination,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Destination => "destination",
        })
    }
}

/// An error of one side of a copy, as the copy met it. Displays as the error itself.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct SideError {
    pub origin: Origin,
    #[source]
    pub source: crate::target::TargetError,
}

/// The prefix that replaces `Error:` for an error of one side of `oras cp`:
/// `Error from destination registry for "<ref>":` (the Go client's `binary_target.go`).
#[derive(Debug, thiserror::Error)]
#[error("Error from {origin} {kind} for {reference:?}:")]
pub struct CopySide {
    pub origin: Origin,
    /// `registry` or `oci-layout`.
    pub kind: String,
    pub reference: String,
    /// The credentials file of that side, named in the missing-credential hint.
    pub credential_file: Option<String>,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Whether a registry asked for credentials that neither the flags nor the store had.
#[must_use]
pub fn is_credential_missing(err: &anyhow::Error) -> bool {
    matches!(
        find_registry_error(err),
        Some(RegistryError::BasicCredentialNotFound)
    )
}

/// An OS error as Go prints it: `no such file or directory`, without Rust's `(os error 2)`.
#[must_use]
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::AlreadyExists => "file exists".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s);
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// `text` with every control character escaped (`\u{1b}`, `\u{a}`), for one line of output
/// that shows text from a manifest or a registry (a title, an artifact type): raw, it could
/// drive the terminal (escape sequences) or forge lines a script reads (a newline).
#[must_use]
pub fn escape_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` with control characters other than newline and tab escaped (`\u{1b}`): an error
/// can carry text from a registry or a file, which must not drive the terminal.
#[must_use]
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The text printed on stderr for `err`. `credential_file` names the config file in the hint
/// shown when credentials are missing.
#[must_use]
pub fn render_error(
    err: &anyhow::Error,
    credential_file: Option<&str>,
    suggest_login: bool,
) -> String {
    render(err, credential_file, suggest_login, false)
}

/// The text printed on stderr for an error of `oras cp`, whose hints name the flags of the side
/// the error came from (`--to-plain-http`, `--from-username`): cp has no `--plain-http` or `-u`.
#[must_use]
pub fn render_copy_error(err: &anyhow::Error, credential_file: Option<&str>) -> String {
    render(err, credential_file, true, true)
}

fn render(
    err: &anyhow::Error,
    credential_file: Option<&str>,
    suggest_login: bool,
    copy: bool,
) -> String {
    let registry = find_registry_error(err);
    let side = err.chain().find_map(|e| e.downcast_ref::<CopySide>());
    let mut out = match (side, registry) {
        (Some(side), Some(e @ RegistryError::Status { .. })) => format!("{side} {e}"),
        (Some(side), _) => format!("{side} {}", chain_text(err)),
        (None, Some(e @ RegistryError::Status { .. })) => {
            format!("Error response from registry: {e}")
        }
        (None, Some(RegistryError::NotFound(_) | RegistryError::NotFoundBecause { .. })) => {
            format!("Error response from registry: {}", chain_text(err))
        }
        (None, _) => format!("Error: {}", chain_text(err)),
    };
    let credential_file = side
        .and_then(|s| s.credential_file.as_deref())
        .or(credential_file);
    if let Some(user) = err.chain().find_map(|e| e.downcast_ref::<UserError>()) {
        if let Some(usage) = &user.usage {
            out.push_str("\nUsage: ");
            out.push_str(usage);
        }
        if let Some(hint) = &user.hint {
            out.push('\n');
            out.push_str(hint);
        }
    }
    let hint_start = out.len();
    match registry {
        Some(RegistryError::BasicCredentialNotFound) => {
            if let Some(path) = credential_file {
                let _ = write!(
                    out,
                    "\nPlease check whether the registry credential stored in the authentication file at {path:?} is correct"
                );
                out.push_str("\nTo sign in, run `oras login <registry>`, or pass `-u` with `--password-stdin`.");
            }
        }
        Some(RegistryError::Credential(e)) => {
            if let Some(hint) = e.hint() {
                out.push('\n');
                out.push_str(&hint);
            }
        }
        Some(RegistryError::Status {
            status: 401, url, ..
        }) if docker_hub_repo_without_namespace(url).is_some() => {
            let repo = docker_hub_repo_without_namespace(url).unwrap_or_default();
            let _ = write!(
                out,
                "\nNamespace seems missing. Do you mean `docker.io/library/{repo}`?"
            );
        }
        // An HTTPS-only server answers plain HTTP with a bare 400; a 400 with the spec's error
        // body is the registry's own answer (a manifest refers to a missing blob, …).
        Some(RegistryError::Status {
            status: 400,
            url,
            errors,
            ..
        }) if url.starts_with("http://") && errors.is_empty() => {
            out.push_str(
                "\nThe registry may only speak HTTPS: drop --plain-http (for localhost, pass --plain-http=false).",
            );
        }
        Some(RegistryError::Status {
            status: 401,
            errors,
            ..
        }) if suggest_login => {
            if errors.iter().any(|e| e.code == "INSUFFICIENT_SCOPE") {
                out.push_str(
                    "\nThe credentials used may not be allowed this action; without credentials, run `oras login <registry>` first.",
                );
            } else {
                out.push_str(
                    "\nRun `oras login <registry>` or pass `-u`/`--password-stdin` to authenticate.",
                );
            }
        }
        Some(RegistryError::Transport {
            source,
            ca_file,
            url,
        }) => out.push_str(&transport_hint(source, *ca_file, url)),
        _ => {}
    }
    let origin = side.map(|s| s.origin).or_else(|| {
        err.chain()
            .find_map(|e| e.downcast_ref::<SideError>())
            .map(|s| s.origin)
    });
    if let Some(origin) = origin.filter(|_| copy) {
        let hint = out.split_off(hint_start);
        out.push_str(&side_flags(&hint, origin));
    }
    out
}

/// `hint` with each connection flag it names spelt as `oras cp` spells it for one side:
/// `--plain-http` is `--to-plain-http` there, `-u` and `--password-stdin` are `--to-username`
/// and `--to-password`.
fn side_flags(hint: &str, origin: Origin) -> String {
    let side = match origin {
        Origin::Source => "from",
        Origin::Destination => "to",
    };
    let mut out = String::with_capacity(hint.len());
    let mut rest = hint;
    while let Some(at) = rest.find('-') {
        out.push_str(&rest[..at]);
        // A flag starts a word: the `-` in `self-signed` does not.
        let starts_word = !out.ends_with(|c: char| c.is_alphanumeric() || c == '-');
        let token_len = rest[at..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
            .unwrap_or(rest.len() - at);
        let token = &rest[at..at + token_len];
        let name = match token {
            "-u" => Some("username"),
            "--password-stdin" => Some("password"),
            "--plain-http" | "--insecure" | "--ca-file" | "--cert-file" | "--key-file"
            | "--registry-config" => Some(&token[2..]),
            _ => None,
        };
        match name {
            Some(name) if starts_word => {
                let _ = write!(out, "--{side}-{name}");
            }
            _ => out.push_str(token),
        }
        rest = &rest[at + token_len..];
    }
    out.push_str(rest);
    out
}

/// The hint under a failed connection: the proxy it went through, plain HTTP, or what is wrong
/// with a TLS certificate.
fn transport_hint(source: &reqwest::Error, ca_file: bool, url: &str) -> String {
    let mut out = String::new();
    let proxy = url::Url::parse(url)
        .ok()
        .and_then(|u| crate::registry::proxy_used_for(&u, |name| std::env::var(name).ok()));
    if let Some((name, address)) = proxy.filter(|_| source.is_connect()) {
        let _ = write!(
            out,
            "\nThe connection went through the proxy {address} (from {name}): check that it is up, or list the registry's host in NO_PROXY to go direct."
        );
    } else if cause_contains(source, &["invalidcontenttype", "corrupt message"]) {
        out.push_str("\nThe registry may be serving plain HTTP: try --plain-http.");
    } else if cause_contains(
        source,
        &["fatal alert: badcertificate", "certificaterequired"],
    ) {
        out.push_str(
            "\nThe registry requires a client certificate: pass --cert-file <pem> and --key-file <pem>.",
        );
    } else if let Some(hint) = certificate_hint(source, ca_file) {
        out.push_str(hint);
    } else if cause_contains(
        source,
        &["invalid peer certificate", "unknownissuer", "certificate"],
    ) {
        out.push_str(UNTRUSTED_HINT);
    }
    out
}

const UNTRUSTED_HINT: &str = "\nThe registry's TLS certificate is not trusted: pass its CA with --ca-file <pem>, or skip verification with --insecure.";

/// The hint for a refused server certificate: what is wrong with it, and how to trust it when
/// no `--ca-file` was given (with one, suggesting it again would not help).
fn certificate_hint(source: &reqwest::Error, ca_file: bool) -> Option<&'static str> {
    use crate::registry::CertificateProblem as Problem;
    Some(
        match (crate::registry::certificate_problem(source)?, ca_file) {
            (Problem::WrongName, _) => {
                "\nThe registry's TLS certificate is not valid for the host name or address in the reference: use a name the certificate covers, or reissue it for this one."
            }
            (Problem::OutsideValidity, _) => {
                "\nThe registry's TLS certificate has expired or is not valid yet: renew it, or check this machine's clock."
            }
            (Problem::UnknownIssuer, true) => {
                "\nThe registry's TLS certificate is not signed by a CA in the file given with --ca-file."
            }
            (Problem::CaAsServerCertificate, true) => {
                "\nThe registry's TLS certificate is a CA certificate that is not itself in the file given with --ca-file: a CA certificate is accepted as a registry's own only when listed there."
            }
            (Problem::Other, true) => {
                "\nThe registry's TLS certificate is refused although --ca-file was given, for the reason above."
            }
            (Problem::UnknownIssuer | Problem::CaAsServerCertificate | Problem::Other, false) => {
                UNTRUSTED_HINT
            }
        },
    )
}

/// The registry error behind `err`, looking through the transparent wrappers that hide it from
/// `source()` chains.
fn find_registry_error(err: &anyhow::Error) -> Option<&RegistryError> {
    err.chain().find_map(as_registry_error)
}

/// `cause` as a registry error, also when wrapped transparently in a target or transfer error.
fn as_registry_error<'a>(
    cause: &'a (dyn std::error::Error + 'static),
) -> Option<&'a RegistryError> {
    use crate::target::TargetError;
    use crate::transfer::TransferError;
    let target = cause
        .downcast_ref::<TransferError>()
        .and_then(|t| match t {
            TransferError::Target(t) => Some(t),
            TransferError::Read { .. } => None,
        })
        .or_else(|| cause.downcast_ref::<TargetError>());
    match target {
        Some(TargetError::Registry(r)) => Some(r),
        Some(TargetError::Layout(_)) => None,
        None => cause.downcast_ref::<RegistryError>(),
    }
}

/// The repository of a Docker Hub URL whose name has no namespace (`/v2/alpine/…`), which
/// Docker Hub only knows as `library/alpine`.
fn docker_hub_repo_without_namespace(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://registry-1.docker.io/v2/")
        .or_else(|| url.strip_prefix("https://index.docker.io/v2/"))?;
    let (repo, kind) = rest.split_once('/')?;
    matches!(kind.split('/').next(), Some("manifests" | "blobs" | "tags")).then(|| repo.to_owned())
}

/// Whether any cause under `e` mentions one of `needles` (lower case).
fn cause_contains(e: &reqwest::Error, needles: &[&str]) -> bool {
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cur {
        let s = c.to_string().to_lowercase();
        if needles.iter().any(|n| s.contains(n)) {
            return true;
        }
        cur = c.source();
    }
    false
}

/// `a: b: c` from the context chain, skipping a message already contained in its parent.
fn chain_text(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        if cause.is::<CopySide>() {
            continue;
        }
        let s = cause.to_string();
        if !parts.last().is_some_and(|p| p.ends_with(&s)) {
            parts.push(s);
        }
        // A transport error already names its causes.
        if matches!(
            as_registry_error(cause),
            Some(RegistryError::Transport { .. })
        ) {
            break;
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chain_usage_and_hint() {
        let e = anyhow::Error::new(UserError::new("bad").usage("oras x").hint("try y"))
            .context("outer");
        assert_eq!(
            render_error(&e, None, true),
            "Error: outer: bad\nUsage: oras x\ntry y"
        );
    }

    #[test]
    fn renders_registry_errors_with_prefix() {
        let e = anyhow::Error::new(RegistryError::Status {
            method: "GET".into(),
            url: "http://h/v2/".into(),
            status: 403,
            errors: crate::registry::parse_error_body(
                br#"{"errors":[{"code":"DENIED","message":"no"}]}"#,
            ),
        })
        .context("failed to validate the credentials for h");
        assert_eq!(
            render_error(&e, None, true),
            "Error response from registry: denied: no"
        );
    }

    #[test]
    fn side_flags_renames_only_the_connection_flags() {
        for (hint, origin, expected) in [
            (
                "try --plain-http (or --plain-http=false).",
                Origin::Source,
                "try --from-plain-http (or --from-plain-http=false).",
            ),
            (
                "pass `-u`/`--password-stdin`, a self-signed --ca-file or --insecure",
                Origin::Destination,
                "pass `--to-username`/`--to-password`, a self-signed --to-ca-file or --to-insecure",
            ),
            (
                "use --registry-config, or pass -u with --password-stdin.",
                Origin::Source,
                "use --from-registry-config, or pass --from-username with --from-password.",
            ),
            (
                "--cert-file <pem> and --key-file <pem>; re-use -us --debug",
                Origin::Destination,
                "--to-cert-file <pem> and --to-key-file <pem>; re-use -us --debug",
            ),
        ] {
            assert_eq!(side_flags(hint, origin), expected, "{hint}");
        }
    }

    #[test]
    fn copy_side_replaces_the_prefix_and_names_its_config() {
        let inner = anyhow::Error::new(SideError {
            origin: Origin::Destination,
            source: crate::target::TargetError::Registry(RegistryError::BasicCredentialNotFound),
        });
        let e = anyhow::Error::new(CopySide {
            origin: Origin::Destination,
            kind: "registry".into(),
            reference: "h/r:v1".into(),
            credential_file: Some("to.json".into()),
            source: inner.into(),
        });
        let text = render_error(&e, Some("from.json"), true);
        assert_eq!(
            text.lines().next().unwrap(),
            r#"Error from destination registry for "h/r:v1": basic credential not found"#
        );
        assert!(
            text.contains(r#"authentication file at "to.json""#),
            "{text}"
        );
    }

    #[test]
    fn hints_for_docker_hub_and_https_only_registries() {
        let status = |status: u16, url: &str| {
            anyhow::Error::new(RegistryError::Status {
                method: "GET".into(),
                url: url.into(),
                status,
                errors: Vec::new(),
            })
        };
        let text = render_error(
            &status(401, "https://registry-1.docker.io/v2/alpine/manifests/3"),
            None,
            true,
        );
        assert!(
            text.ends_with("Namespace seems missing. Do you mean `docker.io/library/alpine`?"),
            "{text}"
        );
        let text = render_error(
            &status(
                401,
                "https://registry-1.docker.io/v2/library/alpine/manifests/3",
            ),
            None,
            true,
        );
        assert!(!text.contains("Namespace"), "{text}");
        let text = render_error(
            &status(400, "http://r.io:443/v2/x/manifests/v1"),
            None,
            true,
        );
        assert!(text.contains("drop --plain-http"), "{text}");
        let invalid = anyhow::Error::new(RegistryError::Status {
            method: "PUT".into(),
            url: "http://r.io/v2/x/manifests/v1".into(),
            status: 400,
            errors: crate::registry::parse_error_body(
                br#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
            ),
        });
        let text = render_error(&invalid, None, true);
        assert_eq!(
            text,
            "Error response from registry: manifest blob unknown: blob unknown to registry"
        );
    }

    #[test]
    fn control_characters_in_errors_are_escaped() {
        assert_eq!(
            escape_controls("bad \u{1b}[31mred\u{7}\r\nnext\tline é"),
            "bad \\u{1b}[31mred\\u{7}\\u{d}\nnext\tline é"
        );
    }

    #[test]
    fn io_errors_read_like_go() {
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(io_error_text(&e), "no such file or directory");
    }
}
