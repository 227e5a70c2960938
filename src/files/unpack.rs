//! Writing pulled layers: paths confined to the output directory, bytes verified while they
//! stream into a temp file that is renamed into place only once complete, and directory
//! archives extracted into a staging directory before they are moved in.

use std::path::{Component, Path, PathBuf};

use crate::oci::{ANNOTATION_CONTENT_DIGEST, Descriptor, Hasher};
use crate::transfer::{Fetch, download_verified};

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
}

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

/// Downloads a directory layer (tar+gzip), verifies it, extracts it into a staging directory
/// (checking every entry and the tar digest) and then moves the tree into `dest`.
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
    download_verified(fetch, file, desc, progress)
        .await
        .map_err(io(dest))?;
    let expected_tar = desc
        .annotation(ANNOTATION_CONTENT_DIGEST)
        .map(str::to_owned);
    let gzipped = desc.media_type.ends_with("gzip");
    let max_unpacked = unpack_limit(desc.size);
    let (title, dest) = (title.to_owned(), dest.to_owned());
    tokio::task::spawn_blocking(move || {
        let staging = tempfile::Builder::new()
            .prefix(".oras-unpack-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        let file = std::fs::File::open(archive.path()).map_err(io(&dest))?;
        let raw: Box<dyn std::io::Read> = if gzipped {
            Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
        } else {
            Box::new(std::io::BufReader::new(file))
        };
        let mut hashing = HashingReader {
            inner: raw,
            hasher: Hasher::new(),
        };
        let dir_modes = extract(&mut hashing, &title, staging.path(), max_unpacked)?;
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io(&dest))?;
        let (digest, _) = hashing.hasher.finish();
        if let Some(want) = expected_tar
            && want != digest.to_string()
        {
            return Err(WriteError::ContentDigest(dest.display().to_string()));
        }
        // Directories that were there before keep their modes; new ones get the archive's.
        let created: Vec<(PathBuf, u32)> = dir_modes
            .into_iter()
            .map(|(rel, mode)| (dest.join(rel), mode))
            .filter(|(path, _)| std::fs::symlink_metadata(path).is_err())
            .collect();
        merge_into(&staging.path().join("root"), &dest, opts)?;
        set_dir_modes(created);
        Ok(())
    })
    .await
    .map_err(|e| WriteError::Unsafe(e.to_string()))?
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
    extract(&mut std::io::BufReader::new(file), "", dest, size)?;
    Ok(dest.join("root"))
}

struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
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
fn extract(
    reader: &mut dyn std::io::Read,
    title: &str,
    staging: &Path,
    max_unpacked: u64,
) -> Result<Vec<(PathBuf, u32)>, WriteError> {
    let mut dir_modes = Vec::new();
    let mut unpacked: u64 = 0;
    let too_big = || {
        WriteError::Unsafe(format!(
            "the archive expands beyond {max_unpacked} bytes: refusing it as a decompression bomb"
        ))
    };
    let root = staging.join("root");
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(io(staging))?;
    for entry in entries {
        let mut entry = entry.map_err(io(staging))?;
        let name = entry.path().map_err(io(staging))?.into_owned();
        let shown = name.display().to_string();
        let rel = entry_rel(&name, title)
            .ok_or_else(|| WriteError::Unsafe(format!("{shown:?} is outside of {title:?}")))?;
        let dest = root.join(&rel);
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&dest).map_err(io(&dest))?;
                if let Ok(mode) = entry.header().mode() {
                    dir_modes.push((rel, mode));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                unpacked += write_entry_file(&mut entry, &dest, max_unpacked - unpacked)
                    .map_err(|e| e.unwrap_or_else(too_big))?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(io(&dest))?
                    .ok_or_else(|| {
                        WriteError::Unsafe(format!("{shown:?}: symlink without target"))
                    })?
                    .into_owned();
                let resolved = clean(&dest.parent().unwrap_or(&root).join(&target));
                if target.is_absolute() || !resolved.starts_with(&root) {
                    return Err(WriteError::Unsafe(format!(
                        "no symbolic link allowed between {shown:?} and {:?}",
                        target.display().to_string()
                    )));
                }
                if let Some(p) = dest.parent() {
                    std::fs::create_dir_all(p).map_err(io(p))?;
                }
                std::os::unix::fs::symlink(&target, &dest).map_err(io(&dest))?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(io(&dest))?
                    .ok_or_else(|| {
                        WriteError::Unsafe(format!("{shown:?}: hard link without target"))
                    })?
                    .into_owned();
                let rel_target = entry_rel(&target, title).ok_or_else(|| {
                    WriteError::Unsafe(format!(
                        "{:?} is outside of {title:?}",
                        target.display().to_string()
                    ))
                })?;
                let source = root.join(rel_target);
                let meta = std::fs::symlink_metadata(&source).map_err(io(&source))?;
                if !meta.is_file() {
                    return Err(WriteError::Unsafe(format!(
                        "{shown:?}: hard link to a non-regular file"
                    )));
                }
                std::fs::hard_link(&source, &dest).map_err(io(&dest))?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            other => {
                return Err(WriteError::Unsafe(format!(
                    "{shown:?}: unsupported entry type {other:?}"
                )));
            }
        }
    }
    Ok(dir_modes)
}

/// Writes a regular file entry with its mode (without setuid/setgid/sticky, which the Go client
/// also drops; unlike it, the other bits are kept). `Err(None)` when it would exceed `room`
/// bytes.
fn write_entry_file(
    entry: &mut tar::Entry<'_, &mut dyn std::io::Read>,
    dest: &Path,
    room: u64,
) -> Result<u64, Option<WriteError>> {
    if entry.header().size().unwrap_or(u64::MAX) > room {
        return Err(None);
    }
    if let Some(p) = dest.parent() {
        std::fs::create_dir_all(p).map_err(|e| Some(io(p)(e)))?;
    }
    let mut out = std::fs::File::create(dest).map_err(|e| Some(io(dest)(e)))?;
    let n = std::io::copy(
        &mut std::io::Read::take(&mut *entry, room.saturating_add(1)),
        &mut out,
    )
    .map_err(|e| Some(io(dest)(e)))?;
    if n > room {
        return Err(None);
    }
    if let Ok(mode) = entry.header().mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode & 0o777));
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
                if is_dir && to.is_dir() {
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
}
