//! A repository in a remote registry as a `Target`.

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use tokio::io::AsyncReadExt as _;
use tokio_util::io::{ReaderStream, StreamReader};

use std::sync::atomic::{AtomicBool, Ordering};

use super::{
    BlobChunks, BlobReader, Content, Progress, ReferrersMode, Target, TargetError, TargetKind,
};
use crate::oci::{
    Descriptor, Digest, MEDIA_TYPE_INDEX, index_of, parse_index, referrer_of, referrers_tag,
    to_go_json,
};
use crate::registry::{RegistryError, Repository, retry};
use crate::transfer::Counted;

/// Read size for upload bodies: small reads cap throughput (transfer.md §5.3).
const UPLOAD_CHUNK: usize = 1 << 20;
/// An upload that moves no bytes for this long has stalled.
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Chunk size used when a registry refuses a monolithic upload as too large (413).
const FALLBACK_CHUNK: u64 = 16 << 20;

pub struct Remote {
    repo: Repository,
    /// Upload in chunks of this size instead of one PUT.
    chunk_size: Option<u64>,
    referrers: ReferrersMode,
    /// Set once the registry answered that it has no referrers API.
    no_referrers_api: AtomicBool,
    /// Serialises updates of tag-schema referrer indexes made by this process.
    index_lock: tokio::sync::Mutex<()>,
}

impl Remote {
    #[must_use]
    pub fn new(repo: Repository, chunk_size: Option<u64>) -> Self {
        Self {
            repo,
            chunk_size,
            referrers: ReferrersMode::Auto,
            no_referrers_api: AtomicBool::new(false),
            index_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The referrers listed in the tag-schema index of `subject` (none when it has no index).
    async fn tag_schema(&self, subject: &Digest) -> Result<Vec<Descriptor>, TargetError> {
        Ok(self.tag_schema_index(subject).await?.1)
    }

    /// The tag-schema index of `subject` (its digest, if it exists) and the referrers it lists.
    async fn tag_schema_index(
        &self,
        subject: &Digest,
    ) -> Result<(Option<Digest>, Vec<Descriptor>), TargetError> {
        let tag = referrers_tag(subject);
        match self.repo.fetch_manifest(&tag).await {
            Ok((desc, bytes)) => {
                let index = parse_index(&bytes).map_err(|e| {
                    RegistryError::Protocol(format!(
                        "{}:{tag}: invalid referrers index: {e}",
                        self.repo.display()
                    ))
                })?;
                Ok((Some(desc.digest), index.manifests))
            }
            Err(e) if e.status() == Some(404) || matches!(e, RegistryError::NotFound(_)) => {
                Ok((None, Vec::new()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a deleted referrer from the tag-schema index of `subject`: a new index without
    /// it is pushed (unless none are left) and the old one deleted, as the Go client does.
    async fn unindex_referrer(
        &self,
        subject: &Digest,
        referrer: &Digest,
    ) -> Result<(), TargetError> {
        let _guard = self.index_lock.lock().await;
        let (old, mut manifests) = self.tag_schema_index(subject).await?;
        let (Some(old), true) = (old, manifests.iter().any(|m| m.digest == *referrer)) else {
            return Ok(());
        };
        manifests.retain(|m| m.digest != *referrer);
        if !manifests.is_empty() {
            let bytes = to_go_json(&index_of(manifests))
                .map_err(|e| RegistryError::Protocol(e.to_string()))?;
            let desc = Descriptor::for_bytes(MEDIA_TYPE_INDEX, &bytes);
            self.repo
                .push_manifest(&desc, &bytes, &referrers_tag(subject))
                .await?;
        }
        self.repo.delete("manifests", &old).await?;
        Ok(())
    }

    /// Adds `referrer` to the tag-schema index of `subject`, for registries without the
    /// referrers API. The index it replaces is kept (the Go client's attach does not delete it).
    async fn index_referrer(
        &self,
        subject: &Digest,
        referrer: Descriptor,
    ) -> Result<(), TargetError> {
        let _guard = self.index_lock.lock().await;
        let mut manifests = self.tag_schema(subject).await?;
        if manifests.iter().any(|m| m.digest == referrer.digest) {
            return Ok(());
        }
        manifests.push(referrer);
        let bytes =
            to_go_json(&index_of(manifests)).map_err(|e| RegistryError::Protocol(e.to_string()))?;
        let desc = Descriptor::for_bytes(MEDIA_TYPE_INDEX, &bytes);
        self.repo
            .push_manifest(&desc, &bytes, &referrers_tag(subject))
            .await?;
        Ok(())
    }

    /// The request body that streams `reader`, and what notes a failure to read it.
    fn body(reader: BlobReader, base: u64, progress: &Progress) -> (reqwest::Body, ReadFailure) {
        use futures_util::TryStreamExt as _;
        let failure = ReadFailure::default();
        let noted = std::sync::Arc::clone(&failure.0);
        let counted = Counted::new(reader, base, progress.clone());
        let stream = ReaderStream::with_capacity(counted, UPLOAD_CHUNK).inspect_err(move |e| {
            let mut noted = noted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            noted.get_or_insert_with(|| e.to_string());
        });
        (reqwest::Body::wrap_stream(stream), failure)
    }

    /// `POST`, then `PATCH` chunks with `Content-Range`, then `PUT ?digest=` (distribution
    /// spec "pushing a blob in chunks"), honouring the registry's minimum chunk size.
    async fn push_chunked(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        chunk: u64,
        progress: &Progress,
    ) -> Result<(), TargetError> {
        let (mut location, min) = self.repo.start_upload().await?;
        let min = min.unwrap_or(1).max(1);
        let mut chunk = chunk.max(min);
        let mut offset = 0;
        while offset < desc.size {
            let len = chunk.min(desc.size - offset);
            let reader = match content.open(offset).await {
                Ok(reader) => reader,
                Err(e) => {
                    self.repo.cancel_upload(&location).await;
                    return Err(read_error(desc, &e));
                }
            };
            let (body, failure) = Self::body(Box::pin(reader.take(len)), offset, progress);
            let sent = self.repo.upload_chunk(&location, offset, len, body).await;
            match sent.map_err(|e| failure.blame(e)) {
                Ok(next) => {
                    location = next;
                    offset += len;
                }
                // Still too large for this registry: halve the chunk and send it again.
                Err(RegistryError::Status { status: 413, .. }) if chunk / 2 >= min => chunk /= 2,
                Err(e) => {
                    self.repo.cancel_upload(&location).await;
                    return Err(e.into());
                }
            }
        }
        let done = self.repo.finish_upload(location.clone(), desc, None).await;
        if done.is_err() {
            self.repo.cancel_upload(&location).await;
        }
        Ok(done?)
    }
}

impl Remote {
    /// One upload attempt, abandoned when the registry stops taking bytes for `STALL_TIMEOUT`
    /// before the body is complete (waiting for its answer afterwards is not a stall).
    async fn push_blob_once(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: &Progress,
    ) -> Result<(), TargetError> {
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (counter, inner) = (std::sync::Arc::clone(&sent), progress.clone());
        let watched: Progress = std::sync::Arc::new(move |n| {
            counter.store(n, std::sync::atomic::Ordering::Relaxed);
            inner(n);
        });
        let watchdog = async {
            let (mut last, mut since) = (u64::MAX, tokio::time::Instant::now());
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                let now = sent.load(std::sync::atomic::Ordering::Relaxed);
                if now != last || now >= desc.size {
                    (last, since) = (now, tokio::time::Instant::now());
                } else if since.elapsed() >= STALL_TIMEOUT {
                    return RegistryError::Stalled(format!(
                        "upload of {} stalled: no bytes taken for {} s",
                        desc.digest,
                        STALL_TIMEOUT.as_secs()
                    ));
                }
            }
        };
        tokio::select! {
            result = self.push_blob_unwatched(desc, content, &watched) => result,
            stalled = watchdog => Err(stalled.into()),
        }
    }

    async fn push_blob_unwatched(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: &Progress,
    ) -> Result<(), TargetError> {
        if let Some(chunk) = self.chunk_size.filter(|c| *c < desc.size) {
            return self.push_chunked(desc, content, chunk, progress).await;
        }
        let reader = content.open(0).await.map_err(|e| read_error(desc, &e))?;
        let (body, failure) = Self::body(reader, 0, progress);
        let pushed = self.repo.push_blob(desc, body).await;
        match pushed.map_err(|e| failure.blame(e)) {
            // The registry caps request sizes: send the blob in chunks instead.
            Err(RegistryError::Status { status: 413, .. }) if desc.size > 1 => {
                let chunk = FALLBACK_CHUNK.min(desc.size.div_ceil(2));
                self.push_chunked(desc, content, chunk, progress).await
            }
            other => Ok(other?),
        }
    }
}

/// The first error met reading the content of an upload's body, if any.
#[derive(Default)]
struct ReadFailure(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl ReadFailure {
    fn cause(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `error` as the upload's failure, unless it only carries a failure to read the content
    /// (reqwest reports it as the request's, naming the registry's upload URL): then that.
    fn blame(&self, error: RegistryError) -> RegistryError {
        match (&error, self.cause()) {
            (RegistryError::Transport { .. }, Some(cause)) => {
                RegistryError::ContentRead(format!("the content could not be read: {cause}"))
            }
            _ => error,
        }
    }
}

fn read_error(desc: &Descriptor, e: &std::io::Error) -> TargetError {
    RegistryError::Protocol(format!(
        "failed to read the content of {}: {e}",
        desc.digest
    ))
    .into()
}

#[async_trait]
impl Target for Remote {
    fn kind(&self) -> TargetKind {
        TargetKind::Registry
    }

    fn display(&self) -> &str {
        self.repo.display()
    }

    async fn blob_exists(&self, desc: &Descriptor) -> Result<bool, TargetError> {
        Ok(self.repo.blob_exists(&desc.digest).await?)
    }

    async fn push_blob(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: Progress,
    ) -> Result<(), TargetError> {
        // A broken upload session cannot be continued reliably: start over with a new one.
        let mut attempt = 1;
        let mut refetched = false;
        loop {
            let result = self.push_blob_once(desc, content, &progress).await;
            let Err(e) = &result else {
                return result;
            };
            let again = match e {
                TargetError::Registry(e) if retry::is_retryable_exchange(e) => true,
                // Bytes from a registry that the destination found were not the blob's
                // (damaged on the way): fetched once more from the start, as a pull does.
                e if !refetched && content.refetchable() && e.content_mismatch().is_some() => {
                    refetched = true;
                    true
                }
                _ => false,
            };
            let Some(wait) = retry::delay(attempt, None).filter(|_| again) else {
                return result;
            };
            let why = e.to_string();
            retry::report(&format!("upload of {}", desc.digest), &why, wait, attempt);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn stream_upload(
        &self,
        content: &dyn Content,
        size: u64,
        progress: Progress,
    ) -> Result<Option<url::Url>, TargetError> {
        if self.chunk_size.is_some_and(|c| c < size) {
            return Ok(None);
        }
        let (location, _) = self.repo.start_upload().await?;
        let sent = match content.open(0).await {
            Ok(reader) => {
                let (body, failure) = Self::body(reader, 0, &progress);
                let sent = self.repo.upload_stream(&location, size, body).await;
                sent.map_err(|e| failure.blame(e))
            }
            Err(e) => Err(RegistryError::Protocol(format!(
                "failed to read the content: {e}"
            ))),
        };
        if sent.is_err() {
            self.repo.cancel_upload(&location).await;
        }
        Ok(Some(sent?))
    }

    async fn finish_stream_upload(
        &self,
        pending: url::Url,
        desc: &Descriptor,
    ) -> Result<(), TargetError> {
        let done = self.repo.finish_upload(pending.clone(), desc, None).await;
        if done.is_err() {
            self.repo.cancel_upload(&pending).await;
        }
        Ok(done?)
    }

    async fn fetch_blob(&self, desc: &Descriptor, offset: u64) -> Result<BlobReader, TargetError> {
        let resp = self.repo.fetch_blob(desc, offset).await?;
        let stream = resp.bytes_stream().map_err(std::io::Error::other);
        Ok(Box::pin(StreamReader::new(stream)))
    }

    async fn fetch_blob_chunks(
        &self,
        desc: &Descriptor,
        offset: u64,
    ) -> Result<BlobChunks, TargetError> {
        let resp = self.repo.fetch_blob(desc, offset).await?;
        Ok(Box::pin(resp.bytes_stream().map_err(std::io::Error::other)))
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, TargetError> {
        Ok(self.repo.resolve_manifest(reference).await?)
    }

    async fn fetch_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>), TargetError> {
        Ok(self.repo.fetch_manifest(reference).await?)
    }

    async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<(), TargetError> {
        let indexed = self.repo.push_manifest(desc, bytes, reference).await?;
        if indexed || self.referrers == ReferrersMode::Api {
            return Ok(());
        }
        match referrer_of(desc, bytes) {
            Some((subject, referrer)) => self.index_referrer(&subject.digest, referrer).await,
            None => Ok(()),
        }
    }

    async fn tag_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        tag: &str,
    ) -> Result<(), TargetError> {
        self.repo.push_manifest(desc, bytes, tag).await?;
        Ok(())
    }

    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, TargetError> {
        if self.referrers == ReferrersMode::Tag || self.no_referrers_api.load(Ordering::Relaxed) {
            return self.tag_schema(&subject.digest).await;
        }
        match self.repo.referrers(&subject.digest).await? {
            Some(found) => Ok(found),
            None if self.referrers == ReferrersMode::Api => Err(RegistryError::Protocol(format!(
                "{}: the registry does not support the referrers API (try --distribution-spec v1.1-referrers-tag)",
                self.repo.display()
            ))
            .into()),
            None => {
                self.no_referrers_api.store(true, Ordering::Relaxed);
                self.tag_schema(&subject.digest).await
            }
        }
    }

    fn set_referrers_mode(&mut self, mode: ReferrersMode) {
        self.referrers = mode;
    }

    fn set_manifest_accept(&mut self, types: &[String]) {
        self.repo.set_manifest_accept(types);
    }

    async fn tags(&self, last: &str) -> Result<Vec<String>, TargetError> {
        Ok(self.repo.tags(last).await?)
    }

    async fn stat_blob(&self, digest: &Digest) -> Result<Option<Descriptor>, TargetError> {
        Ok(self.repo.stat_blob(digest).await?)
    }

    async fn delete(&self, digest: &Digest, manifest: bool) -> Result<(), TargetError> {
        if !manifest {
            return Ok(self.repo.delete("blobs", digest).await?);
        }
        // A referrer leaves its subject's tag-schema index with it.
        let subject = match self.referrers {
            ReferrersMode::Api => None,
            _ => match self.repo.fetch_manifest(&digest.to_string()).await {
                Ok((desc, bytes)) => referrer_of(&desc, &bytes).map(|(s, _)| s.digest),
                Err(_) => None,
            },
        };
        self.repo.delete("manifests", digest).await?;
        match subject {
            Some(subject) => self.unindex_referrer(&subject, digest).await,
            None => Ok(()),
        }
    }

    fn remote_location(&self) -> Option<(&str, &str)> {
        Some((self.repo.registry(), self.repo.name()))
    }

    async fn abandon_uploads(&self) {
        self.repo.cancel_open_uploads().await;
    }

    async fn mount_blob(&self, desc: &Descriptor, from: &str) -> Result<bool, TargetError> {
        // A refused mount is not an error: the bytes are copied instead.
        Ok(self
            .repo
            .mount_blob(&desc.digest, from)
            .await
            .unwrap_or(false))
    }
}
