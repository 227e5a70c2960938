//! `oras manifest index create|update` (oras-cli.md §9): builds an image index from manifests of
//! one repository or layout, or edits one, then pushes it or writes it out (`-o`).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use super::{Arity, begin, invalid_reference, open_target, require_selector, write_file_atomic};
use crate::cli::{IndexCreateArgs, IndexUpdateArgs};
use crate::oci::{
    Annotations, Descriptor, Digest, Index, MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_MANIFEST, Platform, indent_json, is_index_type, is_manifest_type,
    is_valid_media_type, parse_index, parse_manifest, to_go_json,
};
use crate::output::{Format, Output};
use crate::reference::{Reference, is_valid_tag, split_tags};
use crate::target::Target;

const CREATE_USAGE: &str =
    "oras manifest index create [flags] <name>[:<tag>[,<tag>][...]] [{<tag>|<digest>}...]";
const UPDATE_USAGE: &str = "oras manifest index update [flags] <name>{:<tag>|@<digest>} [{--add|--merge|--remove} {<tag>|<digest>}] [...]";

/// Image configs larger than this are not read for a platform (the Go client's limit).
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

pub async fn create(args: IndexCreateArgs) -> Result<()> {
    begin(
        &args.common,
        "manifest index create",
        &args.args,
        Arity::AtLeast(1),
        CREATE_USAGE,
        // Go's description ends with a full stop (its hint then shows two).
        "the destination index to create.",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    let (raw, extra_tags) = split_tags(&args.args[0]);
    check_tags(&args.args[0], &extra_tags)?;
    let annotations = parse_annotations(&args.annotation)?;
    let artifact_type = args.artifact_type.filter(|t| !t.is_empty());
    if let Some(t) = &artifact_type {
        check_media_type(t)?;
    }
    let output = args.output.as_deref();
    let opened = open_target(raw, &args.target, output.is_none(), args.common.debug, &out)?;
    let target = opened.target.as_ref();
    let status = Status::new(&out, output);
    let mut manifests = Vec::with_capacity(args.args.len() - 1);
    for source in &args.args[1..] {
        manifests.push(fetch_child(target, source, &status).await?);
    }
    let index = Index {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.to_owned()),
        artifact_type,
        manifests,
        subject: None,
        annotations,
    };
    let bytes = to_go_json(&index)?;
    let desc = Descriptor::for_bytes(MEDIA_TYPE_INDEX, &bytes);
    status.line(&format!(
        "Packed    {} {MEDIA_TYPE_INDEX}",
        desc.digest.short()
    ));
    let tags: Vec<String> = extra_tags.iter().map(|t| (*t).to_owned()).collect();
    let delivery = Delivery {
        output,
        pretty: args.pretty,
        reference: opened.selector.as_deref(),
        tags: &tags,
        pushed: format!("[{}] {raw}", target.kind()),
    };
    deliver(&status, target, &desc, &bytes, &delivery).await
}

pub async fn update(args: IndexUpdateArgs) -> Result<()> {
    begin(
        &args.common,
        "manifest index update",
        &args.args,
        Arity::Exactly(1),
        UPDATE_USAGE,
        "the target index to update",
    )?;
    let out = Output::new(Format::Text, true, args.common.debug, true);
    if !args.tag.is_empty() && args.output.is_some() {
        bail!("--tag, --output cannot be used at the same time");
    }
    let mut removes: Vec<Digest> = Vec::with_capacity(args.remove.len());
    for r in &args.remove {
        let digest = r
            .parse()
            .map_err(|_| anyhow::anyhow!("remove: {r} is not a digest"))?;
        if !removes.contains(&digest) {
            removes.push(digest);
        }
    }
    if let Some(t) = args.artifact_type.as_deref().filter(|t| !t.is_empty()) {
        check_media_type(t)?;
    }
    let raw = &args.args[0];
    check_tags(raw, &args.tag)?;
    let changes = !(args.add.is_empty()
        && args.merge.is_empty()
        && removes.is_empty()
        && args.artifact_type.is_none());
    if !changes {
        if !args.target.oci_layout {
            Reference::parse(raw).map_err(|e| invalid_reference(raw, e))?;
        }
        out.line("Nothing to update as no change is requested");
        return Ok(());
    }
    let output = args.output.as_deref();
    let opened = open_target(raw, &args.target, output.is_none(), args.common.debug, &out)?;
    let reference = require_selector(&opened, raw, "manifest index update", UPDATE_USAGE)?;
    let target = opened.target.as_ref();
    let status = Status::new(&out, output);

    let (found, mut index) = fetch_index(target, &reference, &status).await?;
    let mut manifests = std::mem::take(&mut index.manifests);
    // The Go client's order: removals first, then additions, then merges.
    if let Some(absent) = removes
        .iter()
        .find(|d| !manifests.iter().any(|m| m.digest == **d))
    {
        bail!("{absent} does not exist in the index {reference}");
    }
    manifests.retain(|m| !removes.contains(&m.digest));
    for digest in &removes {
        status.line(&format!("Removed   {digest}"));
    }
    for add in &args.add {
        let entry = fetch_child(target, add, &status).await?;
        status.line(&with_digest("Added    ", add, &entry.digest));
        manifests.push(entry);
    }
    for merge in &args.merge {
        let (desc, other) = fetch_index(target, merge, &status).await?;
        manifests.extend(other.manifests);
        status.line(&with_digest("Merged   ", merge, &desc.digest));
    }
    index.manifests = manifests;
    if let Some(t) = args.artifact_type {
        index.artifact_type = Some(t).filter(|t| !t.is_empty());
    }

    let bytes = to_go_json(&index)?;
    let media_type = index.media_type.unwrap_or(found.media_type);
    let desc = Descriptor::for_bytes(media_type, &bytes);
    status.line(&format!("Updated   {}", desc.digest));
    // Updating by digest leaves the old index where it is: the result is pushed untagged.
    let pushed = if reference.parse::<Digest>().is_ok() {
        format!("[{}] {}", target.kind(), target.display())
    } else {
        format!("[{}] {raw}", target.kind())
    };
    let delivery = Delivery {
        output,
        pretty: args.pretty,
        reference: Some(&reference),
        tags: &args.tag,
        pushed,
    };
    deliver(&status, target, &desc, &bytes, &delivery).await
}

/// Status and result lines, none of which are printed when the index itself goes to stdout.
struct Status<'a> {
    out: &'a Output,
    quiet: bool,
}

impl<'a> Status<'a> {
    fn new(out: &'a Output, output: Option<&str>) -> Self {
        Self {
            out,
            quiet: output == Some("-"),
        }
    }

    fn line(&self, text: &str) {
        if !self.quiet {
            self.out.line(text);
        }
    }
}

/// `<prompt> <digest> <reference>`, or `<prompt> <reference>` when the reference is the digest.
fn with_digest(prompt: &str, reference: &str, digest: &Digest) -> String {
    if reference.parse::<Digest>().is_ok() {
        format!("{prompt} {reference}")
    } else {
        format!("{prompt} {digest} {reference}")
    }
}

/// Fetches a manifest to list in an index (a create source or `--add`) and returns its entry.
async fn fetch_child(
    target: &dyn Target,
    reference: &str,
    status: &Status<'_>,
) -> Result<Descriptor> {
    let (desc, bytes) =
        fetch_checked(target, reference, status, "manifest", is_manifest_type).await?;
    let mut entry = desc.plain();
    entry.artifact_type = artifact_type_of(&bytes);
    if desc.media_type == MEDIA_TYPE_MANIFEST || desc.media_type == MEDIA_TYPE_DOCKER_MANIFEST {
        entry.platform = image_platform(target, &desc, &bytes).await?;
    }
    Ok(entry)
}

/// Fetches the index to update or one to `--merge`.
async fn fetch_index(
    target: &dyn Target,
    reference: &str,
    status: &Status<'_>,
) -> Result<(Descriptor, Index)> {
    let (desc, bytes) = fetch_checked(target, reference, status, "index", is_index_type).await?;
    let index = parse_index(&bytes).with_context(|| format!("{}: invalid index", desc.digest))?;
    Ok((desc, index))
}

/// Fetches `reference`, which must be a `what` (`manifest` or `index`) by its media type,
/// between the `Fetching` and `Fetched` lines.
async fn fetch_checked(
    target: &dyn Target,
    reference: &str,
    status: &Status<'_>,
    what: &str,
    is_what: fn(&str) -> bool,
) -> Result<(Descriptor, Vec<u8>)> {
    status.line(&format!("Fetching  {reference}"));
    let (desc, bytes) = target.fetch_manifest(reference).await.map_err(|e| {
        anyhow::Error::new(e).context(format!("could not find the {what} {reference}"))
    })?;
    if !is_what(&desc.media_type) {
        bail!(
            "{reference} is not a{} {what}",
            if what == "index" { "n" } else { "" }
        );
    }
    status.line(&with_digest("Fetched  ", reference, &desc.digest));
    Ok((desc, bytes))
}

/// The `artifactType` a manifest declares, if any.
fn artifact_type_of(manifest: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "artifactType")]
        artifact_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(manifest)
        .ok()
        .and_then(|p| p.artifact_type)
        .filter(|t| !t.is_empty())
}

/// The platform an image's config names, read from the config blob.
async fn image_platform(
    target: &dyn Target,
    desc: &Descriptor,
    manifest: &[u8],
) -> Result<Option<Platform>> {
    let config = parse_manifest(manifest)
        .with_context(|| format!("{}: invalid manifest", desc.digest))?
        .config;
    if config.size > MAX_CONFIG_BYTES {
        bail!(
            "config size {} exceeds MaxBytes {MAX_CONFIG_BYTES}: size exceeds limit",
            config.size
        );
    }
    let data = super::fetch_small_blob(target, &config, MAX_CONFIG_BYTES).await?;
    Ok(platform_from_config(&data))
}

/// The platform fields of an image config, as Go decodes them into an `ocispec.Platform`: none
/// when the config is not a JSON object of that shape or names neither architecture nor OS.
fn platform_from_config(config: &[u8]) -> Option<Platform> {
    #[derive(Deserialize)]
    struct Fields {
        architecture: Option<String>,
        os: Option<String>,
        #[serde(rename = "os.version")]
        os_version: Option<String>,
        #[serde(rename = "os.features")]
        os_features: Option<Vec<String>>,
        variant: Option<String>,
    }
    let f: Fields = serde_json::from_slice(config).ok()?;
    let architecture = f.architecture.unwrap_or_default();
    let os = f.os.unwrap_or_default();
    if architecture.is_empty() && os.is_empty() {
        return None;
    }
    // Go leaves empty optional fields out (`omitempty`).
    Some(Platform {
        architecture,
        os,
        os_version: f.os_version.filter(|v| !v.is_empty()),
        os_features: f.os_features.filter(|v| !v.is_empty()),
        variant: f.variant.filter(|v| !v.is_empty()),
    })
}

/// Where a built index goes.
struct Delivery<'a> {
    /// `-o`: a file, or `-` for stdout; the index is then not pushed.
    output: Option<&'a str>,
    pretty: bool,
    /// The tag or digest of the target reference; a digest or none pushes untagged.
    reference: Option<&'a str>,
    tags: &'a [String],
    /// `[registry] <reference>`, as the `Pushed` line shows the target.
    pushed: String,
}

/// Writes the index out or pushes it (then tags it), and prints its digest.
async fn deliver(
    status: &Status<'_>,
    target: &dyn Target,
    desc: &Descriptor,
    bytes: &[u8],
    delivery: &Delivery<'_>,
) -> Result<()> {
    match delivery.output {
        Some("-") => {
            let pretty = delivery.pretty.then(|| indent_json(bytes)).flatten();
            status.out.bytes(pretty.as_deref().unwrap_or(bytes));
        }
        // A file gets the exact bytes: `--pretty` is for stdout only.
        Some(path) => write_file_atomic(Path::new(path), bytes)?,
        None => {
            let reference = match delivery.reference {
                Some(r) if r.parse::<Digest>().is_err() => r.to_owned(),
                _ => desc.digest.to_string(),
            };
            target.push_manifest(desc, bytes, &reference).await?;
            status.line(&format!("Pushed    {}", delivery.pushed));
            // One at a time: the `Tagged` lines keep the order given.
            super::tag_all(target, desc, bytes, delivery.tags, 1, &|tag| {
                status.line(&format!("Tagged {tag}"));
            })
            .await?;
        }
    }
    status.line(&format!("Digest: {}", desc.digest));
    Ok(())
}

/// `-a key=value` flags as the index's annotations (`None` without any).
fn parse_annotations(flags: &[String]) -> Result<Option<Annotations>> {
    let annotations = super::parse_annotation_flags(flags)?;
    Ok((!annotations.is_empty()).then_some(annotations))
}

fn check_media_type(media_type: &str) -> Result<()> {
    if !is_valid_media_type(media_type) {
        bail!("{media_type}: invalid media type");
    }
    Ok(())
}

/// Extra tags must be valid tags before anything is fetched or pushed.
fn check_tags(raw: &str, tags: &[impl AsRef<str>]) -> Result<()> {
    if let Some(bad) = tags.iter().map(AsRef::as_ref).find(|t| !is_valid_tag(t)) {
        bail!("{raw:?}: invalid reference: invalid tag {bad:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_from_image_configs() {
        let p = platform_from_config(
            br#"{"architecture":"arm","os":"linux","variant":"v7","os.features":[],"rootfs":{}}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(to_go_json(&p).unwrap()).unwrap(),
            r#"{"architecture":"arm","os":"linux","variant":"v7"}"#
        );
        let p = platform_from_config(br#"{"os":"windows","os.version":"10.0.1"}"#).unwrap();
        assert_eq!(
            String::from_utf8(to_go_json(&p).unwrap()).unwrap(),
            r#"{"architecture":"","os":"windows","os.version":"10.0.1"}"#
        );
        for none in [&b"{}"[..], b"not json", b"[]", br#"{"architecture":1}"#] {
            assert_eq!(platform_from_config(none), None, "{none:?}");
        }
    }

    #[test]
    fn annotations_and_media_types() {
        let a = parse_annotations(&["k=v=w".to_owned(), "e=".to_owned()])
            .unwrap()
            .unwrap();
        assert_eq!(a["k"], "v=w");
        assert_eq!(a["e"], "");
        assert_eq!(parse_annotations(&[]).unwrap(), None);
        assert_eq!(
            parse_annotations(&["foo:bar".to_owned()])
                .unwrap_err()
                .to_string(),
            "annotation value doesn't match the required format"
        );
        assert_eq!(
            check_media_type("invalid").unwrap_err().to_string(),
            "invalid: invalid media type"
        );
    }

    #[test]
    fn created_index_bytes_match_go() {
        let amd64 = Descriptor {
            platform: platform_from_config(br#"{"architecture":"amd64","os":"linux"}"#),
            ..Descriptor::new(
                MEDIA_TYPE_MANIFEST,
                "sha256:9d84a5716c66a1d1b9c13f8ed157ba7d1edfe7f9b8766728b8a1f25c0d9c14c1"
                    .parse()
                    .unwrap(),
                458,
            )
        };
        let index = Index {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_INDEX.to_owned()),
            artifact_type: None,
            manifests: vec![amd64],
            subject: None,
            annotations: None,
        };
        // The index the Go client's e2e suite expects from `--output` (oras-cli.md §13.8).
        assert_eq!(
            String::from_utf8(to_go_json(&index).unwrap()).unwrap(),
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:9d84a5716c66a1d1b9c13f8ed157ba7d1edfe7f9b8766728b8a1f25c0d9c14c1","size":458,"platform":{"architecture":"amd64","os":"linux"}}]}"#
        );
    }
}
