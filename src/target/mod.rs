//! Where artifacts live: one `Target` trait with two homes, a remote repository spoken to over
//! the distribution API and an OCI image layout on disk.

mod cached;
mod layout;
mod remote;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::oci::{Descriptor, Digest};
use crate::registry::RegistryError;

pub use cached::Cached;
pub use layout::{Layout, LayoutError, parse_layout_reference};
pub use remote::Remote;

/// A readable blob body.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<BlobReader>> + Send + 'a>>;

/// A blob body as the chunks it arrives in: a download hashes and writes them without first
/// copying them into a buffer of its own.
pub type BlobChunks =
    Pin<Box<dyn futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send>>;

/// Reads `reader` as a stream of chunks.
#[must_use]
pub fn reader_chunks(reader: BlobReader) -> BlobChunks {
    const CHUNK: usize = 256 * 1024;
    Box::pin(tokio_util::io::ReaderStream::with_capacity(reader, CHUNK))
}

pub type ChunksFuture<'a> = Pin<Box<dyn Future<Output = std::io::Result<BlobChunks>> + Send + 'a>>;

/// Opens `content` as a stream of chunks from a byte offset, as a verified download asks for
/// a blob (`transfer::Fetch`).
pub fn content_chunks<'a>(
    content: &'a dyn Content,
) -> impl Fn(u64) -> ChunksFuture<'a> + Send + Sync + 'a {
    move |offset| content.open_chunks(offset)
}

/// Blob content to push that can be opened again at any offset: a retry or a chunked upload
/// re-reads it instead of holding it in memory.
pub trait Content: Send + Sync {
    fn open(&self, offset: u64) -> OpenFuture<'_>;

    /// `open` as a stream of chunks, for a download that hashes and writes them as they come.
    fn open_chunks(&self, offset: u64) -> ChunksFuture<'_> {
        let open = self.open(offset);
        Box::pin(async move { Ok(reader_chunks(open.await?)) })
    }

    /// The temp file this content was written to, when it is one: a target that keeps its
    /// blobs beside it may take the file itself instead of a copy.
    fn spool(&self) -> Option<&crate::transfer::Spool> {
        None
    }

    /// Whether asking again may give other bytes (a blob read from a registry): a read cut
    /// mid-way is then resumed from the bytes received, and content that arrived whole with the
    /// wrong digest is fetched once more, as a pull does. Local content would only repeat itself.
    fn refetchable(&self) -> bool {
        false
    }
}

/// Where content to push is written once (`transfer::Spool`): beside the blobs of a target
/// that takes such a file by rename (`Target::spooler`), else the system's temp directory.
pub trait Spooler: Send + Sync {
    /// A new temp file there.
    fn temp_file(&self) -> std::io::Result<tempfile::NamedTempFile>;

    /// Whether the target holds this blob already: content found there need not be written.
    fn holds(&self, _digest: &Digest, _size: u64) -> bool {
        false
    }
}

/// Receives the running byte count of a transfer.
pub type Progress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Registry,
    OciLayout,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Registry => "registry",
            Self::OciLayout => "oci-layout",
        })
    }
}

/// Where referrers are looked up and recorded: `--distribution-spec` (oras-cli.md §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReferrersMode {
    /// The referrers API when the registry has it, else the tag schema.
    #[default]
    Auto,
    /// `v1.1-referrers-api`: the referrers API only.
    Api,
    /// `v1.1-referrers-tag`: the `sha256-<hex>` tag schema only.
    Tag,
}

impl std::str::FromStr for ReferrersMode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "v1.1-referrers-api" => Ok(Self::Api),
            "v1.1-referrers-tag" => Ok(Self::Tag),
            _ => Err(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

impl TargetError {
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Registry(e) => e.status() == Some(404),
            Self::Layout(e) => matches!(e, LayoutError::NotFound(_)),
        }
    }

    /// Why the target refused a blob whose content is not what its descriptor says: a
    /// layout's own check, or a registry's `DIGEST_INVALID` or `SIZE_INVALID` (distribution
    /// spec, error codes). The content is at fault, not the target that measured it.
    #[must_use]
    pub fn content_mismatch(&self) -> Option<String> {
        match self {
            Self::Layout(LayoutError::Mismatch { why, .. }) => Some(why.clone()),
            Self::Registry(e @ RegistryError::Status { errors, .. })
                if errors
                    .iter()
                    .any(|x| x.code == "DIGEST_INVALID" || x.code == "SIZE_INVALID") =>
            {
                Some(e.to_string())
            }
            _ => None,
        }
    }
}

#[async_trait]
pub trait Target: Send + Sync {
    fn kind(&self) -> TargetKind;

    /// `<registry>/<repository>` or the layout path: what printed references start with.
    fn display(&self) -> &str;

    async fn blob_exists(&self, desc: &Descriptor) -> Result<bool, TargetError>;

    /// Stores a blob read from `content`, which must match `desc` (the layout verifies it; a
    /// registry verifies it on its side). `progress` gets the bytes sent so far.
    async fn push_blob(
        &self,
        desc: &Descriptor,
        content: &dyn Content,
        progress: Progress,
    ) -> Result<(), TargetError>;

    /// Stores `size` bytes of `content` whose digest is not known yet, hashing them as they are
    /// written (one pass), and returns their digest and whether the target already had that
    /// blob. `None` when the target needs the digest before it can store a blob (the caller then
    /// hashes first or streams an upload).
    async fn ingest(
        &self,
        _content: &dyn Content,
        _size: u64,
        _progress: Progress,
    ) -> Result<Option<(Digest, bool)>, TargetError> {
        Ok(None)
    }

    /// For a target that keeps its blobs in a local directory under the digest it computes (an
    /// OCI layout): makes temp files beside them, where content to push can be written once,
    /// hashed as it is written, and then stored by `push_blob` as it is, renamed into place
    /// instead of read again. `None` for a target elsewhere.
    fn spooler(&self) -> Option<std::sync::Arc<dyn Spooler>> {
        None
    }

    /// Starts an upload of `size` bytes whose digest is not known yet, streaming `content` into
    /// an upload session; `finish_stream_upload` completes it once the digest is known.
    /// `None` when this target cannot do that (the caller then pushes the usual way).
    async fn stream_upload(
        &self,
        _content: &dyn Content,
        _size: u64,
        _progress: Progress,
    ) -> Result<Option<url::Url>, TargetError> {
        Ok(None)
    }

    /// Ends the uploads left open when a command gave up part-way (their futures dropped
    /// because another transfer failed), so the registry frees them at once.
    async fn abandon_uploads(&self) {}

    /// Completes an upload begun with `stream_upload`.
    async fn finish_stream_upload(
        &self,
        _pending: url::Url,
        desc: &Descriptor,
    ) -> Result<(), TargetError> {
        Err(RegistryError::Protocol(format!("{}: no upload in progress", desc.digest)).into())
    }

    /// Opens a blob for reading from byte `offset` on (to resume an interrupted download). The
    /// bytes are not yet verified: the caller hashes them as it consumes them.
    async fn fetch_blob(&self, desc: &Descriptor, offset: u64) -> Result<BlobReader, TargetError>;

    /// `fetch_blob` as a stream of chunks.
    async fn fetch_blob_chunks(
        &self,
        desc: &Descriptor,
        offset: u64,
    ) -> Result<BlobChunks, TargetError> {
        Ok(reader_chunks(self.fetch_blob(desc, offset).await?))
    }

    /// The descriptor of the manifest a tag or digest string names, without its bytes where
    /// the target can tell it so (a registry answers a `HEAD`).
    async fn resolve(&self, reference: &str) -> Result<Descriptor, TargetError> {
        Ok(self.fetch_manifest(reference).await?.0)
    }

    /// Fetches a manifest by tag or digest string, with its descriptor.
    async fn fetch_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>), TargetError>;

    /// Stores a manifest under `reference`: a tag, or its digest for an untagged push.
    async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<(), TargetError>;

    /// Adds `tag` to a manifest the target already holds. Unlike `push_manifest`, it never
    /// records the manifest among its subject's referrers (the Go client's `oras tag`).
    async fn tag_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        tag: &str,
    ) -> Result<(), TargetError> {
        self.push_manifest(desc, bytes, tag).await
    }

    /// The manifests whose `subject` is `subject`, each as a descriptor carrying its artifact
    /// type and annotations.
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>, TargetError>;

    /// Narrows the manifest media types a registry is asked for (`Accept`); targets that do
    /// not negotiate ignore it.
    fn set_manifest_accept(&mut self, _types: &[String]) {}

    /// Chooses how referrers are found and recorded; targets without a choice ignore it.
    fn set_referrers_mode(&mut self, _mode: ReferrersMode) {}

    /// The tags; `last` (when not empty) asks a registry for those after it. A target may
    /// ignore it (docker-registry 2.x does, a layout leaves it to the caller), so callers that
    /// need it filter too.
    async fn tags(&self, last: &str) -> Result<Vec<String>, TargetError>;

    /// A blob's descriptor if the target has it.
    async fn stat_blob(&self, digest: &Digest) -> Result<Option<Descriptor>, TargetError>;

    /// Deletes a manifest (`manifest` true) or a blob by digest.
    async fn delete(&self, digest: &Digest, manifest: bool) -> Result<(), TargetError>;

    /// `(registry, repository)` of a remote target, to tell when a copy stays in one registry.
    fn remote_location(&self) -> Option<(&str, &str)> {
        None
    }

    /// Links a blob from another repository of the same registry without uploading it; false
    /// when the target cannot (the caller then copies the bytes).
    async fn mount_blob(&self, _desc: &Descriptor, _from: &str) -> Result<bool, TargetError> {
        Ok(false)
    }
}
