//! `oras manifest fetch|fetch-config|push|delete` (oras-cli.md §9).

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use super::{
    Arity, begin, delete_found, format_output, open_target, print_descriptor, require_selector,
    write_file_atomic,
};
use crate::cli::{
    ManifestDeleteArgs, ManifestFetchArgs, ManifestFetchConfigArgs, ManifestPushArgs,
};
use crate::oci::{Descriptor, Digest, is_index_type, parse_manifest};
use crate::output::{Format, Output, UserError, io_error_text};
use crate::reference::{is_valid_tag, split_tags};

const FETCH_USAGE: &str = "oras manifest fetch [flags] <name>{:<tag>|@<digest>}";
const CONFIG_USAGE: &str = "oras manifest fetch-config [flags] <name>{:<tag>|@<digest>}";
const PUSH_USAGE: &str = "oras manifest push [flags] <name>[:<tag>[,<tag>][...]|@<digest>] <file>";
const DELETE_USAGE: &str = "oras manifest delete [flags] <name>{:<tag>|@<digest>}";

/// `manifest fetch --format json`: Go's descriptor model of what was fetched (a layout's tag
/// entry keeps its annotations, an index entry chosen by `--platform` its artifact type) and the
/// content.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FetchJson<'a> {
    reference: String,
    media_type: &'a str,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a crate::oci::Annotations>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    content: serde_json::Value,
}

pub async fn fetch(args: ManifestFetchArgs) -> Result<()> {
    begin(
        &args.common,
        "manifest fetch",
        &args.args,
        Arity::Exactly(1),
        FETCH_USAGE,
        "the manifest to fetch",
    )?;
    let out = format_output(&args.format, true, args.common.debug, true)?;
    let format = out.format;
    validate_output_flags(&args, format)?;
    if !args.media_type.is_empty() && args.target.oci_layout {
        bail!("`--media-type` cannot be used with `--oci-layout` at the same time");
    }
    let raw = &args.args[0];
    let mut opened = super::read_through_cache(
        open_target(raw, &args.target, false, args.common.debug, &out)?,
        &args.target,
    )?;
    opened.target.set_manifest_accept(&args.media_type);
    let selector = require_selector(&opened, raw, "manifest fetch", FETCH_USAGE)?;
    let target = opened.target.as_ref();
    let platform = super::platform_flag(args.platform.as_deref())?;
    // The descriptor alone is resolved with a HEAD, as the Go client does.
    if args.descriptor.descriptor && args.output.is_none() && platform.is_none() {
        let desc = target
            .resolve(&selector)
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("failed to find {raw:?}")))?;
        check_accepted(raw, &desc, &args.media_type)?;
        return print_descriptor(&out, &desc, args.descriptor.pretty);
    }
    // Go's words: a resolve for the descriptor alone, a fetch otherwise.
    let failed = if args.descriptor.descriptor && args.output.is_none() {
        format!("failed to find {raw:?}")
    } else {
        format!("failed to fetch the content of {raw:?}")
    };
    let (mut desc, mut bytes) = target
        .fetch_manifest(&selector)
        .await
        .map_err(|e| anyhow::Error::new(e).context(failed.clone()))?;
    if let Some(p) = &platform {
        (desc, bytes) = super::select_platform(target, desc, bytes, p)
            .await
            .context(failed)?;
    }
    check_accepted(raw, &desc, &args.media_type)?;
    if let Some(path) = args.output.as_deref().filter(|p| *p != "-") {
        write_file_atomic(Path::new(path), &bytes)?;
    }
    if args.descriptor.descriptor {
        return print_descriptor(&out, &desc, args.descriptor.pretty);
    }
    match format {
        Format::Json | Format::Template => out.json(&FetchJson {
            reference: format!("{}@{}", target.display(), desc.digest),
            media_type: &desc.media_type,
            digest: desc.digest.to_string(),
            size: desc.size,
            // Go's `omitempty`: an empty map or string is left out.
            annotations: desc.annotations.as_ref().filter(|a| !a.is_empty()),
            artifact_type: desc.artifact_type.as_deref().filter(|t| !t.is_empty()),
            content: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        }),
        Format::Text if args.output.as_deref().is_none_or(|o| o == "-") => {
            print_content(&out, &bytes, args.descriptor.pretty);
            Ok(())
        }
        Format::Text => Ok(()),
    }
}

fn validate_output_flags(args: &ManifestFetchArgs, format: Format) -> Result<()> {
    let to_stdout = args.output.as_deref() == Some("-");
    if to_stdout && format != Format::Text {
        bail!(
            "`--output -` cannot be used with `--format {}` at the same time",
            args.format.format
        );
    }
    if to_stdout && args.descriptor.descriptor {
        bail!("`--descriptor` cannot be used with `--output -` at the same time");
    }
    if format != Format::Text && args.descriptor.pretty {
        bail!("--format, --pretty cannot be used at the same time");
    }
    if format != Format::Text && args.descriptor.descriptor {
        bail!("--format, --descriptor cannot be used at the same time");
    }
    Ok(())
}

/// Raw bytes, or indented JSON with a trailing newline for `--pretty`.
fn print_content(out: &Output, bytes: &[u8], pretty: bool) {
    if pretty && let Some(p) = crate::oci::indent_json(bytes) {
        out.bytes(&p);
        return;
    }
    out.bytes(bytes);
}

/// `--media-type`: the manifest must be of one of these types.
fn check_accepted(raw: &str, desc: &Descriptor, accepted: &[String]) -> Result<()> {
    if !accepted.is_empty() && !accepted.contains(&desc.media_type) {
        bail!(
            "{raw}: manifest media type {} is not one of the accepted {}",
            desc.media_type,
            accepted.join(", ")
        );
    }
    Ok(())
}

pub async fn fetch_config(args: ManifestFetchConfigArgs) -> Result<()> {
    begin(
        &args.common,
        "manifest fetch-config",
        &args.args,
        Arity::Exactly(1),
        CONFIG_USAGE,
        "the manifest config to fetch",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    if args.output.as_deref() == Some("-") && args.descriptor.descriptor {
        bail!("`--descriptor` cannot be used with `--output -` at the same time");
    }
    let raw = &args.args[0];
    let opened = super::read_through_cache(
        open_target(raw, &args.target, false, args.common.debug, &out)?,
        &args.target,
    )?;
    let selector = require_selector(&opened, raw, "manifest fetch-config", CONFIG_USAGE)?;
    let target = opened.target.as_ref();
    let platform = super::platform_flag(args.platform.as_deref())?;
    let (mut desc, mut bytes) = target.fetch_manifest(&selector).await.map_err(|e| {
        anyhow::Error::new(e).context(format!("failed to fetch the content of {raw:?}"))
    })?;
    if let Some(p) = &platform {
        (desc, bytes) = super::select_platform(target, desc, bytes, p).await?;
    }
    if is_index_type(&desc.media_type) {
        bail!(
            "{:?} is not an image manifest and does not have a config",
            desc.digest.to_string()
        );
    }
    let manifest =
        parse_manifest(&bytes).with_context(|| format!("{}: invalid manifest", desc.digest))?;
    let config = manifest.config;
    if args.descriptor.descriptor {
        return print_descriptor(&out, &config, args.descriptor.pretty);
    }
    let data = super::fetch_small_blob(target, &config, crate::oci::MAX_MANIFEST_BYTES).await?;
    match args.output.as_deref() {
        Some(path) if path != "-" => write_file_atomic(Path::new(path), &data),
        _ => {
            print_content(&out, &data, args.descriptor.pretty);
            Ok(())
        }
    }
}

pub async fn push(args: ManifestPushArgs) -> Result<()> {
    let verbose = begin(
        &args.common,
        "manifest push",
        &args.args,
        Arity::Exactly(2),
        PUSH_USAGE,
        "the destination to push to and the file to read manifest content from",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let file = &args.args[1];
    if file == "-" {
        super::check_stdin_secret(&args.target.remote)?;
    }
    let (raw, extra_tags) = split_tags(&args.args[0]);
    for t in &extra_tags {
        if !is_valid_tag(t) {
            bail!("{:?}: invalid reference: invalid tag {t:?}", args.args[0]);
        }
    }
    let mode = super::referrers_mode(&args.referrers)?;
    let (bytes, media_type) = read_manifest_file(file, &args.media_type)?;
    let desc = Descriptor::for_bytes(media_type, &bytes);
    let mut opened = open_target(raw, &args.target, true, args.common.debug, &out)?;
    opened.target.set_referrers_mode(mode);
    let target = opened.target.as_ref();
    let reference = opened
        .selector
        .clone()
        .unwrap_or_else(|| desc.digest.to_string());
    if let Ok(d) = reference.parse::<Digest>()
        && d != desc.digest
    {
        bail!("{raw}: the manifest's digest is {}, not {d}", desc.digest);
    }
    let exists = target
        .resolve(&reference)
        .await
        .is_ok_and(|d| d.digest == desc.digest);
    let quiet = args.descriptor.descriptor;
    // A manifest has no title: its status lines are the unnamed ones `--verbose=false` hides.
    let line = |prompt: &str| {
        if verbose && !quiet {
            out.line(&format!(
                "{prompt} {} {}",
                desc.digest.short(),
                desc.media_type
            ));
        }
    };
    if exists {
        line("Exists   ");
    } else {
        line("Uploading");
    }
    target.push_manifest(&desc, &bytes, &reference).await?;
    if !exists {
        line("Uploaded ");
    }
    super::tag_all(
        target,
        &desc,
        &bytes,
        &extra_tags,
        args.concurrency,
        &|_| {},
    )
    .await?;
    if quiet {
        return print_descriptor(&out, &desc, args.descriptor.pretty);
    }
    out.line(&format!("Pushed: [{}] {raw}", target.kind()));
    for tag in &extra_tags {
        out.line(&format!("Tagged {tag}"));
    }
    out.line(&format!("Digest: {}", desc.digest));
    Ok(())
}

/// The manifest to push, from `file` or stdin (`-`), and its media type: `flag_type`, else its
/// `mediaType` field (then the file must be JSON).
fn read_manifest_file(file: &str, flag_type: &str) -> Result<(Vec<u8>, String)> {
    let bytes = if file == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("failed to read the manifest from stdin")?;
        b
    } else {
        std::fs::read(file)
            .map_err(|e| anyhow::anyhow!("failed to open {file}: {}", io_error_text(&e)))?
    };
    // With `--media-type` the bytes go as they are: the registry decides what a manifest is
    // (the Go client reads the file as JSON only to find its `mediaType`).
    if !flag_type.is_empty() {
        return Ok((bytes, flag_type.to_owned()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| anyhow::anyhow!("not a valid json file"))?;
    // As Go decodes it into a struct: a missing, null or empty `mediaType` is not specified,
    // one of another type (or a document that is not an object) is not valid.
    let field = match &value {
        serde_json::Value::Object(map) => map.get("mediaType"),
        serde_json::Value::Null => None,
        _ => bail!("not a valid json file"),
    };
    let media_type = match field {
        None | Some(serde_json::Value::Null) => "",
        Some(serde_json::Value::String(t)) => t.as_str(),
        Some(_) => bail!("not a valid json file"),
    };
    if media_type.is_empty() {
        return Err(UserError::new(format!("media type is not specified via the flag \"--media-type\" nor in {file:?}"))
            .usage(PUSH_USAGE)
            .hint("Please specify a valid media type in the manifest JSON or via the \"--media-type\" flag")
            .into());
    }
    Ok((bytes, media_type.to_owned()))
}

pub async fn delete(args: ManifestDeleteArgs) -> Result<()> {
    let (out, opened) = super::open_for_delete(
        "manifest delete",
        &args.delete,
        Some(&args.referrers),
        DELETE_USAGE,
        "the manifest to delete",
    )?;
    let args = args.delete;
    let raw = &args.args[0];
    let selector = require_selector(&opened, raw, "manifest delete", DELETE_USAGE)?;
    let target = opened.target.as_ref();
    let found = match target.resolve(&selector).await {
        Ok(desc) => Some(desc),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    delete_found(&out, &args, target, found, true).await
}
