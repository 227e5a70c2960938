//! Streams and archives beyond the Go client: `push … -` reads a layer from stdin, `pull -o -`
//! writes one to stdout, `pull --include-untitled` keeps untitled layers, `.tar` OCI layouts
//! for read-only commands, and `--oci-layout-path` (oras-cli.md §2.2, §14).

use std::path::Path;

use crate::harness::{
    HandLayer, Sandbox, assert_layout_blobs_valid, layout_manifest, registry, sha256_hex, skopeo,
    tree, write_layout,
};

/// Bytes that are not text and span more than one read buffer.
fn binary_content() -> Vec<u8> {
    (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn push_reads_a_layer_from_stdin_into_a_registry_and_a_layout() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let content = binary_content();
    let reference = registry.reference("io/stdin:v1");

    let push = sandbox
        .oras()
        .args(["push", &reference, "-", "--stdin-name", "dir/data.bin"])
        .stdin(content.clone())
        .success();
    // skopeo reads the manifest the registry stored: one layer, titled, with the stdin bytes.
    let raw = registry.manifest("io/stdin:v1");
    assert_eq!(sha256_hex(&raw), push.digest_line());
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "dir/data.bin"
    );
    assert_eq!(
        layers[0]["digest"],
        format!("sha256:{}", sha256_hex(&content))
    );
    assert_eq!(layers[0]["size"], content.len());
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    assert!(sandbox.read("out/dir/data.bin") == content, "round trip");

    // `-:<type>` into a layout: the media type is kept, skopeo copies it blob by blob.
    sandbox
        .oras()
        .args([
            "push",
            "--oci-layout",
            "lay:v1",
            "-:application/vnd.me.bin",
            "--stdin-name",
            "data.bin",
        ])
        .stdin(content.clone())
        .success();
    let lay = sandbox.path("lay");
    assert_layout_blobs_valid(&lay);
    let (_, manifest) = layout_manifest(&lay, "v1");
    assert_eq!(manifest["layers"][0]["mediaType"], "application/vnd.me.bin");
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "data.bin"
    );
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        &format!("oci:{}:v1", lay.display()),
        &format!("oci:{}:v1", sandbox.path("copy").display()),
    ]);
    assert_layout_blobs_valid(&sandbox.path("copy"));
}

#[test]
fn push_from_stdin_refuses_unclear_or_unsafe_requests() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    let push = |args: &[&str]| {
        sandbox
            .oras()
            .args(["push", "--oci-layout", "lay:v1"])
            .args(args)
            .stdin("from stdin\n")
            .failure()
    };
    let out = push(&["-"]);
    out.error_first_line("Error: `-` reads a file from stdin, but its name is missing");
    out.stderr_contains("--stdin-name");
    for bad in ["../up.txt", "a/../../up.txt", "/etc/passwd", "."] {
        push(&["-", "--stdin-name", bad]).error_first_line("Error: invalid --stdin-name");
    }
    push(&["-", "-:text/plain", "--stdin-name", "x"])
        .error_first_line("Error: `-` reads a file from stdin and can be given only once");
    push(&["-", "--stdin-name", "x", "--password-stdin"]).error_first_line(
        "Error: `-` read file from input and `--password-stdin` read password from input cannot be both used",
    );
    push(&["-", "--stdin-name", "x", "--identity-token-stdin"]).error_first_line(
        "Error: `-` read file from input and `--identity-token-stdin` read identity token from input cannot be both used",
    );
    push(&["a.txt", "--stdin-name", "x"]).error_first_line("Error: --stdin-name");
    assert!(
        !sandbox.path("lay").exists(),
        "nothing is written before the arguments are checked"
    );
    assert_eq!(tree(&sandbox.work()), ["a.txt"]);
}

#[test]
fn pull_to_stdout_prints_exactly_the_file_bytes() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let content = binary_content();
    sandbox.write("data.bin", &content);
    let reference = registry.reference("io/stdout:v1");
    sandbox
        .oras()
        .args(["push", &reference, "data.bin"])
        .success();

    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-o", "-"])
        .success();
    assert!(
        pull.stdout_bytes == content,
        "stdout must be the file and nothing else ({} bytes, want {})",
        pull.stdout_bytes.len(),
        content.len()
    );
    pull.stderr_contains(&format!("Pulled [registry] {reference}"));
    pull.stderr_contains("Downloaded ");
    assert_eq!(tree(&sandbox.work()), ["data.bin"], "no file is written");

    // The same from a layout.
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "data.bin"])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "-"])
        .success();
    assert!(pull.stdout_bytes == content);
    pull.stderr_contains("Pulled [oci-layout] lay:v1");
}

#[test]
fn pull_to_stdout_prints_nothing_unless_verified_and_single() {
    let sandbox = Sandbox::new();
    // A layout whose stored layer does not match its descriptor's digest.
    write_layout(
        &sandbox.path("bad"),
        "v1",
        &[HandLayer {
            title: "a.txt",
            content: b"the bytes the digest names\n",
        }],
        Some(0),
    );
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "bad:v1", "-o", "-"])
        .failure();
    assert!(pull.stdout_bytes.is_empty(), "{pull}");
    pull.stderr_contains("mismatched digest");

    write_layout(
        &sandbox.path("two"),
        "v1",
        &[
            HandLayer {
                title: "a.txt",
                content: b"a\n",
            },
            HandLayer {
                title: "b.txt",
                content: b"b\n",
            },
        ],
        None,
    );
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "two:v1", "-o", "-"])
        .failure();
    assert!(pull.stdout_bytes.is_empty(), "{pull}");
    pull.stderr_contains(
        "Error: `--output -` writes a single file to stdout, but two:v1 holds 2 layers: a.txt, b.txt",
    );
    pull.stderr_contains("-o <dir>");

    sandbox.write("dir/inner.txt", "inner\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:dir", "dir"])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:dir", "-o", "-"])
        .failure();
    assert!(pull.stdout_bytes.is_empty(), "{pull}");
    pull.stderr_contains("holds dir/ (a directory)");
    sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:dir",
            "-o",
            "-",
            "--format",
            "json",
        ])
        .failure()
        .error_first_line("Error: `--output -` cannot be used with `--format json`");
}

/// Writes an OCI image layout holding one manifest tagged `tag` whose layers are `layers`
/// (title, content); a `None` title leaves the layer without a title annotation.
fn write_mixed_layout(dir: &Path, tag: &str, layers: &[(Option<&str>, &[u8])]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        serde_json::json!({"digest": format!("sha256:{hex}"), "size": bytes.len()})
    };
    let config = put(b"{}");
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|(title, content)| {
            let mut desc = put(content);
            desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar".into();
            if let Some(title) = title {
                desc["annotations"] = serde_json::json!({"org.opencontainers.image.title": title});
            }
            desc
        })
        .collect();
    let mut config_desc = config;
    config_desc["mediaType"] = "application/vnd.oci.empty.v1+json".into();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.me.mixed",
        "config": config_desc,
        "layers": layers,
    }))
    .unwrap();
    let mut entry = put(&manifest);
    entry["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [entry]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

#[test]
fn pull_saves_untitled_layers_only_when_asked_and_says_so() {
    let sandbox = Sandbox::new();
    let (one, two): (&[u8], &[u8]) = (b"untitled one\n", b"untitled two\n");
    write_mixed_layout(
        &sandbox.path("lay"),
        "v1",
        &[
            (Some("a.txt"), b"titled\n"),
            (None, one),
            (None, two),
            (None, one),
        ],
    );

    // Without the flag: the Go client's behaviour, plus a note on stderr saying how many.
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "plain"])
        .success();
    assert_eq!(tree(&sandbox.path("plain")), ["a.txt"]);
    pull.assert_line(
        "Skipped pulling layers without file name in \"org.opencontainers.image.title\"",
    );
    pull.stderr_contains("Note: 3 blobs without a title");
    pull.stderr_contains("--include-untitled");

    let pull = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:v1",
            "-o",
            "all",
            "--include-untitled",
        ])
        .success();
    let (name_one, name_two) = (
        format!("sha256-{}", sha256_hex(one)),
        format!("sha256-{}", sha256_hex(two)),
    );
    let mut want = vec!["a.txt".to_owned(), name_one.clone(), name_two.clone()];
    want.sort();
    assert_eq!(tree(&sandbox.path("all")), want);
    assert_eq!(sandbox.read(&format!("all/{name_one}")), one);
    assert_eq!(sandbox.read(&format!("all/{name_two}")), two);
    pull.assert_line("Pulled [oci-layout] lay:v1");
    assert!(!pull.stderr.contains("Note:"), "{pull}");

    // An artifact whose one layer is untitled can go to stdout with the flag (and says so
    // without it).
    write_mixed_layout(&sandbox.path("single"), "v1", &[(None, two)]);
    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "single:v1", "-o", "-"])
        .failure();
    assert!(pull.stdout_bytes.is_empty(), "{pull}");
    pull.stderr_contains("add --include-untitled");
    let pull = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "single:v1",
            "-o",
            "-",
            "--include-untitled",
        ])
        .success();
    assert_eq!(pull.stdout_bytes, two);
}

/// `tar -cf <name> -C <dir> .`: an OCI layout saved as an archive, entries at its top level.
fn tar_layout(sandbox: &Sandbox, dir: &str, name: &str) {
    let status = std::process::Command::new("tar")
        .args(["-cf", name, "-C", dir, "."])
        .current_dir(sandbox.work())
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -cf {name}");
}

#[test]
fn tar_layouts_serve_read_only_commands() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "in a tarred layout\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1,v2", "a.txt"])
        .success();
    let digest = format!("sha256:{}", push.digest_line());
    let (manifest_bytes, manifest) = layout_manifest(&sandbox.path("lay"), "v1");
    tar_layout(&sandbox, "lay", "lay.tar");
    tar_layout(&sandbox, "lay", "UPPER.TAR");
    std::fs::remove_dir_all(sandbox.path("lay")).unwrap();

    let pull = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay.tar:v1", "-o", "out"])
        .success();
    pull.assert_line("Pulled [oci-layout] lay.tar:v1");
    assert_eq!(sandbox.read("out/a.txt"), b"in a tarred layout\n");

    let resolve = sandbox
        .oras()
        .args(["resolve", "--oci-layout", "UPPER.TAR:v2"])
        .success();
    assert_eq!(resolve.stdout.trim(), digest);

    let fetch = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "lay.tar:v1"])
        .success();
    assert_eq!(fetch.stdout_bytes, manifest_bytes);

    let tags = sandbox
        .oras()
        .args(["repo", "tags", "--oci-layout", "lay.tar"])
        .success();
    assert_eq!(tags.stdout, "v1\nv2\n");

    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let blob = sandbox
        .oras()
        .args([
            "blob",
            "fetch",
            "--oci-layout",
            &format!("lay.tar@{layer}"),
            "-o",
            "-",
        ])
        .success();
    assert_eq!(blob.stdout_bytes, b"in a tarred layout\n");

    sandbox
        .oras()
        .args([
            "cp",
            "--from-oci-layout",
            "lay.tar:v1",
            "--to-oci-layout",
            "copy:v1",
        ])
        .success();
    assert_layout_blobs_valid(&sandbox.path("copy"));
    assert_eq!(
        layout_manifest(&sandbox.path("copy"), "v1").0,
        manifest_bytes
    );

    // Nothing is left behind in the working directory: the extraction lives in a temp dir.
    let mut want = vec![
        "UPPER.TAR",
        "a.txt",
        "copy/",
        "lay.tar",
        "out/",
        "out/a.txt",
    ];
    want.sort_unstable();
    let top: Vec<String> = tree(&sandbox.work())
        .into_iter()
        .filter(|p| !p.starts_with("copy/") || p == "copy/")
        .collect();
    assert_eq!(top, want);
}

#[test]
fn tar_layouts_refuse_writes_and_hostile_archives() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "a.txt", "a\n");
    tar_layout(&sandbox, "lay", "lay.tar");
    let before = sandbox.read("lay.tar");
    for args in [
        &["push", "--oci-layout", "lay.tar:v2", "a.txt"][..],
        &["tag", "--oci-layout", "lay.tar:v1", "v3"],
        &[
            "cp",
            "--from-oci-layout",
            "lay:v1",
            "--to-oci-layout",
            "lay.tar:v4",
        ],
    ] {
        let out = sandbox.oras().args(args).failure();
        out.stderr_contains(
            "\"lay.tar\" is a tar archive: an OCI layout in a .tar file can only be read",
        );
    }
    assert!(
        sandbox.read("lay.tar") == before,
        "the archive is untouched"
    );

    // A symlink in the archive that leads out of it is refused before anything is read.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    header.set_mode(0o777);
    header.set_link_name("../../../etc").unwrap();
    builder.append_data(&mut header, "blobs", &[][..]).unwrap();
    sandbox.write("evil.tar", builder.into_inner().unwrap());
    sandbox
        .oras()
        .args(["pull", "--oci-layout", "evil.tar:v1", "-o", "out"])
        .failure()
        .stderr_contains("no symbolic link allowed");
    assert!(!sandbox.path("out").exists());

    // Any file given to read is taken as a tar, as in Go; a file is never written to as one.
    sandbox.write("plain.txt", "just a file\n");
    let out = sandbox
        .oras()
        .args(["pull", "--oci-layout", "plain.txt:v1", "-o", "x"])
        .failure();
    assert_eq!(
        out.stderr, "Error: \"plain.txt\" does not look like a tar archive: unexpected EOF\n",
        "{out}"
    );
    let out = sandbox
        .oras()
        .args(["push", "--oci-layout", "plain.txt:v1", "plain.txt"])
        .failure();
    assert_eq!(
        out.stderr,
        "Error: \"plain.txt\" is a file: an OCI image layout to write to is a directory\n",
        "{out}"
    );
    assert_eq!(sandbox.read("plain.txt"), b"just a file\n");

    // Go's archive/tar words; and binary garbage never reaches the terminal.
    let garbage: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 251) as u8).collect();
    sandbox.write("short.tar", "not a tar archive at all");
    sandbox.write("junk.tar", garbage);
    for (archive, why) in [
        ("short.tar", "unexpected EOF"),
        ("junk.tar", "archive/tar: invalid tar header"),
    ] {
        let out = sandbox
            .oras()
            .args(["resolve", "--oci-layout", &format!("{archive}:v1")])
            .failure();
        assert_eq!(
            out.stderr,
            format!("Error: \"{archive}\" does not look like a tar archive: {why}\n"),
            "{out}"
        );
    }
}

#[test]
fn oci_layout_path_takes_the_whole_argument_as_the_reference() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "by full reference\n");
    let push = sandbox
        .oras()
        .args([
            "push",
            "--oci-layout-path",
            "lay",
            "example.com/app:v1",
            "a.txt",
        ])
        .success();
    push.assert_line("Pushed [oci-layout] example.com/app:v1");
    sandbox
        .oras()
        .args([
            "push",
            "--oci-layout-path",
            "lay",
            "example.com/app:v2",
            "a.txt",
        ])
        .success();
    // The reference is stored whole, as the Go client 1.3 does.
    let (bytes, _) = layout_manifest(&sandbox.path("lay"), "example.com/app:v1");
    assert_eq!(sha256_hex(&bytes), push.digest_line());

    let pull = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout-path",
            "lay",
            "example.com/app:v1",
            "-o",
            "out",
        ])
        .success();
    pull.assert_line("Pulled [oci-layout] example.com/app:v1");
    assert_eq!(sandbox.read("out/a.txt"), b"by full reference\n");

    let by_digest = format!("example.com/app@sha256:{}", push.digest_line());
    let resolve = sandbox
        .oras()
        .args(["resolve", "--oci-layout-path", "lay", &by_digest])
        .success();
    assert_eq!(
        resolve.stdout.trim(),
        format!("sha256:{}", push.digest_line())
    );

    let tags = sandbox
        .oras()
        .args([
            "repo",
            "tags",
            "--oci-layout-path",
            "lay",
            "example.com/app",
        ])
        .success();
    // The layout's tags are whole references; those of the repository given are listed by
    // their tag (oras-cli.md §9: the `host/repo:` prefix is stripped).
    assert_eq!(tags.stdout, "v1\nv2\n");

    // A tarred layout works through the flag too.
    tar_layout(&sandbox, "lay", "lay.tar");
    let fetched = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            "--oci-layout-path",
            "lay.tar",
            "example.com/app:v2",
        ])
        .success();
    let (v2_bytes, _) = layout_manifest(&sandbox.path("lay"), "example.com/app:v2");
    assert_eq!(fetched.stdout_bytes, v2_bytes);

    sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout-path",
            "lay",
            "--oci-layout",
            "example.com/app:v1",
        ])
        .failure()
        .error_first_line("Error: --oci-layout, --oci-layout-path cannot be used at the same time");
    sandbox
        .oras()
        .args(["pull", "--oci-layout-path", "lay", "example.com/app:v3"])
        .failure()
        .stderr_contains("not found");
}

/// Makes a FIFO at `path` and reads it once in a thread: what the first writer wrote, or `None`
/// if nobody opened it for writing within the time `oras` had.
fn fifo_reader(path: &Path) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
    let (send, receive) = std::sync::mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Ok(mut f) = std::fs::File::open(path) {
            let _ = std::io::Read::read_to_end(&mut f, &mut bytes);
        }
        let _ = send.send(bytes);
    });
    receive
}

#[test]
fn outputs_that_are_devices_fifos_or_links_are_written_into_not_replaced() {
    // Regression: `-o /dev/null` renamed a temp file over the device (as root, /dev/null became
    // a plain file) and `-o >(…)` or `-o /dev/stdout` (a link) never reached the reader.
    use std::os::unix::fs::FileTypeExt as _;
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hi.txt", "hi\n");
    let reference = registry.reference("io/special-outputs:v1");
    let wait = std::time::Duration::from_secs(5);

    let export = sandbox.path("export.fifo");
    let exported = fifo_reader(&export);
    let push = sandbox
        .oras()
        .args(["push", &reference, "hi.txt", "--export-manifest"])
        .arg(&export)
        .success();
    let manifest = registry.manifest("io/special-outputs:v1");
    assert_eq!(
        exported.recv_timeout(wait).ok(),
        Some(manifest.clone()),
        "{push}"
    );
    assert!(std::fs::metadata(&export).unwrap().file_type().is_fifo());

    let blob = format!(
        "{}@sha256:{}",
        reference.trim_end_matches(":v1"),
        sha256_hex(b"hi\n")
    );
    let cases: [(&[&str], Vec<u8>); 3] = [
        (&["blob", "fetch", &blob], b"hi\n".to_vec()),
        (&["manifest", "fetch", &reference], manifest),
        (&["manifest", "fetch-config", &reference], b"{}".to_vec()),
    ];
    for (i, (args, want)) in cases.into_iter().enumerate() {
        let fifo = sandbox.path(&format!("out-{i}.fifo"));
        let received = fifo_reader(&fifo);
        let out = sandbox.oras().args(args).arg("-o").arg(&fifo).success();
        assert_eq!(
            received.recv_timeout(wait).ok(),
            Some(want.clone()),
            "{args:?}\n{out}"
        );
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

        // A link (as /dev/stdout is) stays a link; the file it points to gets the bytes.
        sandbox.write("target.out", "old");
        let link = sandbox.path(&format!("link-{i}.out"));
        std::os::unix::fs::symlink("target.out", &link).unwrap();
        sandbox.oras().args(args).arg("-o").arg(&link).success();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(sandbox.read("target.out"), want, "{args:?}");
    }
    assert_eq!(
        tree(&sandbox.work())
            .into_iter()
            .filter(|p| p.starts_with('.'))
            .collect::<Vec<_>>(),
        Vec::<String>::new(),
        "no temp file is left behind"
    );
}
