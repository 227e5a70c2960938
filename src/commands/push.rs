//! `oras push`: pack files (and directories) into layers, upload the blobs concurrently, then
//! the manifest, tagged as asked (oras-cli.md §5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use super::{Arity, begin, format_output, open_target, write_file_atomic};
use crate::cli::{AttachArgs, PushArgs};
use crate::files::{
    FileRef, PackTo, pack_bytes_file, pack_path, pack_reader, parse_file_ref, title_of,
};
use crate::oci::{
    ANNOTATION_CREATED, Annotations, Descriptor, EMPTY_JSON, MEDIA_TYPE_MANIFEST,
    MEDIA_TYPE_UNKNOWN_ARTIFACT, MEDIA_TYPE_UNKNOWN_CONFIG, Manifest, is_valid_media_type,
    to_go_json,
};
use crate::output::{Format, Operation, Output, StatusReporter, UserError, io_error_text};
use crate::reference::{is_valid_tag, split_tags};
use crate::target::ReferrersMode;
use crate::transfer::{Blob, Reporter, push_blobs, push_manifest};

const USAGE: &str = "oras push [flags] <name>[:<tag>[,<tag>][...]] <file>[:<type>] [...]";
const ATTACH_USAGE: &str = "oras attach [flags] --artifact-type=<type> <name>{:<tag>|@<digest>} {<file>[:<layer_media_type>]|--annotation <key>=<value>} [...]";

/// The file argument that reads one layer from stdin (`-` or `-:<media type>`).
const STDIN: &str = "-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageSpec {
    V1_0,
    V1_1,
}

/// The annotation file: `$manifest`, `$config` and per-file entries.
type AnnotationFile = BTreeMap<String, Annotations>;

/// `oras push --format json`: the descriptor model and the tags.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PushJson<'a> {
    #[serde(flatten)]
    desc: AttachJson<'a>,
    reference_as_tags: Option<Vec<String>>,
}

/// `oras attach --format json` (oras-cli.md §17): the referrer's descriptor model.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachJson<'a> {
    reference: String,
    media_type: &'a str,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a Annotations>,
    #[serde(skip_serializing_if = "str::is_empty")]
    artifact_type: &'a str,
}

/// What the flags ask for, validated before any file is read or any request is sent.
struct Request {
    spec: ImageSpec,
    config: Option<FileRef>,
    files: Vec<FileRef>,
    /// The title of the layer read from stdin (`--stdin-name`).
    stdin_name: Option<String>,
    manifest_annotations: Annotations,
    config_annotations: Option<Annotations>,
    file_annotations: AnnotationFile,
    /// `--artifact-platform`: written as the config.
    platform: Option<crate::oci::Platform>,
}

pub async fn run(args: PushArgs) -> Result<()> {
    if args.manifest_config.is_some() {
        crate::output::warn(
            "Flag --manifest-config has been deprecated (oras 0.x syntax), use --config instead.",
        );
    }
    let verbose = begin(
        &args.common,
        "push",
        &args.args,
        Arity::AtLeast(1),
        USAGE,
        "the destination for pushing",
    )?;
    let out = format_output(&args.format, args.no_tty, args.common.debug, verbose)?;
    push_artifact(args, None, &out).await
}

/// What makes an attach differ from a push: the manifest refers to a subject.
struct Attach {
    platform: Option<String>,
    referrers: ReferrersMode,
}

/// `oras attach`: pushes an artifact whose `subject` is an existing manifest (oras-cli.md §6).
pub async fn attach(args: AttachArgs) -> Result<()> {
    let verbose = begin(
        &args.common,
        "attach",
        &args.args,
        Arity::AtLeast(1),
        ATTACH_USAGE,
        // Go's description ends with a full stop (its hint then shows two).
        "the destination artifact for attaching.",
    )?;
    // The options, as the Go client's PreRunE parses them.
    let out = format_output(&args.format, args.no_tty, args.common.debug, verbose)?;
    let referrers = super::referrers_mode(&args.referrers)?;
    if args.config.is_some() && args.platform.is_some() {
        bail!("--config, --platform cannot be used at the same time");
    }
    let nothing_to_attach =
        args.args.len() == 1 && args.annotation.is_empty() && args.annotation_file.is_none();
    if nothing_to_attach {
        // A lone argument without a tag or digest is more likely a missing reference than a
        // reference with nothing to attach (the Go client's order and hint).
        let raw = &args.args[0];
        let untagged = if args.target.oci_layout {
            crate::target::parse_layout_reference(raw).1.is_none()
        } else {
            crate::reference::Reference::parse(raw).is_ok_and(|r| r.selector.is_none())
        };
        if untagged {
            return Err(
                UserError::new(format!("{raw:?}: no tag or digest specified"))
                    .usage(ATTACH_USAGE.to_owned())
                    .hint("Are you missing an artifact reference to attach to?")
                    .into(),
            );
        }
    }
    // After PreRunE, as cobra checks required flags.
    if args.artifact_type.is_empty() {
        bail!("required flag(s) \"artifact-type\" not set");
    }
    let attach = Attach {
        platform: args.platform,
        referrers,
    };
    let push = PushArgs {
        args: args.args,
        config: args.config,
        manifest_config: None,
        artifact_type: args.artifact_type,
        annotation: args.annotation,
        annotation_file: args.annotation_file,
        export_manifest: args.export_manifest,
        disable_path_validation: args.disable_path_validation,
        stdin_name: None,
        stdin_media_type: Vec::new(),
        concurrency: args.concurrency,
        image_spec: Some("v1.1".to_owned()),
        artifact_platform: None,
        no_tty: args.no_tty,
        format: args.format,
        target: args.target,
        common: args.common,
    };
    // Go counts the manifest annotations, from `-a` or the file's `$manifest`: an annotation
    // file with only `$config` or per-file entries gives an attach nothing to say.
    let no_annotations = || -> Result<bool> {
        Ok(load_annotations(&push)?
            .get("$manifest")
            .is_none_or(Annotations::is_empty))
    };
    if push.args.len() == 1 && no_annotations()? {
        return Err(UserError::new("neither file nor annotation provided in the command")
            .usage(ATTACH_USAGE.to_owned())
            .hint("To attach to an existing artifact, please provide files via argument or annotations via flag \"--annotation\". Run \"oras attach -h\" for more options and examples")
            .into());
    }
    push_artifact(push, Some(attach), &out).await
}

/// The reference and extra tags of a push (an attach takes no extra tags).
fn split_reference(args: &PushArgs, attach: bool) -> Result<(&str, Vec<&str>)> {
    let (raw_ref, extra_tags) = split_tags(&args.args[0]);
    if attach && !extra_tags.is_empty() {
        bail!(
            "{:?}: attach takes one subject, not a list of tags",
            args.args[0]
        );
    }
    for t in &extra_tags {
        if !is_valid_tag(t) {
            bail!("{:?}: invalid reference: invalid tag {t:?}", args.args[0]);
        }
    }
    if !args.target.oci_layout && args.target.oci_layout_path.is_none() {
        crate::reference::Reference::parse(raw_ref)
            .map_err(|e| super::invalid_reference(raw_ref, e))?;
    }
    Ok((raw_ref, extra_tags))
}

/// The manifest an attach refers to, as the Go client resolves it.
async fn resolve_subject(
    opened: &mut super::Opened,
    raw_ref: &str,
    attach: &Attach,
) -> Result<Descriptor> {
    opened.target.set_referrers_mode(attach.referrers);
    let selector = super::require_selector(opened, raw_ref, "attach", ATTACH_USAGE)?;
    let (desc, _) = super::resolve_manifest(
        opened.target.as_ref(),
        &selector,
        attach.platform.as_deref(),
    )
    .await
    .with_context(|| format!("failed to resolve {raw_ref}"))?;
    Ok(desc)
}

async fn push_artifact(args: PushArgs, attach: Option<Attach>, out: &Output) -> Result<()> {
    let out = out.clone();
    let (raw_ref, extra_tags) = split_reference(&args, attach.is_some())?;
    let request = validate(&args, attach.is_some(), &out)?;

    let mut opened = open_target(raw_ref, &args.target, true, args.common.debug, &out)?;
    let subject = match &attach {
        Some(a) => Some(resolve_subject(&mut opened, raw_ref, a).await?),
        None => None,
    };
    let target = opened.target;
    // Into an OCI layout, files are copied beside its blobs as they are hashed, and then
    // renamed into place: one read of each.
    let to = PackTo::for_target(target.as_ref());
    let layers = pack_files(&request, &to, &out).await?;
    let config = pack_config(&request, &args.artifact_type, &to).await?;

    let artifact_type = match request.spec {
        ImageSpec::V1_1 if args.artifact_type.is_empty() => {
            Some(MEDIA_TYPE_UNKNOWN_ARTIFACT.to_owned())
        }
        ImageSpec::V1_1 => Some(args.artifact_type.clone()),
        ImageSpec::V1_0 => None,
    };
    let mut blobs: Vec<Blob> = vec![config];
    if layers.is_empty() && request.spec == ImageSpec::V1_1 {
        out.status_line("Uploading empty artifact");
        blobs.push(Blob::bytes(Descriptor::empty(), EMPTY_JSON));
    }
    blobs.extend(layers);

    // Blobs first (large files get their digests while they upload), the manifest last.
    let reporter: Arc<dyn Reporter> = Arc::new(StatusReporter::new(&out, Operation::Push));
    let mut descs = push_blobs(target.as_ref(), blobs, args.concurrency, &reporter)
        .await?
        .into_iter();
    let config_desc = descs.next().expect("the config was pushed");
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_MANIFEST.to_owned()),
        artifact_type: artifact_type.clone(),
        config: config_desc.clone(),
        layers: descs.collect(),
        subject: subject.clone(),
        annotations: Some(request.manifest_annotations),
    };
    let manifest_bytes = to_go_json(&manifest)?;
    let manifest_desc = Descriptor::for_bytes(MEDIA_TYPE_MANIFEST, &manifest_bytes);

    // A referrer is pushed by digest: the subject's tag stays where it is.
    let first = match (&subject, &opened.selector) {
        (None, Some(tag)) => tag.clone(),
        _ => manifest_desc.digest.to_string(),
    };
    push_manifest(
        target.as_ref(),
        &manifest_desc,
        &manifest_bytes,
        &first,
        reporter.as_ref(),
    )
    .await?;
    for tag in &extra_tags {
        target
            .tag_manifest(&manifest_desc, &manifest_bytes, tag)
            .await?;
    }
    drop(reporter);

    let shown_type = artifact_type.unwrap_or_else(|| config_desc.media_type.clone());
    if let Some(subject) = &subject {
        print_attached(
            &out,
            target.as_ref(),
            raw_ref,
            subject,
            &manifest_desc,
            manifest.annotations.as_ref(),
            &shown_type,
        )?;
    } else {
        let tags: Vec<&str> = opened
            .selector
            .iter()
            .filter(|s| s.parse::<crate::oci::Digest>().is_err())
            .map(String::as_str)
            .chain(extra_tags.iter().copied())
            .collect();
        let done = Done {
            target: target.as_ref(),
            raw_ref,
            extra_tags: &extra_tags,
            tags: &tags,
            desc: &manifest_desc,
            annotations: manifest.annotations.as_ref(),
            artifact_type: &shown_type,
        };
        done.print(&out)?;
    }
    // Once the result is printed, as the Go client does: a manifest that cannot be exported
    // was pushed all the same, and the digest to find it by is on screen.
    // Empty, no export is asked for (Go checks `ManifestExportPath != ""`).
    if let Some(path) = super::given(args.export_manifest.as_ref()) {
        write_file_atomic(path, &manifest_bytes)?;
    }
    Ok(())
}

/// What an attach prints: `Attached to [registry] <path>@<subject digest>` and the referrer's
/// digest, or its descriptor as JSON.
fn print_attached(
    out: &Output,
    target: &dyn crate::target::Target,
    raw_ref: &str,
    subject: &Descriptor,
    desc: &Descriptor,
    annotations: Option<&Annotations>,
    artifact_type: &str,
) -> Result<()> {
    if out.format != Format::Text {
        return out.json(&AttachJson {
            reference: format!("{}@{}", target.display(), desc.digest),
            media_type: MEDIA_TYPE_MANIFEST,
            digest: desc.digest.to_string(),
            size: desc.size,
            annotations,
            artifact_type,
        });
    }
    let digest = subject.digest.to_string();
    let shown = if raw_ref.ends_with(&digest) {
        raw_ref.to_owned()
    } else {
        format!("{}@{digest}", target.display())
    };
    out.line(&format!("Attached to [{}] {shown}", target.kind()));
    out.line(&format!("Digest: {}", desc.digest));
    Ok(())
}

/// What a push prints once it succeeded.
struct Done<'a> {
    target: &'a dyn crate::target::Target,
    raw_ref: &'a str,
    extra_tags: &'a [&'a str],
    tags: &'a [&'a str],
    desc: &'a Descriptor,
    annotations: Option<&'a Annotations>,
    artifact_type: &'a str,
}

impl Done<'_> {
    fn print(&self, out: &Output) -> Result<()> {
        let target = self.target;
        if out.format != Format::Text {
            let mut tags: Vec<String> = self
                .tags
                .iter()
                .map(|t| format!("{}:{t}", target.display()))
                .collect();
            tags.sort();
            return out.json(&PushJson {
                desc: AttachJson {
                    reference: format!("{}@{}", target.display(), self.desc.digest),
                    media_type: MEDIA_TYPE_MANIFEST,
                    digest: self.desc.digest.to_string(),
                    size: self.desc.size,
                    annotations: self.annotations,
                    artifact_type: self.artifact_type,
                },
                reference_as_tags: (!tags.is_empty()).then_some(tags),
            });
        }
        out.line(&format!("Pushed [{}] {}", target.kind(), self.raw_ref));
        for tag in self.extra_tags {
            out.line(&format!("Tagged {tag}"));
        }
        out.line(&format!("ArtifactType: {}", self.artifact_type));
        out.line(&format!("Digest: {}", self.desc.digest));
        Ok(())
    }
}

/// Checks flags, annotations and files (they must exist) in the Go client's order.
fn validate(args: &PushArgs, attach: bool, out: &Output) -> Result<Request> {
    let config_given = args.config.is_some() || args.manifest_config.is_some();
    // An empty `oras push --config` is no config: Go's push checks `manifestConfigRef != ""`
    // (its flag-exclusion check alone counts the flag as given).
    let config_flag = args
        .config
        .clone()
        .or_else(|| args.manifest_config.clone())
        .filter(|c| attach || !c.is_empty());
    let spec = match args.image_spec.as_deref() {
        None if config_flag.is_some() && args.artifact_type.is_empty() => ImageSpec::V1_0,
        None | Some("v1.1") => ImageSpec::V1_1,
        Some("v1.0") => ImageSpec::V1_0,
        Some(other) => {
            return Err(
                UserError::new(format!("unknown image specification flag: {other}"))
                    .hint("Available options: v1.1, v1.0")
                    .into(),
            );
        }
    };
    if args.artifact_platform.is_some() && config_given {
        bail!("--config, --artifact-platform cannot be used at the same time");
    }
    // Empty, the flag asks for no platform (the Go client parses it only when it is not).
    let platform = match args.artifact_platform.as_deref().filter(|p| !p.is_empty()) {
        Some(_) if spec == ImageSpec::V1_0 && !args.artifact_type.is_empty() => {
            return Err(UserError::new(
                "artifact type cannot be customized for OCI image-spec v1.0 when platform is specified",
            )
            .hint("consider using image spec v1.1 or remove --artifact-type")
            .into());
        }
        Some(raw) => Some(super::parse_platform(raw)?.to_platform()),
        None => None,
    };
    if spec == ImageSpec::V1_1 && config_flag.is_some() && args.artifact_type.is_empty() {
        return Err(
            UserError::new("missing artifact type for OCI image-spec v1.1 artifacts")
                .hint("set an artifact type via `--artifact-type` or consider image spec v1.0")
                .into(),
        );
    }
    if spec == ImageSpec::V1_0 && config_flag.is_some() && !args.artifact_type.is_empty() {
        bail!("--artifact-type and --config cannot both be provided for 1.0 OCI image");
    }
    if !args.artifact_type.is_empty() && !is_valid_media_type(&args.artifact_type) {
        bail!(
            "invalid artifactType format: {}: invalid media type",
            args.artifact_type
        );
    }

    let mut file_annotations = load_annotations(args)?;
    let mut manifest_annotations = file_annotations.remove("$manifest").unwrap_or_default();
    let config_annotations = file_annotations.remove("$config");
    if let Some(created) = manifest_annotations.get(ANNOTATION_CREATED) {
        chrono::DateTime::parse_from_rfc3339(created)
            .map_err(|e| anyhow::anyhow!("invalid date and time format: {created:?}: {e}"))?;
    } else {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        manifest_annotations.insert(ANNOTATION_CREATED.to_owned(), now);
    }

    let cwd = std::env::current_dir().context("failed to read the working directory")?;
    let files = parse_files(args)?;
    let stdin_name = check_stdin(args, files.iter().filter(|f| f.path == STDIN).count())?;
    if !args.disable_path_validation {
        // The hint's command line is the one being run.
        let command = if attach {
            format!("attach --artifact-type {} <subject>", args.artifact_type)
        } else {
            "push <name>".to_owned()
        };
        check_paths(&files, &command, out)?;
    }
    let config = config_flag.as_deref().map(parse_file_ref).transpose()?;
    if let Some(t) = config.as_ref().and_then(|c| c.media_type.as_ref())
        && !is_valid_media_type(t)
    {
        bail!("invalid config mediaType format: {t}: invalid media type");
    }
    let on_disk = files
        .iter()
        .filter(|f| f.path != STDIN)
        .chain(config.iter());
    for path in on_disk.map(|f| cwd.join(&f.path)) {
        if let Err(e) = std::fs::metadata(&path) {
            bail!("stat {}: {}", path.display(), io_error_text(&e));
        }
    }
    Ok(Request {
        spec,
        config,
        files,
        stdin_name,
        manifest_annotations,
        config_annotations,
        file_annotations,
        platform,
    })
}

/// Hashes each file (and archives each directory) into a layer; titles must be unique.
async fn pack_files(request: &Request, to: &PackTo, out: &Output) -> Result<Vec<Blob>> {
    let mut layers = Vec::with_capacity(request.files.len());
    let mut titles = std::collections::HashSet::new();
    for f in &request.files {
        // The stdin layer is named (and found in the annotation file) by `--stdin-name`.
        let key = match &request.stdin_name {
            Some(name) if f.path == STDIN => name,
            _ => &f.path,
        };
        let title = title_of(key);
        let extra = request
            .file_annotations
            .get(key)
            .cloned()
            .unwrap_or_default();
        // Named by its path, as Go's file store names it, before `--annotation-file` may give
        // the layer another title.
        if !titles.insert(title.clone()) {
            bail!("{title}: duplicate name");
        }
        if out.verbose {
            out.status_line(&format!("Preparing {title}"));
        }
        let packed = if f.path == STDIN {
            pack_reader(std::io::stdin(), title, f.media_type.clone(), extra, to)
                .await
                .context("failed to read the file from stdin")?
        } else {
            pack_path(
                PathBuf::from(&f.path),
                title,
                f.media_type.clone(),
                extra,
                to,
            )
            .await
            .with_context(|| format!("failed to prepare {}", f.path))?
        };
        layers.push(packed);
    }
    Ok(layers)
}

/// The file arguments, `-:<type>` last: it reaches us as the hidden `-:` flag (clap lexes it
/// as one).
fn parse_files(args: &PushArgs) -> Result<Vec<FileRef>> {
    let typed_stdin = args.stdin_media_type.iter().map(|t| {
        Ok(FileRef {
            path: STDIN.to_owned(),
            media_type: Some(t.clone()).filter(|t| !t.is_empty()),
        })
    });
    let mut files = Vec::new();
    for (raw, f) in args.args[1..]
        .iter()
        .map(|raw| (raw.as_str(), parse_file_ref(raw)))
        .chain(typed_stdin.map(|f| (STDIN, f)))
    {
        let f = f?;
        if let Some(t) = &f.media_type
            && !is_valid_media_type(t)
        {
            let error = UserError::new(format!(
                "invalid media type {t:?} for file {:?}: want type/subtype",
                f.path
            ));
            // oras#695: a colon in a file name reads as the start of a media type.
            return Err(if std::path::Path::new(raw).exists() {
                error.hint(format!(
                    "To push the file {raw:?} itself, end the argument with a colon: \"{raw}:\""
                ))
            } else {
                error
            }
            .into());
        }
        files.push(f);
    }
    Ok(files)
}

/// The Go client's check: no absolute paths (they would be pulled to the same absolute place),
/// with a hint that avoids the flag that skips it (oras#1744). A path that climbs out with `..`
/// is pushed, as in Go, with a warning that pulling it needs `--allow-path-traversal`.
fn check_paths(files: &[FileRef], command: &str, out: &Output) -> Result<()> {
    let absolute: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| Path::new(p).is_absolute())
        .collect();
    if let Some(first) = absolute.first() {
        let path = Path::new(first);
        let dir = path.parent().unwrap_or(Path::new("/")).display();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        return Err(UserError::new(format!(
            "absolute file path detected. If it's intentional, use --disable-path-validation flag to skip this check: {}",
            absolute.join(", ")
        ))
        .hint(format!(
            "To name the layer {name:?} instead, {verb} it from its directory: cd {dir} && oras {command} {name}",
            verb = command.split(' ').next().unwrap_or("push")
        ))
        .into());
    }
    for f in files.iter().filter(|f| f.path != STDIN) {
        let title = title_of(&f.path);
        if title == ".." || title.starts_with("../") {
            out.warn(&format!(
                "Warning: {:?} is titled {title:?}, which leaves the directory it is pulled into: pulling it will need --allow-path-traversal",
                f.path
            ));
        }
    }
    Ok(())
}

/// Checks `-` (read a layer from stdin) against the flags; returns the layer's name.
fn check_stdin(args: &PushArgs, count: usize) -> Result<Option<String>> {
    if count == 0 {
        if args.stdin_name.is_some() {
            bail!("--stdin-name names the file read from stdin, but no `-` file was given");
        }
        return Ok(None);
    }
    if count > 1 {
        bail!("`-` reads a file from stdin and can be given only once");
    }
    super::check_stdin_secret(&args.target.remote)?;
    let Some(name) = args.stdin_name.clone() else {
        return Err(UserError::new("`-` reads a file from stdin, but its name is missing")
            .hint("Name it with --stdin-name, e.g. `oras push <name>:<tag> - --stdin-name hello.txt < hello.txt`")
            .into());
    };
    let unsafe_name = Path::new(&name).is_absolute()
        || name.split('/').any(|part| part == "..")
        || title_of(&name) == ".";
    if unsafe_name {
        return Err(UserError::new(format!(
            "invalid --stdin-name {name:?}: want a relative file path without `..`"
        ))
        .into());
    }
    Ok(Some(name))
}

/// The config blob: the `--config` file, else the v1.1 empty descriptor, else v1.0's `{}`.
async fn pack_config(request: &Request, artifact_type: &str, to: &PackTo) -> Result<Blob> {
    let mut packed = match (&request.config, request.spec) {
        (None, _) if request.platform.is_some() => {
            let bytes = crate::oci::to_go_json(&request.platform)?;
            Blob::bytes(
                Descriptor::for_bytes(crate::oci::MEDIA_TYPE_IMAGE_CONFIG, &bytes),
                &bytes,
            )
        }
        (Some(c), _) => {
            let media_type = c
                .media_type
                .clone()
                .unwrap_or_else(|| MEDIA_TYPE_UNKNOWN_CONFIG.to_owned());
            let (desc, source) = pack_bytes_file(PathBuf::from(&c.path), media_type, to)
                .await
                .with_context(|| format!("failed to prepare {}", c.path))?;
            Blob::Ready { desc, source }
        }
        (None, ImageSpec::V1_1) => Blob::bytes(Descriptor::empty(), EMPTY_JSON),
        (None, ImageSpec::V1_0) => {
            let media_type = if artifact_type.is_empty() {
                MEDIA_TYPE_UNKNOWN_CONFIG
            } else {
                artifact_type
            };
            Blob::bytes(Descriptor::for_bytes(media_type, EMPTY_JSON), EMPTY_JSON)
        }
    };
    if let Blob::Ready { desc, .. } = &mut packed {
        desc.annotations.clone_from(&request.config_annotations);
    }
    Ok(packed)
}

/// `-a key=value` flags or `--annotation-file`, keyed by `$manifest`, `$config` or a file path.
fn load_annotations(args: &PushArgs) -> Result<AnnotationFile> {
    // Empty, no file is named (Go checks `AnnotationFilePath != ""`, for the conflict too).
    let annotation_file = super::given(args.annotation_file.as_ref());
    if !args.annotation.is_empty() && annotation_file.is_some() {
        bail!("`--annotation` and `--annotation-file` cannot be both specified");
    }
    if let Some(path) = annotation_file {
        // The Go client's words for a file it cannot read or decode; the hint says which.
        let failed = |hint: String| -> anyhow::Error {
            UserError::new(format!(
                "invalid annotation json file: failed to load annotations from {}",
                path.display()
            ))
            .hint(hint)
            .into()
        };
        let bytes = std::fs::read(path)
            .map_err(|e| failed(format!("open {}: {}", path.display(), io_error_text(&e))))?;
        return serde_json::from_slice(&bytes).map_err(|_| {
            failed("Annotation file doesn't match the required format. Please refer to the document at https://oras.land/docs/how_to_guides/manifest_annotations".to_owned())
        });
    }
    let manifest = super::parse_annotation_flags(&args.annotation)?;
    let mut all = AnnotationFile::new();
    if !manifest.is_empty() {
        all.insert("$manifest".to_owned(), manifest);
    }
    Ok(all)
}
