//! `oras blob fetch|push|delete` (oras-cli.md §9): single blobs, to and from files or
//! stdin/stdout, always verified.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use super::{Arity, begin, delete_found, open_target, print_descriptor, require_digest};
use crate::cli::{BlobFetchArgs, BlobPushArgs, DeleteArgs};
use crate::files::{PackTo, pack_bytes_file, pack_bytes_reader};
use crate::oci::Digest;
use crate::output::{Format, Output, io_error_text};

const FETCH_USAGE: &str =
    "oras blob fetch [flags] {--output <file> | --descriptor} <name>@<digest>";
const PUSH_USAGE: &str = "oras blob push [flags] <name>[@digest] <file>";
const DELETE_USAGE: &str = "oras blob delete [flags] <name>@<digest>";

pub async fn fetch(args: BlobFetchArgs) -> Result<()> {
    begin(
        &args.common,
        "blob fetch",
        &args.args,
        Arity::Exactly(1),
        FETCH_USAGE,
        "the target blob to fetch",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let output = args.output.as_deref();
    if output.is_none() && !args.descriptor.descriptor {
        bail!("either `--output` or `--descriptor` must be provided");
    }
    if output == Some("-") && args.descriptor.descriptor {
        bail!("`--output -` cannot be used with `--descriptor` at the same time");
    }
    let raw = &args.args[0];
    let opened = super::read_through_cache(
        open_target(raw, &args.target, false, args.common.debug, &out)?,
        &args.target,
    )?;
    let digest = require_digest(&opened, raw, "blob fetch", FETCH_USAGE)?;
    let target = opened.target.as_ref();
    let desc = target
        .stat_blob(&digest)
        .await?
        .ok_or_else(|| match target.kind() {
            // The registry's 404: printed after `Error response from registry:`, as Go does.
            crate::target::TargetKind::Registry => {
                anyhow::Error::new(crate::registry::RegistryError::NotFound(raw.clone()))
            }
            crate::target::TargetKind::OciLayout => anyhow::anyhow!("{raw}: not found"),
        })
        .with_context(|| format!("failed to fetch the content of {raw:?}"))?;
    let fetch = super::fetcher(target, &desc);
    match output {
        Some("-") => super::fetch_to_stdout(&fetch, &desc, &|_| {}).await?,
        Some(path) => {
            let dest = PathBuf::from(path);
            let written = match super::open_through(&dest)? {
                Some(file) => super::fetch_into(&fetch, &desc, file, &dest).await,
                None => crate::files::write_blob_file(
                    &fetch,
                    &desc,
                    &dest,
                    crate::files::WriteOptions::default(),
                    &|_| {},
                )
                .await
                .map_err(anyhow::Error::new),
            };
            written.with_context(|| format!("failed to fetch {raw}"))?;
        }
        None => {}
    }
    if args.descriptor.descriptor {
        return print_descriptor(&out, &desc, args.descriptor.pretty);
    }
    Ok(())
}

pub async fn push(args: BlobPushArgs) -> Result<()> {
    let verbose = begin(
        &args.common,
        "blob push",
        &args.args,
        Arity::Exactly(2),
        PUSH_USAGE,
        "the destination to push to and the file to read blob content from",
    )?;
    let out = Output::new(Format::Text, args.no_tty, args.common.debug, true);
    let (raw, file) = (&args.args[0], &args.args[1]);
    if file == "-" {
        super::check_stdin_secret(&args.target.remote)?;
    }
    if file == "-" && args.size < 0 {
        bail!("`--size` must be provided if the blob is read from stdin");
    }
    let opened = open_target(raw, &args.target, true, args.common.debug, &out)?;
    let given: Option<Digest> = match opened.selector.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|e| anyhow::anyhow!("invalid digest {s}: {e}"))?,
        ),
    };
    let target = opened.target.as_ref();
    // Read once. stdin is spooled to a temp file (hashed on the way) so the upload can be
    // retried; into an OCI layout a file is too, beside its blobs, and then renamed into place
    // instead of read again.
    let to = PackTo::for_target(target);
    let media_type = args.media_type.clone();
    let (desc, source) = if file == "-" {
        if given.is_none() {
            bail!("content digest must be provided if it is read from stdin");
        }
        pack_bytes_reader(std::io::stdin(), media_type, &to)
            .await
            .context("failed to read stdin")?
    } else {
        pack_bytes_file(PathBuf::from(file), media_type, &to)
            .await
            .map_err(|e| anyhow::anyhow!("failed to open {file}: {}", io_error_text(&e)))?
    };
    let (digest, size) = (&desc.digest, desc.size);
    if args.size >= 0 && u64::try_from(args.size).ok() != Some(size) {
        bail!(
            "input size {} does not match the actual content size {size}",
            args.size
        );
    }
    if let Some(g) = &given
        && g != digest
    {
        bail!("{raw}: the content's digest is {digest}, not {g}");
    }
    let quiet = args.descriptor.descriptor;
    // The blob has no title: its status lines are the unnamed ones `--verbose=false` hides.
    let line = |prompt: &str| {
        if verbose && !quiet {
            out.line(&format!(
                "{prompt} {} {}",
                desc.digest.short(),
                desc.media_type
            ));
        }
    };
    if target.blob_exists(&desc).await? {
        line("Exists   ");
    } else {
        line("Uploading");
        target.push_blob(&desc, &source, Arc::new(|_| {})).await?;
        line("Uploaded ");
    }
    if quiet {
        return print_descriptor(&out, &desc, args.descriptor.pretty);
    }
    out.line(&format!("Pushed: [{}] {raw}", target.kind()));
    out.line(&format!("Digest: {}", desc.digest));
    Ok(())
}

pub async fn delete(args: DeleteArgs) -> Result<()> {
    let (out, opened) = super::open_for_delete(
        "blob delete",
        &args,
        None,
        DELETE_USAGE,
        "the target blob to delete",
    )?;
    let raw = &args.args[0];
    let digest = require_digest(&opened, raw, "blob delete", DELETE_USAGE)?;
    let target = opened.target.as_ref();
    let found = target.stat_blob(&digest).await?;
    delete_found(&out, &args, target, found, false).await
}
