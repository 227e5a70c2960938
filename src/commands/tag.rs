//! `oras tag` and `oras resolve`: name a manifest, or print the digest a reference names.

use anyhow::{Context as _, Result, bail};

use super::{Arity, begin, check_args, open_target, require_selector};
use crate::cli::{ResolveArgs, TagArgs};
use crate::output::{Format, Output, UserError};
use crate::reference::is_valid_tag;

const TAG_USAGE: &str = "oras tag [flags] <name>{:<tag>|@<digest>} <new_tag> [...]";
const RESOLVE_USAGE: &str = "oras resolve [flags] <name>{:<tag>|@<digest>}";

pub async fn run(args: TagArgs) -> Result<()> {
    super::verbose(&args.common);
    if matches!(args.args.first().map(String::as_str), Some("list" | "ls")) {
        return Err(UserError::new(
            "there is no \"list\" sub-command for \"oras tag\" command",
        )
        .usage(TAG_USAGE)
        .hint(if args.target.oci_layout {
            "If you want to list available tags in an OCI image layout, use \"oras repo tags\""
        } else {
            "If you want to list available tags in a repository, use \"oras repo tags\""
        })
        .into());
    }
    check_args(
        "tag",
        &args.args,
        Arity::AtLeast(1),
        TAG_USAGE,
        "the artifact to be retagged and the tags to be added",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let raw = &args.args[0];
    let opened = open_target(raw, &args.target, true, args.common.debug, &out)
        .map_err(|e| e.context(format!("unable to add tag for '{raw}'")))?;
    let selector = require_selector(&opened, raw, "tag", TAG_USAGE)?;
    if args.args.len() == 1 {
        // Go's argument check lets one argument through; oras-go's `TagN` then refuses the
        // empty list, in these words, before any request.
        return Err(
            UserError::new("dstReferences cannot be empty: missing reference")
                .usage(TAG_USAGE)
                .hint("Please specify the tags to be added after the artifact to be retagged. Run \"oras tag -h\" for more options and examples")
                .into(),
        );
    }
    for tag in &args.args[1..] {
        if !is_valid_tag(tag) {
            bail!("unable to add tag for '{raw}': invalid reference: invalid tag {tag:?}");
        }
    }
    let target = opened.target.as_ref();
    let (desc, bytes) = target.fetch_manifest(&selector).await?;
    out.line(&format!(
        "Tagging [{}] {}@{}",
        target.kind(),
        target.display(),
        desc.digest
    ));
    super::tag_all(
        target,
        &desc,
        &bytes,
        &args.args[1..],
        args.concurrency,
        &|tag| {
            out.line(&format!("Tagged {tag}"));
        },
    )
    .await
}

pub async fn resolve(args: ResolveArgs) -> Result<()> {
    begin(
        &args.common,
        "resolve",
        &args.args,
        Arity::Exactly(1),
        RESOLVE_USAGE,
        "the target artifact reference to resolve",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let raw = &args.args[0];
    let opened = open_target(raw, &args.target, false, args.common.debug, &out)?;
    let selector = require_selector(&opened, raw, "resolve", RESOLVE_USAGE)?;
    let target = opened.target.as_ref();
    let platform = super::platform_flag(args.platform.as_deref())?;
    let failed = |e| anyhow::Error::new(e).context("failed to resolve digest");
    let desc = match &platform {
        // The index or manifest is read to find the platform's manifest.
        Some(p) => {
            let (desc, bytes) = target.fetch_manifest(&selector).await.map_err(failed)?;
            super::select_platform(target, desc, bytes, p)
                .await
                .context("failed to resolve digest")?
                .0
        }
        None => target.resolve(&selector).await.map_err(failed)?,
    };
    if args.full_reference {
        out.line(&format!("{}@{}", target.display(), desc.digest));
    } else {
        out.line(&desc.digest.to_string());
    }
    Ok(())
}
