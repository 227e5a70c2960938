//! `oras cp`: copy an artifact (manifest or index, with every blob and child manifest) between
//! any two targets: registry ↔ registry, registry ↔ OCI layout. Within one registry, blobs are
//! mounted from the source repository instead of copied.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use futures_util::stream::{self, TryStreamExt as _};

use super::{check_args, open_target, require_selector};
use crate::cli::{CopyArgs, RemoteArgs, TargetArgs};
use crate::oci::{Descriptor, is_index_type, parse_index, parse_manifest};
use crate::output::{Format, Operation, Output, StatusReporter};
use crate::reference::{is_valid_tag, split_tags};
use crate::target::{Content, OpenFuture, Progress, Target};
use crate::transfer::{Reporter, State};

const USAGE: &str = "oras cp [flags] <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]";

/// A blob read from the source target, re-openable at any offset (for retries).
struct FromTarget<'a> {
    target: &'a dyn Target,
    desc: Descriptor,
}

impl Content for FromTarget<'_> {
    fn open(&self, offset: u64) -> OpenFuture<'_> {
        Box::pin(async move {
            self.target
                .fetch_blob(&self.desc, offset)
                .await
                .map_err(std::io::Error::other)
        })
    }
}

/// Everything under a root manifest: blobs, and child manifests children-first.
#[derive(Default)]
struct Graph {
    blobs: Vec<Descriptor>,
    manifests: Vec<(Descriptor, Vec<u8>)>,
}

fn side(args: &CopyArgs, from: bool) -> TargetArgs {
    let pick = |a: &str, b: &str| if from { a.to_owned() } else { b.to_owned() };
    TargetArgs {
        remote: RemoteArgs {
            username: pick(&args.from_username, &args.to_username),
            password: pick(&args.from_password, &args.to_password),
            password_stdin: false,
            identity_token: String::new(),
            identity_token_stdin: false,
            insecure: if from {
                args.from_insecure
            } else {
                args.to_insecure
            },
            plain_http: if from {
                args.from_plain_http
            } else {
                args.to_plain_http
            },
            registry_config: if from {
                args.from_registry_config.clone()
            } else {
                args.to_registry_config.clone()
            },
            header: Vec::new(),
            ca_file: if from {
                args.from_ca_file.clone()
            } else {
                args.to_ca_file.clone()
            },
            cert_file: None,
            key_file: None,
            resolve: Vec::new(),
        },
        oci_layout: if from {
            args.from_oci_layout
        } else {
            args.to_oci_layout
        },
        oci_layout_path: None,
        chunk_size: None,
        max_manifest_size: crate::oci::MAX_MANIFEST_BYTES,
    }
}

pub async fn run(args: CopyArgs) -> Result<()> {
    let out = Output::new(Format::Text, args.no_tty, args.common.debug, true);
    let out = Output {
        verbose: super::verbose(&args.common, &out),
        ..out
    };
    check_args(
        "cp",
        &args.args,
        Some(2),
        USAGE,
        "source and destination references",
    )?;
    let src_raw = &args.args[0];
    let (dst_raw, extra_tags) = split_tags(&args.args[1]);
    for t in &extra_tags {
        if !is_valid_tag(t) {
            bail!("{:?}: invalid reference: invalid tag {t:?}", args.args[1]);
        }
    }
    let src = open_target(src_raw, &side(&args, true), false, args.common.debug, &out)
        .with_context(|| format!("Error from source for {src_raw:?}"))?;
    let dst = open_target(dst_raw, &side(&args, false), true, args.common.debug, &out)?;
    let selector = require_selector(&src, src_raw, "cp", USAGE)?;
    let (source, target) = (src.target.as_ref(), dst.target.as_ref());

    let platform = args
        .platform
        .as_deref()
        .map(super::parse_platform)
        .transpose()?;
    let (mut root, mut root_bytes) = source.fetch_manifest(&selector).await?;
    if let Some(p) = &platform {
        (root, root_bytes) = super::select_platform(source, root, root_bytes, p).await?;
        root = root.plain();
    }
    let reporter: Arc<dyn Reporter> = Arc::new(StatusReporter::new(&out, Operation::Copy));
    // A destination that has the root has everything under it: only the tags are set.
    let root_exists = target
        .fetch_manifest(&root.digest.to_string())
        .await
        .is_ok_and(|(d, _)| d.digest == root.digest);
    let mut graph = Graph::default();
    if root_exists {
        reporter.state(&root, State::Exists);
    } else {
        walk(source, &root, &root_bytes, &mut graph, 0).await?;
    }

    let mount_from = match (source.remote_location(), target.remote_location()) {
        (Some((sr, srepo)), Some((dr, drepo))) if sr == dr && srepo != drepo => {
            Some(srepo.to_owned())
        }
        _ => None,
    };
    let mut seen = std::collections::HashSet::new();
    graph.blobs.retain(|d| seen.insert(d.digest.clone()));
    copy_blobs(
        source,
        target,
        &graph.blobs,
        args.concurrency,
        mount_from.as_deref(),
        &reporter,
    )
    .await?;
    for (desc, bytes) in &graph.manifests {
        reporter.state(desc, State::Started);
        target
            .push_manifest(desc, bytes, &desc.digest.to_string())
            .await?;
        reporter.state(desc, State::Done);
    }
    let first = dst
        .selector
        .clone()
        .unwrap_or_else(|| root.digest.to_string());
    if !root_exists {
        reporter.state(&root, State::Started);
    }
    target.push_manifest(&root, &root_bytes, &first).await?;
    if !root_exists {
        reporter.state(&root, State::Done);
    }
    for tag in &extra_tags {
        target.push_manifest(&root, &root_bytes, tag).await?;
    }
    drop(reporter);
    // A digest source narrowed to another manifest by --platform shows the copied digest.
    let shown_src = match selector.parse::<crate::oci::Digest>() {
        Ok(d) if d != root.digest => format!("{}@{}", source.display(), root.digest),
        _ => src_raw.clone(),
    };
    out.line(&format!(
        "Copied [{}] {shown_src} => [{}] {dst_raw}",
        source.kind(),
        target.kind()
    ));
    for tag in &extra_tags {
        out.line(&format!("Tagged {tag}"));
    }
    out.line(&format!("Digest: {}", root.digest));
    Ok(())
}

/// Copies blobs the destination lacks, at most `concurrency` at once, mounting them instead
/// when both sides are repositories of one registry.
async fn copy_blobs(
    source: &dyn Target,
    target: &dyn Target,
    blobs: &[Descriptor],
    concurrency: usize,
    mount_from: Option<&str>,
    reporter: &Arc<dyn Reporter>,
) -> Result<()> {
    stream::iter(blobs.iter().map(Ok))
        .try_for_each_concurrent(concurrency.max(1), |desc| async move {
            if target.blob_exists(desc).await? {
                reporter.state(desc, State::Exists);
                return Ok(());
            }
            if let Some(from) = mount_from
                && target.mount_blob(desc, from).await?
            {
                reporter.state(desc, State::Mounted);
                return Ok(());
            }
            reporter.state(desc, State::Started);
            let (sink, d) = (Arc::clone(reporter), desc.clone());
            let progress: Progress = Arc::new(move |n| sink.progress(&d, n));
            let content = FromTarget {
                target: source,
                desc: desc.clone(),
            };
            target.push_blob(desc, &content, progress).await?;
            reporter.state(desc, State::Done);
            Ok::<_, anyhow::Error>(())
        })
        .await
}

async fn walk(
    source: &dyn Target,
    desc: &Descriptor,
    bytes: &[u8],
    graph: &mut Graph,
    depth: usize,
) -> Result<()> {
    if depth > 8 {
        bail!("{}: index nesting too deep", desc.digest);
    }
    if is_index_type(&desc.media_type) {
        let index =
            parse_index(bytes).with_context(|| format!("{}: invalid index", desc.digest))?;
        for child in &index.manifests {
            let (child_desc, child_bytes) =
                source.fetch_manifest(&child.digest.to_string()).await?;
            let child_desc = Descriptor {
                media_type: child.media_type.clone(),
                ..child_desc
            };
            Box::pin(walk(source, &child_desc, &child_bytes, graph, depth + 1)).await?;
            graph.manifests.push((child_desc, child_bytes));
        }
        return Ok(());
    }
    let manifest =
        parse_manifest(bytes).with_context(|| format!("{}: invalid manifest", desc.digest))?;
    graph.blobs.push(manifest.config.plain());
    graph.blobs.extend(manifest.layers.iter().cloned());
    Ok(())
}
