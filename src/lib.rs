//! oras-rs: an ORAS-compatible client for storing and fetching artifacts in OCI registries and
//! OCI image layouts. `main.rs` parses arguments and calls [`run`].

pub mod cli;
pub mod commands;
pub mod credentials;
pub mod files;
pub mod oci;
pub mod output;
pub mod reference;
pub mod registry;
pub mod target;
pub mod transfer;

use std::process::ExitCode;

use cli::{BlobCommand, Cli, Command, IndexCommand, ManifestCommand, RepoCommand};

/// Runs a parsed command line and renders any error. Every error exits with code 1, as the Go
/// client does.
#[must_use]
pub fn run(cli: Cli) -> ExitCode {
    let credential_file = credential_file(&cli.command);
    let suggest_login = !matches!(cli.command, Command::Login(_));
    let copy = matches!(cli.command, Command::Cp(_));
    let result = match cli.command {
        Command::Version(args) => {
            commands::version::run(&args);
            Ok(())
        }
        Command::Logout(args) => commands::logout::run(&args),
        // Generated into memory first: a closed pipe (`| head`) is not an error.
        Command::Completion(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "oras", &mut script);
            output::Output::new(output::Format::Text, true, false, true).bytes(&script);
            Ok(())
        }
        Command::Manpage(args) => commands::manpage::run(&args),
        command => runtime().and_then(|rt| {
            let result = rt.block_on(async move {
                let run = async move {
                    match command {
                        Command::Push(args) => commands::push::run(args).await,
                        Command::Pull(args) => commands::pull::run(args).await,
                        Command::Attach(args) => commands::push::attach(args).await,
                        Command::Discover(args) => commands::discover::run(args).await,
                        Command::Backup(args) => commands::backup::backup(args).await,
                        Command::Restore(args) => commands::backup::restore(args).await,
                        Command::Login(args) => commands::login::run(args).await,
                        Command::Tag(args) => commands::tag::run(args).await,
                        Command::Resolve(args) => commands::tag::resolve(args).await,
                        Command::Manifest(cmd) => match cmd {
                            ManifestCommand::Fetch(a) => commands::manifest::fetch(a).await,
                            ManifestCommand::FetchConfig(a) => {
                                commands::manifest::fetch_config(a).await
                            }
                            ManifestCommand::Push(a) => commands::manifest::push(a).await,
                            ManifestCommand::Delete(a) => commands::manifest::delete(a).await,
                            ManifestCommand::Index(IndexCommand::Create(a)) => {
                                commands::index::create(a).await
                            }
                            ManifestCommand::Index(IndexCommand::Update(a)) => {
                                commands::index::update(a).await
                            }
                        },
                        Command::Blob(cmd) => match cmd {
                            BlobCommand::Fetch(a) => commands::blob::fetch(a).await,
                            BlobCommand::Push(a) => commands::blob::push(a).await,
                            BlobCommand::Delete(a) => commands::blob::delete(a).await,
                        },
                        Command::Repo(cmd) => match cmd {
                            RepoCommand::Ls(a) => commands::repo::ls(a).await,
                            RepoCommand::Tags(a) => commands::repo::tags(a).await,
                        },
                        Command::Cp(args) => commands::copy::run(args).await,
                        Command::Version(_)
                        | Command::Logout(_)
                        | Command::Completion(_)
                        | Command::Manpage(_) => Ok(()),
                    }
                };
                // Ctrl-C drops the command, and with it every temp file it was writing: an
                // interrupted pull leaves no half-written file. SIGTERM (a CI job cancelled or
                // timed out, `docker stop`) does the same.
                let terminated = async {
                    use tokio::signal::unix::{SignalKind, signal};
                    match signal(SignalKind::terminate()) {
                        Ok(mut term) => term.recv().await,
                        Err(_) => std::future::pending().await,
                    }
                };
                tokio::select! {
                    result = run => result,
                    _ = tokio::signal::ctrl_c() => Err(anyhow::Error::new(Interrupted::Int)),
                    _ = terminated => Err(anyhow::Error::new(Interrupted::Term)),
                }
            });
            // Hashing or writing threads of a dropped transfer must not delay the exit.
            rt.shutdown_background();
            result
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Interrupted>() => {
            let signal = e.downcast_ref::<Interrupted>().copied();
            let text = format!("Error: {e}");
            output::Output::new(output::Format::Text, true, false, true).warn(&text);
            // 128 + the signal's number, as a shell reports a process it ended.
            ExitCode::from(match signal {
                Some(Interrupted::Term) => 143,
                _ => 130,
            })
        }
        Err(e) => {
            let text = if copy {
                output::render_copy_error(&e, credential_file.as_deref())
            } else {
                output::render_error(&e, credential_file.as_deref(), suggest_login)
            };
            let text = output::escape_controls(&text);
            output::Output::new(output::Format::Text, true, false, true).warn(&text);
            ExitCode::from(1)
        }
    }
}

/// The command was stopped by a signal: Ctrl-C (SIGINT) or SIGTERM.
#[derive(Debug, Clone, Copy, thiserror::Error)]
enum Interrupted {
    #[error("interrupted")]
    Int,
    #[error("terminated")]
    Term,
}

/// Half the cores run the async side (sockets and the state of each transfer); the rest are
/// left to the threads that hash and write, and to a registry on the same machine. On two
/// cores one worker pulls a 1 GiB blob about 0.1 s faster than two, with fewer thread switches.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads((cores / 2).max(1))
        .enable_all()
        .build()?)
}

/// The config file named in the "check your credentials" hint.
fn credential_file(command: &Command) -> Option<String> {
    let configs = match command {
        Command::Push(a) => &a.target.remote.registry_config,
        Command::Pull(a) => &a.target.remote.registry_config,
        Command::Attach(a) => &a.target.remote.registry_config,
        Command::Discover(a) => &a.target.remote.registry_config,
        Command::Backup(a) => &a.remote.registry_config,
        Command::Restore(a) => &a.remote.registry_config,
        Command::Login(a) => &a.remote.registry_config,
        Command::Tag(a) => &a.target.remote.registry_config,
        Command::Resolve(a) => &a.target.remote.registry_config,
        Command::Manifest(ManifestCommand::Fetch(a)) => &a.target.remote.registry_config,
        Command::Manifest(ManifestCommand::FetchConfig(a)) => &a.target.remote.registry_config,
        Command::Manifest(ManifestCommand::Push(a)) => &a.target.remote.registry_config,
        Command::Manifest(ManifestCommand::Delete(cli::ManifestDeleteArgs {
            delete: a, ..
        }))
        | Command::Blob(BlobCommand::Delete(a)) => &a.target.remote.registry_config,
        Command::Manifest(ManifestCommand::Index(IndexCommand::Create(a))) => {
            &a.target.remote.registry_config
        }
        Command::Manifest(ManifestCommand::Index(IndexCommand::Update(a))) => {
            &a.target.remote.registry_config
        }
        Command::Blob(BlobCommand::Fetch(a)) => &a.target.remote.registry_config,
        Command::Blob(BlobCommand::Push(a)) => &a.target.remote.registry_config,
        Command::Repo(RepoCommand::Ls(a)) => &a.remote.registry_config,
        Command::Repo(RepoCommand::Tags(a)) => &a.target.remote.registry_config,
        Command::Cp(a) => &a.from_registry_config,
        Command::Logout(_) | Command::Version(_) | Command::Completion(_) | Command::Manpage(_) => {
            return None;
        }
    };
    Some(
        credentials::Store::new(configs)
            .path()
            .display()
            .to_string(),
    )
}
