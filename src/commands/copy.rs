//! `oras cp`: copy an artifact (manifest or index, with every blob and child manifest) between
//! any two targets: registry ↔ registry, registry ↔ OCI layout. Within one registry, blobs are
//! mounted from the source repository instead of copied.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result, bail};
use futures_util::stream::{self, TryStreamExt as _};

use super::{Arity, begin, open_target, require_selector};
use crate::cli::{CopyArgs, ReferrersArgs, RemoteArgs, TargetArgs};
use crate::oci::{Descriptor, is_index_type, parse_index, parse_manifest};
use crate::output::{
    CopySide, Format, Operation, Origin, Output, SideError, StatusReporter, is_credential_missing,
};
use crate::reference::{is_valid_tag, split_tags};
use crate::target::{ChunksFuture, Content, OpenFuture, Progress, Target, TargetError, TargetKind};
use crate::transfer::{Reporter, State};

const USAGE: &str = "oras cp [flags] <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]";

/// A blob read from the source target, re-openable at any offset (for retries). Notes when the
/// source failed (it could not be read, ended early, or sent more than the descriptor's size) since it was
/// last opened: the destination reports the failure, but the source is to blame.
struct FromTarget<'a> {
    target: &'a dyn Target,
    desc: Descriptor,
    failed: Arc<AtomicBool>,
}

impl FromTarget<'_> {
    /// Notes the outcome of asking the source for the blob from `offset`: a watch over what
    /// follows, or the source's failure.
    fn opened<T>(
        &self,
        offset: u64,
        opened: Result<T, TargetError>,
    ) -> std::io::Result<(T, Watch)> {
        match opened {
            Ok(inner) => {
                // A read that broke before is over: what follows is this one's.
                self.failed.store(false, Ordering::Relaxed);
                let watch = Watch {
                    left: self.desc.size.saturating_sub(offset),
                    failed: Arc::clone(&self.failed),
                };
                Ok((inner, watch))
            }
            Err(e) => {
                self.failed.store(true, Ordering::Relaxed);
                Err(std::io::Error::other(e))
            }
        }
    }
}

impl Content for FromTarget<'_> {
    fn open(&self, offset: u64) -> OpenFuture<'_> {
        Box::pin(async move {
            let (inner, watch) =
                self.opened(offset, self.target.fetch_blob(&self.desc, offset).await)?;
            let reader: crate::target::BlobReader = Box::pin(Watched { inner, watch });
            Ok(reader)
        })
    }

    /// The chunks as the source's connection gives them (a registry's, not copied into a
    /// buffer first), as a pull reads them.
    fn open_chunks(&self, offset: u64) -> ChunksFuture<'_> {
        Box::pin(async move {
            let (inner, watch) = self.opened(
                offset,
                self.target.fetch_blob_chunks(&self.desc, offset).await,
            )?;
            let chunks: crate::target::BlobChunks = Box::pin(WatchedChunks { inner, watch });
            Ok(chunks)
        })
    }

    fn refetchable(&self) -> bool {
        self.target.kind() == TargetKind::Registry
    }
}

/// Sets `failed` when a read of the source fails, ends before `left` bytes or goes past them.
struct Watch {
    left: u64,
    failed: Arc<AtomicBool>,
}

impl Watch {
    /// `Some(n)`: `n` bytes arrived (0: the end); `None`: the read failed.
    fn saw(&mut self, read: Option<u64>) {
        let bad = match read {
            Some(0) => self.left > 0,
            Some(n) => n > self.left,
            None => true,
        };
        if bad {
            self.failed.store(true, Ordering::Relaxed);
        }
        self.left = self.left.saturating_sub(read.unwrap_or(0));
    }
}

/// A source's blob reader under a [`Watch`].
struct Watched {
    inner: crate::target::BlobReader,
    watch: Watch,
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let (before, room) = (buf.filled().len(), buf.remaining() > 0);
        let polled = this.inner.as_mut().poll_read(cx, buf);
        match &polled {
            std::task::Poll::Ready(Ok(())) => {
                let read = (buf.filled().len() - before) as u64;
                // An empty buffer reads nothing without the body having ended.
                if read > 0 || room {
                    this.watch.saw(Some(read));
                }
            }
            std::task::Poll::Ready(Err(_)) => this.watch.saw(None),
            std::task::Poll::Pending => {}
        }
        polled
    }
}

/// A source's blob chunks under a [`Watch`].
struct WatchedChunks {
    inner: crate::target::BlobChunks,
    watch: Watch,
}

impl futures_util::Stream for WatchedChunks {
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            // Empty chunks are not the end; the end is `None`.
            std::task::Poll::Ready(Some(Ok(chunk))) if !chunk.is_empty() => {
                this.watch.saw(Some(chunk.len() as u64));
            }
            std::task::Poll::Ready(Some(Err(_))) => this.watch.saw(None),
            std::task::Poll::Ready(None) => this.watch.saw(Some(0)),
            _ => {}
        }
        polled
    }
}

/// Marks an error of one side of the copy, for [`attribute`].
fn at(origin: Origin) -> impl Fn(TargetError) -> anyhow::Error {
    move |source| anyhow::Error::new(SideError { origin, source })
}

/// Everything under a root manifest: blobs, and child manifests children-first.
#[derive(Default)]
struct Graph {
    blobs: Vec<Descriptor>,
    manifests: Vec<(Descriptor, Vec<u8>)>,
    /// Subjects the destination already holds: reported `Exists`, not walked.
    existing: Vec<Descriptor>,
    /// Child manifests already walked: an index listing the same child many times, at every
    /// level, would otherwise be fetched once per path to it (exponential in the depth).
    walked: std::collections::HashSet<crate::oci::Digest>,
}

fn side(args: &CopyArgs, from: bool) -> TargetArgs {
    let pick = |a: &str, b: &str| if from { a.to_owned() } else { b.to_owned() };
    TargetArgs {
        remote: RemoteArgs {
            username: pick(&args.from_username, &args.to_username),
            password: pick(&args.from_password, &args.to_password),
            password_stdin: false,
            identity_token: pick(&args.from_identity_token, &args.to_identity_token),
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
            header: if from {
                args.from_header.clone()
            } else {
                args.to_header.clone()
            },
            ca_file: if from {
                args.from_ca_file.clone()
            } else {
                args.to_ca_file.clone()
            },
            cert_file: if from {
                args.from_cert_file.clone()
            } else {
                args.to_cert_file.clone()
            },
            key_file: if from {
                args.from_key_file.clone()
            } else {
                args.to_key_file.clone()
            },
            // The shared --resolve first; the side's own entries win.
            resolve: args
                .resolve
                .iter()
                .chain(if from {
                    &args.from_resolve
                } else {
                    &args.to_resolve
                })
                .cloned()
                .collect(),
        },
        oci_layout: if from {
            args.from_oci_layout
        } else {
            args.to_oci_layout
        },
        oci_layout_path: if from {
            args.from_oci_layout_path.clone()
        } else {
            args.to_oci_layout_path.clone()
        },
        chunk_size: None,
        max_manifest_size: crate::oci::MAX_MANIFEST_BYTES,
    }
}

/// `--from-username, --from-identity-token cannot be used at the same time`: the shared check
/// would name the flags without the side's prefix.
fn check_side_credentials(remote: &RemoteArgs, prefix: &str) -> Result<()> {
    if !remote.identity_token.is_empty() {
        for (flag, value) in [
            ("username", &remote.username),
            ("password", &remote.password),
        ] {
            if !value.is_empty() {
                bail!("--{prefix}{flag}, --{prefix}identity-token cannot be used at the same time");
            }
        }
    }
    Ok(())
}

/// Opens the source (read-only) and the destination, each with its own flags.
fn open_sides(
    args: &CopyArgs,
    src_raw: &str,
    dst_raw: &str,
    out: &Output,
) -> Result<(super::Opened, super::Opened)> {
    let mode = |spec: &Option<String>| {
        super::referrers_mode(&ReferrersArgs {
            distribution_spec: spec.clone(),
        })
    };
    let (from_mode, to_mode) = (
        mode(&args.from_distribution_spec)?,
        mode(&args.to_distribution_spec)?,
    );
    let (from, to) = (side(args, true), side(args, false));
    check_side_credentials(&from.remote, "from-")?;
    check_side_credentials(&to.remote, "to-")?;
    let mut src = open_target(src_raw, &from, false, args.common.debug, out)
        .with_context(|| format!("Error from source for {src_raw:?}"))?;
    let mut dst = open_target(dst_raw, &to, true, args.common.debug, out)?;
    src.target.set_referrers_mode(from_mode);
    dst.target.set_referrers_mode(to_mode);
    Ok((src, dst))
}

pub async fn run(args: CopyArgs) -> Result<()> {
    let verbose = begin(
        &args.common,
        "cp",
        &args.args,
        Arity::Exactly(2),
        USAGE,
        "the source and destination for copying",
    )?;
    let out = Output::new(Format::Text, args.no_tty, args.common.debug, verbose);
    let src_raw = &args.args[0];
    let (dst_raw, extra_tags) = split_tags(&args.args[1]);
    for t in &extra_tags {
        if !is_valid_tag(t) {
            bail!("{:?}: invalid reference: invalid tag {t:?}", args.args[1]);
        }
    }
    let (src, dst) = open_sides(&args, src_raw, dst_raw, &out)?;
    let selector = require_selector(&src, src_raw, "cp", USAGE)?;
    copy(&args, &out, &selector, &src, &dst, &extra_tags)
        .await
        .map_err(|e| {
            attribute(
                e,
                &args,
                (src_raw, src.target.kind()),
                (dst_raw, dst.target.kind()),
            )
        })
}

/// Names the side an error of the copy came from, as the Go client does: every error of the
/// destination is `Error from destination registry for "<dst>": …`; the source's keep the
/// registry's own prefix, except missing credentials (`Error from source registry for …`).
fn attribute(
    e: anyhow::Error,
    args: &CopyArgs,
    (src_raw, src_kind): (&str, TargetKind),
    (dst_raw, dst_kind): (&str, TargetKind),
) -> anyhow::Error {
    let origin = e
        .chain()
        .find_map(|c| c.downcast_ref::<SideError>())
        .map(|s| s.origin);
    let (origin, reference, kind) = match origin {
        Some(Origin::Destination) => (Origin::Destination, dst_raw, dst_kind),
        Some(Origin::Source) if is_credential_missing(&e) => (Origin::Source, src_raw, src_kind),
        _ => return e,
    };
    let credential_file = (kind == TargetKind::Registry).then(|| {
        let configs = side(args, origin == Origin::Source).remote.registry_config;
        crate::credentials::Store::new(&configs)
            .path()
            .display()
            .to_string()
    });
    anyhow::Error::new(CopySide {
        origin,
        kind: kind.to_string(),
        reference: reference.to_owned(),
        credential_file,
        source: e.into(),
    })
}

/// The copy itself, once both sides are open; `Copied …` and `Digest: …` at the end.
async fn copy(
    args: &CopyArgs,
    out: &Output,
    selector: &str,
    src: &super::Opened,
    dst: &super::Opened,
    extra_tags: &[&str],
) -> Result<()> {
    let (source, target) = (src.target.as_ref(), dst.target.as_ref());
    let src_raw = &args.args[0];
    let (dst_raw, _) = split_tags(&args.args[1]);
    let platform = super::platform_flag(args.platform.as_deref())?;
    let (mut root, mut root_bytes) = source
        .fetch_manifest(selector)
        .await
        .map_err(at(Origin::Source))?;
    if let Some(p) = &platform {
        (root, root_bytes) = super::select_platform(source, root, root_bytes, p).await?;
        root = root.plain();
    }
    let reporter: Arc<dyn Reporter> = Arc::new(StatusReporter::new(out, Operation::Copy));
    let mount_from = mount_source(source, target);
    let copier = Copier {
        source,
        target,
        concurrency: args.concurrency,
        mount_from: mount_from.as_deref(),
        reporter: &reporter,
        dry_run: false,
        done: std::sync::Mutex::default(),
    };
    let first = dst
        .selector
        .clone()
        .unwrap_or_else(|| root.digest.to_string());
    copier.graph(&root, &root_bytes, &first).await?;
    for tag in extra_tags {
        target
            .tag_manifest(&root, &root_bytes, tag)
            .await
            .map_err(at(Origin::Destination))?;
    }
    if args.recursive {
        copier.referrers(&root, &root_bytes).await?;
    }
    drop(reporter);
    // A digest source narrowed to another manifest by --platform shows the copied digest.
    let shown_src = match selector.parse::<crate::oci::Digest>() {
        Ok(d) if d != root.digest => format!("{}@{}", source.display(), root.digest),
        _ => src_raw.to_owned(),
    };
    out.line(&format!(
        "Copied [{}] {shown_src} => [{}] {dst_raw}",
        source.kind(),
        target.kind()
    ));
    for tag in extra_tags {
        out.line(&format!("Tagged {tag}"));
    }
    out.line(&format!("Digest: {}", root.digest));
    Ok(())
}

/// Copies manifests with everything under them, and their referrers, between two targets
/// (`cp`, `backup`, `restore`).
pub(crate) struct Copier<'a> {
    pub(crate) source: &'a dyn Target,
    pub(crate) target: &'a dyn Target,
    pub(crate) concurrency: usize,
    /// The source repository when both sides are in one registry: blobs are mounted.
    pub(crate) mount_from: Option<&'a str>,
    pub(crate) reporter: &'a Arc<dyn Reporter>,
    /// Only count the referrers that would be copied.
    pub(crate) dry_run: bool,
    /// Manifests this run has copied or found at the destination, each reported once.
    pub(crate) done: std::sync::Mutex<std::collections::HashSet<crate::oci::Digest>>,
}

/// The source repository to mount blobs from, when both targets are repositories of one
/// registry.
pub(crate) fn mount_source(source: &dyn Target, target: &dyn Target) -> Option<String> {
    match (source.remote_location(), target.remote_location()) {
        (Some((sr, srepo)), Some((dr, drepo))) if sr == dr && srepo != drepo => {
            Some(srepo.to_owned())
        }
        _ => None,
    }
}

/// Levels of referrers (a signature of an SBOM of an image is two) `cp -r` follows: a source
/// can make up a new referrer of every referrer it is asked about, without end.
const MAX_REFERRER_LEVELS: usize = 64;

impl Copier<'_> {
    /// `cp -r`: copies every referrer of `root` (and of its child manifests when it is an
    /// index), then their referrers in turn, each with everything under it, and returns how
    /// many there were. Pushing a referrer to a registry without the referrers API also
    /// updates its `sha256-<hex>` tag index.
    pub(crate) async fn referrers(&self, root: &Descriptor, root_bytes: &[u8]) -> Result<usize> {
        let (mut count, mut missing) = (0, 0);
        // Each subject with how many referrer levels lie between it and the root.
        let mut queue: std::collections::VecDeque<(Descriptor, Vec<u8>, usize)> =
            [(root.clone(), root_bytes.to_vec(), 0)].into();
        let mut seen = std::collections::HashSet::from([root.digest.clone()]);
        while let Some((subject, bytes, level)) = queue.pop_front() {
            if is_index_type(&subject.media_type)
                && let Ok(index) = parse_index(&bytes)
            {
                for child in index.manifests {
                    if seen.insert(child.digest.clone()) {
                        let (_, child_bytes) = self
                            .source
                            .fetch_manifest(&child.digest.to_string())
                            .await
                            .map_err(at(Origin::Source))?;
                        queue.push_back((child, child_bytes, level));
                    }
                }
            }
            let found = self
                .source
                .referrers(&subject)
                .await
                .map_err(at(Origin::Source))
                .with_context(|| format!("failed to find referrers of {}", subject.digest))?;
            for referrer in found {
                if !seen.insert(referrer.digest.clone()) {
                    continue;
                }
                if level >= MAX_REFERRER_LEVELS {
                    bail!(
                        "the referrers of {} go deeper than {MAX_REFERRER_LEVELS} levels: the source's referrers graph does not end",
                        root.digest
                    );
                }
                // A referrer listed but gone (a stale `sha256-<hex>` index entry) does not stop
                // the others; the copy still fails at the end.
                let (fetched, referrer_bytes) = match self
                    .source
                    .fetch_manifest(&referrer.digest.to_string())
                    .await
                {
                    Ok(found) => found,
                    Err(e) if e.is_not_found() => {
                        warn(&format!(
                            "Warning: referrer {} of {} is listed but not found; the other referrers are copied",
                            referrer.digest, subject.digest
                        ));
                        missing += 1;
                        continue;
                    }
                    Err(e) => return Err(at(Origin::Source)(e)),
                };
                // Only manifests whose subject is this one are its referrers; a tag index can
                // list others.
                if subject_of(&referrer_bytes).as_ref() != Some(&subject.digest) {
                    warn(&format!(
                        "Warning: {} is listed as a referrer of {} but does not refer to it; skipped",
                        referrer.digest, subject.digest
                    ));
                    continue;
                }
                let desc = Descriptor {
                    media_type: referrer.media_type.clone(),
                    ..fetched
                };
                if !self.dry_run {
                    self.graph(&desc, &referrer_bytes, &desc.digest.to_string())
                        .await?;
                }
                count += 1;
                queue.push_back((desc, referrer_bytes, level + 1));
            }
        }
        if missing > 0 {
            bail!(
                "{missing} referrer(s) of {} could not be found in the source; the {count} found were copied",
                root.digest
            );
        }
        Ok(count)
    }

    /// Copies `desc` and everything under it, unless the destination already has it (then
    /// it has everything under it), and stores it under `reference`.
    pub(crate) async fn graph(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<()> {
        let exists = self
            .target
            .fetch_manifest(&desc.digest.to_string())
            .await
            .is_ok_and(|(d, _)| d.digest == desc.digest);
        let mut duplicates = None;
        if exists {
            self.first_time(&desc.digest);
            self.reporter.state(desc, State::Exists);
        } else {
            let mut graph = Graph::default();
            walk(self.source, self.target, desc, bytes, &mut graph, 0).await?;
            // A subject already there is a node Go's copy finds and reports as existing.
            for subject in &graph.existing {
                if self.first_time(&subject.digest) {
                    self.reporter.state(subject, State::Exists);
                }
            }
            // The title each blob is copied under: the first of the layers sharing its digest.
            let mut first_titles = HashMap::new();
            for d in &graph.blobs {
                first_titles
                    .entry(d.digest.clone())
                    .or_insert_with(|| d.title().map(str::to_owned));
            }
            let mut seen = std::collections::HashSet::new();
            graph.blobs.retain(|d| seen.insert(d.digest.clone()));
            copy_blobs(
                self.source,
                self.target,
                &graph.blobs,
                self.concurrency,
                self.mount_from,
                self.reporter,
            )
            .await?;
            for (child, child_bytes) in &graph.manifests {
                self.reporter.state(child, State::Started);
                self.target
                    .push_manifest(child, child_bytes, &child.digest.to_string())
                    .await
                    .map_err(at(Origin::Destination))?;
                self.report_duplicates(child, child_bytes, &first_titles);
                self.reporter.state(child, State::Done);
                self.first_time(&child.digest);
            }
            self.reporter.state(desc, State::Started);
            duplicates = Some(first_titles);
        }
        // Pushed even when it exists: this sets the tag, and a destination without the
        // referrers API may still lack the referrer's entry in its tag index.
        self.target
            .push_manifest(desc, bytes, reference)
            .await
            .map_err(at(Origin::Destination))?;
        if let Some(first_titles) = &duplicates {
            self.report_duplicates(desc, bytes, first_titles);
            self.reporter.state(desc, State::Done);
            self.first_time(&desc.digest);
        }
        Ok(())
    }

    /// Forgets what was handled: each tag of a backup or restore is a copy of its own.
    pub(crate) fn start_over(&self) {
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Records `digest` as handled by this run; true the first time.
    fn first_time(&self, digest: &crate::oci::Digest) -> bool {
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(digest.clone())
    }

    /// Layers of `manifest` whose content was copied under another title (`foo2` beside an
    /// identical `foo1`): `Skipped` once the manifest is in, as Go's copy handler reports
    /// them (its `DeduplicatedFilter`), so that every named layer gets a line.
    fn report_duplicates(
        &self,
        manifest: &Descriptor,
        bytes: &[u8],
        first_titles: &HashMap<crate::oci::Digest, Option<String>>,
    ) {
        if is_index_type(&manifest.media_type) {
            return;
        }
        let Ok(parsed) = parse_manifest(bytes) else {
            return;
        };
        for blob in std::iter::once(&parsed.config).chain(&parsed.layers) {
            if first_titles
                .get(&blob.digest)
                .is_some_and(|first| first.as_deref() != blob.title())
            {
                self.reporter.state(blob, State::Skipped);
            }
        }
    }
}

/// The digest in a manifest's or an index's `subject`.
fn subject_of(bytes: &[u8]) -> Option<crate::oci::Digest> {
    #[derive(serde::Deserialize)]
    struct WithSubject {
        subject: Option<Descriptor>,
    }
    serde_json::from_slice::<WithSubject>(bytes)
        .ok()?
        .subject
        .map(|s| s.digest)
}

/// A note on stderr, beside the status lines.
#[allow(clippy::print_stderr)]
fn warn(text: &str) {
    eprintln!("{text}");
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
    let copied = stream::iter(blobs.iter().map(Ok))
        .try_for_each_concurrent(concurrency.max(1), |desc| async move {
            let to_destination = at(Origin::Destination);
            if target.blob_exists(desc).await.map_err(&to_destination)? {
                reporter.state(desc, State::Exists);
                return Ok(());
            }
            if let Some(from) = mount_from
                && target
                    .mount_blob(desc, from)
                    .await
                    .map_err(&to_destination)?
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
                failed: Arc::new(AtomicBool::new(false)),
            };
            target
                .push_blob(desc, &content, progress)
                .await
                .map_err(|e| {
                    // The destination measured the bytes the source sent, passed on as they
                    // came: they are the source's.
                    if let Some(why) = e.content_mismatch() {
                        return anyhow::anyhow!(
                            "{}: the source sent content that does not match this digest: {why}",
                            desc.digest
                        );
                    }
                    // The source failed the destination: the error is the source's.
                    let side = if content.failed.load(Ordering::Relaxed) {
                        Origin::Source
                    } else {
                        Origin::Destination
                    };
                    at(side)(e)
                })?;
            reporter.state(desc, State::Done);
            Ok::<_, anyhow::Error>(())
        })
        .await;
    // The copies still running when one failed were dropped with their sessions open.
    if copied.is_err() {
        target.abandon_uploads().await;
    }
    copied
}

/// Collects what is under `desc`: the blobs of its manifests, the child manifests of an index
/// and, as oras-go's `content.Successors` has it, its `subject` (unless the destination
/// already holds that one), each manifest listed after everything under it.
async fn walk(
    source: &dyn Target,
    target: &dyn Target,
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
        if let Some(subject) = &index.subject {
            walk_subject(source, target, subject, graph, depth).await?;
        }
        for child in &index.manifests {
            if !graph.walked.insert(child.digest.clone()) {
                continue;
            }
            let (child_desc, child_bytes) = source
                .fetch_manifest(&child.digest.to_string())
                .await
                .map_err(at(Origin::Source))?;
            let child_desc = Descriptor {
                media_type: child.media_type.clone(),
                ..child_desc
            };
            Box::pin(walk(
                source,
                target,
                &child_desc,
                &child_bytes,
                graph,
                depth + 1,
            ))
            .await?;
            graph.manifests.push((child_desc, child_bytes));
        }
        return Ok(());
    }
    let manifest =
        parse_manifest(bytes).with_context(|| format!("{}: invalid manifest", desc.digest))?;
    if let Some(subject) = &manifest.subject {
        walk_subject(source, target, subject, graph, depth).await?;
    }
    graph.blobs.push(manifest.config.plain());
    graph.blobs.extend(manifest.layers.iter().cloned());
    Ok(())
}

/// The subject of a manifest being copied goes with it, as in the Go client (a referrer is
/// not left pointing at nothing); one the destination already has is left alone.
async fn walk_subject(
    source: &dyn Target,
    target: &dyn Target,
    subject: &Descriptor,
    graph: &mut Graph,
    depth: usize,
) -> Result<()> {
    // Several manifests of an index may share one subject: it is walked once.
    if !graph.walked.insert(subject.digest.clone()) {
        return Ok(());
    }
    let digest = subject.digest.to_string();
    if target.resolve(&digest).await.is_ok() {
        graph.existing.push(subject.plain());
        return Ok(());
    }
    let (found, subject_bytes) = source
        .fetch_manifest(&digest)
        .await
        .map_err(at(Origin::Source))?;
    let subject_desc = Descriptor {
        media_type: subject.media_type.clone(),
        ..found
    };
    Box::pin(walk(
        source,
        target,
        &subject_desc,
        &subject_bytes,
        graph,
        depth + 1,
    ))
    .await?;
    graph.manifests.push((subject_desc, subject_bytes));
    Ok(())
}
