//! Moving content into a target: concurrent blob uploads that skip what already exists, the
//! manifest last, and byte streams verified against their descriptor as they pass.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{self, TryStreamExt as _};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};

use crate::oci::{Descriptor, Hasher};
use crate::target::{BlobReader, Target, TargetError};

/// Buffer for moving blob bytes: large enough that syscalls and hashing calls stay cheap.
const COPY_BUFFER: usize = 1 << 20;

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
}

impl Source {
    async fn open(&self) -> std::io::Result<BlobReader> {
        Ok(match self {
            Self::File(path) => Box::pin(tokio::fs::File::open(path).await?),
            Self::Bytes(bytes) => Box::pin(std::io::Cursor::new(Arc::clone(bytes))),
        })
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

/// Pushes blobs concurrently (at most `concurrency` at once), skipping those the target has.
/// Blobs with the same digest are sent once.
pub async fn push_blobs(
    target: &dyn Target,
    blobs: Vec<(Descriptor, Source)>,
    concurrency: usize,
    reporter: &Arc<dyn Reporter>,
) -> Result<(), TransferError> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<_> = blobs
        .into_iter()
        .filter(|(d, _)| seen.insert(d.digest.clone()))
        .collect();
    stream::iter(unique.into_iter().map(Ok))
        .try_for_each_concurrent(concurrency.max(1), |(desc, source)| async move {
            if target.blob_exists(&desc).await? {
                reporter.state(&desc, State::Exists);
                return Ok(());
            }
            reporter.state(&desc, State::Started);
            let reader = source.open().await.map_err(|e| TransferError::Read {
                path: match &source {
                    Source::File(p) => p.display().to_string(),
                    Source::Bytes(_) => desc.digest.to_string(),
                },
                source: e,
            })?;
            let (sink, d) = (Arc::clone(reporter), desc.clone());
            let counted = Progress::new(reader, move |n| sink.progress(&d, n));
            target.push_blob(&desc, Box::pin(counted)).await?;
            reporter.state(&desc, State::Done);
            Ok(())
        })
        .await
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

/// Copies `reader` into `writer` while hashing, and fails unless exactly `desc.size` bytes with
/// digest `desc.digest` arrived. `progress` gets the running byte count.
pub async fn copy_verified<R, W>(
    mut reader: R,
    writer: &mut W,
    desc: &Descriptor,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut hasher = Hasher::new();
    let mut buf =
        vec![0u8; COPY_BUFFER.min(usize::try_from(desc.size).unwrap_or(COPY_BUFFER).max(8192))];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if hasher.len() + n as u64 > desc.size {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("trailing data: more than the expected {} bytes", desc.size),
            ));
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).await?;
        progress(hasher.len());
    }
    writer.flush().await?;
    let (digest, size) = hasher.finish();
    if size != desc.size {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("unexpected EOF: got {size} of {} bytes", desc.size),
        ));
    }
    if digest != desc.digest {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("mismatched digest: expected {}, got {digest}", desc.digest),
        ));
    }
    Ok(())
}

/// Counts bytes read through it and reports the running total.
struct Progress<F> {
    inner: BlobReader,
    read: u64,
    report: F,
}

impl<F: Fn(u64)> Progress<F> {
    fn new(inner: BlobReader, report: F) -> Self {
        Self {
            inner,
            read: 0,
            report,
        }
    }
}

impl<F: Fn(u64) + Unpin> AsyncRead for Progress<F> {
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

    #[tokio::test]
    async fn copy_verified_checks_size_and_digest() {
        let good = Descriptor::for_bytes("x", b"hello");
        let mut out = Vec::new();
        copy_verified(&b"hello"[..], &mut out, &good, &|_| {})
            .await
            .unwrap();
        assert_eq!(out, b"hello");
        for bad in [&b"hellO"[..], b"hell", b"hello!"] {
            let mut out = Vec::new();
            assert!(
                copy_verified(bad, &mut out, &good, &|_| {}).await.is_err(),
                "{bad:?}"
            );
        }
    }
}
