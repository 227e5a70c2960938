//! Push and pull against OCI image layouts on disk, with no registry involved; directories as
//! gzipped tar layers; pulls leave nothing but the pulled files behind.

use std::io::Read as _;
use std::path::Path;

use crate::harness::{
    Fifo, Sandbox, assert_layout_blobs_valid, layout_blob_hex, layout_manifest, registry,
    sha256_hex, tree,
};

#[test]
fn layout_push_then_pull_round_trips_files() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "first file\n");
    sandbox.write("b.txt", "second file\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "./lay:v1", "a.txt", "b.txt"])
        .success();
    push.assert_line("Pushed [oci-layout] ./lay:v1");

    let lay = sandbox.path("lay");
    let layout_marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lay.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(layout_marker["imageLayoutVersion"], "1.0.0");
    assert_layout_blobs_valid(&lay);
    let (bytes, manifest) = layout_manifest(&lay, "v1");
    assert_eq!(sha256_hex(&bytes), push.digest_line());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lay.join("index.json")).unwrap()).unwrap();
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(entry["size"], bytes.len());
    let titles: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["annotations"]["org.opencontainers.image.title"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(titles, ["a.txt", "b.txt"], "layers keep argument order");

    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "./lay:v1", "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/a.txt"), b"first file\n");
    assert_eq!(sandbox.read("out/b.txt"), b"second file\n");
    assert_eq!(tree(&sandbox.path("out")), ["a.txt", "b.txt"]);
    pull.assert_line("Pulled [oci-layout] ./lay:v1");
    assert_eq!(pull.digest_line(), push.digest_line());
}

fn write_sample_tree(sandbox: &Sandbox) {
    sandbox.write("mydir/top.txt", "top level\n");
    sandbox.write("mydir/sub/inner.txt", "nested file\n");
    sandbox.write("mydir/sub/deeper/bin.dat", [0u8, 1, 2, 3, 255, 254]);
    std::fs::create_dir_all(sandbox.path("mydir/empty")).unwrap();
}

fn assert_sample_tree(root: &Path) {
    assert_eq!(
        tree(root),
        [
            "mydir/",
            "mydir/empty/",
            "mydir/sub/",
            "mydir/sub/deeper/",
            "mydir/sub/deeper/bin.dat",
            "mydir/sub/inner.txt",
            "mydir/top.txt",
        ]
    );
    assert_eq!(
        std::fs::read(root.join("mydir/top.txt")).unwrap(),
        b"top level\n"
    );
    assert_eq!(
        std::fs::read(root.join("mydir/sub/inner.txt")).unwrap(),
        b"nested file\n"
    );
    assert_eq!(
        std::fs::read(root.join("mydir/sub/deeper/bin.dat")).unwrap(),
        [0u8, 1, 2, 3, 255, 254]
    );
}

#[test]
fn layout_directory_push_then_pull_restores_the_tree() {
    let sandbox = Sandbox::new();
    write_sample_tree(&sandbox);
    sandbox
        .oras()
        .args(["push", "--oci-layout", "./lay:dir", "mydir"])
        .success();

    let lay = sandbox.path("lay");
    assert_layout_blobs_valid(&lay);
    let (_, manifest) = layout_manifest(&lay, "dir");
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    let layer = &layers[0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(
        layer["annotations"]["org.opencontainers.image.title"],
        "mydir"
    );
    assert_eq!(layer["annotations"]["io.deis.oras.content.unpack"], "true");

    // The content digest annotation is the sha256 of the uncompressed tar.
    let gz = std::fs::read(
        lay.join("blobs/sha256")
            .join(layout_blob_hex(layer["digest"].as_str().unwrap())),
    )
    .unwrap();
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut tar)
        .expect("layer is gzip");
    assert_eq!(
        layer["annotations"]["io.deis.oras.content.digest"],
        format!("sha256:{}", sha256_hex(&tar))
    );
    let mut names: Vec<String> = tar::Archive::new(tar.as_slice())
        .entries()
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches('/')
                .to_owned()
        })
        .collect();
    names.sort();
    assert!(
        names.contains(&"mydir/sub/inner.txt".to_owned()),
        "tar entries: {names:?}"
    );

    sandbox
        .oras()
        .args(["pull", "--oci-layout", "./lay:dir", "-o", "out"])
        .success();
    assert_sample_tree(&sandbox.path("out"));
}

#[test]
fn registry_directory_push_then_pull_restores_the_tree() {
    let registry = registry();
    let sandbox = Sandbox::new();
    write_sample_tree(&sandbox);
    let reference = registry.reference("layout/dir:v1");
    sandbox.oras().args(["push", &reference, "mydir"]).success();
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_sample_tree(&sandbox.path("out"));
}

#[test]
fn a_directory_pushed_with_its_own_media_type_pulls_back() {
    // Regression: oras.land's guide pushes `./docs/:application/vnd.acme.rocket.docs.layer.v1+tar`;
    // the layer is tar+gzip whatever its media type, and pull read it as a plain tar ("failed to
    // read entire block") because it judged by the media type's `gzip` suffix.
    let sandbox = Sandbox::new();
    write_sample_tree(&sandbox);
    let media_type = "application/vnd.acme.rocket.docs.layer.v1+tar";
    for (reference, target) in [
        (registry().reference("layout/dir-typed:v1"), None),
        ("typed:v1".to_owned(), Some("--oci-layout")),
    ] {
        let flags: Vec<&str> = target.into_iter().collect();
        sandbox
            .oras()
            .args(["push", &reference, &format!("mydir/:{media_type}")])
            .args(&flags)
            .success();
        let out_dir = format!("out-{}", flags.len());
        sandbox
            .oras()
            .args(["pull", &reference, "-o", &out_dir])
            .args(&flags)
            .success();
        assert_sample_tree(&sandbox.path(&out_dir));
    }
}

#[test]
fn pull_leaves_only_the_pulled_files_in_the_output_dir() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("one.txt", "1\n");
    sandbox.write("two.txt", vec![b'x'; 300_000]);
    let reference = registry.reference("layout/atomic:v1");
    sandbox
        .oras()
        .args(["push", &reference, "one.txt", "two.txt"])
        .success();

    sandbox.write("out/unrelated.txt", "keep me\n");
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(
        tree(&sandbox.path("out")),
        ["one.txt", "two.txt", "unrelated.txt"]
    );

    // Pulling again overwrites in place and still leaves no temporary files behind.
    sandbox.write("out/one.txt", "stale\n");
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert_eq!(
        tree(&sandbox.path("out")),
        ["one.txt", "two.txt", "unrelated.txt"]
    );
    assert_eq!(sandbox.read("out/one.txt"), b"1\n");
    assert_eq!(sandbox.read("out/two.txt"), vec![b'x'; 300_000]);
    assert_eq!(sandbox.read("out/unrelated.txt"), b"keep me\n");
    // Nor in the working directory around it.
    let outside: Vec<String> = tree(&sandbox.work())
        .into_iter()
        .filter(|p| !p.starts_with("out/"))
        .collect();
    assert_eq!(outside, ["one.txt", "two.txt"]);
}

/// `push --artifact-platform` writes the platform as the config (oras-cli.md §5.4, §13.2): the
/// same 38 bytes under image-spec v1.1 and v1.0, and `pull --platform` then selects it.
#[test]
fn push_artifact_platform_writes_the_platform_as_the_config() {
    let sandbox = Sandbox::new();
    sandbox.write("bar", "bar\n");
    let want = br#"{"architecture":"arm64","os":"darwin"}"#;
    for (reference, spec) in [("lay:e2e", "v1.1"), ("lay:v10", "v1.0")] {
        sandbox
            .oras()
            .args(["push", "--oci-layout", reference, "bar"])
            .args(["--artifact-platform", "darwin/arm64", "--image-spec", spec])
            .success();
        let out = sandbox
            .oras()
            .args(["manifest", "fetch", "--oci-layout", reference])
            .success();
        let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let config = &manifest["config"];
        assert_eq!(
            config["mediaType"],
            "application/vnd.oci.image.config.v1+json"
        );
        assert_eq!(config["size"], 38);
        assert_eq!(config["digest"], format!("sha256:{}", sha256_hex(want)));
        assert!(sha256_hex(want).starts_with("e94c0ba80a11"));
    }
    let pull = |platform: &str, dir: &str| {
        sandbox
            .oras()
            .args([
                "pull",
                "--oci-layout",
                "lay:e2e",
                "--platform",
                platform,
                "-o",
                dir,
            ])
            .run()
    };
    pull("darwin/arm64", "out").success();
    assert_eq!(sandbox.read("out/bar"), b"bar\n");
    pull("linux/amd64", "no")
        .failure()
        .error_first_line("Error");

    let conflicts: [(&[&str], &str); 2] = [
        (
            &["--image-spec", "v1.0", "--artifact-type", "a/b"],
            "artifact type cannot be customized for OCI image-spec v1.0 when platform is specified",
        ),
        (
            &["--config", "bar"],
            "--config, --artifact-platform cannot be used at the same time",
        ),
    ];
    for (extra, says) in conflicts {
        sandbox
            .oras()
            .args(["push", "--oci-layout", "lay:x", "bar"])
            .args(["--artifact-platform", "darwin/arm64"])
            .args(extra)
            .failure()
            .stderr_contains(says);
    }
}

/// `pull --include-subject` on a signature of an SBOM of an artifact pulls all three, walking
/// the subjects (oras-cli.md §7, §13.3); without the flag only the signature's file.
#[test]
fn pull_include_subject_follows_the_referrer_chain() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "foo1", "foo\n");
    let attach = |subject: &str, file: &str, artifact_type: &str| -> String {
        sandbox.write(file, format!("{file}\n"));
        let out = sandbox
            .oras()
            .args(["attach", "--oci-layout", "--artifact-type", artifact_type])
            .args([subject, file, "--format", "json"])
            .success();
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        json["digest"].as_str().unwrap().to_owned()
    };
    let sbom = attach("lay:v1", "sbom.json", "test/sbom.file");
    let signature = attach(&format!("lay@{sbom}"), "sig.txt", "test/signature.file");

    let signature_ref = format!("lay@{signature}");
    sandbox
        .oras()
        .args(["pull", "--oci-layout", &signature_ref, "-o", "only"])
        .success();
    assert_eq!(tree(&sandbox.path("only")), ["sig.txt"]);

    let out = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            &signature_ref,
            "-o",
            "all",
            "--include-subject",
        ])
        .success();
    assert_eq!(
        tree(&sandbox.path("all")),
        ["foo1", "sbom.json", "sig.txt"],
        "{out}"
    );
    assert_eq!(sandbox.read("all/foo1"), b"foo\n");
    out.assert_line(&format!(
        "Processing  {} application/vnd.oci.image.manifest.v1+json",
        &sbom[7..19]
    ));
}

/// A directory spanning several gzip blocks (compressed in parallel) is one standard gzip
/// stream, which `gzip -d` and `tar -xz` read; its blocks are cut at the same offsets whatever
/// the number of cores, so one core and all of them make the very same blob.
#[test]
fn a_directory_archive_lists_its_entries_in_name_order() {
    // Regression: entries came in the order the file system lists them, so the same directory
    // made a different archive (and digest) on another machine; Go's filepath.Walk sorts.
    let sandbox = Sandbox::new();
    for name in ["m.txt", "z/2.txt", "a.txt", "z/1.txt", "b/x.txt", "Z.txt"] {
        sandbox.write(&format!("tree/{name}"), name);
    }
    for i in (0..40).rev() {
        sandbox.write(&format!("tree/n/{i:02}"), "n");
    }
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "tree"])
        .success();
    let (_, manifest) = layout_manifest(&sandbox.path("lay"), "v1");
    let blob = sandbox.path("lay/blobs/sha256").join(layout_blob_hex(
        manifest["layers"][0]["digest"].as_str().unwrap(),
    ));
    let listed = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&blob)
        .output()
        .expect("run tar");
    let listed = String::from_utf8(listed.stdout).unwrap();
    let mut expected = vec![
        "tree/",
        "tree/Z.txt",
        "tree/a.txt",
        "tree/b/",
        "tree/b/x.txt",
    ];
    expected.extend(["tree/m.txt", "tree/n/"]);
    let numbered: Vec<String> = (0..40).map(|i| format!("tree/n/{i:02}")).collect();
    expected.extend(numbered.iter().map(String::as_str));
    expected.extend(["tree/z/", "tree/z/1.txt", "tree/z/2.txt"]);
    assert_eq!(listed.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn a_directory_of_many_gzip_blocks_is_standard_gzip_and_the_same_on_one_core() {
    let sandbox = Sandbox::new();
    // 2 MiB of noise and 1.8 MiB of text: four blocks, some that compress and some that don't.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let text = (0..50_000).fold(String::new(), |mut text, i| {
        use std::fmt::Write as _;
        let _ = writeln!(text, "line {i}: the quick brown fox {}", i * 7919 % 100_003);
        text
    });
    sandbox.write("big/noise.bin", &noise);
    sandbox.write("big/sub/text.log", &text);
    sandbox.write("big/small.txt", "small\n");

    sandbox
        .oras()
        .args(["push", "--oci-layout", "all:v1", "big"])
        .success();
    sandbox
        .oras()
        .one_core()
        .args(["push", "--oci-layout", "one:v1", "big"])
        .success();
    let (_, all) = layout_manifest(&sandbox.path("all"), "v1");
    let (_, one) = layout_manifest(&sandbox.path("one"), "v1");
    assert_eq!(
        all["layers"][0]["digest"], one["layers"][0]["digest"],
        "one core and all cores must make the same archive"
    );

    let layer = &all["layers"][0];
    let blob = sandbox
        .path("all/blobs/sha256")
        .join(layout_blob_hex(layer["digest"].as_str().unwrap()));
    let gunzip = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&blob)
        .output()
        .expect("run gzip");
    assert!(gunzip.status.success(), "gzip -dc: {gunzip:?}");
    assert_eq!(
        layer["annotations"]["io.deis.oras.content.digest"],
        format!("sha256:{}", sha256_hex(&gunzip.stdout))
    );
    std::fs::create_dir(sandbox.path("x")).unwrap();
    let untar = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&blob)
        .current_dir(sandbox.path("x"))
        .status()
        .expect("run tar");
    assert!(untar.success(), "tar -xzf");
    assert_eq!(sandbox.read("x/big/noise.bin"), noise);
    assert_eq!(sandbox.read("x/big/sub/text.log"), text.as_bytes());
    assert_eq!(sandbox.read("x/big/small.txt"), b"small\n");
}

/// oras-cli.md §16/§13.3/§13.7: a layout directory that is not there is named with the
/// `stat` error, in Go's words; a tag or digest it does not hold fails with `Error:` and
/// `: not found`.
#[test]
fn layout_not_found_errors_are_the_go_clients() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "a.txt", "a\n");
    let missing = format!("sha256:{}", "0".repeat(64));
    let commands = |dir: &str| {
        [
            [
                "manifest",
                "fetch",
                "--oci-layout",
                &format!("{dir}:missing"),
            ],
            [
                "pull",
                "--oci-layout",
                "--keep-old-files",
                &format!("{dir}:missing"),
            ],
            ["resolve", "--oci-layout", "-l", &format!("{dir}@{missing}")],
        ]
        .map(|a| a.map(str::to_owned))
    };
    for args in commands("nodir") {
        let out = sandbox.oras().args(&args).failure();
        assert_eq!(
            out.stderr,
            format!(
                "Error: invalid argument {:?}: failed to find path \"nodir\": stat nodir: no such file or directory\n",
                args.last().unwrap()
            ),
            "{out}"
        );
    }
    for args in commands("lay") {
        let out = sandbox.oras().args(&args).failure();
        out.error_first_line("Error: ");
        out.stderr_contains(": not found");
    }
}

/// Files, a directory's archive and stdin pushed into a layout are each read once: written
/// beside the blobs as they are hashed, then renamed into place, named by the digest of exactly
/// the bytes written. A FIFO gives its bytes once, as a file rewritten during the push gives
/// other bytes the second time: a hash and then a copy would wait for a second writer forever.
#[test]
fn layout_push_reads_each_input_once() {
    let sandbox = Sandbox::new();
    write_sample_tree(&sandbox);
    let once = b"read once, from a FIFO\n".repeat(1000);
    let _fifo = Fifo::new(&sandbox.path("once.bin"), once.clone());
    sandbox.write("same1.txt", "same\n");
    sandbox.write("same2.txt", "same\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "once.bin", "mydir"])
        .args(["same1.txt", "same2.txt", "-", "--stdin-name", "in.txt"])
        .stdin("from stdin\n")
        .success();
    // Content shared by two files is stored once, reported as for a registry.
    let short = &sha256_hex(b"same\n")[..12];
    push.assert_line(&format!("Uploaded  {short} same1.txt"))
        .assert_line(&format!("Exists    {short} same2.txt"));

    let lay = sandbox.path("lay");
    // Every blob is named by its content, and no temp file is left.
    assert_layout_blobs_valid(&lay);
    let (_, manifest) = layout_manifest(&lay, "v1");
    assert_eq!(
        manifest["layers"][0]["digest"],
        format!("sha256:{}", sha256_hex(&once))
    );
    sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .success();
    assert!(sandbox.read("out/once.bin") == once);
    assert_eq!(sandbox.read("out/in.txt"), b"from stdin\n");
    assert_eq!(sandbox.read("out/same2.txt"), b"same\n");
    assert_eq!(sandbox.read("out/mydir/sub/inner.txt"), b"nested file\n");
}

/// `blob push` into a layout reads its input once too: written beside the blobs as it is
/// hashed, then renamed into place. A FIFO gives its bytes once: a hash and then a copy would
/// wait for a second writer forever.
#[test]
fn blob_push_into_a_layout_reads_its_input_once() {
    let sandbox = Sandbox::new();
    let once = b"a blob read once, from a FIFO\n".repeat(1000);
    let digest = format!("sha256:{}", sha256_hex(&once));
    let _fifo = Fifo::new(&sandbox.path("once.bin"), once.clone());
    sandbox
        .oras()
        .args(["blob", "push", "--oci-layout", "lay", "once.bin"])
        .success()
        .assert_line(&format!("Digest: {digest}"));
    assert!(sandbox.read(&format!("lay/blobs/sha256/{}", &digest[7..])) == once);

    let stdin = b"a blob from stdin\n";
    let stdin_digest = format!("sha256:{}", sha256_hex(stdin));
    let reference = format!("lay@{stdin_digest}");
    sandbox
        .oras()
        .args(["blob", "push", "--oci-layout", &reference])
        .args(["-", "--size", &stdin.len().to_string()])
        .stdin(stdin.to_vec())
        .success();
    assert_eq!(
        sandbox.read(&format!("lay/blobs/sha256/{}", &stdin_digest[7..])),
        stdin
    );

    // Content that is not what the reference says is refused, and leaves nothing behind.
    let _other = Fifo::new(&sandbox.path("other.bin"), b"other\n".to_vec());
    sandbox
        .oras()
        .args(["blob", "push", "--oci-layout", &format!("lay@{digest}")])
        .arg("other.bin")
        .failure();
    sandbox
        .oras()
        .args(["blob", "push", "--oci-layout", &format!("lay@{digest}")])
        .args(["-", "--size", "6"])
        .stdin("other\n")
        .failure();
    assert_layout_blobs_valid(&sandbox.path("lay"));
    let mut want = vec![digest[7..].to_owned(), stdin_digest[7..].to_owned()];
    want.sort();
    assert_eq!(tree(&sandbox.path("lay/blobs/sha256")), want);
}

// Regression: a failed --export-manifest hid the Pushed/Digest lines of a push that succeeded.
#[test]
fn export_manifest_failure_still_prints_what_was_pushed() {
    let sandbox = Sandbox::new();
    sandbox.write("hi.txt", "hi\n");
    std::fs::create_dir(sandbox.path("taken")).unwrap();
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "hi.txt"])
        .args(["--export-manifest", "taken"])
        .failure();
    push.assert_line("Pushed [oci-layout] lay:v1");
    let digest = push.digest_line();
    let (bytes, _) = layout_manifest(&sandbox.path("lay"), "v1");
    assert_eq!(sha256_hex(&bytes), digest, "{push}");

    let attach = sandbox
        .oras()
        .args(["attach", "--oci-layout", "lay:v1", "--artifact-type", "a/b"])
        .args(["hi.txt", "--export-manifest", "taken"])
        .failure();
    attach.assert_line(&format!("Attached to [oci-layout] lay@sha256:{digest}"));
    attach.digest_line();
}

// Regression: an output that could not be written read "failed to persist temporary file: Is a
// directory (os error 21)", or named our temp file instead of the path given.
#[test]
fn unwritable_outputs_fail_in_go_words() {
    let sandbox = Sandbox::new();
    sandbox.write("hi.txt", "hi\n");
    std::fs::create_dir(sandbox.path("taken")).unwrap();
    for (output, why) in [
        ("taken", "is a directory"),
        ("nodir/m.json", "no such file or directory"),
    ] {
        let push = sandbox
            .oras()
            .args(["push", "--oci-layout", "lay:v1", "hi.txt"])
            .args(["--export-manifest", output])
            .failure();
        assert_eq!(
            push.stderr,
            format!("Error: open {output}: {why}\n"),
            "{push}"
        );
        let fetch = sandbox
            .oras()
            .args(["manifest", "fetch", "--oci-layout", "lay:v1", "-o", output])
            .failure();
        assert_eq!(fetch.stderr, push.stderr, "{fetch}");
    }
    let left: Vec<String> = tree(&sandbox.work())
        .into_iter()
        .filter(|p| p.contains(".oras-tmp"))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "temp files left behind");
}

// Regression: `pull -o <a file>` started downloading, then failed with "File exists (os error
// 17)" about the very path it was told to write into.
#[test]
fn pull_into_a_file_fails_before_downloading_in_go_words() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "hi.txt", "hi\n");
    sandbox.write("out.txt", "mine\n");
    for output in ["out.txt", "out.txt/sub"] {
        let pull = sandbox
            .oras()
            .args(["pull", "--oci-layout", "lay:v1", "-o", output])
            .failure();
        pull.error_first_line(&format!(
            "Error: mkdir {}: not a directory",
            sandbox.path("out.txt").display()
        ));
        assert!(
            !pull.stdout.contains("hi.txt"),
            "nothing downloaded\n{pull}"
        );
    }
    assert_eq!(sandbox.read("out.txt"), b"mine\n");
}

// Regression: `--platform "$PLATFORM"` with the variable empty failed with "invalid platform: OS
// cannot be empty"; the Go client reads an empty value as no platform.
#[test]
fn empty_platform_flags_ask_for_no_platform() {
    let sandbox = Sandbox::new();
    sandbox.write("amd.txt", "amd\n");
    sandbox.write("arm.txt", "arm\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:amd", "amd.txt"])
        .args(["--artifact-platform", ""])
        .success();
    let (_, manifest) = layout_manifest(&sandbox.path("lay"), "amd");
    assert_eq!(
        manifest["config"]["mediaType"], "application/vnd.oci.empty.v1+json",
        "{push}"
    );
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:arm", "arm.txt"])
        .args(["--artifact-platform", "linux/arm64"])
        .success();
    sandbox
        .oras()
        .args(["manifest", "index", "create", "--oci-layout", "lay:multi"])
        .args(["amd", "arm"])
        .success();
    sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:multi",
            "-o",
            "out",
            "--platform",
            "",
        ])
        .success();
    assert_eq!(tree(&sandbox.path("out")), ["amd.txt", "arm.txt"]);
    sandbox
        .oras()
        .args([
            "attach",
            "--oci-layout",
            "lay:multi",
            "--artifact-type",
            "a/b",
        ])
        .args(["--platform", "", "amd.txt"])
        .success()
        .stdout_contains("Attached to [oci-layout] lay@sha256:");
}

// Regression: `--config "$CONFIG"` with the variable empty failed with `found empty file path
// in ""` on push (after switching to image-spec v1.0) and on pull; Go reads it as no config.
#[test]
fn empty_config_flags_ask_for_no_config() {
    let sandbox = Sandbox::new();
    sandbox.write("hi.txt", "hi\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "hi.txt", "--config", ""])
        .success();
    push.assert_line("ArtifactType: application/vnd.unknown.artifact.v1");
    let (_, manifest) = layout_manifest(&sandbox.path("lay"), "v1");
    assert_eq!(
        manifest["config"]["mediaType"], "application/vnd.oci.empty.v1+json",
        "{push}"
    );
    sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:v1",
            "-o",
            "out",
            "--config",
            "",
        ])
        .success();
    assert_eq!(tree(&sandbox.path("out")), ["hi.txt"]);
    // Given at all, --config still excludes --artifact-platform, as Go's flag check does.
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v2", "hi.txt", "--config", ""])
        .args(["--artifact-platform", "linux/amd64"])
        .failure()
        .stderr_contains("--config, --artifact-platform cannot be used at the same time");
}

// Regression: an empty --export-manifest, --annotation-file or pull -o (`-o "$DIR"` with the
// variable unset) failed with a garbled "flag needs an argument: <last argument>"; to pflag an
// empty value is a value, and the Go client reads these as not given (-o: the working dir).
#[test]
fn empty_path_flags_are_values_not_missing_ones() {
    let sandbox = Sandbox::new();
    sandbox.write("hi.txt", "hi\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "hi.txt"])
        .args(["--export-manifest", "", "--annotation-file", ""])
        .success();
    sandbox
        .oras()
        .args(["attach", "--oci-layout", "lay:v1", "--artifact-type", "a/b"])
        .args([
            "--export-manifest",
            "",
            "--annotation-file",
            "",
            "-a",
            "k=v",
        ])
        .success();
    std::fs::create_dir(sandbox.path("here")).unwrap();
    sandbox
        .oras()
        .cwd(sandbox.path("here"))
        .args(["pull", "--oci-layout", "../lay:v1", "-o", ""])
        .success();
    assert_eq!(tree(&sandbox.path("here")), ["hi.txt"]);
}

// Regression: attach with no file and an annotation file without `$manifest` entries pushed a
// referrer that says nothing; Go counts the manifest annotations and refuses it.
#[test]
fn attach_needs_a_file_or_a_manifest_annotation() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "hi.txt", "hi\n");
    sandbox.write(
        "files-only.json",
        r#"{"hi.txt":{"k":"v"},"$config":{"c":"d"}}"#,
    );
    sandbox.write("manifest.json", r#"{"$manifest":{"k":"v"}}"#);
    let attach = |file: &str| {
        sandbox
            .oras()
            .args(["attach", "--oci-layout", "lay:v1", "--artifact-type", "a/b"])
            .args(["--annotation-file", file])
    };
    let refused = attach("files-only.json").failure();
    refused.error_first_line("Error: neither file nor annotation provided in the command");
    refused.stderr_contains("\nUsage: oras attach");
    attach("manifest.json")
        .success()
        .stdout_contains("Attached to [oci-layout] lay@sha256:");
}
