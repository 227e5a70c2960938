//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`) as a `Target`.
//! Tags are `org.opencontainers.image.ref.name` annotations in `index.json`; every write goes
//! to a temporary file that is renamed into place once complete and verified.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{
    BlobReader, Content, Progress, Spooler, Target, TargetError, TargetKind, content_chunks,
};
use crate::oci::{
    ANNOTATION_REF_NAME, Descriptor, Digest, Index, MEDIA_TYPE_INDEX, is_manifest_type,
    referrer_of, to_go_json,
};
use crate::transfer::{download_verified, write_hashed, write_verified};

const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const INDEX_FILE: &str = "index.json";

/// `index.json` may be larger than a manifest (it lists every tag of a backup) but is bounded
/// all the same: 64 MiB holds some 200 000 entries.
const MAX_INDEX_BYTES: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{0}: not found")]
    NotFound(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    /// Content given for a blob is not what its descriptor says (its digest, or its size).
    #[error("{digest}: {why}")]
    Mismatch { digest: Digest, why: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Splits `<path>[:<tag>]` or `<path>@<digest>` (the last `@`, else the last `:`).
#[must_use]
pub fn parse_layout_reference(raw: &str) -> (&str, Option<&str>) {
    if let Some((path, digest)) = raw.rsplit_once('@') {
        return (path, Some(digest).filter(|d| !d.is_empty()));
    }
    match raw.rsplit_once(':') {
        Some((path, tag)) if !path.is_empty() => (path, Some(tag).filter(|t| !t.is_empty())),
        _ => (raw, None),
    }
}

pub struct Layout {
    root: PathBuf,
    max_manifest: u64,
    display: String,
    index_lock: Mutex<()>,
    /// The blobs directory as an absolute path, where temp files are made: tempfile names
    /// them absolutely, and a spool is recognised by its directory.
    ingest_dir: PathBuf,
    /// The temp directory a `.tar` layout was extracted into, removed with the layout.
    _extracted: Option<tempfile::TempDir>,
}

impl Layout {
    /// Opens a layout for writing, creating the directory and its metadata files when missing.
    pub fn create(root: &Path) -> Result<Self, LayoutError> {
        if std::fs::metadata(root).is_ok_and(|m| !m.is_dir()) {
            return Err(LayoutError::Invalid(format!(
                "{:?} is a file: an OCI image layout to write to is a directory",
                root.display().to_string()
            )));
        }
        let blobs = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(io_err(&blobs))?;
        let marker = root.join(LAYOUT_FILE);
        if !marker.exists() {
            write_atomic(&marker, LAYOUT_CONTENT)?;
        }
        let index = root.join(INDEX_FILE);
        if !index.exists() {
            let empty = Index {
                schema_version: 2,
                media_type: Some(MEDIA_TYPE_INDEX.to_owned()),
                artifact_type: None,
                manifests: Vec::new(),
                subject: None,
                annotations: None,
            };
            write_atomic(
                &index,
                &to_go_json(&empty).map_err(|e| LayoutError::Invalid(e.to_string()))?,
            )?;
        }
        Ok(Self::at(root))
    }

    /// Opens an existing layout for reading.
    pub fn open(root: &Path, raw: &str) -> Result<Self, LayoutError> {
        if let Err(e) = std::fs::metadata(root) {
            return Err(LayoutError::Invalid(format!(
                "invalid argument {raw:?}: failed to find path {:?}: stat {}: {}",
                root.display().to_string(),
                root.display(),
                crate::output::io_error_text(&e)
            )));
        }
        Ok(Self::at(root))
    }

    fn at(root: &Path) -> Self {
        let blobs = root.join("blobs").join("sha256");
        Self {
            ingest_dir: std::path::absolute(&blobs).unwrap_or(blobs),
            root: root.to_owned(),
            max_manifest: crate::oci::MAX_MANIFEST_BYTES,
            display: root.display().to_string(),
            index_lock: Mutex::new(()),
            _extracted: None,
        }
    }

    /// Accepts manifests up to `bytes` instead of the default 4 MiB.
    #[must_use]
    pub fn with_max_manifest(mut self, bytes: u64) -> Self {
        self.max_manifest = bytes;
        self
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// A temp file beside the blobs, to be renamed to `blob_path` once its content is complete
    /// and verified (dropped unrenamed, it is removed).
    pub(crate) fn ingest_file(&self) -> Result<tempfile::NamedTempFile, LayoutError> {
        ingest_file_in(&self.ingest_dir).map_err(io_err(&self.ingest_dir))
    }

    fn read_index(&self) -> Result<Index, LayoutError> {
        let path = self.root.join(INDEX_FILE);
        let limit = MAX_INDEX_BYTES.max(self.max_manifest);
        let bytes = read_bounded(&path, limit, "index.json")?;
        serde_json::from_slice(&bytes).map_err(|e| {
            LayoutError::Invalid(format!("{}: invalid index.json: {e}", path.display()))
        })
    }

    /// Records a manifest in `index.json`, moving `tag` to it when given.
    async fn record(&self, desc: &Descriptor, tag: Option<&str>) -> Result<(), LayoutError> {
        let _guard = self.index_lock.lock().await;
        let mut index = self.read_index()?;
        let mut entry = desc.plain();
        entry.artifact_type.clone_from(&desc.artifact_type);
        entry.platform.clone_from(&desc.platform);
        match tag {
            Some(tag) => {
                index.manifests.retain(|m| {
                    m.annotation(ANNOTATION_REF_NAME) != Some(tag)
                        && !(m.digest == desc.digest && m.annotation(ANNOTATION_REF_NAME).is_none())
                });
                entry.annotations = Some([(ANNOTATION_REF_NAME.to_owned(), tag.to_owned())].into());
            }
            None => {
                if index.manifests.iter().any(|m| m.digest == desc.digest) {
                    return Ok(());
                }
            }
        }
        index.manifests.push(entry);
        let bytes = to_go_json(&index).map_err(|e| LayoutError::Invalid(e.to_string()))?;
        write_atomic(&self.root.join(INDEX_FILE), &bytes)
    }

    fn find(&self, reference: &str) -> Result<Descriptor, LayoutError> {
        let index = self.read_index()?;
        if let Ok(digest) = reference.parse::<Digest>() {
            // By digest: a plain descriptor, as the Go client resolves it (no tag annotation).
            if let Some(m) = index.manifests.iter().find(|m| m.digest == digest) {
                let mut d = m.plain();
                d.artifact_type.clone_from(&m.artifact_type);
                return Ok(d);
            }
            let path = self.blob_path(&digest);
            let size = std::fs::metadata(&path)
                .map_err(|_| LayoutError::NotFound(format!("{}@{reference}", self.display)))?
                .len();
            return Ok(Descriptor::new("", digest, size));
        }
        index
            .manifests
            .iter()
            .rev()
            .find(|m| m.annotation(ANNOTATION_REF_NAME) == Some(reference))
            .cloned()
            .ok_or_else(|| LayoutError::NotFound(format!("{}:{reference}", self.display)))
    }
}

/// The metadata of `path` (symbolic links followed) when it is a regular file. A layout is
/// input like any other: a device (`/dev/zero`) or a FIFO where a blob or `index.json` should
/// be would never end, or never start, and a directory cannot be read.
fn regular_file(path: &Path) -> Result<std::fs::Metadata, LayoutError> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(LayoutError::Invalid(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    Ok(meta)
}

/// Reads a regular file of at most `limit` bytes (`what` names the limit in the error), never
/// more than `limit + 1` however long the file turns out to be.
fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, LayoutError> {
    use std::io::Read as _;
    let meta = regular_file(path)?;
    let too_big = |size: u64| {
        LayoutError::Invalid(format!(
            "{}: {what} size {size} exceeds the limit of {limit} bytes (raise it with --max-manifest-size)",
            path.display()
        ))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Whether `path` is a blob of `size` bytes (what a layout takes for the blob being there).
fn holds(path: &Path, size: u64) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == size)
}

/// A push's spools for a layout: temp files beside its blobs.
struct LayoutSpooler {
    ingest_dir: PathBuf,
    blobs_dir: PathBuf,
}

impl Spooler for LayoutSpooler {
    fn temp_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
        ingest_file_in(&self.ingest_dir)
    }

    fn holds(&self, digest: &Digest, size: u64) -> bool {
        holds(&self.blobs_dir.join(digest.hex()), size)
    }
}

/// A temp file in `dir` (the blobs directory), with the mode a plain create would give.
fn ingest_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".oras-ingest-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LayoutError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".oras-tmp-")
        // 0666 less the umask, as a plain create would give.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(io_err(path))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| LayoutError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

#[async_trait]
impl Target for Layout {
    fn kind(&self) -> TargetKind {
        TargetKind::OciLayout
    }

    fn display(&self) -> &str {
        &self.display
    }

    async fn blob_exists(&self, desc: &Descriptor) -> Result<bool, TargetError> {
        Ok(holds(&self.blob_path(&desc.digest), desc.size))
    }

    async fn push_blob(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: Progress,
    ) -> Result<(), TargetError> {
        let path = self.blob_path(&desc.digest);
        if let Some(spool) = content.spool()
            && spool.digest() == &desc.digest
            && spool.size() == desc.size
            && spool.path().parent() == Some(self.ingest_dir.as_path())
        {
            // Written beside the blobs by this process and named by the digest of exactly the
            // bytes written: moved into place, not read again.
            spool.persist(&path).map_err(io_err(&path))?;
            progress(desc.size);
            return Ok(());
        }
        let tmp = self.ingest_file()?;
        let file = tmp.as_file().try_clone().map_err(io_err(tmp.path()))?;
        // Hashed and written on their own threads, as a download is: blobs copied side by
        // side hash on as many cores as there are, whatever the async side runs on. A blob
        // from a registry is downloaded as a pull does it (resumed, fetched again once).
        let (fetch, progress) = (content_chunks(content), |n| progress(n));
        let written = if content.refetchable() {
            download_verified(&fetch, file, desc, &progress).await
        } else {
            write_verified(&fetch, file, desc, &progress).await
        };
        written.map_err(|e| {
            let why = e.to_string();
            if e.kind() == std::io::ErrorKind::InvalidData {
                LayoutError::Mismatch {
                    digest: desc.digest.clone(),
                    why,
                }
            } else {
                LayoutError::Invalid(format!("{}: {why}", desc.digest))
            }
        })?;
        tmp.persist(&path).map_err(|e| LayoutError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }

    fn spooler(&self) -> Option<std::sync::Arc<dyn Spooler>> {
        Some(std::sync::Arc::new(LayoutSpooler {
            ingest_dir: self.ingest_dir.clone(),
            blobs_dir: self.blobs_dir(),
        }))
    }

    async fn ingest(
        &self,
        content: &dyn Content,
        size: u64,
        progress: Progress,
    ) -> Result<Option<(Digest, bool)>, TargetError> {
        let tmp = self.ingest_file()?;
        let file = tmp.as_file().try_clone().map_err(io_err(tmp.path()))?;
        let digest = write_hashed(&content_chunks(content), file, size, &|n| progress(n))
            .await
            .map_err(io_err(&self.root))?;
        let path = self.blob_path(&digest);
        let had = holds(&path, size);
        if !had {
            tmp.persist(&path).map_err(|e| LayoutError::Io {
                path: path.clone(),
                source: e.error,
            })?;
        }
        Ok(Some((digest, had)))
    }

    async fn fetch_blob(&self, desc: &Descriptor, offset: u64) -> Result<BlobReader, TargetError> {
        use tokio::io::AsyncSeekExt as _;
        let path = self.blob_path(&desc.digest);
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            // Opening a FIFO would wait for a writer forever.
            return Err(
                LayoutError::Invalid(format!("{}: not a regular file", path.display())).into(),
            );
        }
        match tokio::fs::File::open(&path).await {
            Ok(mut f) => {
                if offset > 0 {
                    f.seek(std::io::SeekFrom::Start(offset))
                        .await
                        .map_err(io_err(&path))?;
                }
                Ok(Box::pin(f))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(LayoutError::NotFound(format!("{}@{}", self.display, desc.digest)).into())
            }
            Err(e) => Err(LayoutError::Io { path, source: e }.into()),
        }
    }

    async fn fetch_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>), TargetError> {
        let mut desc = self.find(reference)?;
        let path = self.blob_path(&desc.digest);
        let meta = std::fs::metadata(&path)
            .map_err(|_| LayoutError::NotFound(format!("{}@{}", self.display, desc.digest)))?;
        if meta.len() > self.max_manifest {
            return Err(LayoutError::Invalid(format!(
                "{}: manifest size {} exceeds the limit of {} bytes (raise it with --max-manifest-size)",
                desc.digest,
                meta.len(),
                self.max_manifest
            ))
            .into());
        }
        let bytes = read_bounded(&path, self.max_manifest, "manifest")?;
        let actual = Digest::of(&bytes);
        if actual != desc.digest || bytes.len() as u64 != desc.size {
            return Err(LayoutError::Invalid(format!(
                "{}: mismatched digest: content has digest {actual}",
                desc.digest
            ))
            .into());
        }
        if !is_manifest_type(&desc.media_type) {
            #[derive(serde::Deserialize)]
            struct Probe {
                #[serde(rename = "mediaType")]
                media_type: Option<String>,
            }
            if let Some(t) = serde_json::from_slice::<Probe>(&bytes)
                .ok()
                .and_then(|p| p.media_type)
            {
                desc.media_type = t;
            }
        }
        Ok((desc, bytes))
    }

    async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<(), TargetError> {
        let path = self.blob_path(&desc.digest);
        if Digest::of(bytes) != desc.digest {
            return Err(LayoutError::Invalid(format!("{}: mismatched digest", desc.digest)).into());
        }
        // oras-go's store reads a manifest or an index it is given (to index what it refers
        // to), so one that is not JSON is refused; other media types are kept as they are.
        if is_manifest_type(&desc.media_type)
            && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        {
            return Err(
                LayoutError::Invalid(format!("{}: invalid manifest: {e}", desc.digest)).into(),
            );
        }
        // A file that is missing, or whose content is not these bytes (a corrupt copy), is
        // (re)written.
        if read_bounded(&path, bytes.len() as u64, "manifest")
            .ok()
            .as_deref()
            != Some(bytes)
        {
            write_atomic(&path, bytes)?;
        }
        let tag = (reference.parse::<Digest>().is_err()).then_some(reference);
        Ok(self.record(desc, tag).await?)
    }

    async fn stat_blob(&self, digest: &Digest) -> Result<Option<Descriptor>, TargetError> {
        Ok(tokio::fs::metadata(self.blob_path(digest))
            .await
            .ok()
            .map(|m| Descriptor::new("application/octet-stream", digest.clone(), m.len())))
    }

    async fn delete(&self, digest: &Digest, manifest: bool) -> Result<(), TargetError> {
        let path = self.blob_path(digest);
        if !path.exists() {
            return Err(LayoutError::NotFound(format!("{}@{digest}", self.display)).into());
        }
        if manifest {
            let _guard = self.index_lock.lock().await;
            let mut index = self.read_index()?;
            index.manifests.retain(|m| m.digest != *digest);
            let bytes = to_go_json(&index).map_err(|e| LayoutError::Invalid(e.to_string()))?;
            write_atomic(&self.root.join(INDEX_FILE), &bytes)?;
        }
        std::fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(())
    }

    /// A layout has no referrers index: every manifest recorded in `index.json` is read and
    /// those whose `subject` is `subject` are returned (the Go client's OCI store does the same
    /// when it loads a layout).
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, TargetError> {
        let index = self.read_index()?;
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for entry in &index.manifests {
            if !seen.insert(entry.digest.clone()) {
                continue;
            }
            let path = self.blob_path(&entry.digest);
            // Missing, too large or not a file: not a manifest that can refer to anything.
            let Ok(bytes) = read_bounded(&path, self.max_manifest, "manifest") else {
                continue;
            };
            if let Some((s, referrer)) = referrer_of(&entry.plain(), &bytes)
                && s.digest == subject.digest
            {
                found.push(referrer);
            }
        }
        Ok(found)
    }

    /// Every tag: `last` is left to the caller, which may compare only part of each (the tag of
    /// a whole reference recorded by `--oci-layout-path`).
    async fn tags(&self, _last: &str) -> Result<Vec<String>, TargetError> {
        let index = self.read_index()?;
        let mut tags: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|m| m.annotation(ANNOTATION_REF_NAME).map(str::to_owned))
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}

impl Layout {
    /// Opens an OCI image layout saved as a tar archive, for reading: it is extracted (checked
    /// as a pulled directory is) into a temp directory that lives as long as the layout.
    pub fn open_tar(archive: &Path) -> Result<Self, LayoutError> {
        let shown = archive.display().to_string();
        if let Some(why) = crate::files::not_a_tar(archive) {
            return Err(LayoutError::Invalid(format!(
                "{shown:?} does not look like a tar archive: {why}"
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("oras-layout-")
            .tempdir()
            .map_err(io_err(archive))?;
        let root = crate::files::extract_tar(archive, dir.path()).map_err(|e| {
            LayoutError::Invalid(format!("{shown:?} is not a usable OCI layout archive: {e}"))
        })?;
        if !root.join(INDEX_FILE).is_file() {
            return Err(LayoutError::Invalid(format!(
                "{shown:?} is not an OCI layout archive: it has no {INDEX_FILE} at its top level"
            )));
        }
        Ok(Self {
            display: shown,
            _extracted: Some(dir),
            ..Self::at(&root)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_layout_references() {
        assert_eq!(parse_layout_reference("dir:v1"), ("dir", Some("v1")));
        assert_eq!(parse_layout_reference("a/b/dir"), ("a/b/dir", None));
        assert_eq!(parse_layout_reference("dir:"), ("dir", None));
        assert_eq!(parse_layout_reference("dir@"), ("dir", None));
        assert_eq!(
            parse_layout_reference("dir@sha256:abc"),
            ("dir", Some("sha256:abc"))
        );
    }

    #[tokio::test]
    async fn push_blob_moves_a_spool_beside_the_blobs_and_copies_one_from_elsewhere() {
        use std::os::unix::fs::MetadataExt as _;

        use crate::transfer::{Source, Spool};
        let dir = tempfile::tempdir().unwrap();
        // Named relative to the working directory, as `--oci-layout lay` is.
        let cwd = std::env::current_dir().unwrap();
        let relative: PathBuf = cwd
            .components()
            .skip(1)
            .map(|_| Path::new(".."))
            .chain(dir.path().strip_prefix("/"))
            .collect();
        let layout = Layout::create(&relative).unwrap();
        let none: Progress = std::sync::Arc::new(|_| {});
        let spool_of = |file: tempfile::NamedTempFile, bytes: &[u8], desc: &Descriptor| {
            let (mut f, temp) = file.into_parts();
            f.write_all(bytes).unwrap();
            let spool = Spool::new(temp, desc.digest.clone(), desc.size);
            Source::Spooled(std::sync::Arc::new(spool))
        };
        let spooler = layout.spooler().unwrap();

        // Beside the blobs: the file itself becomes the blob.
        let desc = Descriptor::for_bytes("x", b"beside");
        let source = spool_of(spooler.temp_file().unwrap(), b"beside", &desc);
        let spooled = source.spool().unwrap().path().to_owned();
        let inode = std::fs::metadata(&spooled).unwrap().ino();
        layout
            .push_blob(&desc, &source, none.clone())
            .await
            .unwrap();
        let blob = layout.blob_path(&desc.digest);
        assert_eq!(std::fs::metadata(&blob).unwrap().ino(), inode);
        assert!(!spooled.exists());
        drop(source);
        assert_eq!(std::fs::read(&blob).unwrap(), b"beside");

        // Elsewhere: copied and verified; the spool is removed once dropped.
        let desc = Descriptor::for_bytes("x", b"elsewhere");
        let source = spool_of(tempfile::NamedTempFile::new().unwrap(), b"elsewhere", &desc);
        layout
            .push_blob(&desc, &source, none.clone())
            .await
            .unwrap();
        let spooled = source.spool().unwrap().path().to_owned();
        drop(source);
        assert!(!spooled.exists());
        assert_eq!(
            std::fs::read(layout.blob_path(&desc.digest)).unwrap(),
            b"elsewhere"
        );

        // A spool does not name another descriptor's blob on its word: it is copied, verified
        // and refused.
        let (claimed, other) = (
            Descriptor::for_bytes("x", b"claimed"),
            Descriptor::for_bytes("x", b"another"),
        );
        let source = spool_of(spooler.temp_file().unwrap(), b"claimed", &claimed);
        let err = layout
            .push_blob(&other, &source, none.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, TargetError::Layout(LayoutError::Mismatch { .. })),
            "{err}"
        );
        drop(source);
        let mut names: Vec<_> = std::fs::read_dir(layout.blobs_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut want = [
            Descriptor::for_bytes("x", b"beside")
                .digest
                .hex()
                .to_owned(),
            desc.digest.hex().to_owned(),
        ];
        want.sort();
        assert_eq!(names, want);
    }

    #[tokio::test]
    async fn ingest_names_the_blob_by_the_bytes_it_wrote_in_one_pass() {
        use crate::transfer::Source;
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        // Larger than what is hashed inline, so the threaded pipeline is what runs.
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 241) as u8).collect();
        let source = Source::Bytes(data.clone().into());
        let none: Progress = std::sync::Arc::new(|_| {});
        let (digest, had) = layout
            .ingest(&source, data.len() as u64, none.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(digest, Descriptor::for_bytes("x", &data).digest);
        assert!(!had);
        assert!(std::fs::read(layout.blob_path(&digest)).unwrap() == data);
        let (again, had) = layout
            .ingest(&source, data.len() as u64, none.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again, had), (digest.clone(), true));
        // A source shorter or longer than announced stores nothing.
        for size in [data.len() as u64 + 1, data.len() as u64 - 1] {
            let err = layout
                .ingest(&source, size, none.clone())
                .await
                .unwrap_err();
            assert!(err.to_string().contains("bytes"), "{err}");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [digest.hex().to_owned()]);
    }
}
