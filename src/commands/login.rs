//! `oras login`: take a username and secret (flags, stdin or prompts), check them with
//! `GET /v2/`, and store them (oras-cli.md §8).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, Result, bail};
use reqwest::StatusCode;

use super::{Arity, begin, flag_credential, registry_client};
use crate::cli::LoginArgs;
use crate::credentials::{Credential, Secret, Store};
use crate::output::{Format, Output};
use crate::reference::Reference;
use crate::registry::RegistryError;

const USAGE: &str = "oras login [flags] <registry>";

pub async fn run(args: LoginArgs) -> Result<()> {
    begin(
        &args.common,
        "login",
        &args.args,
        Arity::Exactly(1),
        USAGE,
        "the registry to log in to",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let registry = args.args[0].trim_end_matches('/');
    // Validate the host part with the reference grammar.
    Reference::parse(&format!("{registry}/x"))
        .map_err(|e| super::invalid_reference(registry, e))?;

    let credential = match flag_credential(&args.remote, &out)? {
        Some(c) => c,
        None => prompt_credential(&args.remote.username)?,
    };
    let store = Store::new(&args.remote.registry_config);
    let host = if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    };
    let client = registry_client(
        registry,
        host,
        &args.remote,
        Some(credential.clone()),
        args.common.debug,
    )?;
    let url = client.url("/v2/");
    let resp = client
        .get(url.clone())
        .await
        .with_context(|| format!("failed to validate the credentials for {registry}"))?;
    match resp.status() {
        s if s.is_success() => {}
        StatusCode::NOT_FOUND => {
            bail!("failed to validate the credentials for {registry}: not found")
        }
        _ => {
            let e: RegistryError =
                crate::registry::status_error_of(&reqwest::Method::GET, &url, resp).await;
            return Err(anyhow::Error::new(e)
                .context(format!("failed to validate the credentials for {registry}")));
        }
    }
    store
        .put(registry, &credential)
        .with_context(|| format!("failed to store the credentials for {registry}"))?;
    out.line("Login Succeeded");
    Ok(())
}

/// Prompts for what the flags did not give: `Username: `, then `Password: ` (or `Token: ` when
/// no username is given). Secrets are read without echo from a terminal, else a line of stdin.
fn prompt_credential(username: &str) -> Result<Credential> {
    let stdin_tty = std::io::stdin().is_terminal();
    let username = if username.is_empty() {
        prompt_line("Username: ")?.trim().to_owned()
    } else {
        username.to_owned()
    };
    let label = if username.is_empty() {
        "Token: "
    } else {
        "Password: "
    };
    let secret = if stdin_tty {
        rpassword::prompt_password(label).context("failed to read the secret")?
    } else {
        prompt_line(label)?
    };
    let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        bail!(if username.is_empty() {
            "token required"
        } else {
            "password required"
        });
    }
    Ok(if username.is_empty() {
        Credential::identity_token(secret)
    } else {
        Credential::Basic {
            username,
            password: Secret::new(secret),
        }
    })
}

#[allow(clippy::print_stdout)]
fn prompt_line(label: &str) -> Result<String> {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{label}");
    let _ = stdout.flush();
    drop(stdout);
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("failed to read from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
