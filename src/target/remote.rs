//! A repository in a remote registry as a `Target`.

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use tokio_util::io::{ReaderStream, StreamReader};

use super::{BlobReader, Target, TargetError, TargetKind};
use crate::oci::Descriptor;
use crate::registry::Repository;

/// Read size for upload bodies: small reads cap throughput (transfer.md §5.3).
const UPLOAD_CHUNK: usize = 256 * 1024;

pub struct Remote {
    repo: Repository,
}

impl Remote {
    #[must_use]
    pub fn new(repo: Repository) -> Self {
        Self { repo }
    }
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

    async fn push_blob(&self, desc: &Descriptor, content: BlobReader) -> Result<(), TargetError> {
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(content, UPLOAD_CHUNK));
        Ok(self.repo.push_blob(desc, body).await?)
    }

    async fn fetch_blob(&self, desc: &Descriptor) -> Result<BlobReader, TargetError> {
        let resp = self.repo.fetch_blob(desc).await?;
        let stream = resp.bytes_stream().map_err(std::io::Error::other);
        Ok(Box::pin(StreamReader::new(stream)))
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
        Ok(self.repo.push_manifest(desc, bytes, reference).await?)
    }

    async fn tags(&self) -> Result<Vec<String>, TargetError> {
        Ok(self.repo.tags().await?)
    }
}
