//! Packing: hashing files in one streaming pass, and directories into tar+gzip temp files
//! carrying the `io.deis.oras.content.*` annotations the Go client writes.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use gzp::ZWriter as _;
use gzp::deflate::Gzip;
use gzp::par::compress::{ParCompress, ParCompressBuilder};

use crate::oci::{
    ANNOTATION_CONTENT_DIGEST, ANNOTATION_TITLE, ANNOTATION_UNPACK, Annotations, Descriptor,
    Hasher, HashingWriter, MEDIA_TYPE_LAYER, MEDIA_TYPE_LAYER_GZIP,
};
use crate::transfer::{Blob, Source};

/// `<path>[:<media type>]`, split at the last colon as the Go client does on Unix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub path: String,
    pub media_type: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("found empty file path in {0:?}")]
pub struct EmptyPath(pub String);

pub fn parse_file_ref(raw: &str) -> Result<FileRef, EmptyPath> {
    let (path, media_type) = match raw.rsplit_once(':') {
        Some((p, t)) => (p, Some(t).filter(|t| !t.is_empty()).map(str::to_owned)),
        None => (raw, None),
    };
    if path.is_empty() {
        return Err(EmptyPath(raw.to_owned()));
    }
    Ok(FileRef {
        path: path.to_owned(),
        media_type,
    })
}

/// Files at least this large are hashed while they upload instead of before (one read of the
/// file on the critical path instead of two).
const HASH_WHILE_UPLOADING: u64 = 32 << 20;

/// A blob ready to push. A directory's archive lives in a temp file that is removed when this
/// is dropped.
pub struct Packed {
    pub blob: Blob,
    _temp: Option<tempfile::TempPath>,
}

/// The layer title of a path: cleaned, with `/` separators (absolute paths kept).
#[must_use]
pub fn title_of(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Packs a file or directory as a layer titled `title` (hashing runs on a blocking thread).
pub async fn pack_path(
    path: PathBuf,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
) -> std::io::Result<Packed> {
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            return pack_dir(&path, title, media_type, annotations);
        }
        let media_type = media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER.to_owned());
        let mut ann = annotations;
        ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
        let blob = if meta.len() >= HASH_WHILE_UPLOADING {
            Blob::Unhashed {
                path,
                size: meta.len(),
                media_type,
                annotations: ann,
            }
        } else {
            let (digest, size) = hash_file(&path)?;
            let mut desc = Descriptor::new(media_type, digest, size);
            desc.annotations = Some(ann);
            Blob::Ready {
                desc,
                source: Source::File(path),
            }
        };
        Ok(Packed { blob, _temp: None })
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Packs what `reader` (stdin) gives as a layer titled `title`. The bytes are spooled into a
/// temp file while they are hashed: nothing is held in memory, and an upload can be retried
/// from the file.
pub async fn pack_reader<R: std::io::Read + Send + 'static>(
    mut reader: R,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
) -> std::io::Result<Packed> {
    tokio::task::spawn_blocking(move || {
        let (file, temp_path) = tempfile::Builder::new()
            .prefix("oras_stdin_")
            .tempfile()?
            .into_parts();
        let mut spool = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        std::io::copy(&mut reader, &mut spool)?;
        let (mut writer, digest, size) = spool.into_parts();
        std::io::Write::flush(&mut writer)?;
        let mut ann = annotations;
        ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
        let media_type = media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER.to_owned());
        let mut desc = Descriptor::new(media_type, digest, size);
        desc.annotations = Some(ann);
        Ok(Packed::temp_file(desc, temp_path))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Packs a config file (no title) with the given media type.
pub async fn pack_bytes_file(path: PathBuf, media_type: String) -> std::io::Result<Packed> {
    tokio::task::spawn_blocking(move || {
        let (digest, size) = hash_file(&path)?;
        Ok(Packed {
            blob: Blob::Ready {
                desc: Descriptor::new(media_type, digest, size),
                source: Source::File(path),
            },
            _temp: None,
        })
    })
    .await
    .map_err(std::io::Error::other)?
}

impl Packed {
    /// A blob held in memory (an empty or generated config).
    #[must_use]
    pub fn bytes(desc: Descriptor, bytes: &[u8]) -> Self {
        Self {
            blob: Blob::Ready {
                desc,
                source: Source::Bytes(Arc::from(bytes)),
            },
            _temp: None,
        }
    }

    /// A blob spooled into a temp file, removed when this is dropped.
    fn temp_file(desc: Descriptor, temp_path: tempfile::TempPath) -> Self {
        Self {
            blob: Blob::Ready {
                desc,
                source: Source::File(temp_path.to_path_buf()),
            },
            _temp: Some(temp_path),
        }
    }
}

pub(crate) fn hash_file(path: &Path) -> std::io::Result<(crate::oci::Digest, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish())
}

/// Uncompressed bytes per gzip block. Blocks are compressed independently, one per core (as
/// pigz does), and always cut at the same offsets, so the archive is the same bytes whatever the
/// number of cores; 512 KiB blocks cost about 0.2% in size against one stream, and keep the
/// blocks in flight (a few per thread) to a few MiB.
const GZIP_BLOCK: usize = 512 << 10;

/// Compression threads for one directory: every core, up to 4 (each holds a few blocks).
fn gzip_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// tar (entries named `<title>/…`) → gzip (level 6, as Go's `compress/gzip` default; blocks
/// compressed in parallel) → temp file, hashing the tar and the gzip streams in the same pass.
fn pack_dir(
    path: &Path,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
) -> std::io::Result<Packed> {
    let temp = tempfile::Builder::new().prefix("oras_file_").tempfile()?;
    let (file, temp_path) = temp.into_parts();
    let gz_hashing = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let gz: ParCompress<'static, Gzip, _> = ParCompressBuilder::new()
        .buffer_size(GZIP_BLOCK)
        .and_then(|b| b.num_threads(gzip_threads()))
        .map_err(std::io::Error::other)?
        .compression_level(Compression::default())
        .from_writer(gz_hashing);
    let mut builder = tar::Builder::new(HashingWriter::new(gz));
    builder.follow_symlinks(false);
    if let Err(e) = builder.append_dir_all(&title, path) {
        // Stopped here rather than when dropped, where a failure would panic.
        let _ = builder.get_mut().get_mut().finish();
        return Err(e);
    }
    let (mut gz, tar_digest, _) = builder.into_inner()?.into_parts();
    let gz_hashing = gz.finish().map_err(std::io::Error::other)?;
    let (mut writer, gz_digest, gz_size) = gz_hashing.into_parts();
    std::io::Write::flush(&mut writer)?;
    let mut desc = Descriptor::new(
        media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER_GZIP.to_owned()),
        gz_digest,
        gz_size,
    );
    let mut ann = annotations;
    ann.insert(ANNOTATION_CONTENT_DIGEST.to_owned(), tar_digest.to_string());
    ann.insert(ANNOTATION_UNPACK.to_owned(), "true".to_owned());
    ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
    desc.annotations = Some(ann);
    Ok(Packed::temp_file(desc, temp_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_refs_split_at_last_colon() {
        let cases = [
            ("a.txt", "a.txt", None),
            ("a.txt:text/plain", "a.txt", Some("text/plain")),
            ("hi:txt:", "hi:txt", None),
            (
                "/dev/null:application/vnd.unknown.config.v1+json",
                "/dev/null",
                Some("application/vnd.unknown.config.v1+json"),
            ),
        ];
        for (raw, path, mt) in cases {
            let f = parse_file_ref(raw).unwrap();
            assert_eq!(
                (f.path.as_str(), f.media_type.as_deref()),
                (path, mt),
                "{raw}"
            );
        }
        assert_eq!(
            parse_file_ref(":x").unwrap_err().to_string(),
            "found empty file path in \":x\""
        );
    }

    #[test]
    fn titles_are_cleaned() {
        for (path, title) in [
            ("./a/b/../c", "a/c"),
            ("foobar/bar", "foobar/bar"),
            ("/abs//x", "/abs/x"),
            ("../x", "../x"),
            ("dir/", "dir"),
        ] {
            assert_eq!(title_of(path), title, "{path}");
        }
    }
}
