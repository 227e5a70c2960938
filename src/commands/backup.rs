//! `oras backup` and `oras restore` (oras-cli.md §9, §13.12): tags of a repository, with
//! their referrers if asked, copied into an OCI image layout (a directory or a tar archive)
//! and back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::copy::Copier;
use super::{Arity, Opened, begin, open_target, referrers_mode};
use crate::cli::{CommonArgs, RemoteArgs, TargetArgs};
use crate::oci::{Digest, MAX_MANIFEST_BYTES};
use crate::output::{
    Format, Operation, Output, StatusReporter, UserError, humanize, io_error_text,
};
use crate::reference::{Reference, is_valid_tag, split_tags};
use crate::target::{Layout, Target};
use crate::transfer::Reporter;

const BACKUP_USAGE: &str =
    "oras backup [flags] --output <path> <registry>/<repository>[:<ref1>[,<ref2>...]]";
const RESTORE_USAGE: &str =
    "oras restore [flags] --input <path> <registry>/<repository>[:<ref1>[,<ref2>...]]";

pub async fn backup(args: crate::cli::BackupArgs) -> Result<()> {
    let started = Instant::now();
    let verbose = begin(
        &args.common,
        "backup",
        &args.args,
        Arity::Exactly(1),
        BACKUP_USAGE,
        "the artifact reference you want to back up",
    )?;
    let out = Output::new(Format::Text, args.no_tty, args.common.debug, verbose);
    let output_arg = required(args.output.as_deref(), "output")?;
    if output_arg.is_empty() {
        bail!("the output path cannot be empty");
    }
    let to_tar = output_arg.to_ascii_lowercase().ends_with(".tar");
    let output = PathBuf::from(output_arg);
    if to_tar && output.is_dir() {
        return Err(UserError::new(format!(
            "the output path {output_arg:?} already exists and is a directory"
        ))
        .hint("To back up to a tar archive, please specify a different output file name or remove the existing directory.")
        .into());
    }
    let mode = referrers_mode(&args.referrers)?;
    let (raw, tags) = repository_and_tags(&args.args[0])?;
    // A tar archive is made from a layout in a temp directory next to it. Made first, as Go
    // opens the archive first: a path that cannot take a file fails before any request.
    let staging = to_tar
        .then(|| staging_dir(&output, output_arg))
        .transpose()?;
    let mut remote = open_remote(&raw, &args.remote, false, &args.common, &out)?;
    remote.target.set_referrers_mode(mode);
    let source = remote.target.as_ref();
    let repo = source.display().to_owned();
    let tags = if tags.is_empty() {
        let mut all: Vec<String> = source
            .tags("")
            .await?
            .into_iter()
            .filter(|t| !is_referrers_tag(t))
            .collect();
        all.sort();
        all
    } else {
        tags
    };
    if tags.is_empty() {
        return Err(
            UserError::new(format!("no tags found in repository {repo:?}"))
                .hint(format!(
                    "If you want to list available tags in {repo:?}, use \"oras repo tags\""
                ))
                .into(),
        );
    }
    // Every tag resolves before anything is written (or announced): a missing one leaves no
    // half backup.
    let roots = resolve_tags(source, &tags).await?;
    print_found(&out, &format!("in {repo}"), &tags);

    let layout_dir = staging.as_ref().map_or(output.as_path(), |d| d.path());
    let layout = Layout::create(layout_dir)?;
    let reporter: Arc<dyn Reporter> = Arc::new(StatusReporter::new(&out, Operation::Backup));
    let copier = Copier {
        source,
        target: &layout,
        concurrency: args.concurrency,
        mount_from: None,
        reporter: &reporter,
        dry_run: false,
        done: std::sync::Mutex::default(),
    };
    for (tag, (root, bytes)) in tags.iter().zip(&roots) {
        copier.start_over();
        copier.graph(root, bytes, tag).await?;
        let referrers = if args.include_referrers {
            copier.referrers(root, bytes).await?
        } else {
            0
        };
        out.line(&format!("Pulled tag {tag} with {referrers} referrer(s)"));
    }
    drop(reporter);
    if let Some(staging) = &staging {
        out.line(&format!("Exporting to {output_arg}"));
        let size = write_tar(staging.path(), &output)?;
        out.line(&format!("Exported to {output_arg} ({})", humanize(size)));
    }
    out.line(&format!(
        "Successfully backed up {} tag(s) from {repo:?} to {output_arg:?} in {}.",
        tags.len(),
        go_duration(started.elapsed())
    ));
    Ok(())
}

/// The manifest of each tag in the repository being backed up.
async fn resolve_tags(
    source: &dyn Target,
    tags: &[String],
) -> Result<Vec<(crate::oci::Descriptor, Vec<u8>)>> {
    let mut roots = Vec::with_capacity(tags.len());
    for tag in tags {
        roots.push(source.fetch_manifest(tag).await.map_err(|e| {
            if e.is_not_found() {
                // Go's Remote error handler leaves a bare not-found alone: `Error: failed to
                // resolve tag "v9": <ref>: not found`, without the registry prefix.
                anyhow::anyhow!("failed to resolve tag {tag:?}: {e}")
            } else {
                anyhow::Error::new(e).context(format!("failed to resolve tag {tag:?}"))
            }
        })?);
    }
    Ok(roots)
}

pub async fn restore(args: crate::cli::RestoreArgs) -> Result<()> {
    let started = Instant::now();
    let verbose = begin(
        &args.common,
        "restore",
        &args.args,
        Arity::Exactly(1),
        RESTORE_USAGE,
        "the targets to restore to",
    )?;
    let out = Output::new(Format::Text, args.no_tty, args.common.debug, verbose);
    let input = required(args.input.as_deref(), "input")?;
    if input.is_empty() {
        bail!("the input path cannot be empty");
    }
    let mode = referrers_mode(&args.referrers)?;
    // The reference is checked before the input, as Go's PreRunE does.
    let (raw, tags) = repository_and_tags(&args.args[0])?;
    let layout = open_backup(input, &out)?;
    let available = match &layout {
        Some(layout) => layout
            .tags("")
            .await
            .map_err(|e| anyhow::anyhow!("{input:?}: invalid OCI Image Layout: {e}"))?,
        None => Vec::new(),
    };
    let tags = if tags.is_empty() { available } else { tags };
    if tags.is_empty() {
        return Err(UserError::new(format!(
            "no tags found in OCI layout {input:?}"
        ))
        .hint(format!("If you want to list available tags in {input:?}, use \"oras repo tags --oci-layout\""))
        .into());
    }
    let Some(layout) = layout else {
        bail!(
            "failed to find tag {:?} in {input:?}: it is not an OCI image layout (no index.json or oci-layout in it)",
            tags[0]
        );
    };
    // Every tag is found before anything is announced or pushed.
    let roots = resolve_tags(&layout, &tags).await?;
    print_found(&out, "in the backup", &tags);

    let mut remote = open_remote(&raw, &args.remote, true, &args.common, &out)?;
    remote.target.set_referrers_mode(mode);
    let target = remote.target.as_ref();
    let repo = target.display().to_owned();
    let reporter: Arc<dyn Reporter> = Arc::new(StatusReporter::new(&out, Operation::Restore));
    let copier = Copier {
        source: &layout,
        target,
        concurrency: args.concurrency,
        mount_from: None,
        reporter: &reporter,
        dry_run: args.dry_run,
        done: std::sync::Mutex::default(),
    };
    for (tag, (root, bytes)) in tags.iter().zip(&roots) {
        copier.start_over();
        if !args.dry_run {
            copier.graph(root, bytes, tag).await?;
        }
        let referrers = if args.exclude_referrers {
            0
        } else {
            copier.referrers(root, bytes).await?
        };
        if args.dry_run {
            out.line(&format!(
                "Dry run: would push tag {tag} with {referrers} referrer(s)"
            ));
        } else {
            out.line(&format!("Pushed tag {tag} with {referrers} referrer(s)"));
        }
    }
    drop(reporter);
    if args.dry_run {
        out.line(&format!(
            "Dry run complete: {} tag(s) would be restored to {repo:?} (no data pushed)",
            tags.len()
        ));
    } else {
        out.line(&format!(
            "Successfully restored {} tag(s) to {repo:?} in {}",
            tags.len(),
            go_duration(started.elapsed())
        ));
    }
    Ok(())
}

/// A flag the command cannot run without: cobra's `required flag(s) "output" not set`.
fn required<'a>(value: Option<&'a str>, flag: &str) -> Result<&'a str> {
    value.ok_or_else(|| anyhow::anyhow!("required flag(s) {flag:?} not set"))
}

/// Whether `path` starts with a tar header (`ustar` magic, POSIX or GNU).
fn looks_like_tar(path: &Path) -> bool {
    use std::io::Read as _;
    let mut header = [0u8; 512];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| header[257..262] == *b"ustar")
}

/// The backup to restore: a layout directory, or a tar archive of one. A directory that holds
/// no layout is `None`: it has no tags, which is what Go reports for it.
fn open_backup(input: &str, out: &Output) -> Result<Option<Layout>> {
    let path = Path::new(input);
    let meta = std::fs::metadata(path).map_err(|e| {
        anyhow::anyhow!(
            "failed to access input path {input:?}: stat {input}: {}",
            io_error_text(&e)
        )
    })?;
    if meta.is_dir() {
        if !path.join("index.json").is_file() || !path.join("oci-layout").is_file() {
            return Ok(None);
        }
        return Ok(Some(Layout::open(path, input)?));
    }
    // A device or a FIFO (`/dev/null`, `<(cat x.tar)`) is neither; reading one could block.
    if !meta.is_file() {
        bail!("input path {input:?} must be a directory or a tar archive");
    }
    if !looks_like_tar(path) {
        bail!("input path {input:?} is not a tar archive: invalid OCI Image Layout");
    }
    let layout = Layout::open_tar(path)
        .map_err(|e| anyhow::anyhow!("{input:?}: invalid OCI Image Layout: {e}"))?;
    out.line(&format!(
        "Loaded backup archive: {input} ({})",
        humanize(meta.len())
    ));
    Ok(Some(layout))
}

/// `<registry>/<repository>[:<ref1>[,<ref2>...]]`: the repository reference (first tag kept)
/// and the tags named. Digests are refused: a backup is organised by tag.
fn repository_and_tags(raw: &str) -> Result<(String, Vec<String>)> {
    // The Go client's checks, in its order and words.
    if raw.is_empty() {
        bail!("artifact reference cannot be empty");
    }
    if raw.contains('@') {
        bail!("digest references are not supported: {raw:?}");
    }
    let (first, extra) = split_tags(raw);
    if first.ends_with(':') {
        bail!("empty tag in reference {raw:?}");
    }
    let reference = Reference::parse(first).map_err(|e| {
        UserError::new(format!("invalid reference {raw:?}: {e}"))
            .hint("Please make sure the provided reference is in the form of <registry>/<repo>[:tag1,tag2,...]")
    })?;
    let mut tags: Vec<String> = reference.selector.iter().map(ToString::to_string).collect();
    for t in extra {
        if t.is_empty() {
            bail!("empty tag in reference {raw:?}");
        }
        if !is_valid_tag(t) {
            bail!("invalid tag {t:?} in reference {raw:?}: invalid reference: invalid tag {t:?}");
        }
        tags.push(t.to_owned());
    }
    Ok((first.to_owned(), tags))
}

fn open_remote(
    raw: &str,
    remote: &RemoteArgs,
    write: bool,
    common: &CommonArgs,
    out: &Output,
) -> Result<Opened> {
    let args = TargetArgs {
        remote: remote.clone(),
        oci_layout: false,
        oci_layout_path: None,
        chunk_size: None,
        max_manifest_size: MAX_MANIFEST_BYTES,
    };
    open_target(raw, &args, write, common.debug, out)
}

/// Tags of the `sha256-<hex>` referrers schema: copied with their subjects, not as tags.
fn is_referrers_tag(tag: &str) -> bool {
    tag.replacen('-', ":", 1).parse::<Digest>().is_ok()
}

/// `Found 2 tag(s) in <where>: v1, v2`, or one tag per line when there are more than five.
fn print_found(out: &Output, place: &str, tags: &[String]) {
    if tags.len() > 5 {
        out.line(&format!("Found {} tag(s) {place}:", tags.len()));
        for t in tags {
            out.line(t);
        }
    } else {
        out.line(&format!(
            "Found {} tag(s) {place}: {}",
            tags.len(),
            tags.join(", ")
        ));
    }
}

/// The temp directory beside a `.tar` output that holds the layout until it is archived; an
/// error is Go's for an archive that cannot be created.
fn staging_dir(output: &Path, output_arg: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(".oras-backup-")
        .tempdir_in(parent_of(output))
        .map_err(|e| {
            anyhow::anyhow!(
                "unable to create output file {output_arg}: open {output_arg}: {}",
                io_error_text(&e)
            )
        })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes the layout in `dir` as a tar archive at `dest` (through a temp file and a rename);
/// returns its size.
fn write_tar(dir: &Path, dest: &Path) -> Result<u64> {
    // 0666 less the umask, as Go's os.Create makes it (a temp file alone would be 0600).
    let tmp = tempfile::Builder::new()
        .prefix(".oras-backup-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(parent_of(dest))
        .with_context(|| format!("failed to create {}", dest.display()))?;
    let mut builder = tar::Builder::new(std::io::BufWriter::new(tmp.as_file()));
    builder.mode(tar::HeaderMode::Deterministic);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir.join(&rel))?.collect::<std::io::Result<Vec<_>>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries.into_iter().rev() {
            let name = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                builder.append_dir(&name, entry.path())?;
                stack.push(name);
            } else {
                builder.append_path_with_name(entry.path(), &name)?;
            }
        }
    }
    builder
        .into_inner()?
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    tmp.as_file().sync_all()?;
    let size = tmp.as_file().metadata()?.len();
    tmp.persist(dest)
        .with_context(|| format!("failed to write {}", dest.display()))?;
    Ok(size)
}

/// A duration as the Go client's `humanize.FormatDuration` prints it: rounded to the second
/// above one second (`2s`, `1m5s`), to the millisecond above one millisecond (`823ms`), to the
/// microsecond below (`412µs`), then written by Go's `Duration.String()`.
fn go_duration(d: Duration) -> String {
    // Go's Round goes halfway values away from zero.
    let round = |unit: u128| (d.as_nanos() + unit / 2) / unit;
    if d > Duration::from_secs(1) {
        let secs = round(1_000_000_000);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    } else if d > Duration::from_millis(1) {
        match round(1_000_000) {
            1000 => "1s".to_owned(),
            ms => format!("{ms}ms"),
        }
    } else {
        match round(1000) {
            0 => "0s".to_owned(),
            1000 => "1ms".to_owned(),
            us => format!("{us}µs"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        for (d, want) in [
            (Duration::from_micros(823_400), "823ms"),
            (Duration::from_micros(999_600), "1s"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_millis(1499), "1s"),
            (Duration::from_millis(1500), "2s"),
            (Duration::from_millis(61_234), "1m1s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_nanos(412_400), "412µs"),
            (Duration::from_nanos(999_700), "1ms"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(go_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn referrers_tags_are_recognised() {
        assert!(is_referrers_tag(
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        ));
        assert!(!is_referrers_tag("v1"));
        assert!(!is_referrers_tag("sha256-abc"));
    }
}
