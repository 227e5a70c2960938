//! `oras pull`: walk the manifest (or index), then download every titled layer concurrently
//! into the output directory, verified and written atomically (oras-cli.md §7).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result, bail};
use futures_util::stream::{self, TryStreamExt as _};
use serde::Serialize;

use super::{Arity, begin, format_output, open_target};
use crate::cli::PullArgs;
use crate::files::{
    WriteOptions, parse_file_ref, resolve_output_path, write_blob_file, write_directory,
};
use crate::oci::{
    ANNOTATION_UNPACK, Annotations, Descriptor, Digest, EMPTY_JSON, is_index_type, parse_index,
    parse_manifest,
};
use crate::output::{Format, Operation, Output, StatusReporter, UserError};
use crate::target::{Target, content_chunks};
use crate::transfer::{Reporter, Source, State};

const USAGE: &str = "oras pull [flags] <name>{:<tag>|@<digest>}";
/// What the argument is, in the Go client's argument-count hint.
const ARGUMENT: &str = "the artifact reference you want to pull";

/// A layer (or config) to write, with its title.
#[derive(Clone)]
struct Item {
    desc: Descriptor,
    title: String,
}

impl Item {
    /// A directory archive to extract; an untitled layer is saved as it is.
    fn unpacks(&self) -> bool {
        self.desc.title().is_some() && self.desc.annotation(ANNOTATION_UNPACK) == Some("true")
    }
}

#[derive(Default)]
struct Plan {
    items: Vec<Item>,
    /// Layers without a title that were not pulled (no `--include-untitled`).
    skipped_unnamed: usize,
    /// The contents reported `Skipped` so far.
    skipped_digests: std::collections::HashSet<Digest>,
    /// The manifests walked under the root (index entries, subjects), each after the ones
    /// under it: reported `Downloaded` once the content is, children first, as in Go's copy.
    walked: Vec<Descriptor>,
    /// Manifests already walked: one listed again (by an index, or as a subject) adds nothing,
    /// and walking it again would multiply the requests with every level of an index that
    /// lists the same child many times.
    visited: std::collections::HashSet<crate::oci::Digest>,
}

impl Plan {
    /// A plan for the graph under `root`, which counts as walked already.
    fn rooted(root: &Descriptor) -> Self {
        let mut plan = Self::default();
        plan.visited.insert(root.digest.clone());
        plan
    }

    fn report_walked(&self, reporter: &dyn Reporter) {
        for desc in &self.walked {
            reporter.state(desc, State::Done);
        }
    }
}

struct Walk<'a> {
    target: &'a dyn Target,
    reporter: &'a dyn Reporter,
    config: Option<(String, Option<String>)>,
    media_types: &'a [String],
    include_untitled: bool,
    /// `--include-subject`: the manifests a pulled artifact refers to, recursively.
    include_subject: bool,
    /// Whether a manifest's config was met yet (`--config` names the first one).
    config_seen: AtomicBool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileJson {
    path: String,
    reference: String,
    media_type: String,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Annotations>,
}

#[derive(Serialize)]
struct PullJson {
    reference: String,
    files: Option<Vec<FileJson>>,
}

/// The oras 0.x flags, noted as pflag notes a deprecated flag: while the flags are parsed,
/// before anything else.
fn warn_legacy_flags(args: &PullArgs) {
    if !args.media_type.is_empty() {
        crate::output::warn(
            "Flag --media-type has been deprecated (oras 0.x syntax): oras 1.x pulls every named layer; it is honoured here as a filter.",
        );
    }
    if args.allow_all {
        crate::output::warn(
            "Flag --allow-all has been deprecated (oras 0.x syntax): every named layer is pulled by default.",
        );
    }
}

pub async fn run(args: PullArgs) -> Result<()> {
    warn_legacy_flags(&args);
    let verbose = begin(
        &args.common,
        "pull",
        &args.args,
        Arity::Exactly(1),
        USAGE,
        ARGUMENT,
    )?;
    let out = format_output(&args.format, args.no_tty, args.common.debug, verbose)?;
    // `-o -`: the one file goes to stdout, every line to stderr.
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && out.format != Format::Text {
        bail!(
            "`--output -` cannot be used with `--format {}` at the same time",
            args.format.format
        );
    }
    let out = if to_stdout {
        out.with_lines_on_stderr()
    } else {
        out
    };
    let raw = &args.args[0];
    // Empty, no config is asked for (Go checks `ManifestConfigRef != ""`).
    let config = args
        .config
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(parse_file_ref)
        .transpose()?
        .map(|f| (f.path, f.media_type));

    let opened = super::read_through_cache(
        open_target(raw, &args.target, false, args.common.debug, &out)?,
        &args.target,
    )?;
    let target = opened.target.as_ref();
    let Some(selector) = opened.selector.clone() else {
        return Err(UserError::new(format!("{raw:?}: no tag or digest specified"))
            .usage(USAGE)
            .hint("Please specify a reference in the form of \"<name>:<tag>\" or \"<name>@<digest>\". Run \"oras pull -h\" for more options and examples")
            .into());
    };

    let reporter = Arc::new(StatusReporter::new(&out, Operation::Pull));
    let platform = super::platform_flag(args.platform.as_deref())?;
    let (mut root, mut root_bytes) = target.fetch_manifest(&selector).await?;
    if let Some(p) = &platform {
        (root, root_bytes) = super::select_platform(target, root, root_bytes, p).await?;
    }
    let walk = Walk {
        target,
        reporter: reporter.as_ref(),
        config,
        media_types: &args.media_type,
        include_untitled: args.include_untitled,
        include_subject: args.include_subject,
        config_seen: AtomicBool::new(false),
    };
    let mut plan = Plan::rooted(&root);
    reporter.state(&root, State::Started);
    reporter.state(&root, State::Processing);
    walk.node(&root, &root_bytes, &mut plan, 0).await?;

    if to_stdout {
        let item = single_file(&plan, raw)?;
        reporter.state(&item.desc, State::Started);
        let fetch = super::fetcher(target, &item.desc);
        super::fetch_to_stdout(&fetch, &item.desc, &|n| {
            reporter.progress(&item.desc, n);
        })
        .await
        .with_context(|| format!("failed to pull {}", item.title))?;
        reporter.state(&item.desc, State::Done);
        plan.report_walked(reporter.as_ref());
        reporter.state(&root, State::Done);
        drop(reporter);
        return print_result(&out, target, raw, &root, plan.skipped_unnamed, Vec::new());
    }

    let opts = WriteOptions {
        allow_path_traversal: args.allow_path_traversal,
        keep_old_files: args.keep_old_files,
    };
    let written = download(
        target,
        &plan.items,
        // Empty, the working directory (Go's file store takes `filepath.Abs("")`).
        if args.output.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            &args.output
        },
        opts,
        args.concurrency,
        &reporter,
    )
    .await?;
    plan.report_walked(reporter.as_ref());
    reporter.state(&root, State::Done);
    drop(reporter);

    print_result(&out, target, raw, &root, plan.skipped_unnamed, written)
}

/// The one file layer `-o -` writes to stdout; anything else is an error naming what is there.
fn single_file<'a>(plan: &'a Plan, raw: &str) -> Result<&'a Item> {
    let items = plan.items.as_slice();
    let names: Vec<String> = items
        .iter()
        .map(|i| {
            if i.unpacks() {
                format!("{}/ (a directory)", i.title)
            } else {
                i.title.clone()
            }
        })
        .collect();
    let problem = match items {
        [one] if !one.unpacks() => return Ok(one),
        [] => format!("{raw} has no file layer with a title to write"),
        [_] => format!("{raw} holds {}", names[0]),
        _ => format!("{raw} holds {} layers: {}", items.len(), names.join(", ")),
    };
    let hint = if items.is_empty() && plan.skipped_unnamed > 0 {
        format!(
            "{} untitled layer(s) skipped: add --include-untitled to write one of them",
            plan.skipped_unnamed
        )
    } else {
        format!("Pull into a directory instead: oras pull {raw} -o <dir>")
    };
    Err(UserError::new(format!(
        "`--output -` writes a single file to stdout, but {problem}"
    ))
    .hint(hint)
    .into())
}

/// The lines (or JSON) a pull prints once it succeeded.
fn print_result(
    out: &Output,
    target: &dyn Target,
    raw: &str,
    root: &Descriptor,
    skipped_unnamed: usize,
    written: Vec<(Item, PathBuf)>,
) -> Result<()> {
    if skipped_unnamed > 0 {
        // Blobs: a config without a title counts too.
        let blobs = if skipped_unnamed == 1 {
            "blob"
        } else {
            "blobs"
        };
        out.warn(&format!(
            "Note: {skipped_unnamed} {blobs} without a title (org.opencontainers.image.title) not saved; pull with --include-untitled to save them as <algorithm>-<hex> files"
        ));
    }
    match out.format {
        Format::Text if skipped_unnamed > 0 => {
            out.line(
                "Skipped pulling layers without file name in \"org.opencontainers.image.title\"",
            );
            out.line(&format!(
                "Use 'oras copy {raw} --to-oci-layout <layout-dir>' to pull all layers."
            ));
        }
        Format::Text => {
            out.line(&format!("Pulled [{}] {raw}", target.kind()));
            out.line(&format!("Digest: {}", root.digest));
        }
        Format::Json | Format::Template => {
            let files: Vec<FileJson> = written
                .into_iter()
                .map(|(item, path)| {
                    let mut p = path.display().to_string();
                    if item.unpacks() {
                        p.push('/');
                    }
                    FileJson {
                        path: p,
                        reference: format!("{}@{}", target.display(), item.desc.digest),
                        media_type: item.desc.media_type.clone(),
                        digest: item.desc.digest.to_string(),
                        size: item.desc.size,
                        annotations: item.desc.annotations.clone(),
                    }
                })
                .collect();
            out.json(&PullJson {
                reference: format!("{}@{}", target.display(), root.digest),
                files: (!files.is_empty()).then_some(files),
            })?;
        }
    }
    Ok(())
}

impl Walk<'_> {
    /// Collects the titled content under a manifest or index.
    async fn node(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        plan: &mut Plan,
        depth: usize,
    ) -> Result<()> {
        if depth > 8 {
            bail!("{}: index nesting too deep", desc.digest);
        }
        if is_index_type(&desc.media_type) {
            let index =
                parse_index(bytes).with_context(|| format!("{}: invalid index", desc.digest))?;
            for child in &index.manifests {
                self.child(child, plan, depth).await?;
            }
            return self.subject(index.subject.as_ref(), plan, depth).await;
        }
        let manifest =
            parse_manifest(bytes).with_context(|| format!("{}: invalid manifest", desc.digest))?;
        // `--config` names the first config walked only (Go's `getConfigOnce`): the configs of
        // the other manifests of an index are not written over it.
        let mut config = manifest.config.clone();
        if !self.config_seen.swap(true, Ordering::Relaxed)
            && let Some((path, media_type)) = &self.config
            && media_type.as_ref().is_none_or(|t| *t == config.media_type)
        {
            // Titled as the Go client does, so that its status lines name the file.
            config
                .annotations
                .get_or_insert_with(Default::default)
                .insert(crate::oci::ANNOTATION_TITLE.to_owned(), path.clone());
        }
        // A config is content like a layer (a title of its own gets it written), unless it
        // is the two bytes `{}`, which goes unmentioned.
        if config.title().is_some() || config.size != 2 || config.digest != Digest::of(EMPTY_JSON) {
            self.leaf(config, plan);
        }
        for layer in &manifest.layers {
            if !self.media_types.is_empty() && !self.media_types.contains(&layer.media_type) {
                continue;
            }
            self.leaf(layer.clone(), plan);
        }
        self.subject(manifest.subject.as_ref(), plan, depth).await
    }

    /// A layer or config: pulled when it has a title (or `--include-untitled`), else skipped
    /// and counted for the hint the Go client prints instead of `Pulled`.
    fn leaf(&self, desc: Descriptor, plan: &mut Plan) {
        match desc.title() {
            // The same layer in two manifests (a file every platform of an index shares) is
            // one file: Go's copy meets each descriptor once.
            Some(title)
                if plan
                    .items
                    .iter()
                    .any(|i| i.title == title && same(&i.desc, &desc)) => {}
            Some(title) => plan.items.push(Item {
                title: title.to_owned(),
                desc,
            }),
            None if desc.is_empty_json() => {}
            None if self.include_untitled => {
                // Named after the digest: the same content twice is one file.
                let title = desc.digest.to_string().replacen(':', "-", 1);
                if !plan.items.iter().any(|i| i.title == title) {
                    plan.items.push(Item { desc, title });
                }
            }
            None => {
                // One status line per content, as Go's `notifyOnce`; the note counts them all.
                if plan.skipped_digests.insert(desc.digest.clone()) {
                    self.reporter.state(&desc, State::Skipped);
                }
                plan.skipped_unnamed += 1;
            }
        }
    }

    /// With `--include-subject`, walks the manifest that `subject` names, as the Go client
    /// does: its titled content is pulled too, and its own subject after it.
    async fn subject(
        &self,
        subject: Option<&Descriptor>,
        plan: &mut Plan,
        depth: usize,
    ) -> Result<()> {
        match subject.filter(|_| self.include_subject) {
            Some(subject) => self.child(subject, plan, depth).await,
            None => Ok(()),
        }
    }

    /// Fetches the manifest or index `child` names (an index entry, a subject) and walks it.
    async fn child(&self, child: &Descriptor, plan: &mut Plan, depth: usize) -> Result<()> {
        if !plan.visited.insert(child.digest.clone()) {
            return Ok(());
        }
        let (found, bytes) = self
            .target
            .fetch_manifest(&child.digest.to_string())
            .await?;
        if found.size != child.size {
            bail!("{}: invalid descriptor size", child.digest);
        }
        let desc = Descriptor {
            media_type: child.media_type.clone(),
            ..found
        };
        self.reporter.state(&desc, State::Started);
        self.reporter.state(&desc, State::Processing);
        Box::pin(self.node(&desc, &bytes, plan, depth + 1)).await?;
        plan.walked.push(desc);
        Ok(())
    }
}

/// `-o` names a directory, made as needed: a file there (or on the way to it) is refused before
/// anything is downloaded, in the words of Go's `os.MkdirAll` (`mkdir /abs/out: not a
/// directory`), not as the "File exists" our own mkdir would meet.
fn check_output_dir(output: &std::path::Path) -> Result<()> {
    let output = std::path::absolute(output)
        .with_context(|| format!("failed to resolve {}", output.display()))?;
    let existing = output
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok().map(|m| (p, m)));
    match existing {
        Some((path, meta)) if !meta.is_dir() => Err(UserError::new(format!(
            "mkdir {}: not a directory",
            path.display()
        ))
        .hint("-o/--output names the directory to pull into")
        .into()),
        _ => Ok(()),
    }
}

/// Whether two descriptors name the same content the same way (Go's copy keys nodes by media
/// type, digest and size).
fn same(a: &Descriptor, b: &Descriptor) -> bool {
    a.media_type == b.media_type && a.digest == b.digest && a.size == b.size
}

/// Downloads every item (each digest once, copies for repeated digests), refusing unsafe paths
/// before anything is written.
async fn download(
    target: &dyn Target,
    items: &[Item],
    output: &std::path::Path,
    opts: WriteOptions,
    concurrency: usize,
    reporter: &Arc<StatusReporter>,
) -> Result<Vec<(Item, PathBuf)>> {
    if !items.is_empty() {
        check_output_dir(output)?;
    }
    let mut paths = Vec::with_capacity(items.len());
    let mut seen_titles = std::collections::HashSet::new();
    for item in items {
        if !seen_titles.insert(item.title.clone()) {
            bail!("{}: duplicate name", item.title);
        }
        let path = resolve_output_path(output, &item.title, opts).map_err(|e| {
            anyhow::Error::new(UserError::new(e.to_string()).hint(
                "Pulling files outside of the output directory is insecure and blocked by default. If you trust the content producer, use --allow-path-traversal to bypass this check.",
            ))
        })?;
        paths.push((item.clone(), path));
    }
    let mut first_by_digest: HashMap<&crate::oci::Digest, usize> = HashMap::new();
    let mut primary = Vec::new();
    let mut copies = Vec::new();
    for (i, (item, _)) in paths.iter().enumerate() {
        match first_by_digest.get(&item.desc.digest) {
            Some(&first) if !item.unpacks() => {
                copies.push((first, i));
            }
            Some(_) => primary.push(i),
            None => {
                first_by_digest.insert(&item.desc.digest, i);
                primary.push(i);
            }
        }
    }
    stream::iter(primary.into_iter().map(Ok::<usize, anyhow::Error>))
        .try_for_each_concurrent(concurrency.max(1), |i| {
            let (item, path) = &paths[i];
            async move {
                reporter.state(&item.desc, State::Started);
                let fetch = super::fetcher(target, &item.desc);
                let progress = |n: u64| reporter.progress(&item.desc, n);
                if item.unpacks() {
                    write_directory(&fetch, &item.desc, &item.title, path, opts, &progress).await
                } else {
                    write_blob_file(&fetch, &item.desc, path, opts, &progress).await
                }
                .with_context(|| format!("failed to pull {}", item.title))?;
                reporter.state(&item.desc, State::Done);
                Ok(())
            }
        })
        .await?;
    for (from, to) in copies {
        let (src, dst) = (&paths[from].1, &paths[to]);
        let copy = Source::File(src.clone());
        write_blob_file(&content_chunks(&copy), &dst.0.desc, &dst.1, opts, &|_| {})
            .await
            .with_context(|| format!("failed to pull {}", dst.0.title))?;
        reporter.state(&dst.0.desc, State::Restored);
    }
    Ok(paths)
}
