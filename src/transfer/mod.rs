//! Moving content into a target: concurrent blob uploads that skip what already exists, the
//! manifest last, and byte streams verified against their descriptor as they pass.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{self, TryStreamExt as _};
use tokio::io::{AsyncRead, AsyncSeekExt as _, ReadBuf};

use crate::oci::{Annotations, Descriptor, Hasher};
use crate::target::{BlobReader, ChunksFuture, Content, OpenFuture, Progress, Target, TargetError};

/// What happened to one piece of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Transfer began.
    Started,
    /// A manifest or index is being walked for its children.
    Processing,
    Done,
    /// The target already had it.
    Exists,
    /// Deliberately not transferred (an unnamed layer on pull).
    Skipped,
    /// Copied from another file with the same digest.
    Restored,
    /// Linked from another repository of the same registry (no bytes moved).
    Mounted,
}

/// Receives transfer events; renderers live in `output/`.
pub trait Reporter: Send + Sync {
    fn state(&self, desc: &Descriptor, state: State);
    /// Bytes moved so far for `desc`.
    fn progress(&self, desc: &Descriptor, bytes: u64);
}

/// Where a blob to push comes from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Bytes(Arc<[u8]>),
    /// A temp file this process wrote (removed when the last clone is dropped).
    Spooled(Arc<Spool>),
}

impl Content for Source {
    fn open(&self, offset: u64) -> OpenFuture<'_> {
        Box::pin(async move {
            let path = match self {
                Self::File(path) => path,
                Self::Spooled(spool) => &spool.path,
                Self::Bytes(bytes) => {
                    let mut c = std::io::Cursor::new(Arc::clone(bytes));
                    c.set_position(offset);
                    let reader: BlobReader = Box::pin(c);
                    return Ok(reader);
                }
            };
            let mut f = tokio::fs::File::open(path).await?;
            if offset > 0 {
                f.seek(std::io::SeekFrom::Start(offset)).await?;
            }
            let reader: BlobReader = Box::pin(f);
            Ok(reader)
        })
    }

    fn spool(&self) -> Option<&Spool> {
        match self {
            Self::Spooled(spool) => Some(spool),
            _ => None,
        }
    }
}

/// A temp file holding a blob to push (a file copied into an OCI layout, a directory's
/// archive, stdin), with the digest and size of exactly the bytes written to it, hashed as
/// they were written. A target that keeps its blobs in the spool's directory stores it by
/// renaming it: no second read.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    digest: crate::oci::Digest,
    size: u64,
    /// Removes the file when dropped; taken when the file is renamed into place.
    temp: std::sync::Mutex<Option<tempfile::TempPath>>,
}

impl Spool {
    #[must_use]
    pub fn new(temp: tempfile::TempPath, digest: crate::oci::Digest, size: u64) -> Self {
        Self {
            path: temp.to_path_buf(),
            digest,
            size,
            temp: std::sync::Mutex::new(Some(temp)),
        }
    }

    #[must_use]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    #[must_use]
    pub fn digest(&self) -> &crate::oci::Digest {
        &self.digest
    }

    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Renames the file to `to` (replacing what is there), where it stays.
    pub fn persist(&self, to: &std::path::Path) -> std::io::Result<()> {
        let temp = self
            .temp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| std::io::Error::other("the spooled file was already stored"))?;
        temp.persist(to).map_err(|e| e.error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("failed to read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// A blob to push.
#[derive(Debug, Clone)]
// A push has a handful of blobs: boxing the descriptor would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Blob {
    Ready {
        desc: Descriptor,
        source: Source,
    },
    /// A large file whose digest is computed while it uploads (or is copied into a layout).
    Unhashed {
        path: PathBuf,
        size: u64,
        media_type: String,
        annotations: Annotations,
    },
}

impl Blob {
    /// A blob held in memory (an empty or generated config).
    #[must_use]
    pub fn bytes(desc: Descriptor, bytes: &[u8]) -> Self {
        Self::Ready {
            desc,
            source: Source::Bytes(Arc::from(bytes)),
        }
    }
}

/// Pushes blobs concurrently (at most `concurrency` at once), skipping those the target has,
/// and returns their descriptors in the order given. Ready blobs with the same content are
/// sent once; each keeps its own descriptor (title, media type) and the later ones are
/// reported as `Exists` when their title differs from the one sent, as the Go client does
/// (its `DeduplicatedFilter`): the empty config and the empty layer of an artifact without
/// files make one status line, not two.
pub async fn push_blobs(
    target: &dyn Target,
    blobs: Vec<Blob>,
    concurrency: usize,
    reporter: &Arc<dyn Reporter>,
) -> Result<Vec<Descriptor>, TransferError> {
    let mut sent: std::collections::HashMap<crate::oci::Digest, Option<String>> =
        std::collections::HashMap::new();
    let mut repeats: Vec<(usize, Descriptor, bool)> = Vec::new();
    let mut jobs = Vec::with_capacity(blobs.len());
    let count = blobs.len();
    for (i, blob) in blobs.into_iter().enumerate() {
        if let Blob::Ready { desc, .. } = &blob {
            let title = desc.title().map(str::to_owned);
            if let Some(first) = sent.get(&desc.digest) {
                repeats.push((i, desc.clone(), *first != title));
                continue;
            }
            sent.insert(desc.digest.clone(), title);
        }
        jobs.push((i, blob));
    }
    let done: Result<Vec<(usize, Descriptor)>, _> = stream::iter(jobs.into_iter().map(Ok))
        .map_ok(|(i, blob)| async move {
            let desc = match blob {
                Blob::Ready { desc, source } => {
                    push_ready(target, &desc, &source, reporter).await?;
                    desc
                }
                Blob::Unhashed {
                    path,
                    size,
                    media_type,
                    annotations,
                } => push_unhashed(target, path, size, media_type, annotations, reporter).await?,
            };
            Ok::<_, TransferError>((i, desc))
        })
        .try_buffer_unordered(concurrency.max(1))
        .try_collect()
        .await;
    // The uploads still running when one failed were dropped with their sessions open.
    if done.is_err() {
        target.abandon_uploads().await;
    }
    let done = done?;
    let mut results: Vec<Option<Descriptor>> = vec![None; count];
    for (i, desc) in done {
        results[i] = Some(desc);
    }
    for (i, desc, renamed) in repeats {
        if renamed {
            reporter.state(&desc, State::Exists);
        }
        results[i] = Some(desc);
    }
    Ok(results.into_iter().flatten().collect())
}

async fn push_ready(
    target: &dyn Target,
    desc: &Descriptor,
    source: &Source,
    reporter: &Arc<dyn Reporter>,
) -> Result<(), TransferError> {
    if target.blob_exists(desc).await? {
        reporter.state(desc, State::Exists);
        return Ok(());
    }
    reporter.state(desc, State::Started);
    target
        .push_blob(desc, source, progress_of(reporter, desc))
        .await?;
    reporter.state(desc, State::Done);
    Ok(())
}

fn progress_of(reporter: &Arc<dyn Reporter>, desc: &Descriptor) -> Progress {
    let (sink, d) = (Arc::clone(reporter), desc.clone());
    Arc::new(move |n| sink.progress(&d, n))
}

/// Uploads a large file while a second thread hashes it: the registry receives the bytes in a
/// streamed upload session, and the digest is in hand to complete it (or, if the registry
/// already has the blob, to abandon the upload) without a second pass on the critical path.
async fn push_unhashed(
    target: &dyn Target,
    path: PathBuf,
    size: u64,
    media_type: String,
    annotations: Annotations,
    reporter: &Arc<dyn Reporter>,
) -> Result<Descriptor, TransferError> {
    let read_err = |e: std::io::Error, path: &std::path::Path| TransferError::Read {
        path: path.display().to_string(),
        source: e,
    };
    let changed_size = || {
        read_err(
            std::io::Error::other("the file changed size while it was being pushed"),
            &path,
        )
    };
    let source = Source::File(path.clone());
    // Progress is reported once the digest (what the status lines and bars are keyed by) is known.
    let known: Arc<std::sync::OnceLock<Descriptor>> = Arc::new(std::sync::OnceLock::new());
    let (sink, cell) = (Arc::clone(reporter), Arc::clone(&known));
    let progress: Progress = Arc::new(move |n| {
        if let Some(d) = cell.get() {
            sink.progress(d, n);
        }
    });
    // A target that names blobs by the digest it computes (an OCI layout) hashes the file as
    // it copies it in: one pass instead of a hash and then a verified copy.
    match target.ingest(&source, size, Arc::clone(&progress)).await {
        Ok(Some((digest, had))) => {
            let mut desc = Descriptor::new(media_type, digest, size);
            desc.annotations = Some(annotations);
            if had {
                reporter.state(&desc, State::Exists);
            } else {
                reporter.state(&desc, State::Started);
                reporter.progress(&desc, size);
                reporter.state(&desc, State::Done);
            }
            return Ok(desc);
        }
        Ok(None) => {}
        Err(_) if std::fs::metadata(&path).is_ok_and(|m| m.len() != size) => {
            return Err(changed_size());
        }
        Err(e) => return Err(e.into()),
    }
    let hash_path = path.clone();
    let mut hashing = tokio::task::spawn_blocking(move || crate::files::hash_file(&hash_path));
    let upload = target.stream_upload(&source, size, progress);
    tokio::pin!(upload);
    let (hashed, uploaded) = tokio::select! {
        h = &mut hashing => (h, None),
        u = &mut upload => (hashing.await, Some(u)),
    };
    let (digest, hashed_size) = hashed
        .map_err(|e| read_err(std::io::Error::other(e), &path))?
        .map_err(|e| read_err(e, &path))?;
    if hashed_size != size {
        return Err(changed_size());
    }
    let mut desc = Descriptor::new(media_type, digest, size);
    desc.annotations = Some(annotations);
    let _ = known.set(desc.clone());
    let checked = uploaded.is_none();
    if checked && target.blob_exists(&desc).await? {
        // Dropping the unfinished upload abandons its session.
        reporter.state(&desc, State::Exists);
        return Ok(desc);
    }
    reporter.state(&desc, State::Started);
    // A streamed upload that failed is not fatal: the usual push (with its retries) follows.
    let pending = match uploaded {
        Some(u) => u,
        None => upload.await,
    }
    .unwrap_or(None);
    let finished = match pending {
        Some(pending) => target.finish_stream_upload(pending, &desc).await.is_ok(),
        None => false,
    };
    if !finished {
        // The target cannot take an upload of unknown digest, or it broke: push it the usual way.
        if !checked && target.blob_exists(&desc).await? {
            reporter.state(&desc, State::Exists);
            return Ok(desc);
        }
        target
            .push_blob(&desc, &source, progress_of(reporter, &desc))
            .await?;
    }
    reporter.progress(&desc, size);
    reporter.state(&desc, State::Done);
    Ok(desc)
}

/// Pushes a manifest under its first reference and re-puts it under every extra tag.
pub async fn push_manifest(
    target: &dyn Target,
    desc: &Descriptor,
    bytes: &[u8],
    reference: &str,
    reporter: &dyn Reporter,
) -> Result<(), TransferError> {
    reporter.state(desc, State::Started);
    target.push_manifest(desc, bytes, reference).await?;
    reporter.state(desc, State::Done);
    Ok(())
}

/// Opens a blob, as a stream of chunks, from a byte offset.
pub type Fetch<'a> = dyn Fn(u64) -> ChunksFuture<'a> + Send + Sync + 'a;

/// A download that receives nothing for this long has stalled: it is resumed (or fails)
/// instead of hanging.
pub(crate) const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many times a download cut off mid-blob is resumed before giving up.
const MAX_RESUMES: u32 = 5;

/// Chunks as received, handed together to the hashing and the writing thread (shared, not
/// copied).
type Batch = Arc<[bytes::Bytes]>;

/// Blobs up to this size are hashed and written where they are received: handing them to
/// other threads costs more than the work.
const INLINE_MAX: u64 = 256 * 1024;

/// Bounded queues keep a download's memory flat: at most this many batches wait for the
/// hashing and for the writing thread.
const QUEUE: usize = 4;

/// Where `receive` hands each batch of chunks.
enum Sink<'a> {
    /// Hashed and written right away (small blobs).
    Inline {
        hasher: &'a mut Hasher,
        file: &'a mut std::fs::File,
    },
    /// Queued for the hashing and the writing thread.
    Threads {
        hash_tx: &'a tokio::sync::mpsc::Sender<Batch>,
        write_tx: &'a tokio::sync::mpsc::Sender<Batch>,
    },
}

impl Sink<'_> {
    async fn put(&mut self, batch: Batch) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Sink::Inline { hasher, file } => {
                for chunk in batch.iter() {
                    hasher.update(chunk);
                    file.write_all(chunk)?;
                }
                Ok(())
            }
            Sink::Threads { hash_tx, write_tx } => {
                let worker_gone = || std::io::Error::other("the file writer stopped");
                hash_tx
                    .send(Arc::clone(&batch))
                    .await
                    .map_err(|_| worker_gone())?;
                write_tx.send(batch).await.map_err(|_| worker_gone())
            }
        }
    }
}

/// Downloads a blob into `file`, verifying it. Receiving, hashing and writing run in parallel
/// (the hash and the disk write each on their own thread, fed the same chunks, which are never
/// copied), so the slowest of the three sets the pace rather than their sum; blobs up to
/// `INLINE_MAX` are hashed and written as they arrive. When the connection breaks or the body
/// ends early, the download continues with a `Range` request from the bytes already received
/// (they are already in the running hash) instead of starting over; a blob that arrives whole
/// with the wrong digest is fetched once more from the start. Fails unless exactly `desc.size`
/// bytes with digest `desc.digest` arrived.
pub async fn download_verified(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    desc: &Descriptor,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<()> {
    verified_into(fetch, file, desc, progress, MAX_RESUMES, None).await
}

/// `download_verified` that tells `tail` how much of the blob is in `file` as it is written,
/// and whether the download started over, so that a reader can follow the file as it grows.
/// The caller ends `tail` with the download's outcome.
pub async fn download_followed(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    desc: &Descriptor,
    progress: &(dyn Fn(u64) + Sync),
    tail: &Arc<Tail>,
) -> std::io::Result<()> {
    verified_into(fetch, file, desc, progress, MAX_RESUMES, Some(tail)).await
}

/// How much of a download is on disk, for a reader that follows the file while it is written
/// (a directory extracted as it arrives).
#[derive(Debug, Default)]
pub struct Tail {
    state: std::sync::Mutex<TailState>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct TailState {
    written: u64,
    /// Set once, when the download ends: whether it was verified.
    verified: Option<bool>,
    /// The download started over from its first byte, so what was read of it is void.
    restarted: bool,
}

impl Tail {
    fn lock(&self) -> std::sync::MutexGuard<'_, TailState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut TailState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `answer` has one.
    fn wait_for<T>(&self, answer: impl Fn(&TailState) -> Option<T>) -> T {
        let mut state = self.lock();
        loop {
            if let Some(answer) = answer(&state) {
                return answer;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn wrote(&self, bytes: u64) {
        self.update(|s| s.written += bytes);
    }

    fn restart(&self) {
        self.update(|s| {
            s.restarted = true;
            s.written = 0;
        });
    }

    /// Ends the download: all `size` bytes are written and verified, or it failed (or was
    /// dropped). The first call counts.
    pub fn end(&self, verified: bool, size: u64) {
        self.update(|s| {
            if s.verified.is_none() {
                s.verified = Some(verified);
                if verified {
                    s.written = size;
                }
            }
        });
    }

    /// Waits for the download to end; true if it was verified after starting over.
    #[must_use]
    pub fn verified_after_restart(&self) -> bool {
        self.wait_for(|s| s.verified.map(|verified| verified && s.restarted))
    }

    /// Waits until the file holds more than `pos` bytes and returns how many it holds, or
    /// `None` once the download is verified and all of it has been read. Fails when the
    /// download failed or started over.
    pub fn wait_beyond(&self, pos: u64) -> std::io::Result<Option<u64>> {
        self.wait_for(|s| {
            if s.restarted {
                Some(Err(std::io::Error::other("the download started over")))
            } else if s.written > pos {
                Some(Ok(Some(s.written)))
            } else if s.verified? {
                Some(Ok(None))
            } else {
                Some(Err(std::io::Error::other("the download failed")))
            }
        })
    }
}

/// `download_verified` for a local source (a file, an OCI layout): one that ends early has
/// nothing more to give, so it fails at once instead of being asked again. Content that is not
/// what `desc` says (another digest, more bytes) fails with `InvalidData`.
pub async fn write_verified(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    desc: &Descriptor,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<()> {
    verified_into(fetch, file, desc, progress, 0, None).await
}

async fn verified_into(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    desc: &Descriptor,
    progress: &(dyn Fn(u64) + Sync),
    max_resumes: u32,
    tail: Option<&Arc<Tail>>,
) -> std::io::Result<()> {
    use std::io::Seek as _;
    let again = if max_resumes > 0 {
        Some(file.try_clone()?)
    } else {
        None
    };
    let digest = hashed_into(fetch, file, desc.size, progress, max_resumes, tail).await?;
    match again {
        // Damaged on the way, or a stale cache entry (which `Cached` drops when asked for the
        // blob from the start again): the whole blob is fetched once more before the mismatch
        // is reported.
        Some(mut file) if digest != desc.digest => {
            if let Some(tail) = tail {
                tail.restart();
            }
            file.set_len(0)?;
            file.rewind()?;
            progress(0);
            let digest = hashed_into(fetch, file, desc.size, progress, max_resumes, tail).await?;
            check_digest(desc, &digest)
        }
        _ => check_digest(desc, &digest),
    }
}

/// Writes `size` bytes of a local source whose digest is not known yet (a file copied into an
/// OCI layout) into `file` and returns their digest, hashed as they were written: one pass, and
/// the digest names exactly the bytes written, even if the source changes meanwhile. Fails
/// unless the source gives exactly `size` bytes.
pub async fn write_hashed(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    size: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<crate::oci::Digest> {
    hashed_into(fetch, file, size, progress, 0, None).await
}

/// The pipeline under `download_verified` and `write_hashed`: receives exactly `size` bytes
/// into `file` and returns their digest.
async fn hashed_into(
    fetch: &Fetch<'_>,
    file: std::fs::File,
    size: u64,
    progress: &(dyn Fn(u64) + Sync),
    max_resumes: u32,
    tail: Option<&Arc<Tail>>,
) -> std::io::Result<crate::oci::Digest> {
    use std::io::Write as _;
    // A small blob is not followed as it is written: its reader gets it whole, when it ends.
    if size <= INLINE_MAX {
        let (mut hasher, mut file) = (Hasher::new(), file);
        let sink = Sink::Inline {
            hasher: &mut hasher,
            file: &mut file,
        };
        receive(fetch, size, progress, sink, max_resumes).await?;
        return Ok(hasher.finish().0);
    }
    let (hash_tx, mut hash_rx) = tokio::sync::mpsc::channel::<Batch>(QUEUE);
    let (write_tx, mut write_rx) = tokio::sync::mpsc::channel::<Batch>(QUEUE);
    let hashing = tokio::task::spawn_blocking(move || {
        let mut hasher = Hasher::new();
        while let Some(batch) = hash_rx.blocking_recv() {
            for chunk in batch.iter() {
                hasher.update(chunk);
            }
        }
        hasher.finish()
    });
    let tail = tail.map(Arc::clone);
    let writing = tokio::task::spawn_blocking(move || {
        let mut out = file;
        while let Some(batch) = write_rx.blocking_recv() {
            for chunk in batch.iter() {
                out.write_all(chunk)?;
            }
            if let Some(tail) = &tail {
                tail.wrote(batch.iter().map(|c| c.len() as u64).sum());
            }
        }
        out.flush()
    });
    let sink = Sink::Threads {
        hash_tx: &hash_tx,
        write_tx: &write_tx,
    };
    let received = receive(fetch, size, progress, sink, max_resumes).await;
    drop((hash_tx, write_tx));
    let written = writing.await.map_err(std::io::Error::other)?;
    let (digest, _) = hashing.await.map_err(std::io::Error::other)?;
    received?;
    written?;
    Ok(digest)
}

fn check_digest(desc: &Descriptor, digest: &crate::oci::Digest) -> std::io::Result<()> {
    if *digest != desc.digest {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("mismatched digest: expected {}, got {digest}", desc.digest),
        ));
    }
    Ok(())
}

/// The receiving side of `download_verified`: gathers the `size` bytes into batches of about
/// 1 MiB, resuming after a cut (at most `max_resumes` times), and hands each batch to `sink`.
async fn receive(
    fetch: &Fetch<'_>,
    size: u64,
    progress: &(dyn Fn(u64) + Sync),
    mut sink: Sink<'_>,
    max_resumes: u32,
) -> std::io::Result<()> {
    use futures_util::StreamExt as _;
    const BATCH: u64 = 1024 * 1024;
    let mut received: u64 = 0;
    let mut resumes = 0;
    let mut batch: Vec<bytes::Bytes> = Vec::new();
    let mut batched: u64 = 0;
    loop {
        let mut chunks = fetch(received).await?;
        let cut = loop {
            let cut = match tokio::time::timeout(STALL_TIMEOUT, chunks.next()).await {
                Ok(None) => Some(None),
                Ok(Some(Ok(chunk))) => {
                    batched += chunk.len() as u64;
                    // Reported as it arrives, not per batch: a slow link still shows movement.
                    progress(received + batched);
                    if !chunk.is_empty() {
                        batch.push(chunk);
                    }
                    None
                }
                Ok(Some(Err(e))) => Some(Some(e)),
                Err(_) => Some(Some(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no data for {} s: the download stalled",
                        STALL_TIMEOUT.as_secs()
                    ),
                ))),
            };
            if received + batched > size {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("trailing data: more than the expected {size} bytes"),
                ));
            }
            if (batched >= BATCH || cut.is_some()) && !batch.is_empty() {
                received += batched;
                batched = 0;
                // Already reported chunk by chunk as it arrived.
                sink.put(std::mem::take(&mut batch).into()).await?;
            }
            if let Some(cut) = cut {
                break cut;
            }
        };
        if received == size && cut.is_none() {
            return Ok(());
        }
        resumes += 1;
        if resumes > max_resumes {
            return Err(cut.unwrap_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("unexpected EOF: got {received} of {size} bytes"),
                )
            }));
        }
        let wait = std::time::Duration::from_millis(100 * u64::from(resumes));
        let why = cut.map_or_else(|| "the body ended early".to_owned(), |e| e.to_string());
        crate::registry::retry::report_resume(received, size, &why, wait, resumes, max_resumes);
        tokio::time::sleep(wait).await;
    }
}

/// Counts bytes read through it and reports the running total (plus a base offset).
pub struct Counted {
    inner: BlobReader,
    read: u64,
    report: Progress,
}

impl Counted {
    #[must_use]
    pub fn new(inner: BlobReader, base: u64, report: Progress) -> Self {
        Self {
            inner,
            read: base,
            report,
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = this.inner.as_mut().poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            this.read += n as u64;
            (this.report)(this.read);
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fetch's answer: `bytes` in one chunk.
    fn answer(bytes: &'static [u8]) -> ChunksFuture<'static> {
        Box::pin(async move {
            let chunks: crate::target::BlobChunks = Box::pin(futures_util::stream::iter([Ok(
                bytes::Bytes::from_static(bytes),
            )]));
            Ok(chunks)
        })
    }

    /// What `file` holds, from its start.
    fn contents(file: &mut std::fs::File) -> Vec<u8> {
        use std::io::{Read as _, Seek as _};
        let mut written = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut written).unwrap();
        written
    }

    #[tokio::test]
    async fn download_verified_checks_size_and_digest() {
        // Small blobs are hashed inline, large ones on threads: both paths are checked.
        let large: Vec<u8> = (0..INLINE_MAX + 4096).map(|i| (i % 251) as u8).collect();
        for good in [b"hello".to_vec(), large] {
            let desc = Descriptor::for_bytes("x", &good);
            let mut altered = good.clone();
            altered[1] ^= 1;
            let short = good[..good.len() - 1].to_vec();
            let mut long = good.clone();
            long.push(b'!');
            for (body, ok) in [
                (good.clone(), true),
                (altered, false),
                (short, false),
                (long, false),
            ] {
                let body: &'static [u8] = Box::leak(body.into_boxed_slice());
                let fetch = move |offset: u64| -> ChunksFuture<'static> {
                    answer(&body[usize::try_from(offset).unwrap()..])
                };
                let mut file = tempfile::tempfile().unwrap();
                let result =
                    download_verified(&fetch, file.try_clone().unwrap(), &desc, &|_| {}).await;
                assert_eq!(result.is_ok(), ok, "{} bytes: {result:?}", body.len());
                if ok {
                    assert_eq!(contents(&mut file), good);
                }
            }
        }
    }

    #[tokio::test]
    async fn download_verified_resumes_from_the_bytes_received() {
        let large: Vec<u8> = (0..INLINE_MAX * 3).map(|i| (i % 253) as u8).collect();
        for good in [b"hello, world".to_vec(), large] {
            let desc = Descriptor::for_bytes("x", &good);
            let body: &'static [u8] = Box::leak(good.clone().into_boxed_slice());
            let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
            let seen = Arc::clone(&asked);
            // The first answer stops halfway; the next must ask for the rest.
            let fetch = move |offset: u64| -> ChunksFuture<'static> {
                seen.lock().unwrap().push(offset);
                let start = usize::try_from(offset).unwrap();
                let end = if offset == 0 {
                    body.len() / 2
                } else {
                    body.len()
                };
                answer(&body[start..end])
            };
            let mut file = tempfile::tempfile().unwrap();
            download_verified(&fetch, file.try_clone().unwrap(), &desc, &|_| {})
                .await
                .unwrap();
            assert_eq!(*asked.lock().unwrap(), [0, good.len() as u64 / 2]);
            assert_eq!(contents(&mut file), good);
        }
    }

    #[test]
    fn a_tail_gives_what_is_written_and_ends_as_the_download_does() {
        let tail = Tail::default();
        tail.wrote(10);
        assert_eq!(tail.wait_beyond(0).unwrap(), Some(10));
        tail.end(true, 25);
        assert_eq!(tail.wait_beyond(10).unwrap(), Some(25));
        assert_eq!(tail.wait_beyond(25).unwrap(), None, "all read: the end");
        tail.end(false, 0);
        assert_eq!(tail.wait_beyond(25).unwrap(), None, "the first end counts");
        assert!(!tail.verified_after_restart());

        let failed = Tail::default();
        failed.wrote(4);
        failed.end(false, 0);
        assert_eq!(failed.wait_beyond(0).unwrap(), Some(4));
        assert!(
            failed.wait_beyond(4).is_err(),
            "a failed download has no end"
        );

        let restarted = Tail::default();
        restarted.wrote(5);
        restarted.restart();
        assert!(restarted.wait_beyond(0).is_err(), "what was read is void");
        restarted.end(true, 9);
        assert!(restarted.verified_after_restart());
        assert!(restarted.wait_beyond(0).is_err());
    }

    #[test]
    fn a_tail_wakes_its_waiting_reader() {
        let tail = Arc::new(Tail::default());
        let reader = {
            let tail = Arc::clone(&tail);
            std::thread::spawn(move || tail.wait_beyond(0).unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        tail.wrote(3);
        assert_eq!(reader.join().unwrap(), Some(3));
    }

    #[tokio::test]
    async fn download_verified_fetches_a_blob_with_the_wrong_digest_once_more() {
        let large: Vec<u8> = (0..INLINE_MAX * 2).map(|i| (i % 239) as u8).collect();
        for good in [b"hello, world".to_vec(), large] {
            let desc = Descriptor::for_bytes("x", &good);
            let mut bad = good.clone();
            bad[3] ^= 1;
            // `answers` are given in turn; the last one repeats.
            for (answers, ok) in [(vec![bad.clone(), good.clone()], true), (vec![bad], false)] {
                let answers: Vec<&'static [u8]> = answers
                    .into_iter()
                    .map(|a| &*Box::leak(a.into_boxed_slice()))
                    .collect();
                let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
                let seen = Arc::clone(&asked);
                let fetch = move |offset: u64| -> ChunksFuture<'static> {
                    let mut seen = seen.lock().unwrap();
                    let body = answers[seen.len().min(answers.len() - 1)];
                    seen.push(offset);
                    answer(&body[usize::try_from(offset).unwrap()..])
                };
                let mut file = tempfile::tempfile().unwrap();
                let result =
                    download_verified(&fetch, file.try_clone().unwrap(), &desc, &|_| {}).await;
                assert_eq!(*asked.lock().unwrap(), [0, 0], "once more, from the start");
                if ok {
                    result.unwrap();
                    assert_eq!(contents(&mut file), good);
                } else {
                    let err = result.unwrap_err();
                    assert!(err.to_string().contains("mismatched digest"), "{err}");
                    // A local source is read once: reading it again would give the same bytes.
                    let file = tempfile::tempfile().unwrap();
                    write_verified(&fetch, file, &desc, &|_| {})
                        .await
                        .unwrap_err();
                    assert_eq!(asked.lock().unwrap().len(), 3);
                }
            }
        }
    }

    #[tokio::test]
    async fn write_verified_does_not_ask_a_short_local_source_again() {
        let desc = Descriptor::for_bytes("x", b"hello");
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let fetch = move |_offset: u64| -> ChunksFuture<'static> {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            answer(b"hell")
        };
        let file = tempfile::tempfile().unwrap();
        let err = write_verified(&fetch, file, &desc, &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
