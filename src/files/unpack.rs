//! Writing pulled layers: paths confined to the output directory, bytes verified while they
//! stream into a temp file that is renamed into place only once complete, and directory
//! archives extracted into a staging directory before they are moved in.

use std::path::{Component, Path, PathBuf};

use crate::oci::{ANNOTATION_CONTENT_DIGEST, Descriptor, Digest, Hasher};
use crate::transfer::{Fetch, Tail, download_followed, download_verified};

#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    pub allow_path_traversal: bool,
    pub keep_old_files: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "failed to resolve path for writing: path traversal disallowed: {0:?} is outside of {1:?}"
    )]
    Traversal(String, String),
    #[error("{0}: overwrite disallowed")]
    Overwrite(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: content digest mismatch")]
    ContentDigest(String),
    #[error("{0}")]
    Unsafe(String),
    #[error(
        "failed to resolve path for writing: {0:?} cannot be a file name: it contains a NUL byte"
    )]
    NulInName(String),
}

/// Read and write size for extraction: one syscall per 256 KiB rather than per 8 KiB.
const COPY_BUF: usize = 256 * 1024;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Lexically normalises a path (no filesystem access).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where a layer titled `title` is written under `output`, refusing paths that leave it
/// (lexically, or through a symlink already on disk) unless traversal is allowed.
pub fn resolve_output_path(
    output: &Path,
    title: &str,
    opts: WriteOptions,
) -> Result<PathBuf, WriteError> {
    // No file system takes one; checked first, so the error says so instead of the OS's
    // "Invalid argument".
    if title.contains('\0') {
        return Err(WriteError::NulInName(title.to_owned()));
    }
    let base = std::path::absolute(output).map_err(io(output))?;
    let base = clean(&base);
    let target = clean(&base.join(title));
    if opts.allow_path_traversal {
        return Ok(target);
    }
    let refuse = || WriteError::Traversal(title.to_owned(), output.display().to_string());
    if target == base || !target.starts_with(&base) {
        return Err(refuse());
    }
    // A symlink on the way (an existing entry under the output directory) must not lead
    // outside either. If the output directory does not exist yet, nothing under it does.
    if let Ok(real_base) = std::fs::canonicalize(&base) {
        let mut probe = target.parent();
        while let Some(p) = probe.filter(|p| p.starts_with(&base) && *p != base) {
            if let Ok(real) = std::fs::canonicalize(p) {
                if !real.starts_with(&real_base) {
                    return Err(refuse());
                }
                break;
            }
            probe = p.parent();
        }
    }
    Ok(target)
}

/// Streams a blob into `dest` through a temp file beside it; the rename happens only after the
/// size and digest are verified, so a failed pull leaves no file.
pub async fn write_blob_file(
    fetch: &Fetch<'_>,
    desc: &Descriptor,
    dest: &Path,
    opts: WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), WriteError> {
    if opts.keep_old_files && dest.exists() {
        return Err(WriteError::Overwrite(dest.display().to_string()));
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".oras-pull-")
        // 0666 less the umask, as a plain create would give.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(io(dir))?;
    let file = tmp.as_file().try_clone().map_err(io(dest))?;
    download_verified(fetch, file, desc, progress)
        .await
        .map_err(io(dest))?;
    let result = if opts.keep_old_files {
        tmp.persist_noclobber(dest)
    } else {
        tmp.persist(dest)
    };
    result.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            WriteError::Overwrite(dest.display().to_string())
        } else {
            WriteError::Io {
                path: dest.display().to_string(),
                source: e.error,
            }
        }
    })?;
    Ok(())
}

/// Downloads a directory layer (a tar, gzipped or not) and extracts it into a staging directory
/// while it arrives, checking every entry; once the download is verified and the tar digest
/// checked, the tree is moved into `dest`. Until then nothing is outside the staging directory,
/// so content that turns out damaged (or a download that fails) leaves nothing behind.
pub async fn write_directory(
    fetch: &Fetch<'_>,
    desc: &Descriptor,
    title: &str,
    dest: &Path,
    opts: WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), WriteError> {
    let parent = dest.parent().unwrap_or(Path::new(".")).to_owned();
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(io(&parent))?;
    let archive = tempfile::Builder::new()
        .prefix(".oras-pull-")
        .tempfile_in(&parent)
        .map_err(io(&parent))?;
    let file = archive.as_file().try_clone().map_err(io(dest))?;
    let tail = std::sync::Arc::new(Tail::default());
    let (cancel, finished) = (
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        std::sync::mpsc::channel::<()>(),
    );
    let _stop = StopOnDrop {
        cancel: std::sync::Arc::clone(&cancel),
        tail: std::sync::Arc::clone(&tail),
        finished: finished.1,
    };
    let unpacking = Unpacking {
        title: title.to_owned(),
        dest: dest.to_owned(),
        parent,
        max_unpacked: unpack_limit(desc.size),
        expected_tar: desc
            .annotation(ANNOTATION_CONTENT_DIGEST)
            .map(str::to_owned),
        opts,
    };
    let finished = finished.0;
    let follower = std::sync::Arc::clone(&tail);
    let extraction = tokio::task::spawn_blocking(move || {
        // Dropped in reverse: the staging directory, then the archive, then `finished`.
        let _finished = finished;
        let archive = archive;
        unpacking.run(archive.path(), &follower, &cancel)
    });
    let downloaded = download_followed(fetch, file, desc, progress, &tail).await;
    tail.end(downloaded.is_ok(), desc.size);
    downloaded.map_err(io(dest))?;
    extraction
        .await
        .map_err(|e| WriteError::Unsafe(e.to_string()))?
}

/// What the extraction of one directory archive needs to know.
struct Unpacking {
    title: String,
    dest: PathBuf,
    parent: PathBuf,
    max_unpacked: u64,
    expected_tar: Option<String>,
    opts: WriteOptions,
}

impl Unpacking {
    /// Extracts the archive at `archive` as the download writes it (followed through `tail`),
    /// then, once the download is verified, checks the tar digest and moves the tree into place.
    fn run(
        &self,
        archive: &Path,
        tail: &Tail,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<(), WriteError> {
        let file = std::fs::File::open(archive).map_err(io(&self.dest))?;
        let following = Following { file, pos: 0, tail };
        let Extracted {
            staging,
            dir_modes,
            tar_digest,
        } = match self.extract(following, cancel) {
            Ok(done) => done,
            // A download that failed is reported by the pull; one whose first copy was damaged
            // and fetched again is extracted again, now whole and verified.
            Err(_) if tail.verified_after_restart() => {
                let file = std::fs::File::open(archive).map_err(io(&self.dest))?;
                self.extract(file, cancel)?
            }
            Err(e) => return Err(e),
        };
        let dest = &self.dest;
        if let Some(want) = &self.expected_tar
            && *want != tar_digest.to_string()
        {
            return Err(WriteError::ContentDigest(dest.display().to_string()));
        }
        // Directories that were there before keep their modes; new ones get the archive's.
        let created: Vec<(PathBuf, u32)> = dir_modes
            .into_iter()
            .map(|(rel, mode)| (dest.join(rel), mode))
            .filter(|(path, _)| std::fs::symlink_metadata(path).is_err())
            .collect();
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(io(dest)(std::io::Error::other("cancelled")));
        }
        merge_into(&staging.path().join("root"), dest, self.opts)?;
        set_dir_modes(created);
        Ok(())
    }

    /// Extracts the archive read from `source` (to its end) into a new staging directory.
    fn extract(
        &self,
        source: impl std::io::Read,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Extracted, WriteError> {
        let staging = tempfile::Builder::new()
            .prefix(".oras-unpack-")
            .tempdir_in(&self.parent)
            .map_err(io(&self.parent))?;
        // Gzip or not by its first bytes, not its media type: the Go client packs a directory
        // as tar+gzip whatever media type it is pushed with (`dir/:application/vnd.x+tar`) and
        // gunzips every layer marked for unpacking; a plain tar from another tool works too.
        let mut source = source;
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < magic.len() {
            match source.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(&self.dest)(e)),
            }
        }
        let gzipped = magic[..got] == [0x1f, 0x8b];
        let whole = std::io::Read::chain(&magic[..got], source);
        let buffered = std::io::BufReader::with_capacity(COPY_BUF, whole);
        let raw: Box<dyn std::io::Read + '_> = if gzipped {
            Box::new(flate2::read::GzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut hashing = HashingReader::new(Cancellable { inner: raw, cancel });
        let dir_modes = extract(&mut hashing, &self.title, staging.path(), self.max_unpacked)?;
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io(&self.dest))?;
        Ok(Extracted {
            staging,
            dir_modes,
            tar_digest: hashing.finish(),
        })
    }
}

/// A directory archive extracted into its staging directory, not yet moved into place.
struct Extracted {
    staging: tempfile::TempDir,
    /// Each directory entry's path (relative to the root) and mode.
    dir_modes: Vec<(PathBuf, u32)>,
    /// The digest of the tar (the archive uncompressed).
    tar_digest: Digest,
}

/// Reads a file as a download writes it: waits for the bytes it has not been given yet, and
/// ends only when the download is verified.
struct Following<'a> {
    file: std::fs::File,
    pos: u64,
    tail: &'a Tail,
}

impl std::io::Read for Following<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(written) = self.tail.wait_beyond(self.pos)? else {
            return Ok(0);
        };
        let room = usize::try_from(written - self.pos).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.file.read(&mut buf[..len])?;
        if n == 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the archive is shorter than what was written",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Stops a directory's extraction when the pull is dropped half-way (Ctrl-C, SIGTERM), and
/// waits (briefly) for its thread to remove the staging directory and the archive: a thread
/// left running would outlive the process's cleanup and leave them behind.
struct StopOnDrop {
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Ended as failed (unless it already ended), so that a thread waiting for more of the
    /// archive wakes up.
    tail: std::sync::Arc<Tail>,
    /// Disconnected once the thread has dropped all it made.
    finished: std::sync::mpsc::Receiver<()>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.tail.end(false, 0);
        let _ = self
            .finished
            .recv_timeout(std::time::Duration::from_secs(10));
    }
}

/// A reader that fails once `cancel` is set: the extraction reading it stops at its next read
/// (at most 256 KiB later).
struct Cancellable<'a, R> {
    inner: R,
    cancel: &'a std::sync::atomic::AtomicBool,
}

impl<R: std::io::Read> std::io::Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// Why the file at `archive` is not a tar archive, as Go's `archive/tar` says it (`unexpected
/// EOF`, `archive/tar: invalid tar header`), judged by its first header block: its checksum
/// must match. `None` when it looks like one.
#[must_use]
pub fn not_a_tar(archive: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut block = [0u8; 512];
    let mut file = match std::fs::File::open(archive) {
        Ok(f) => f,
        Err(e) => return Some(crate::output::io_error_text(&e)),
    };
    let mut filled = 0;
    while filled < block.len() {
        match file.read(&mut block[filled..]) {
            Ok(0) => return Some("unexpected EOF".to_owned()),
            Ok(n) => filled += n,
            Err(e) => return Some(crate::output::io_error_text(&e)),
        }
    }
    let header = tar::Header::from_byte_slice(&block);
    let stored = header.cksum().ok();
    // The checksum counts its own eight bytes as spaces.
    let computed: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    (stored != Some(computed)).then(|| "archive/tar: invalid tar header".to_owned())
}

/// Extracts a plain tar archive (an OCI image layout saved as `.tar`) under `dest` with the
/// checks a pulled directory gets (no entry or link leaves it, no devices, no more bytes than
/// the archive holds) and returns the directory holding its entries.
pub fn extract_tar(archive: &Path, dest: &Path) -> Result<PathBuf, WriteError> {
    let file = std::fs::File::open(archive).map_err(io(archive))?;
    let size = file.metadata().map_err(io(archive))?.len();
    // Directory modes are not applied: the tree is a temp copy, removed after use.
    extract(
        &mut std::io::BufReader::with_capacity(COPY_BUF, file),
        "",
        dest,
        size,
    )?;
    Ok(dest.join("root"))
}

/// A reader that hashes what is read through it on a thread of its own (in batches of about
/// 256 KiB), so that hashing the tar does not add to the decompressing and writing on the
/// extraction's thread.
struct HashingReader<R> {
    inner: R,
    batch: Vec<u8>,
    to_hasher: std::sync::mpsc::SyncSender<Vec<u8>>,
    hasher: std::thread::JoinHandle<Digest>,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        let (to_hasher, batches) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let hasher = std::thread::spawn(move || {
            let mut hasher = Hasher::new();
            for batch in batches {
                hasher.update(&batch);
            }
            hasher.finish().0
        });
        Self {
            inner,
            batch: Vec::with_capacity(COPY_BUF),
            to_hasher,
            hasher,
        }
    }

    fn send(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(COPY_BUF));
        // The hasher ends only when this sender is dropped.
        let _ = self.to_hasher.send(batch);
    }

    /// The digest of everything read.
    fn finish(mut self) -> Digest {
        self.send();
        drop(self.to_hasher);
        self.hasher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.batch.extend_from_slice(&buf[..n]);
        if self.batch.len() >= COPY_BUF {
            self.send();
        }
        Ok(n)
    }
}

/// Relative, `..`-free path inside the archive's top directory `title`.
fn entry_rel(name: &Path, title: &str) -> Option<PathBuf> {
    let title_path = Path::new(title.trim_start_matches('/'));
    let stripped = name.strip_prefix(title_path).ok()?;
    let mut out = PathBuf::new();
    for c in stripped.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Extracts entries under `<staging>/root`, refusing anything that would land outside it.
/// How far a directory archive may expand: generous for real content (text compresses about
/// 5–10×), far below what a decompression bomb (1000× and more) needs.
fn unpack_limit(compressed: u64) -> u64 {
    compressed.saturating_mul(32).saturating_add(64 << 20)
}

/// Gives each directory its mode from the archive (without setuid/setgid/sticky), deepest
/// first: applied after the tree is in place, so a read-only directory does not stop its own
/// extraction. Best effort, like the file modes.
fn set_dir_modes(mut dirs: Vec<(PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt as _;
    dirs.sort_by_key(|(path, _)| std::cmp::Reverse(path.components().count()));
    for (path, mode) in dirs {
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777));
    }
}

/// Extracts entries under `<staging>/root`, refusing anything that would land outside it and
/// stopping once more than `max_unpacked` bytes of file content would be written. Returns each
/// directory entry's path (relative to the root) and mode, for [`set_dir_modes`].
///
/// Nothing is ever written through a symbolic link (GHSA-m37j-52j7-pjw7): every existing
/// directory on an entry's way must be a real one, and a link left at the entry's own path by
/// an earlier entry is replaced, not followed. Once all entries are out, each symbolic link is
/// resolved again as the kernel sees it, the other links in the tree included.
fn extract(
    reader: &mut dyn std::io::Read,
    title: &str,
    staging: &Path,
    max_unpacked: u64,
) -> Result<Vec<(PathBuf, u32)>, WriteError> {
    let root = staging.join("root");
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let mut x = Extraction {
        root,
        title: title.trim_start_matches('/'),
        room: max_unpacked,
        dir_modes: Vec::new(),
        symlinks: Vec::new(),
        buf: vec![0; COPY_BUF],
    };
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(io(staging))?;
    for entry in entries {
        let mut entry = entry.map_err(io(staging))?;
        x.entry(&mut entry).map_err(|e| {
            e.unwrap_or_else(|| {
                WriteError::Unsafe(format!(
                    "the archive expands beyond {max_unpacked} bytes: refusing it as a \
                     decompression bomb"
                ))
            })
        })?;
    }
    x.recheck_symlinks()?;
    Ok(x.dir_modes)
}

/// The state of one [`extract`]: where entries go and what is left to check.
struct Extraction<'a> {
    root: PathBuf,
    title: &'a str,
    /// Bytes of file content that may still be written.
    room: u64,
    dir_modes: Vec<(PathBuf, u32)>,
    /// Each symbolic link made (relative to the root) and its entry name.
    symlinks: Vec<(PathBuf, String)>,
    /// Reused for every file's content: one read and one write per 256 KiB instead of per 8 KiB.
    buf: Vec<u8>,
}

type Entry<'e, 'r> = tar::Entry<'e, &'r mut dyn std::io::Read>;

impl Extraction<'_> {
    /// Writes one entry. `Err(None)` when its content would exceed the expansion limit.
    fn entry(&mut self, entry: &mut Entry<'_, '_>) -> Result<(), Option<WriteError>> {
        let name = entry.path().map_err(io(&self.root))?.into_owned();
        let shown = name.display().to_string();
        let title = self.title;
        let rel = entry_rel(&name, title)
            .ok_or_else(|| WriteError::Unsafe(format!("{shown:?} is outside of {title:?}")))?;
        let dest = self.root.join(&rel);
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            return Ok(());
        }
        self.no_symlink_on_the_way(&rel, &shown)?;
        match kind {
            tar::EntryType::Directory => {
                make_room(&dest)?;
                std::fs::create_dir_all(&dest).map_err(io(&dest))?;
                if let Ok(mode) = entry.header().mode() {
                    self.dir_modes.push((rel, mode));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                self.room -= write_entry_file(entry, &dest, self.room, &mut self.buf)?;
            }
            tar::EntryType::Symlink => {
                let target = link_name(entry, &dest, &shown)?;
                if !stays_inside(&self.root, rel.parent().unwrap_or(&rel), &target) {
                    return Err(escaping_link(&shown, &target).into());
                }
                create_parent(&dest)?;
                make_room(&dest)?;
                std::os::unix::fs::symlink(&target, &dest).map_err(io(&dest))?;
                self.symlinks.push((rel, shown));
            }
            tar::EntryType::Link => {
                let target = link_name(entry, &dest, &shown)?;
                self.hard_link(&target, &dest, &shown)?;
            }
            other => {
                return Err(WriteError::Unsafe(format!(
                    "{shown:?}: unsupported entry type {other:?}"
                ))
                .into());
            }
        }
        Ok(())
    }

    /// Refuses `rel` when one of the directories on its way (below the root, the entry's own
    /// path excluded) is a symbolic link.
    fn no_symlink_on_the_way(&self, rel: &Path, shown: &str) -> Result<(), WriteError> {
        let mut on_the_way = PathBuf::new();
        for part in rel.parent().into_iter().flat_map(Path::components) {
            on_the_way.push(part);
            match std::fs::symlink_metadata(self.root.join(&on_the_way)) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let link = Path::new(self.title).join(&on_the_way);
                    return Err(WriteError::Unsafe(format!(
                        "{shown:?}: refusing to write through the symbolic link {:?}",
                        link.display().to_string()
                    )));
                }
                Ok(_) => {}
                // Nothing deeper exists either.
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Hard-links `dest` to the regular file the archive named `target`, reached without any
    /// symbolic link.
    fn hard_link(&self, target: &Path, dest: &Path, shown: &str) -> Result<(), WriteError> {
        let title = self.title;
        let rel_target = entry_rel(target, title).ok_or_else(|| {
            WriteError::Unsafe(format!(
                "{:?} is outside of {title:?}",
                target.display().to_string()
            ))
        })?;
        self.no_symlink_on_the_way(&rel_target, shown)?;
        let source = self.root.join(rel_target);
        let meta = std::fs::symlink_metadata(&source).map_err(io(&source))?;
        if !meta.is_file() {
            return Err(WriteError::Unsafe(format!(
                "{shown:?}: hard link to a non-regular file"
            )));
        }
        create_parent(dest)?;
        make_room(dest)?;
        std::fs::hard_link(&source, dest).map_err(io(dest))
    }

    /// Resolves every symbolic link still in the tree as the kernel does, now that all of them
    /// exist: a chain whose links each looked inside may lead out.
    fn recheck_symlinks(&self) -> Result<(), WriteError> {
        let real_root = std::fs::canonicalize(&self.root).map_err(io(&self.root))?;
        for (rel, shown) in &self.symlinks {
            let path = self.root.join(rel);
            let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
            if !is_link {
                continue; // Replaced by a later entry.
            }
            let target = std::fs::read_link(&path).map_err(io(&path))?;
            // A dangling link was judged when it was made (and below, step by step).
            let real_outside =
                std::fs::canonicalize(&path).is_ok_and(|r| !r.starts_with(&real_root));
            if real_outside || !stays_inside(&self.root, rel.parent().unwrap_or(rel), &target) {
                return Err(escaping_link(shown, &target));
            }
        }
        Ok(())
    }
}

fn escaping_link(shown: &str, target: &Path) -> WriteError {
    WriteError::Unsafe(format!(
        "no symbolic link allowed between {shown:?} and {:?}",
        target.display().to_string()
    ))
}

fn link_name(entry: &Entry<'_, '_>, dest: &Path, shown: &str) -> Result<PathBuf, WriteError> {
    Ok(entry
        .link_name()
        .map_err(io(dest))?
        .ok_or_else(|| WriteError::Unsafe(format!("{shown:?}: link without target")))?
        .into_owned())
}

fn create_parent(dest: &Path) -> Result<(), WriteError> {
    match dest.parent() {
        Some(p) => std::fs::create_dir_all(p).map_err(io(p)),
        None => Ok(()),
    }
}

/// Removes what an earlier entry of the same name left at `path` (later entries win, as in
/// tar), unless it is a directory. A symbolic link is removed itself, never followed.
fn make_room(path: &Path) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => std::fs::remove_file(path).map_err(io(path)),
        _ => Ok(()),
    }
}

/// Whether the symbolic link target `target`, read in the directory `dir` (relative to
/// `root`), stays inside `root` the way the kernel resolves it: links met on the way are
/// followed (as many as Linux follows), and a `..` may never step above `root`, not even for a
/// moment, since the tree is moved after extraction and a path that climbed out and came back
/// would then lead somewhere else.
fn stays_inside(root: &Path, dir: &Path, target: &Path) -> bool {
    const MAX_LINKS: usize = 40;
    /// Queues `path`'s components (last first); `false` for an absolute path.
    fn queue(todo: &mut Vec<std::ffi::OsString>, path: &Path) -> bool {
        for part in path.components().rev() {
            match part {
                Component::Normal(name) => todo.push(name.to_owned()),
                Component::ParentDir => todo.push("..".into()),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => return false,
            }
        }
        true
    }
    // `dir` is the link's own directory: real directories only, checked on the way in.
    let mut at = root.join(dir);
    let mut depth = dir.components().count();
    let mut todo = Vec::new();
    if !queue(&mut todo, target) {
        return false;
    }
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if depth == 0 {
                return false;
            }
            at.pop();
            depth -= 1;
            continue;
        }
        at.push(&name);
        depth += 1;
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_symlink()) {
            links += 1;
            let Ok(next) = std::fs::read_link(&at) else {
                return false;
            };
            at.pop();
            depth -= 1;
            if links > MAX_LINKS || !queue(&mut todo, &next) {
                return false;
            }
        }
    }
    true
}

/// Writes a regular file entry with its mode (without setuid/setgid/sticky, which the Go client
/// also drops; unlike it, the other bits are kept). `Err(None)` when it would exceed `room`
/// bytes. The file is created new: whatever an earlier entry left at `dest` is removed first,
/// so a symbolic link there is never followed.
fn write_entry_file(
    entry: &mut Entry<'_, '_>,
    dest: &Path,
    room: u64,
    buf: &mut [u8],
) -> Result<u64, Option<WriteError>> {
    use std::io::{Read as _, Write as _};
    if entry.header().size().unwrap_or(u64::MAX) > room {
        return Err(None);
    }
    create_parent(dest)?;
    make_room(dest)?;
    let mut out = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(io(dest))?;
    let mut n: u64 = 0;
    loop {
        let got = match entry.read(buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(dest)(e).into()),
        };
        n += got as u64;
        if n > room {
            return Err(None);
        }
        out.write_all(&buf[..got]).map_err(io(dest))?;
    }
    if let Ok(mode) = entry.header().mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = out.set_permissions(std::fs::Permissions::from_mode(mode & 0o777));
    }
    Ok(n)
}

/// Moves the staged tree into `dest`, merging into an existing directory.
fn merge_into(staged: &Path, dest: &Path, opts: WriteOptions) -> Result<(), WriteError> {
    let meta = std::fs::symlink_metadata(dest);
    match meta {
        Err(_) => std::fs::rename(staged, dest).map_err(io(dest)),
        Ok(m) if m.is_dir() => {
            for entry in std::fs::read_dir(staged).map_err(io(staged))? {
                let entry = entry.map_err(io(staged))?;
                let from = entry.path();
                let to = dest.join(entry.file_name());
                let is_dir = entry.file_type().map_err(io(&from))?.is_dir();
                // What is already there, not where a symbolic link there points (GHSA-8xwf): a
                // link is never merged through.
                let there = std::fs::symlink_metadata(&to).ok().map(|m| m.file_type());
                if is_dir && there.is_some_and(|t| t.is_symlink()) {
                    return Err(WriteError::Unsafe(format!(
                        "{:?}: refusing to write through the symbolic link already there",
                        to.display().to_string()
                    )));
                }
                if is_dir && there.is_some_and(|t| t.is_dir()) {
                    merge_into(&from, &to, opts)?;
                } else {
                    if opts.keep_old_files && std::fs::symlink_metadata(&to).is_ok() {
                        return Err(WriteError::Overwrite(to.display().to_string()));
                    }
                    std::fs::rename(&from, &to).map_err(io(&to))?;
                }
            }
            Ok(())
        }
        Ok(_) if opts.keep_old_files => Err(WriteError::Overwrite(dest.display().to_string())),
        Ok(_) => {
            std::fs::remove_file(dest).map_err(io(dest))?;
            std::fs::rename(staged, dest).map_err(io(dest))
        }
    }
}

/// Reads a plain (non-gzip) byte source fully; used by tests.
#[cfg(test)]
fn read_all(mut r: impl std::io::Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_outside_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let opts = WriteOptions::default();
        assert!(resolve_output_path(&out, "a/b.txt", opts).is_ok());
        for bad in ["../x", "a/../../x", "/etc/passwd", "..", "."] {
            assert!(resolve_output_path(&out, bad, opts).is_err(), "{bad}");
        }
        let allow = WriteOptions {
            allow_path_traversal: true,
            ..opts
        };
        assert!(resolve_output_path(&out, "../x", allow).is_ok());
        std::fs::create_dir_all(&out).unwrap();
        std::os::unix::fs::symlink("/tmp", out.join("link")).unwrap();
        assert!(resolve_output_path(&out, "link/x", opts).is_err());
    }

    fn archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn entry(
        b: &mut tar::Builder<Vec<u8>>,
        name: &str,
        kind: tar::EntryType,
        link: Option<&str>,
        data: &[u8],
    ) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        // set_path refuses `..`; write the raw name to build hostile archives.
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    #[test]
    fn extraction_refuses_hostile_entries() {
        use tar::EntryType as T;
        let cases: [(&str, T, Option<&str>); 5] = [
            ("d/../../evil", T::Regular, None),
            ("other/x", T::Regular, None),
            ("d/link", T::Symlink, Some("/etc")),
            ("d/link", T::Symlink, Some("../../etc")),
            ("d/dev", T::Char, None),
        ];
        for (name, kind, link) in cases {
            let bytes = archive(|b| entry(b, name, kind, link, b""));
            let dir = tempfile::tempdir().unwrap();
            let r = extract(&mut &bytes[..], "d", dir.path(), u64::MAX);
            assert!(r.is_err(), "{name} {kind:?} {link:?}");
        }
        let ok = archive(|b| {
            entry(b, "d/a.txt", T::Regular, None, b"hi");
            entry(b, "d/l", T::Symlink, Some("a.txt"), b"");
        });
        let dir = tempfile::tempdir().unwrap();
        extract(&mut &ok[..], "d", dir.path(), u64::MAX).unwrap();
        assert_eq!(
            read_all(std::fs::File::open(dir.path().join("root/l")).unwrap()),
            b"hi"
        );
        let small = tempfile::tempdir().unwrap();
        assert!(
            extract(&mut &ok[..], "d", small.path(), 1).is_err(),
            "expansion limit"
        );
    }

    /// `d/a -> .`, `d/b -> a/..` … `d/h -> g/..`, in archive order or reversed.
    fn chain(b: &mut tar::Builder<Vec<u8>>, reversed: bool) {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut links: Vec<(String, String)> = (0..names.len())
            .map(|i| {
                let target = i
                    .checked_sub(1)
                    .map_or(".".to_owned(), |p| format!("{}/..", names[p]));
                (format!("d/{}", names[i]), target)
            })
            .collect();
        if reversed {
            links.reverse();
        }
        for (name, target) in &links {
            entry(b, name, tar::EntryType::Symlink, Some(target), b"");
        }
    }

    #[test]
    fn extraction_never_writes_through_a_symlink() {
        // GHSA-m37j-52j7-pjw7: each link looks inside, the chain leads out.
        use tar::EntryType as T;
        type Build = fn(&mut tar::Builder<Vec<u8>>);
        let cases: [(Build, &str); 6] = [
            (
                |b| {
                    chain(b, false);
                    entry(b, "d/h/PWNED.txt", T::Regular, None, b"x");
                },
                r#"no symbolic link allowed between "d/b" and "a/..""#,
            ),
            (
                |b| {
                    chain(b, true);
                    entry(b, "d/h/PWNED.txt", T::Regular, None, b"x");
                },
                r#""d/h/PWNED.txt": refusing to write through the symbolic link "d/h""#,
            ),
            (
                |b| {
                    chain(b, true);
                    entry(b, "d/stolen", T::Link, Some("d/h/secret"), b"");
                },
                r#""d/stolen": refusing to write through the symbolic link "d/h""#,
            ),
            (
                |b| {
                    chain(b, true);
                    entry(b, "d/h/sub/", T::Directory, None, b"");
                },
                r#""d/h/sub/": refusing to write through the symbolic link "d/h""#,
            ),
            (|b| chain(b, true), "no symbolic link allowed between"),
            // Out of the staging root and back in: elsewhere once the tree is moved.
            (
                |b| entry(b, "d/l", T::Symlink, Some("../root/x"), b""),
                r#"no symbolic link allowed between "d/l" and "../root/x""#,
            ),
        ];
        for (i, (build, message)) in cases.into_iter().enumerate() {
            let bytes = archive(build);
            let dir = tempfile::tempdir().unwrap();
            let staging = dir.path().join("a/b/c/d/e/f/g/h/i/j");
            let err = extract(&mut &bytes[..], "d", &staging, u64::MAX).unwrap_err();
            assert!(err.to_string().contains(message), "case {i}: {err}");
            assert!(!dir.path().join("PWNED.txt").exists(), "case {i}");
        }
    }

    #[test]
    fn later_entries_replace_earlier_ones_without_following_them() {
        use tar::EntryType as T;
        let bytes = archive(|b| {
            entry(b, "d/x", T::Symlink, Some("y"), b"");
            entry(b, "d/x", T::Regular, None, b"file");
            entry(b, "d/f", T::Regular, None, b"first");
            entry(b, "d/f", T::Regular, None, b"second");
            entry(b, "d/h", T::Link, Some("d/f"), b"");
            entry(b, "d/h", T::Link, Some("d/x"), b"");
        });
        let dir = tempfile::tempdir().unwrap();
        extract(&mut &bytes[..], "d", dir.path(), u64::MAX).unwrap();
        let root = dir.path().join("root");
        assert!(std::fs::symlink_metadata(root.join("x")).unwrap().is_file());
        assert!(!root.join("y").exists(), "not written through the link");
        assert_eq!(std::fs::read(root.join("x")).unwrap(), b"file");
        assert_eq!(std::fs::read(root.join("f")).unwrap(), b"second");
        assert_eq!(std::fs::read(root.join("h")).unwrap(), b"file");
    }
}
