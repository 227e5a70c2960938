//! Packing: hashing files in one streaming pass (copying them into a spool on the way when the
//! target takes spools), and directories into tar+gzip spools carrying the
//! `io.deis.oras.content.*` annotations the Go client writes.

use std::io::Write as _;
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
use crate::target::Spooler;
use crate::transfer::{Blob, Source, Spool};

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

/// Files at least this large are hashed while they upload (or are copied into a layout)
/// instead of before: one read of the file on the critical path instead of two.
const HASH_WHILE_UPLOADING: u64 = 32 << 20;

/// Where packing writes: the temp files it must make (a directory's archive, stdin), and
/// whether it copies the files it hashes there too.
#[derive(Clone)]
pub struct PackTo {
    spooler: Arc<dyn Spooler>,
    /// The target takes a spool by rename (an OCI layout): a file copied into one as it is
    /// hashed is read once, where a hash and then a copy would read it twice.
    spool_files: bool,
}

impl PackTo {
    /// For `target`: an OCI layout spools beside its blobs, anything else in the system's temp
    /// directory.
    #[must_use]
    pub fn for_target(target: &dyn crate::target::Target) -> Self {
        match target.spooler() {
            Some(spooler) => Self {
                spooler,
                spool_files: true,
            },
            None => Self {
                spooler: Arc::new(SystemTemp),
                spool_files: false,
            },
        }
    }
}

/// Spools in the system's temp directory.
struct SystemTemp;

impl Spooler for SystemTemp {
    fn temp_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new().prefix("oras_file_").tempfile()
    }
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

/// Packs a file or directory as a layer titled `title` (the reading runs on a blocking
/// thread).
pub async fn pack_path(
    path: PathBuf,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
    to: &PackTo,
) -> std::io::Result<Blob> {
    let to = to.clone();
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            return pack_dir(&path, title, media_type, annotations, to.spooler.as_ref());
        }
        let media_type = media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER.to_owned());
        let mut ann = annotations;
        ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
        if meta.len() >= HASH_WHILE_UPLOADING {
            return Ok(Blob::Unhashed {
                path,
                size: meta.len(),
                media_type,
                annotations: ann,
            });
        }
        let (mut desc, source) = read_file(path, meta.len(), media_type, &to)?;
        desc.annotations = Some(ann);
        Ok(Blob::Ready { desc, source })
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Packs what `reader` (stdin) gives as a layer titled `title`. The bytes are spooled into a
/// temp file while they are hashed: nothing is held in memory, and an upload can be retried
/// from the file.
pub async fn pack_reader<R: std::io::Read + Send + 'static>(
    reader: R,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
    to: &PackTo,
) -> std::io::Result<Blob> {
    let media_type = media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER.to_owned());
    let (mut desc, source) = pack_bytes_reader(reader, media_type, to).await?;
    let mut ann = annotations;
    ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
    desc.annotations = Some(ann);
    Ok(Blob::Ready { desc, source })
}

/// Packs what `reader` gives as a blob without a title (`blob push -`), spooled as
/// `pack_reader` does.
pub async fn pack_bytes_reader<R: std::io::Read + Send + 'static>(
    mut reader: R,
    media_type: String,
    to: &PackTo,
) -> std::io::Result<(Descriptor, Source)> {
    let spooler = Arc::clone(&to.spooler);
    tokio::task::spawn_blocking(move || {
        let spool = Head::read(&mut reader, u64::MAX)?.spool(&mut reader, spooler.as_ref())?;
        let desc = Descriptor::new(media_type, spool.digest().clone(), spool.size());
        Ok((desc, Source::Spooled(Arc::new(spool))))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Packs a file as a blob without a title (a config, `blob push`), read once.
pub async fn pack_bytes_file(
    path: PathBuf,
    media_type: String,
    to: &PackTo,
) -> std::io::Result<(Descriptor, Source)> {
    let to = to.clone();
    tokio::task::spawn_blocking(move || read_file(path, u64::MAX, media_type, &to))
        .await
        .map_err(std::io::Error::other)?
}

/// Reads the file at `path` (about `size` bytes) once: hashes it where it is, or copies it
/// into a spool as it is hashed when the target takes spools (unless the target turns out to
/// hold it already: then the file is never read again).
fn read_file(
    path: PathBuf,
    size: u64,
    media_type: String,
    to: &PackTo,
) -> std::io::Result<(Descriptor, Source)> {
    let mut file = std::fs::File::open(&path)?;
    let head = Head::read(&mut file, size)?;
    let (digest, size, source) = match head.whole {
        Some((digest, size)) if !to.spool_files || to.spooler.holds(&digest, size) => {
            (digest, size, Source::File(path))
        }
        _ if to.spool_files => {
            let spool = head.spool(&mut file, to.spooler.as_ref())?;
            (
                spool.digest().clone(),
                spool.size(),
                Source::Spooled(Arc::new(spool)),
            )
        }
        _ => {
            let (digest, size) = head.rest(&mut file, |_| Ok(()))?;
            (digest, size, Source::File(path))
        }
    };
    Ok((Descriptor::new(media_type, digest, size), source))
}

/// The start of some content, read into a buffer and hashed.
struct Head {
    buf: Vec<u8>,
    filled: usize,
    hasher: Hasher,
    /// The digest and size of the whole content, when it fit in the buffer (a small file):
    /// known before anything is written.
    whole: Option<(crate::oci::Digest, u64)>,
}

impl Head {
    /// Reads the start of `reader` (about `size` bytes) into a buffer of up to 1 MiB; a small
    /// file gets one a byte larger than itself, so that one fill finds its end (many small files
    /// are packed one after another).
    fn read(reader: &mut impl std::io::Read, size: u64) -> std::io::Result<Self> {
        let mut buf = vec![0u8; size.saturating_add(1).clamp(64 << 10, 1 << 20) as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let mut hasher = Hasher::new();
        hasher.update(&buf[..filled]);
        let whole = (filled < buf.len()).then(|| hasher.clone().finish());
        Ok(Self {
            buf,
            filled,
            hasher,
            whole,
        })
    }

    /// Writes this and the rest of `reader` into a new spool, hashing the rest on the way.
    fn spool(
        self,
        reader: &mut impl std::io::Read,
        spooler: &dyn Spooler,
    ) -> std::io::Result<Spool> {
        let (mut file, temp_path) = spooler.temp_file()?.into_parts();
        file.write_all(&self.buf[..self.filled])?;
        let (digest, size) = self.rest(reader, |bytes| file.write_all(bytes))?;
        Ok(Spool::new(temp_path, digest, size))
    }

    /// Reads and hashes the rest of `reader`, handing each piece to `sink` once it is hashed;
    /// returns the digest and size of the whole content.
    fn rest(
        self,
        reader: &mut impl std::io::Read,
        sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<(crate::oci::Digest, u64)> {
        if let Some(whole) = self.whole {
            return Ok(whole);
        }
        let Self {
            mut buf, hasher, ..
        } = self;
        read_hashed(reader, &mut buf, hasher, sink)
    }
}

pub(crate) fn hash_file(path: &Path) -> std::io::Result<(crate::oci::Digest, u64)> {
    let mut file = std::fs::File::open(path)?;
    read_hashed(
        &mut file,
        &mut vec![0u8; 1 << 20],
        Hasher::new(),
        |_| Ok(()),
    )
}

/// Reads the rest of `reader` through `buf`, adding it to `hasher` and handing each piece to
/// `sink` once it is hashed.
fn read_hashed(
    reader: &mut impl std::io::Read,
    buf: &mut [u8],
    mut hasher: Hasher,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<(crate::oci::Digest, u64)> {
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        sink(&buf[..n])?;
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

/// Appends the directory `src` as `name` and everything under it, in the order Go's
/// `filepath.Walk` visits them (each directory before its entries, entries sorted by name), so
/// that a directory makes the same archive on any file system: `append_dir_all` takes them in
/// the order the file system lists them. Symbolic links are stored as links.
fn append_tree<W: std::io::Write>(
    builder: &mut tar::Builder<W>,
    name: &Path,
    src: &Path,
) -> std::io::Result<()> {
    let mut stack = vec![(name.to_path_buf(), src.to_path_buf())];
    while let Some((name, src)) = stack.pop() {
        let meta = std::fs::symlink_metadata(&src)?;
        if meta.is_dir() {
            // Named with a trailing `/`, as Go's `tar.FileInfoHeader` names a directory.
            builder.append_dir(name.join(""), &src)?;
            let mut entries = std::fs::read_dir(&src)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<std::io::Result<Vec<_>>>()?;
            // Popped last first: pushed in reverse to come out in order.
            entries.sort_unstable_by(|a, b| b.cmp(a));
            stack.extend(entries.into_iter().map(|e| (name.join(&e), src.join(&e))));
        } else if meta.is_file() || meta.file_type().is_symlink() {
            builder.append_path_with_name(&src, &name)?;
        } else {
            // A FIFO or a device: its header alone (`append_path_with_name` would name it by
            // its source path).
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
            header.set_size(0);
            builder.append_data(&mut header, &name, std::io::empty())?;
        }
    }
    Ok(())
}

/// tar (entries named `<title>/…`) → gzip (level 6, as Go's `compress/gzip` default; blocks
/// compressed in parallel) → a spool, hashing the tar and the gzip streams in the same pass.
fn pack_dir(
    path: &Path,
    title: String,
    media_type: Option<String>,
    annotations: Annotations,
    spooler: &dyn Spooler,
) -> std::io::Result<Blob> {
    let (file, temp_path) = spooler.temp_file()?.into_parts();
    let gz_hashing = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let gz: ParCompress<'static, Gzip, _> = ParCompressBuilder::new()
        .buffer_size(GZIP_BLOCK)
        .and_then(|b| b.num_threads(gzip_threads()))
        .map_err(std::io::Error::other)?
        .compression_level(Compression::default())
        .from_writer(gz_hashing);
    let mut builder = tar::Builder::new(HashingWriter::new(gz));
    builder.follow_symlinks(false);
    if let Err(e) = append_tree(&mut builder, Path::new(&title), path) {
        // Stopped here rather than when dropped, where a failure would panic.
        let _ = builder.get_mut().get_mut().finish();
        return Err(e);
    }
    let (mut gz, tar_digest, _) = builder.into_inner()?.into_parts();
    let gz_hashing = gz.finish().map_err(std::io::Error::other)?;
    let (mut writer, gz_digest, gz_size) = gz_hashing.into_parts();
    writer.flush()?;
    let mut desc = Descriptor::new(
        media_type.unwrap_or_else(|| MEDIA_TYPE_LAYER_GZIP.to_owned()),
        gz_digest.clone(),
        gz_size,
    );
    let mut ann = annotations;
    ann.insert(ANNOTATION_CONTENT_DIGEST.to_owned(), tar_digest.to_string());
    ann.insert(ANNOTATION_UNPACK.to_owned(), "true".to_owned());
    ann.entry(ANNOTATION_TITLE.to_owned()).or_insert(title);
    desc.annotations = Some(ann);
    Ok(Blob::Ready {
        desc,
        source: Source::Spooled(Arc::new(Spool::new(temp_path, gz_digest, gz_size))),
    })
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
    fn files_are_read_once_and_spooled_unless_the_target_holds_them() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// Counts the spools made; holds every blob when `held`.
        struct Counting {
            made: AtomicUsize,
            held: bool,
        }
        impl Spooler for Counting {
            fn temp_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
                self.made.fetch_add(1, Ordering::Relaxed);
                tempfile::NamedTempFile::new()
            }
            fn holds(&self, _digest: &crate::oci::Digest, _size: u64) -> bool {
                self.held
            }
        }
        // Small files are hashed before anything is written; one larger than the read buffer
        // is spooled as it is read, whatever the target holds.
        for (size, held, spooled) in [
            (0, false, true),
            (64 << 10, false, true),
            (64 << 10, true, false),
            ((1 << 20) - 1, true, false),
            (3 << 20, true, true),
        ] {
            let content: Vec<u8> = (0..size).map(|i: u32| (i % 251) as u8).collect();
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &content).unwrap();
            let spooler = Arc::new(Counting {
                made: AtomicUsize::new(0),
                held,
            });
            let to = PackTo {
                spooler: spooler.clone(),
                spool_files: true,
            };
            let (desc, source) =
                read_file(file.path().to_owned(), u64::from(size), "x".into(), &to).unwrap();
            assert_eq!(desc, Descriptor::for_bytes("x", &content), "{size}");
            assert_eq!(spooler.made.load(Ordering::Relaxed), usize::from(spooled));
            match source {
                Source::Spooled(spool) => {
                    assert!(spooled, "{size}");
                    assert!(std::fs::read(spool.path()).unwrap() == content, "{size}");
                }
                Source::File(path) => assert!(!spooled && path == file.path(), "{size}"),
                Source::Bytes(_) => panic!("{size}: held in memory"),
            }
        }
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
