//! The `docker-credential-<name>` protocol: `get`, `store` and `erase` with JSON on stdin/stdout.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::{Credential, CredentialError, Secret};

/// The username a helper stores for an identity token.
const TOKEN_USER: &str = "<token>";
const NOT_FOUND: &str = "credentials not found in native keychain";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperCredential {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
}

fn run(helper: &str, action: &str, input: &[u8]) -> Result<Vec<u8>, CredentialError> {
    let program = format!("docker-credential-{helper}");
    let fail = |message: String| CredentialError::Helper {
        helper: program.clone(),
        message,
    };
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(if e.kind() == std::io::ErrorKind::NotFound {
                "executable file not found in $PATH".to_owned()
            } else {
                format!("failed to run: {e}")
            })
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|e| fail(format!("failed to write: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("failed to run: {e}")))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let msg = if stdout.trim().is_empty() {
            String::from_utf8_lossy(&out.stderr).trim().to_owned()
        } else {
            stdout.trim().to_owned()
        };
        Err(fail(msg))
    }
}

pub(super) fn get(helper: &str, server: &str) -> Result<Option<Credential>, CredentialError> {
    let out = match run(helper, "get", server.as_bytes()) {
        Ok(out) => out,
        Err(CredentialError::Helper { message, .. }) if message.contains(NOT_FOUND) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let c: HelperCredential =
        serde_json::from_slice(&out).map_err(|e| CredentialError::Helper {
            helper: format!("docker-credential-{helper}"),
            message: format!("invalid output: {e}"),
        })?;
    if c.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if c.username == TOKEN_USER || c.username.is_empty() {
        Credential::identity_token(c.secret)
    } else {
        Credential::Basic {
            username: c.username,
            password: Secret::new(c.secret),
        }
    }))
}

pub(super) fn store(helper: &str, server: &str, cred: &Credential) -> Result<(), CredentialError> {
    let (username, secret) = match cred {
        Credential::Basic { username, password } => (username.clone(), password.expose()),
        Credential::IdentityToken { token: t, .. } => (TOKEN_USER.to_owned(), t.expose()),
        // Helpers keep a username and a secret; a registry token has no place there.
        Credential::RegistryToken(_) => {
            return Err(CredentialError::Helper {
                helper: format!("docker-credential-{helper}"),
                message: "a registry token cannot be stored in a credential helper".into(),
            });
        }
    };
    let body = serde_json::to_vec(&HelperCredential {
        server_url: server.to_owned(),
        username,
        secret: secret.to_owned(),
    })
    .unwrap_or_default();
    run(helper, "store", &body).map(drop)
}

pub(super) fn erase(helper: &str, server: &str) -> Result<(), CredentialError> {
    match run(helper, "erase", server.as_bytes()) {
        Err(CredentialError::Helper { message, .. }) if message.contains(NOT_FOUND) => Ok(()),
        other => other.map(drop),
    }
}
