//! Where artifacts live: one `Target` trait with two homes, a remote repository spoken to over
//! the distribution API and an OCI image layout on disk.

mod layout;
mod remote;

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::oci::Descriptor;
use crate::registry::RegistryError;

pub use layout::{Layout, LayoutError, parse_layout_reference};
pub use remote::Remote;

/// A readable blob body.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

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
}

#[async_trait]
pub trait Target: Send + Sync {
    fn kind(&self) -> TargetKind;

    /// `<registry>/<repository>` or the layout path: what printed references start with.
    fn display(&self) -> &str;

    async fn blob_exists(&self, desc: &Descriptor) -> Result<bool, TargetError>;

    /// Stores a blob read from `content`, which must match `desc` (the layout verifies it; a
    /// registry verifies it on its side).
    async fn push_blob(&self, desc: &Descriptor, content: BlobReader) -> Result<(), TargetError>;

    /// Opens a blob for reading. The bytes are not yet verified: the caller hashes them as it
    /// consumes them.
    async fn fetch_blob(&self, desc: &Descriptor) -> Result<BlobReader, TargetError>;

    /// Fetches a manifest by tag or digest string, with its descriptor.
    async fn fetch_manifest(&self, reference: &str) -> Result<(Descriptor, Vec<u8>), TargetError>;

    /// Stores a manifest under `reference`: a tag, or its digest for an untagged push.
    async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<(), TargetError>;

    async fn tags(&self) -> Result<Vec<String>, TargetError>;
}
