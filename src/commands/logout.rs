//! `oras logout`: forget the credentials stored for a registry. Prints nothing on success.

use anyhow::{Context as _, Result};

use super::{Arity, check_args};
use crate::cli::LogoutArgs;
use crate::credentials::Store;

pub fn run(args: &LogoutArgs) -> Result<()> {
    check_args(
        "logout",
        &args.args,
        Arity::Exactly(1),
        "oras logout [flags] <registry>",
        "the registry you want to log out",
    )?;
    let registry = args.args[0].trim_end_matches('/');
    Store::new(&args.registry_config)
        .delete(registry)
        .with_context(|| format!("failed to delete the credential for {registry}"))
}
