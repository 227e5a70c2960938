//! The Go client's acceptance scenarios for push, pull, `manifest push` and `blob push`
//! (oras-cli.md §13.2, §13.3, §13.7, §13.9) where we once differed: status lines checked the way
//! its e2e `MatchStatus` checks them, one state machine per `<digest> <name>` key.

use std::collections::BTreeMap;

use crate::harness::{Output, Sandbox, registry, sha256_hex};

const EMPTY_SHORT: &str = "44136fa355b3";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The status sequences a key may go through (test/e2e/internal/utils/match/status.go).
fn paths(command: &str) -> &'static [&'static [&'static str]] {
    match command {
        "push" | "attach" => &[&["Uploading", "Uploaded"], &["Exists"], &["Skipped"]],
        "pull" => &[
            &["Downloading", "Downloaded"],
            &["Downloading", "Processing", "Downloaded"],
            &["Skipped"],
            &["Restored"],
        ],
        other => panic!("no state machine for {other}"),
    }
}

/// Asserts that every status line of a watched key follows one of the command's paths (a
/// key may not, for instance, be `Uploaded` and then `Exists`, or `Exists` twice) and that
/// `completed` keys reach the end of one, as Go's e2e matcher does.
#[track_caller]
fn assert_status(out: &Output, command: &str, keys: &[(&str, &str)], completed: usize) {
    let mut seen: BTreeMap<(String, String), Vec<String>> = keys
        .iter()
        .map(|(d, n)| (((*d).to_owned(), (*n).to_owned()), Vec::new()))
        .collect();
    for line in out.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [status, digest, name] = fields[..]
            && let Some(states) = seen.get_mut(&(digest.to_owned(), name.to_owned()))
        {
            states.push(status.to_owned());
        }
    }
    let mut done = 0;
    for (key, states) in &seen {
        let fits = paths(command).iter().find(|path| {
            states.len() <= path.len() && path.iter().zip(states).all(|(want, got)| want == got)
        });
        let path = fits.unwrap_or_else(|| panic!("{key:?} went through {states:?}\n{out}"));
        if !states.is_empty() && states.len() == path.len() {
            done += 1;
        }
    }
    assert_eq!(done, completed, "completed keys\n{out}");
}

/// The index of the first stdout line equal to `line`.
#[track_caller]
fn line_at(out: &Output, line: &str) -> usize {
    out.stdout
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("stdout should have the line {line:?}\n{out}"))
}

/// Regression: an artifact without files (empty config + empty layer, one blob) printed the
/// empty blob twice (`Uploaded` then `Exists`, or `Exists` twice), which Go's e2e rejects.
#[test]
fn push_reports_a_shared_blob_once_per_name() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference("e2e/push/artifact-no-layer:e2e");
    let key = [(EMPTY_SHORT, EMPTY_TYPE)];
    let push = || {
        sandbox
            .oras()
            .args(["push", &reference, "-a", "key=value", "-v"])
            .args(["--artifact-type", "test/artifact+json"])
            .success()
    };

    let first = push();
    first.assert_line("Uploading empty artifact");
    assert_status(&first, "push", &key, 1);
    first.assert_line(&format!("Uploaded  {EMPTY_SHORT} {EMPTY_TYPE}"));
    let again = push();
    assert_status(&again, "push", &key, 1);
    again.assert_line(&format!("Exists    {EMPTY_SHORT} {EMPTY_TYPE}"));

    let layout = sandbox
        .oras()
        .args(["push", "--oci-layout", "layout:e2e", "-a", "key=value"])
        .success();
    assert_status(&layout, "push", &key, 1);

    let attach = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach", &reference])
        .args(["-a", "key=value"])
        .success();
    assert_status(&attach, "attach", &key, 1);

    // Files with the same content still get a line each: their names differ.
    sandbox.write("foobar/foo1", "foo");
    sandbox.write("foobar/foo2", "foo");
    let short = &sha256_hex(b"foo")[..12];
    let keys = [
        (short, "foobar/foo1"),
        (short, "foobar/foo2"),
        (EMPTY_SHORT, EMPTY_TYPE),
    ];
    let reference = registry.reference("e2e/push/shared-blob:e2e");
    for _ in 0..2 {
        let push = sandbox
            .oras()
            .args(["push", &reference, "foobar/foo1", "foobar/foo2"])
            .success();
        assert_status(&push, "push", &keys, 3);
    }
}

/// Regression: `Preparing` named the title `--annotation-file` gives a layer; Go names the
/// file being read (its status lines then carry the new title).
#[test]
fn preparing_names_the_file_not_its_new_title() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("foobar/bar", "bar");
    sandbox.write("foobar/foo1", "foo");
    sandbox.write(
        "annotation-rename.json",
        r#"{"foobar/bar":{"org.opencontainers.image.title":"foobar/baz"}}"#,
    );
    let short = &sha256_hex(b"bar")[..12];
    let reference = registry.reference("e2e/push/rename:e2e");
    let push = sandbox
        .oras()
        .args(["push", &reference, "foobar/bar"])
        .args(["--annotation-file", "annotation-rename.json"])
        .success();
    push.assert_line("Preparing foobar/bar");
    assert!(!push.has_line("Preparing foobar/baz"), "{push}");
    push.assert_line(&format!("Uploaded  {short} foobar/baz"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&registry.manifest("e2e/push/rename:e2e")).unwrap();
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "foobar/baz"
    );

    // Go's file store refuses a path given twice, not a title the annotation file repeats.
    sandbox.write(
        "same-title.json",
        r#"{"foobar/bar":{"org.opencontainers.image.title":"foobar/foo1"}}"#,
    );
    sandbox
        .oras()
        .args(["push", &reference, "foobar/bar", "foobar/foo1"])
        .args(["--annotation-file", "same-title.json"])
        .success();
    sandbox
        .oras()
        .args(["push", &reference, "foobar/bar", "./foobar/bar"])
        .failure()
        .stderr_contains("foobar/bar: duplicate name");
}

/// Regression: `--verbose=false` (the deprecated flag, default true) hides the status lines
/// of unnamed content; a blob or a manifest pushed alone has no name, so none are printed.
#[test]
fn blob_and_manifest_push_hide_status_lines_with_verbose_false() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("test-blob", "test-blob");
    let short = &sha256_hex(b"test-blob")[..12];
    let blobs = registry.reference("e2e/blob/verbose");
    let layer = "application/vnd.oci.image.layer.v1.tar";
    for prompt in ["Uploaded ", "Exists   "] {
        let loud = sandbox
            .oras()
            .args(["blob", "push", &blobs, "test-blob"])
            .success();
        loud.assert_line(&format!("{prompt} {short} {layer}"));
        let quiet = sandbox
            .oras()
            .args(["blob", "push", &blobs, "test-blob", "--verbose=false"])
            .success();
        assert!(
            !quiet.stdout.contains(&format!("{short} {layer}")),
            "{quiet}"
        );
        quiet.assert_line(&format!("Pushed: [registry] {blobs}"));
        quiet.digest_line();
    }

    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    sandbox.write("manifest.json", manifest);
    let short = &sha256_hex(manifest.as_bytes())[..12];
    sandbox.write("empty.json", "{}");
    sandbox
        .oras()
        .args(["blob", "push", &registry.reference("e2e/manifest/verbose")])
        .arg("empty.json")
        .success();
    let reference = registry.reference("e2e/manifest/verbose:v1");
    for _ in 0..2 {
        let quiet = sandbox
            .oras()
            .args([
                "manifest",
                "push",
                &reference,
                "manifest.json",
                "--verbose=false",
            ])
            .success();
        assert!(
            !quiet.stdout.contains(&format!("{short} {MANIFEST_TYPE}")),
            "{quiet}"
        );
        quiet.assert_line(&format!("Pushed: [registry] {reference}"));
        quiet.digest_line();
    }
    sandbox
        .oras()
        .args(["manifest", "push", &reference, "manifest.json"])
        .success()
        .assert_line(&format!("Exists    {short} {MANIFEST_TYPE}"));
}

/// Regression: a manifest reached through an index or `--include-subject` was reported
/// `Downloaded` before its layers were; Go reports a node once everything under it is.
#[test]
fn pull_reports_a_manifest_after_its_layers() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("amd.txt", "amd");
    sandbox.write("arm.txt", "arm");
    sandbox.write("sig.txt", "sig");
    let repo = "e2e/pull/order";
    for (tag, platform, file) in [
        ("amd", "linux/amd64", "amd.txt"),
        ("arm", "linux/arm64", "arm.txt"),
    ] {
        sandbox
            .oras()
            .args(["push", &registry.reference(&format!("{repo}:{tag}"))])
            .args(["--artifact-platform", platform, file])
            .success();
    }
    sandbox
        .oras()
        .args(["manifest", "index", "create"])
        .args([&registry.reference(&format!("{repo}:multi")), "amd", "arm"])
        .success();
    let child = |tag: &str| {
        let out = sandbox
            .oras()
            .args(["resolve", &registry.reference(&format!("{repo}:{tag}"))])
            .success();
        out.stdout.trim()["sha256:".len()..][..12].to_owned()
    };
    let (amd, arm) = (child("amd"), child("arm"));

    let pull = sandbox
        .oras()
        .args([
            "pull",
            &registry.reference(&format!("{repo}:multi")),
            "-o",
            "all",
        ])
        .success();
    let keys = [
        (amd.as_str(), MANIFEST_TYPE),
        (arm.as_str(), MANIFEST_TYPE),
        (&sha256_hex(b"amd")[..12], "amd.txt"),
        (&sha256_hex(b"arm")[..12], "arm.txt"),
    ];
    assert_status(&pull, "pull", &keys, 4);
    for (manifest, file, content) in [(&amd, "amd.txt", "amd"), (&arm, "arm.txt", "arm")] {
        let short = &sha256_hex(content.as_bytes())[..12];
        assert!(
            line_at(&pull, &format!("Downloaded  {short} {file}"))
                < line_at(&pull, &format!("Downloaded  {manifest} {MANIFEST_TYPE}")),
            "{pull}"
        );
    }

    let signed = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/signature.file"])
        .args([&registry.reference(&format!("{repo}:amd")), "sig.txt"])
        .args(["--format", "go-template={{.digest}}"])
        .success();
    let signature = registry.reference(&format!("{repo}@{}", signed.stdout));
    let pull = sandbox
        .oras()
        .args(["pull", "--include-subject", &signature, "-o", "subject"])
        .success();
    let amd_file = &sha256_hex(b"amd")[..12];
    assert!(
        line_at(&pull, &format!("Downloaded  {amd_file} amd.txt"))
            < line_at(&pull, &format!("Downloaded  {amd} {MANIFEST_TYPE}")),
        "{pull}"
    );
    assert_eq!(sandbox.read("subject/amd.txt"), b"amd");
    assert_eq!(sandbox.read("subject/sig.txt"), b"sig");
}

/// Regression: the config of a manifest was pulled only with `--config`. As in Go, it is
/// content like a layer: written when it carries a title, skipped (with the hint that replaces
/// `Pulled`) when it has none and is not `{}`, and `--config` names the first config only, so
/// that an index of several images pulls instead of failing with a duplicate name.
#[test]
fn pull_treats_the_config_as_a_layer() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("foobar/bar", "bar");
    sandbox.write("foobar/config.json", r#"{"config":{}}"#);
    sandbox.write("hello.tar", "hello");
    let repo = "e2e/pull/config";

    // A config with a title of its own (Go's e2e `artifacts:config`).
    let hello = push_blob_descriptor(&sandbox, &registry.reference(repo), "hello.tar");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": hello["digest"],
            "size": 5,
            "annotations": {"org.opencontainers.image.title": "hello.tar"},
        },
        "layers": [],
    });
    sandbox.write("titled.json", manifest.to_string());
    let titled = registry.reference(&format!("{repo}:titled"));
    sandbox
        .oras()
        .args(["manifest", "push", &titled, "titled.json"])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", &titled, "-o", "titled"])
        .success();
    assert_eq!(sandbox.read("titled/hello.tar"), b"hello");
    pull.assert_line(&format!("Pulled [registry] {titled}"));

    // A config without a title (an image-spec v1.0 push with `--config`).
    let untitled = registry.reference(&format!("{repo}:untitled"));
    sandbox
        .oras()
        .args([
            "push",
            &untitled,
            "--config",
            "foobar/config.json",
            "foobar/bar",
        ])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", &untitled, "-o", "untitled"])
        .success();
    let config_short = &sha256_hex(br#"{"config":{}}"#)[..12];
    pull.assert_line(&format!(
        "Skipped     {config_short} application/vnd.unknown.config.v1+json"
    ))
    .assert_line("Skipped pulling layers without file name in \"org.opencontainers.image.title\"")
    .assert_line(&format!(
        "Use 'oras copy {untitled} --to-oci-layout <layout-dir>' to pull all layers."
    ));
    assert!(!pull.stdout.contains("Pulled"), "{pull}");
    // The note on stderr counts the config as what it is.
    pull.stderr_contains("Note: 1 blob without a title");
    assert_eq!(sandbox.read("untitled/foobar/bar"), b"bar");
    let pull = sandbox
        .oras()
        .args(["pull", &untitled, "-o", "named", "--config", "test.config"])
        .success();
    pull.assert_line(&format!("Pulled [registry] {untitled}"));
    assert_eq!(sandbox.read("named/test.config"), br#"{"config":{}}"#);

    // `--config` on an index of two images: the first one's config gets the name.
    for (tag, platform) in [("amd", "linux/amd64"), ("arm", "linux/arm64")] {
        sandbox.write(tag, tag);
        sandbox
            .oras()
            .args(["push", &registry.reference(&format!("{repo}:{tag}"))])
            .args(["--artifact-platform", platform, tag])
            .success();
    }
    let multi = registry.reference(&format!("{repo}:multi"));
    sandbox
        .oras()
        .args(["manifest", "index", "create", &multi, "amd", "arm"])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", &multi, "-o", "multi", "--config", "platform.json"])
        .success();
    assert_eq!(
        sandbox.read("multi/platform.json"),
        br#"{"architecture":"amd64","os":"linux"}"#,
        "{pull}"
    );
}

/// Regression: a file that every image of an index carries (same title, same content) made
/// the pull fail with `duplicate name`; Go copies each descriptor once, so it is one file.
#[test]
fn pull_writes_a_layer_shared_by_an_index_once() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("README", "shared by every platform");
    let repo = "e2e/pull/shared-layer";
    for (tag, platform) in [("amd", "linux/amd64"), ("arm", "linux/arm64")] {
        sandbox.write(tag, tag);
        sandbox
            .oras()
            .args(["push", &registry.reference(&format!("{repo}:{tag}"))])
            .args(["--artifact-platform", platform, "README", tag])
            .success();
    }
    let multi = registry.reference(&format!("{repo}:multi"));
    sandbox
        .oras()
        .args(["manifest", "index", "create", &multi, "amd", "arm"])
        .success();
    let pull = sandbox.oras().args(["pull", &multi, "-o", "out"]).success();
    let short = &sha256_hex(b"shared by every platform")[..12];
    assert_status(&pull, "pull", &[(short, "README")], 1);
    assert_eq!(sandbox.read("out/README"), b"shared by every platform");
    assert_eq!(sandbox.read("out/amd"), b"amd");
    assert_eq!(sandbox.read("out/arm"), b"arm");
}

/// Regression: an untitled layer listed twice was reported `Skipped` twice; Go reports each
/// content once (and its e2e matcher refuses a second state after the last one).
#[test]
fn pull_reports_a_repeated_untitled_layer_once() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("unnamed.bin", "unnamed");
    let repo = "e2e/pull/unnamed";
    let layer = push_blob_descriptor(&sandbox, &registry.reference(repo), "unnamed.bin");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": EMPTY_TYPE,
            "digest": format!("sha256:{}", sha256_hex(b"{}")),
            "size": 2,
        },
        "layers": [layer, layer],
    });
    sandbox.write("manifest.json", manifest.to_string());
    sandbox.write("empty.json", "{}");
    sandbox
        .oras()
        .args(["blob", "push", &registry.reference(repo), "empty.json"])
        .success();
    let reference = registry.reference(&format!("{repo}:twice"));
    sandbox
        .oras()
        .args(["manifest", "push", &reference, "manifest.json"])
        .success();
    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    let short = &sha256_hex(b"unnamed")[..12];
    let layer_type = "application/vnd.oci.image.layer.v1.tar";
    assert_status(&pull, "pull", &[(short, layer_type)], 1);
    pull.assert_line(&format!(
        "Use 'oras copy {reference} --to-oci-layout <layout-dir>' to pull all layers."
    ));
}

/// Regression: `"mediaType":""` (Go's e2e `manifestWithoutMediaType`) was taken as the media
/// type and sent to the registry; Go decodes the field into a string, so empty is missing, and
/// a field (or a document) of the wrong shape is not valid JSON for it.
#[test]
fn manifest_push_refuses_an_empty_media_type_field() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let reference = registry.reference("e2e/manifest/no-media-type:v1");
    let empty = format!(
        r#"{{"schemaVersion":2,"mediaType":"","config":{{"mediaType":"{EMPTY_TYPE}","digest":"sha256:{}","size":2}},"layers":[]}}"#,
        sha256_hex(b"{}")
    );
    sandbox.write("empty.json", &empty);
    let out = sandbox
        .oras()
        .args(["manifest", "push", &reference, "empty.json"])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains(
        "media type is not specified via the flag \"--media-type\" nor in \"empty.json\"",
    );
    assert!(out.stdout.is_empty(), "{out}");
    let out = sandbox
        .oras()
        .args(["manifest", "push", &reference, "-"])
        .stdin(empty.clone())
        .failure();
    out.stderr_contains("media type is not specified via the flag \"--media-type\" nor in \"-\"");

    for (name, content) in [("number.json", r#"{"mediaType":5}"#), ("list.json", "[]")] {
        sandbox.write(name, content);
        let out = sandbox
            .oras()
            .args(["manifest", "push", &reference, name])
            .failure();
        assert_eq!(out.stderr, "Error: not a valid json file\n", "{out}");
    }
}

/// `oras blob push <repo> <file> --descriptor`: the descriptor it prints.
fn push_blob_descriptor(sandbox: &Sandbox, repo: &str, file: &str) -> serde_json::Value {
    let out = sandbox
        .oras()
        .args(["blob", "push", repo, file, "--descriptor"])
        .success();
    serde_json::from_str(&out.stdout).unwrap()
}
