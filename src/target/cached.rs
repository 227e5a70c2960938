//! A remote target read through a content cache kept as an OCI layout (`ORAS_CACHE`, as the Go
//! client's `internal/cache/target.go`): verified copies of content by digest, never tags.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;

use async_trait::async_trait;
use futures_util::StreamExt as _;

use super::{
    BlobChunks, BlobReader, Content, Layout, Progress, ReferrersMode, Target, TargetError,
    TargetKind, reader_chunks,
};
use crate::oci::{Descriptor, Digest};

/// Chunks queued for the thread writing a fetched blob into the cache.
const QUEUE: usize = 16;

pub struct Cached {
    inner: Box<dyn Target>,
    cache: Layout,
    /// Cache entries whose content this process has hashed and found to match their digest.
    verified: std::sync::Mutex<HashSet<Digest>>,
    /// Cache entries this process has served from the start without hashing them first.
    served: std::sync::Mutex<HashSet<Digest>>,
}

impl Cached {
    #[must_use]
    pub fn new(inner: Box<dyn Target>, cache: Layout) -> Self {
        Self {
            inner,
            cache,
            verified: std::sync::Mutex::new(HashSet::new()),
            served: std::sync::Mutex::new(HashSet::new()),
        }
    }

    /// The size of the cache's copy of `digest` when it has one whose content matches the
    /// digest. A copy that does not match is removed: it is never served, and the fetch that
    /// follows replaces it.
    async fn verified_size(&self, digest: &Digest) -> Option<u64> {
        let path = self.cache.blob_path(digest);
        let len = tokio::fs::metadata(&path).await.ok()?.len();
        let known = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(digest);
        if !known {
            let hashed = path.clone();
            let found = tokio::task::spawn_blocking(move || crate::files::hash_file(&hashed))
                .await
                .ok()
                .and_then(Result::ok);
            if !found.is_some_and(|(d, n)| d == *digest && n == len) {
                let _ = tokio::fs::remove_file(&path).await;
                return None;
            }
            self.verified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(digest.clone());
        }
        Some(len)
    }

    /// Passes `remote` through while a second thread writes it into the cache; the copy is
    /// renamed into `blobs/` once exactly the blob's size arrived. It is not hashed here: the
    /// download it is teed from verifies every byte, and one that finds them wrong asks for
    /// the blob from the start again, which drops this entry (it counts as served) and asks
    /// the registry. The stream ends only after the rename, so a process that exits right
    /// away keeps the copy.
    fn tee(&self, desc: &Descriptor, remote: BlobChunks) -> BlobChunks {
        let Ok(tmp) = self.cache.ingest_file() else {
            return remote;
        };
        self.served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(desc.digest.clone());
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let (want, dest) = (desc.clone(), self.cache.blob_path(&desc.digest));
        let writer = tokio::task::spawn_blocking(move || ingest(tmp, rx, &want, dest));
        let state = (remote, Some(tx), Some(writer));
        Box::pin(futures_util::stream::unfold(
            state,
            |(mut remote, mut tx, mut writer)| async move {
                match remote.next().await {
                    Some(Ok(chunk)) => {
                        if let Some(sender) = &tx
                            && sender.send(chunk.clone()).await.is_err()
                        {
                            tx = None;
                        }
                        Some((Ok(chunk), (remote, tx, writer)))
                    }
                    // The download resumes with a new request: this copy cannot be completed.
                    Some(Err(e)) => Some((Err(e), (remote, None, None))),
                    None => {
                        drop(tx);
                        if let Some(w) = writer.take() {
                            // A copy that could not be stored is not an error of the fetch.
                            let _ = w.await;
                        }
                        None
                    }
                }
            },
        ))
    }
}

/// Writes the chunks received into `tmp` and renames it to `dest` when exactly `want.size`
/// bytes arrived (their digest is the download's to check; see `Cached::tee`).
fn ingest(
    mut tmp: tempfile::NamedTempFile,
    mut rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    want: &Descriptor,
    dest: PathBuf,
) -> std::io::Result<()> {
    let mut written: u64 = 0;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        while let Some(chunk) = rx.blocking_recv() {
            written += chunk.len() as u64;
            if written > want.size {
                return Err(std::io::Error::other("more bytes than expected"));
            }
            out.write_all(&chunk)?;
        }
        out.flush()?;
    }
    if written != want.size {
        return Err(std::io::Error::other("incomplete content"));
    }
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

#[async_trait]
impl Target for Cached {
    fn kind(&self) -> TargetKind {
        self.inner.kind()
    }

    fn display(&self) -> &str {
        self.inner.display()
    }

    async fn blob_exists(&self, desc: &Descriptor) -> Result<bool, TargetError> {
        self.inner.blob_exists(desc).await
    }

    async fn push_blob(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: Progress,
    ) -> Result<(), TargetError> {
        self.inner.push_blob(desc, content, progress).await
    }

    async fn stream_upload(
        &self,
        content: &dyn Content,
        size: u64,
        progress: Progress,
    ) -> Result<Option<url::Url>, TargetError> {
        self.inner.stream_upload(content, size, progress).await
    }

    async fn finish_stream_upload(
        &self,
        pending: url::Url,
        desc: &Descriptor,
    ) -> Result<(), TargetError> {
        self.inner.finish_stream_upload(pending, desc).await
    }

    async fn fetch_blob(&self, desc: &Descriptor, offset: u64) -> Result<BlobReader, TargetError> {
        let chunks = self.fetch_blob_chunks(desc, offset).await?;
        Ok(Box::pin(tokio_util::io::StreamReader::new(chunks)))
    }

    async fn fetch_blob_chunks(
        &self,
        desc: &Descriptor,
        offset: u64,
    ) -> Result<BlobChunks, TargetError> {
        // An entry of the right size is served without hashing it first: the download verifies
        // every byte it gets. One that fails asks for the blob from the start again; by then
        // the entry has proved wrong, so it is dropped and the registry asked.
        let path = self.cache.blob_path(&desc.digest);
        if tokio::fs::metadata(&path)
            .await
            .is_ok_and(|m| m.len() == desc.size)
        {
            let first = offset > 0
                || self
                    .served
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(desc.digest.clone());
            if first {
                return Ok(reader_chunks(self.cache.fetch_blob(desc, offset).await?));
            }
            let _ = tokio::fs::remove_file(&path).await;
        }
        let remote = self.inner.fetch_blob_chunks(desc, offset).await?;
        // A resumed download has only the tail of the blob: it is not cached.
        Ok(if offset == 0 {
            self.tee(desc, remote)
        } else {
            remote
        })
    }

    /// By digest, from the cache when it holds the manifest (the layout verifies it); by tag,
    /// always from the registry, since tags move. Whatever the registry sends is cached.
    async fn fetch_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>), TargetError> {
        if reference.parse::<Digest>().is_ok()
            && let Ok(found) = self.cache.fetch_manifest(reference).await
        {
            return Ok(found);
        }
        let (desc, bytes) = self.inner.fetch_manifest(reference).await?;
        // An untagged entry keeps the registry's media type; failing to cache is not fatal.
        let _ = self
            .cache
            .push_manifest(&desc, &bytes, &desc.digest.to_string())
            .await;
        Ok((desc, bytes))
    }

    async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<(), TargetError> {
        self.inner.push_manifest(desc, bytes, reference).await
    }

    async fn tag_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        tag: &str,
    ) -> Result<(), TargetError> {
        self.inner.tag_manifest(desc, bytes, tag).await
    }

    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, TargetError> {
        self.inner.referrers(subject).await
    }

    fn set_referrers_mode(&mut self, mode: ReferrersMode) {
        self.inner.set_referrers_mode(mode);
    }

    fn set_manifest_accept(&mut self, types: &[String]) {
        self.inner.set_manifest_accept(types);
    }

    async fn tags(&self, last: &str) -> Result<Vec<String>, TargetError> {
        self.inner.tags(last).await
    }

    async fn stat_blob(&self, digest: &Digest) -> Result<Option<Descriptor>, TargetError> {
        if let Some(size) = self.verified_size(digest).await {
            return Ok(Some(Descriptor::new(
                "application/octet-stream",
                digest.clone(),
                size,
            )));
        }
        self.inner.stat_blob(digest).await
    }

    async fn delete(&self, digest: &Digest, manifest: bool) -> Result<(), TargetError> {
        self.inner.delete(digest, manifest).await
    }

    fn remote_location(&self) -> Option<(&str, &str)> {
        self.inner.remote_location()
    }

    async fn mount_blob(&self, desc: &Descriptor, from: &str) -> Result<bool, TargetError> {
        self.inner.mount_blob(desc, from).await
    }

    async fn abandon_uploads(&self) {
        self.inner.abandon_uploads().await;
    }
}
