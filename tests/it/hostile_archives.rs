//! Pushed directories arrive as tar+gzip layers that anyone may have built: entries that climb
//! out with `..`, absolute names, symlinks and hardlinks leading outside, device files and a
//! decompression bomb must all be refused, writing nothing outside (or inside) the output.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use sha2::{Digest as _, Sha256};

use crate::harness::{Output, Sandbox, sha256_hex, stop_with, tree};

/// The directory name the layers unpack to (their title).
const DIR: &str = "payload";

/// One tar entry, its name written raw (the tar crate's `set_path` refuses `..` and `/`).
#[derive(Clone, Copy)]
struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    link: Option<&'a str>,
    data: &'a [u8],
    mode: u32,
}

fn entry<'a>(name: &'a str, kind: tar::EntryType, data: &'a [u8]) -> Entry<'a> {
    Entry {
        name,
        kind,
        link: None,
        data,
        mode: if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        },
    }
}

fn with_mode(mode: u32, e: Entry<'_>) -> Entry<'_> {
    Entry { mode, ..e }
}

fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Entry<'a> {
    Entry {
        link: Some(target),
        ..entry(name, kind, b"")
    }
}

fn header(e: &Entry<'_>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(e.kind);
    h.set_size(e.data.len() as u64);
    h.set_mode(e.mode);
    h.set_mtime(1_700_000_000);
    if let Some(target) = e.link {
        h.set_link_name(target).expect("link name fits");
    }
    if e.kind == tar::EntryType::Char {
        // /dev/null's numbers.
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
    }
    let raw = &mut h.as_old_mut().name;
    assert!(e.name.len() < raw.len(), "entry name too long: {}", e.name);
    raw[..e.name.len()].copy_from_slice(e.name.as_bytes());
    h.set_cksum();
    h
}

/// The tar of `entries` and its gzip.
fn tar_gz(entries: &[Entry<'_>]) -> (Vec<u8>, Vec<u8>) {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        builder.append(&header(e), e.data).expect("append entry");
    }
    let tar = builder.into_inner().expect("finish tar");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    (tar, gz)
}

/// Writes an OCI image layout at `dir` whose manifest (tagged `v1`) has one directory layer
/// titled [`DIR`], as `oras push <dir>` makes it: `gz` is the layer, `tar_digest` the digest
/// of the tar inside it.
fn write_dir_layout(dir: &Path, gz: &[u8], tar_digest: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let blob = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let (config_digest, config_size) = blob(b"{}");
    let (layer_digest, layer_size) = blob(gz);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.unknown.artifact.v1",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": config_digest,
            "size": config_size,
            "data": "e30=",
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer_digest,
            "size": layer_size,
            "annotations": {
                "io.deis.oras.content.digest": tar_digest,
                "io.deis.oras.content.unpack": "true",
                "org.opencontainers.image.title": DIR,
            },
        }],
    }))
    .unwrap();
    let (manifest_digest, manifest_size) = blob(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    }))
    .unwrap();
    std::fs::write(dir.join("index.json"), index).unwrap();
}

/// Builds a layout from `entries` in the sandbox's `lay/` and pulls it into `out/`.
fn pull_archive(sb: &Sandbox, entries: &[Entry<'_>]) -> Output {
    pull_archive_in(sb, "", entries)
}

/// [`pull_archive`] run from `cwd` (relative to the work dir, created): `<cwd>/lay` into
/// `<cwd>/out`.
fn pull_archive_in(sb: &Sandbox, cwd: &str, entries: &[Entry<'_>]) -> Output {
    let (tar, gz) = tar_gz(entries);
    write_dir_layout(
        &sb.path(cwd).join("lay"),
        &gz,
        &format!("sha256:{}", sha256_hex(&tar)),
    );
    sb.oras()
        .cwd(cwd)
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .run()
}

/// The refusal is a clear error naming the entry, and nothing was written: the sandbox holds
/// only what it held before, and `out/` (if created) is empty.
#[track_caller]
fn assert_refused(sb: &Sandbox, out: &Output, names: &str) {
    assert_eq!(out.code, 1, "expected exit code 1\n{out}");
    out.error_first_line("Error");
    out.stderr_contains(names);
    assert_nothing_written(sb, out);
}

#[track_caller]
fn assert_nothing_written(sb: &Sandbox, out: &Output) {
    assert_nothing_written_in(sb, "", out);
}

/// [`assert_nothing_written`] for a pull run from `cwd` (as [`pull_archive_in`]).
#[track_caller]
fn assert_nothing_written_in(sb: &Sandbox, cwd: &str, out: &Output) {
    let work: PathBuf = Path::new("work").join(cwd).components().collect();
    let dir = |name: &str| format!("{}/", work.join(name).display());
    let (lay, out_dir) = (dir("lay"), dir("out"));
    let mut root = tree(sb.root());
    // Below lay/ is the input; below out/ is checked next.
    root.retain(|p| {
        ![&lay, &out_dir]
            .iter()
            .any(|d| p.starts_with(d.as_str()) && p != *d)
    });
    let mut expected: Vec<String> = ["docker/", "home/", lay.as_str()].map(str::to_owned).into();
    expected.extend(
        work.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .map(|a| format!("{}/", a.display())),
    );
    let out_path = sb.path(cwd).join("out");
    if out_path.exists() {
        expected.push(out_dir);
    }
    expected.sort_unstable();
    assert_eq!(root, expected, "nothing written outside out/\n{out}");
    if out_path.exists() {
        assert_eq!(
            tree(&out_path),
            Vec::<String>::new(),
            "no partial tree in out/\n{out}"
        );
    }
}

#[test]
fn benign_directory_archive_is_extracted_with_its_modes() {
    // The control: the same builder, with harmless entries, pulls fine.
    use std::os::unix::fs::PermissionsExt as _;
    use tar::EntryType as T;
    let sb = Sandbox::new();
    let dir = format!("{DIR}/");
    let sub = format!("{DIR}/sub/");
    let script = format!("{DIR}/sub/run.sh");
    let setuid = format!("{DIR}/setuid");
    let rel_link = format!("{DIR}/sub/again");
    let hard = format!("{DIR}/hard");
    let locked = format!("{DIR}/locked/");
    let locked_file = format!("{DIR}/locked/inside.txt");
    let out = pull_archive(
        &sb,
        &[
            with_mode(0o750, entry(&dir, T::Directory, b"")),
            with_mode(0o2751, entry(&sub, T::Directory, b"")),
            with_mode(0o555, entry(&locked, T::Directory, b"")),
            entry(&locked_file, T::Regular, b"in a read-only directory\n"),
            with_mode(0o755, entry(&script, T::Regular, b"#!/bin/sh\necho hi\n")),
            with_mode(0o4755, entry(&setuid, T::Regular, b"not really\n")),
            link(&rel_link, T::Symlink, "run.sh"),
            link(&hard, T::Link, &script),
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    let base = sb.path("out").join(DIR);
    assert_eq!(sb.read("out/payload/sub/again"), b"#!/bin/sh\necho hi\n");
    assert_eq!(sb.read("out/payload/hard"), b"#!/bin/sh\necho hi\n");
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(base.join("sub/run.sh")), 0o755, "modes are kept");
    assert_eq!(mode(base.join("setuid")), 0o755, "setuid is dropped");
    // Directories too, set once their content is in place.
    assert_eq!(mode(base.clone()), 0o750, "directory modes are kept");
    assert_eq!(mode(base.join("sub")), 0o751, "setgid is dropped");
    assert_eq!(mode(base.join("locked")), 0o555);
    assert_eq!(
        sb.read("out/payload/locked/inside.txt"),
        b"in a read-only directory\n"
    );
    std::fs::set_permissions(base.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn archive_entry_climbing_out_with_dot_dot_is_refused() {
    let sb = Sandbox::new();
    let name = format!("{DIR}/../../evil");
    let out = pull_archive(&sb, &[entry(&name, tar::EntryType::Regular, b"escaped\n")]);
    assert_refused(&sb, &out, "evil");
    assert!(!sb.path("evil").exists() && !sb.root().join("evil").exists());
}

#[test]
fn archive_entry_with_an_absolute_name_is_refused() {
    let sb = Sandbox::new();
    let target = sb.root().join("absolute").join("evil");
    let name = target.to_str().unwrap();
    let out = pull_archive(&sb, &[entry(name, tar::EntryType::Regular, b"abs\n")]);
    assert_refused(&sb, &out, "evil");
    assert!(!target.exists());
}

#[test]
fn archive_symlink_to_etc_followed_by_a_file_through_it_is_refused() {
    let sb = Sandbox::new();
    // A directory of our own stands in for /etc, so that a failure cannot touch the real one.
    let victim = sb.root().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let (link_name, through) = (format!("{DIR}/link"), format!("{DIR}/link/passwd"));
    let out = pull_archive(
        &sb,
        &[
            link(
                &link_name,
                tar::EntryType::Symlink,
                victim.to_str().unwrap(),
            ),
            entry(&through, tar::EntryType::Regular, b"root::0:0::/:/bin/sh\n"),
        ],
    );
    // `victim/` is the sandbox's own; `assert_refused` must not count it.
    std::fs::remove_dir(&victim).expect("victim/ stays empty");
    assert_refused(&sb, &out, "link");

    let sb = Sandbox::new();
    let out = pull_archive(
        &sb,
        &[
            link(&link_name, tar::EntryType::Symlink, "/etc"),
            entry(&through, tar::EntryType::Regular, b"root::0:0::/:/bin/sh\n"),
        ],
    );
    assert_refused(&sb, &out, "link");
}

#[test]
fn archive_hardlink_to_etc_passwd_is_refused() {
    let sb = Sandbox::new();
    let name = format!("{DIR}/passwd");
    let out = pull_archive(&sb, &[link(&name, tar::EntryType::Link, "/etc/passwd")]);
    assert_refused(&sb, &out, "passwd");
}

#[test]
fn archive_character_device_is_refused() {
    let sb = Sandbox::new();
    let name = format!("{DIR}/null");
    let out = pull_archive(&sb, &[entry(&name, tar::EntryType::Char, b"")]);
    assert_refused(&sb, &out, "null");
}

/// The working directory of the symbolic-link-chain pulls: deep enough that the chain's kernel
/// target, eight levels up from the staging root, is still inside the sandbox (the work dir).
const DEEP: &str = "l1/l2/l3/l4";

/// `<DIR>/a -> .`, `<DIR>/b -> a/..`, … `<DIR>/h -> g/..`: each target stays inside lexically,
/// but the kernel climbs one level per link, so `h` is eight levels above the extraction root.
/// `reversed` creates `h` first, so that no link exists yet when the next one is checked.
fn symlink_chain(reversed: bool) -> Vec<(String, String)> {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let mut chain: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let target = if i == 0 {
                ".".to_owned()
            } else {
                format!("{}/..", names[i - 1])
            };
            (format!("{DIR}/{name}"), target)
        })
        .collect();
    if reversed {
        chain.reverse();
    }
    chain
}

fn symlinks(chain: &[(String, String)]) -> Vec<Entry<'_>> {
    chain
        .iter()
        .map(|(name, target)| link(name, tar::EntryType::Symlink, target))
        .collect()
}

/// Every path named `name` below `dir`, symbolic links not followed.
fn find_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            found.push(path.clone());
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(find_named(&path, name));
        }
    }
    found
}

/// The pull failed with one `Error:` line about a symbolic link, no `PWNED.txt` exists in the
/// sandbox or beside any of its ancestors, and nothing was written.
#[track_caller]
fn assert_chain_refused(sb: &Sandbox, out: &Output) {
    assert_eq!(out.code, 1, "expected exit code 1\n{out}");
    out.error_first_line("Error:");
    let errors = out.stderr.lines().filter(|l| l.starts_with("Error:"));
    assert_eq!(errors.count(), 1, "one error line\n{out}");
    out.stderr_contains("symbolic link");
    assert_eq!(
        find_named(sb.root(), "PWNED.txt"),
        Vec::<PathBuf>::new(),
        "{out}"
    );
    for dir in sb.root().ancestors() {
        assert!(
            std::fs::symlink_metadata(dir.join("PWNED.txt")).is_err(),
            "PWNED.txt in {}\n{out}",
            dir.display()
        );
    }
    assert_nothing_written_in(sb, DEEP, out);
}

#[test]
fn archive_symlink_chain_climbing_out_through_dot_dot_is_refused() {
    // GHSA-m37j-52j7-pjw7: links that look inside one by one, then a file written through them.
    for reversed in [false, true] {
        let sb = Sandbox::new();
        let chain = symlink_chain(reversed);
        let through = format!("{DIR}/h/PWNED.txt");
        let mut entries = symlinks(&chain);
        entries.push(entry(&through, tar::EntryType::Regular, b"pwned\n"));
        let out = pull_archive_in(&sb, DEEP, &entries);
        assert_chain_refused(&sb, &out);
    }
}

#[test]
fn archive_hardlink_through_a_symlink_chain_is_refused() {
    // A hard link whose source path passes through symbolic links leading outside.
    let sb = Sandbox::new();
    let secret = sb.write("secret.txt", "secret\n");
    let chain = symlink_chain(true);
    let (name, source) = (format!("{DIR}/stolen"), format!("{DIR}/h/secret.txt"));
    let mut entries = symlinks(&chain);
    entries.push(link(&name, tar::EntryType::Link, &source));
    let out = pull_archive_in(&sb, DEEP, &entries);
    assert_eq!(out.code, 1, "expected exit code 1\n{out}");
    out.error_first_line("Error:");
    out.stderr_contains("symbolic link");
    {
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1, "{out}");
    }
    assert_eq!(sb.read("secret.txt"), b"secret\n");
    std::fs::remove_file(secret).unwrap();
    assert_nothing_written_in(&sb, DEEP, &out);
}

#[test]
fn archive_file_entry_over_a_symlink_replaces_it_instead_of_writing_through() {
    // A file entry whose path already holds a symbolic link (later entries win, as in tar).
    use tar::EntryType as T;
    let sb = Sandbox::new();
    let (x, x_target) = (format!("{DIR}/x"), "y");
    let out = pull_archive(
        &sb,
        &[
            link(&x, T::Symlink, x_target),
            entry(&x, T::Regular, b"a file now\n"),
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    let x_path = sb.path("out").join(DIR).join("x");
    assert!(
        std::fs::symlink_metadata(&x_path).unwrap().is_file(),
        "{out}"
    );
    assert_eq!(sb.read("out/payload/x"), b"a file now\n");
    assert!(!sb.path("out/payload/y").exists(), "not written through x");

    // The link is planted before the chain exists, so it passes every check on its own.
    let sb = Sandbox::new();
    let esc = format!("{DIR}/esc");
    let chain = symlink_chain(true);
    let mut entries = vec![link(&esc, T::Symlink, "h/PWNED.txt")];
    entries.extend(symlinks(&chain));
    entries.push(entry(&esc, T::Regular, b"pwned\n"));
    let out = pull_archive_in(&sb, DEEP, &entries);
    assert_chain_refused(&sb, &out);
}

/// Raw-deflates `input` with `flush`, all in one call.
fn deflate(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 64 + 4096);
    let before = c.total_in();
    let status = c.compress_vec(input, &mut out, flush).expect("deflate");
    assert_eq!(c.total_in() - before, input.len() as u64, "all input taken");
    assert!(matches!(status, Status::Ok | Status::StreamEnd));
    out
}

/// A tar+gzip holding `<DIR>/zeros`, a 1 GiB zero-filled file, and the tar's digest. Full
/// flushes reset the compressor, so one compressed MiB of zeros is repeated 1024 times instead
/// of compressing a GiB; the CRC is combined the same way.
fn zip_bomb() -> (Vec<u8>, String) {
    const MIB: usize = 1 << 20;
    const GIB: u64 = 1 << 30;
    let name = format!("{DIR}/zeros");
    let mut h = header(&entry(&name, tar::EntryType::Regular, b""));
    h.set_size(GIB);
    h.set_cksum();
    let head = h.as_bytes();
    let zeros = vec![0u8; MIB];
    // A tar ends with two zero blocks: 1 GiB of data, then 1024 more zeros.
    let tail = &zeros[..1024];

    let mut c = Compress::new(Compression::best(), false);
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
    gz.extend(deflate(&mut c, head, FlushCompress::Full));
    let chunk = deflate(&mut c, &zeros, FlushCompress::Full);
    assert_eq!(
        deflate(&mut c, &zeros, FlushCompress::Full),
        chunk,
        "a full flush must reset the compressor"
    );
    for _ in 0..GIB / MIB as u64 {
        gz.extend_from_slice(&chunk);
    }
    gz.extend(deflate(&mut c, tail, FlushCompress::Finish));

    let mut crc = Crc::new();
    crc.update(head);
    let mut zero_crc = Crc::new();
    zero_crc.update(&zeros);
    let mut sha = Sha256::new();
    sha.update(head);
    for _ in 0..GIB / MIB as u64 {
        crc.combine(&zero_crc);
        sha.update(&zeros);
    }
    crc.update(tail);
    sha.update(tail);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&crc.amount().to_le_bytes());
    (gz, format!("sha256:{}", hex::encode(sha.finalize())))
}

/// Pulls the sandbox's `lay:v1` into `out/` and expects it to fail with one `Error` line.
#[track_caller]
fn pull_refused(sb: &Sandbox) -> Output {
    let out = sb
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .run();
    assert_eq!(out.code, 1, "expected exit code 1\n{out}");
    out.error_first_line("Error");
    out
}

#[test]
fn decompression_bomb_is_refused_beyond_the_expansion_limit() {
    let sb = Sandbox::new();
    let (gz, tar_digest) = zip_bomb();
    assert!(
        gz.len() < 8 << 20,
        "1 GiB compresses to a few MiB: {}",
        gz.len()
    );
    write_dir_layout(&sb.path("lay"), &gz, &tar_digest);
    let out = pull_refused(&sb);
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains("limit") || stderr.contains("expan"),
        "stderr names the expansion limit\n{out}"
    );
    assert_nothing_written(&sb, &out);
}

#[test]
fn a_symlink_already_in_the_output_directory_is_not_merged_through() {
    // GHSA-8xwf: the output directory holds `payload/sub -> <outside>`; the archive's
    // `payload/sub/` is merged into the existing `payload/`, but never through the link.
    use tar::EntryType as T;
    let sb = Sandbox::new();
    let outside = sb.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(sb.path("out").join(DIR)).unwrap();
    std::os::unix::fs::symlink(&outside, sb.path("out").join(DIR).join("sub")).unwrap();
    let dir = format!("{DIR}/");
    let sub = format!("{DIR}/sub/");
    let file = format!("{DIR}/sub/planted.txt");
    let out = pull_archive(
        &sb,
        &[
            entry(&dir, T::Directory, b""),
            entry(&sub, T::Directory, b""),
            entry(&file, T::Regular, b"must not land outside\n"),
        ],
    );
    assert_eq!(out.code, 1, "{out}");
    out.error_first_line("Error");
    out.stderr_contains("refusing to write through the symbolic link already there");
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing may be written through the link\n{out}"
    );
}

/// The tar inside must be the one the layer's `io.deis.oras.content.digest` names: an archive
/// that differs (here by one byte of a file, after the gzip's own digest checked out) is
/// refused as Go refuses it, and nothing reaches the output directory.
#[test]
fn an_archive_whose_tar_differs_from_its_content_digest_is_refused() {
    let sb = Sandbox::new();
    let big = vec![b'x'; 600 << 10];
    let entries = [
        entry("payload/", tar::EntryType::Directory, b""),
        entry("payload/big.bin", tar::EntryType::Regular, &big),
        entry("payload/small.txt", tar::EntryType::Regular, b"small\n"),
    ];
    let (_, gz) = tar_gz(&entries);
    let mut other = big.clone();
    other[300 << 10] = b'y';
    let (other_tar, _) = tar_gz(&[
        entries[0],
        entry("payload/big.bin", tar::EntryType::Regular, &other),
        entries[2],
    ]);
    write_dir_layout(
        &sb.path("lay"),
        &gz,
        &format!("sha256:{}", sha256_hex(&other_tar)),
    );
    let out = pull_refused(&sb);
    out.stderr_contains("content digest mismatch");
    assert_nothing_written(&sb, &out);

    // The same archive named by its own tar's digest is pulled.
    let (tar, _) = tar_gz(&entries);
    write_dir_layout(
        &sb.path("good"),
        &gz,
        &format!("sha256:{}", sha256_hex(&tar)),
    );
    sb.oras()
        .args(["pull", "--oci-layout", "good:v1", "-o", "out2"])
        .success();
    assert_eq!(sb.read("out2/payload/big.bin"), big);
}

/// Ctrl-C or SIGTERM while a directory is being extracted stops the extraction and removes
/// what the pull made (the downloaded archive, the staging directory), as for a file.
#[test]
fn a_signal_during_a_directory_extraction_leaves_nothing() {
    // Regression: the extraction ran on a thread that outlived the interrupted command, so
    // `.oras-pull-*` and `.oras-unpack-*` stayed in the output directory.
    let names: Vec<String> = (0..40_000)
        .map(|i| format!("{DIR}/d{:02}/f{i:05}", i % 64))
        .collect();
    let entries: Vec<Entry<'_>> = names
        .iter()
        .map(|n| entry(n, tar::EntryType::Regular, b"x"))
        .collect();
    let (tar, gz) = tar_gz(&entries);
    for (signal, code, says) in [("INT", 130, "interrupted"), ("TERM", 143, "terminated")] {
        let sb = Sandbox::new();
        write_dir_layout(
            &sb.path("lay"),
            &gz,
            &format!("sha256:{}", sha256_hex(&tar)),
        );
        let out_dir = sb.path("out");
        std::fs::create_dir(&out_dir).unwrap();
        let mut child = sb.spawn_oras(["pull", "--oci-layout", "lay:v1", "-o", "out"]);
        // Wait until the extraction has written some files into its staging directory.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let staged = std::fs::read_dir(&out_dir).unwrap().flatten().any(|e| {
                e.file_name().to_string_lossy().starts_with(".oras-unpack-")
                    && tree(&e.path()).len() > 100
            });
            if staged {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the extraction never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        stop_with(&mut child, signal, code, says);
        let left = tree(&out_dir);
        assert!(
            left.is_empty(),
            "SIG{signal} left {} entries: {:?}",
            left.len(),
            &left[..left.len().min(5)]
        );
    }
}
