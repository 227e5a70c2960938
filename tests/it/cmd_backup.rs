//! `oras backup` and `oras restore` (oras-cli.md §9, §13.12) against the registry, whose
//! referrers live in the `sha256-<hex>` tag schema: tags with their referrers into a layout
//! directory or `.tar` and back, checked byte for byte with `manifest fetch` and skopeo.

use std::path::Path;

use serde_json::Value;

use crate::cmd_manifest::{registry_has, seed_multi_arch};
use crate::harness::{
    Output, PASSWORD, Registry, Sandbox, USER, auth_registry, layout_manifest, registry, skopeo,
};

/// A subject pushed as `<repo>:v1` with two referrers (an SBOM and a signature).
struct Subject {
    repo: String,
    digest: String,
    referrers: Vec<String>,
}

/// `-u/-p` for the htpasswd registry, nothing for the open one.
fn creds(registry: &Registry) -> Vec<&'static str> {
    if registry.has_auth() {
        vec!["-u", USER, "-p", PASSWORD]
    } else {
        vec![]
    }
}

fn push_subject(sandbox: &Sandbox, registry: &Registry, repo: &str) -> Subject {
    let repo = registry.reference(repo);
    sandbox.write("subject.txt", format!("subject of {repo}\n"));
    let out = sandbox
        .oras()
        .args(["push", &format!("{repo}:v1"), "subject.txt"])
        .args(creds(registry))
        .success();
    let digest = format!("sha256:{}", out.digest_line());
    let referrers = ["test/sbom", "test/signature"]
        .iter()
        .map(|artifact_type| {
            sandbox.write("attached.txt", format!("{artifact_type} of {repo}\n"));
            let out = sandbox
                .oras()
                .args(["attach", "--artifact-type", artifact_type])
                .args(creds(registry))
                .args([&format!("{repo}:v1"), "attached.txt"])
                .success();
            format!("sha256:{}", out.digest_line())
        })
        .collect();
    Subject {
        repo,
        digest,
        referrers,
    }
}

/// The referrer digests `oras discover --format json` lists for `reference`, sorted.
fn discovered(sandbox: &Sandbox, registry: &Registry, reference: &str) -> Vec<String> {
    let out = sandbox
        .oras()
        .args(["discover", "--format", "json", reference])
        .args(creds(registry))
        .success();
    let v: Value = serde_json::from_str(&out.stdout).expect("discover prints JSON");
    let mut digests: Vec<String> = v["referrers"]
        .as_array()
        .expect("referrers array")
        .iter()
        .map(|r| r["digest"].as_str().unwrap().to_owned())
        .collect();
    digests.sort();
    digests
}

/// `oras manifest fetch` output bytes.
fn fetch(sandbox: &Sandbox, registry: &Registry, reference: &str) -> Vec<u8> {
    sandbox
        .oras()
        .args(["manifest", "fetch", reference])
        .args(creds(registry))
        .success()
        .stdout_bytes
}

/// The `org.opencontainers.image.ref.name` of every entry in a layout's index.json.
fn layout_tags(layout: &Path) -> Vec<String> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    let mut tags: Vec<String> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .map(str::to_owned)
        .collect();
    tags.sort();
    tags
}

#[track_caller]
fn assert_line_starting(out: &Output, prefix: &str) {
    assert!(
        out.stdout.lines().any(|l| l.starts_with(prefix)),
        "stdout should have a line starting with {prefix:?}\n{out}"
    );
}

/// `oras backup --include-referrers -o <output> <subject>:v1`.
fn backup_with_referrers(
    sandbox: &Sandbox,
    registry: &Registry,
    subject: &Subject,
    output: &str,
) -> Output {
    sandbox
        .oras()
        .args(["backup", "--include-referrers", "-o", output])
        .arg(format!("{}:v1", subject.repo))
        .args(creds(registry))
        .success()
}

// ---------------------------------------------------------------------------------------------
// Argument errors
// ---------------------------------------------------------------------------------------------

#[test]
fn backup_and_restore_argument_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-backup/args");

    // cobra checks the argument count before required flags.
    let out = sandbox.oras().arg("backup").failure();
    out.error_first_line("Error: \"oras backup\" requires exactly 1 argument but got 0");
    let out = sandbox.oras().args(["backup", &repo]).failure();
    assert_eq!(
        out.stderr.lines().next().unwrap_or_default(),
        "Error: required flag(s) \"output\" not set",
        "{out}"
    );
    let out = sandbox.oras().args(["backup", "-o", "", &repo]).failure();
    out.error_first_line("Error: the output path cannot be empty");
    let digest_ref =
        format!("{repo}@sha256:5135033ba82c3edd8065c4560a520c0a310bf073fd3c5cfcc44b20dc43cc9103");
    let out = sandbox
        .oras()
        .args(["backup", "-o", "out", &digest_ref])
        .failure();
    out.error_first_line(&format!(
        "Error: digest references are not supported: \"{digest_ref}\""
    ));
    assert!(!sandbox.path("out").exists(), "nothing written\n{out}");
    // The reference checks in the Go client's words.
    for (raw, error) in [
        (
            String::new(),
            "artifact reference cannot be empty".to_owned(),
        ),
        (
            format!("{repo}:a,,b"),
            format!("empty tag in reference \"{repo}:a,,b\""),
        ),
        (
            format!("{repo}:,a"),
            format!("empty tag in reference \"{repo}:,a\""),
        ),
        (
            format!("{repo}:a,-b"),
            format!(
                "invalid tag \"-b\" in reference \"{repo}:a,-b\": invalid reference: invalid tag \"-b\""
            ),
        ),
    ] {
        let out = sandbox.oras().args(["backup", "-o", "out", &raw]).failure();
        out.error_first_line(&format!("Error: {error}"));
    }
    assert!(!sandbox.path("out").exists(), "nothing written");

    let out = sandbox.oras().arg("restore").failure();
    out.error_first_line("Error: \"oras restore\" requires exactly 1 argument but got 0");
    let out = sandbox.oras().args(["restore", &repo]).failure();
    assert_eq!(
        out.stderr.lines().next().unwrap_or_default(),
        "Error: required flag(s) \"input\" not set",
        "{out}"
    );
    let out = sandbox
        .oras()
        .args(["restore", "--input", "", &repo])
        .failure();
    out.error_first_line("Error: the input path cannot be empty");
}

// ---------------------------------------------------------------------------------------------
// backup
// ---------------------------------------------------------------------------------------------

#[test]
fn backup_to_a_directory_with_and_without_referrers() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/dir");
    let reference = format!("{}:v1", subject.repo);

    let out = backup_with_referrers(&sandbox, registry, &subject, "with");
    out.assert_line(&format!("Found 1 tag(s) in {}: v1", subject.repo))
        .assert_line("Pulled tag v1 with 2 referrer(s)");
    assert_line_starting(
        &out,
        &format!(
            "Successfully backed up 1 tag(s) from \"{}\" to \"with\" in ",
            subject.repo
        ),
    );
    let with = sandbox.path("with");
    assert!(!with.join("ingest").exists(), "no ingest/ left behind");
    assert!(with.join("oci-layout").is_file());
    assert_eq!(layout_tags(&with), ["v1"]);
    assert_eq!(
        layout_manifest(&with, "v1").0,
        fetch(&sandbox, registry, &reference)
    );
    // The referrers are in the layout, found through their subject.
    let out = sandbox
        .oras()
        .args(["discover", "--oci-layout", "--format", "json", "with:v1"])
        .success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut found: Vec<&str> = v["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    found.sort_unstable();
    let mut expected = subject.referrers.clone();
    expected.sort();
    assert_eq!(found, expected);

    let out = sandbox
        .oras()
        .args(["backup", "-o", "without", &reference])
        .success();
    out.assert_line("Pulled tag v1 with 0 referrer(s)");
    for referrer in &subject.referrers {
        let hex = referrer.trim_start_matches("sha256:");
        assert!(
            !sandbox.path("without/blobs/sha256").join(hex).exists(),
            "referrers are left out without --include-referrers"
        );
    }
}

#[test]
fn backup_and_restore_count_referrers_of_a_multi_arch_image() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-backup/multi:multi");
    let repo = registry.reference("cmd-backup/multi");
    // One referrer on the index, one on each platform's manifest.
    for (extra, file) in [
        (vec![], "index-note.txt"),
        (vec!["--platform", "linux/amd64"], "amd64-note.txt"),
        (vec!["--platform", "linux/arm64"], "arm64-note.txt"),
    ] {
        sandbox.write(file, format!("{file}\n"));
        sandbox
            .oras()
            .args(["attach", "--artifact-type", "test/note"])
            .args(extra)
            .args([&format!("{repo}:multi"), file])
            .success();
    }

    let out = sandbox
        .oras()
        .args([
            "backup",
            "--include-referrers",
            "-o",
            "multi.tar",
            &format!("{repo}:multi"),
        ])
        .success();
    out.assert_line("Pulled tag multi with 3 referrer(s)");

    let restored = registry.reference("cmd-backup/multi-restored");
    let out = sandbox
        .oras()
        .args(["restore", "--input", "multi.tar", &restored])
        .success();
    out.assert_line("Pushed tag multi with 3 referrer(s)");
    assert_eq!(
        registry.manifest("cmd-backup/multi-restored:multi"),
        multi.index
    );
    let child = format!("{restored}@{}", multi.arm64.digest);
    assert_eq!(discovered(&sandbox, registry, &child).len(), 1);
}

#[test]
fn backup_to_tar_archives() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/tar");

    for name in ["backup.tar", "BACKUP2.TAR"] {
        let out = backup_with_referrers(&sandbox, registry, &subject, name);
        out.assert_line(&format!("Exporting to {name}"));
        assert_line_starting(&out, &format!("Exported to {name} ("));
        assert_line_starting(&out, "Successfully backed up 1 tag(s)");
        let path = sandbox.path(name);
        assert!(path.is_file(), "{name} is a file");
        let listing = crate::harness::run_command(
            {
                let mut c = std::process::Command::new("tar");
                c.arg("-tf").arg(&path);
                c
            },
            None,
        );
        assert_eq!(listing.code, 0, "{listing}");
        let entries: Vec<&str> = listing
            .stdout
            .lines()
            .map(|l| l.trim_start_matches("./"))
            .collect();
        for top in ["index.json", "oci-layout"] {
            assert!(
                entries.contains(&top),
                "{top} at the top level: {entries:?}"
            );
        }
        assert!(
            entries.iter().any(|e| *e
                == format!(
                    "blobs/sha256/{}",
                    subject.digest.trim_start_matches("sha256:")
                )),
            "{entries:?}"
        );
        assert!(
            !entries.iter().any(|e| e.starts_with("ingest")),
            "{entries:?}"
        );
    }
    // Nothing else was left next to the archives (no staging directory).
    let mut left: Vec<String> = std::fs::read_dir(sandbox.work())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().contains("backup") || n.starts_with('.'))
        .collect();
    left.sort();
    assert_eq!(left, ["BACKUP2.TAR", "backup.tar"]);
}

#[test]
fn backup_named_and_discovered_tags() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/tags");
    sandbox
        .oras()
        .args(["tag", &format!("{}:v1", subject.repo), "v2"])
        .success();

    let out = sandbox
        .oras()
        .args(["backup", "-o", "named", &format!("{}:v1,v2", subject.repo)])
        .success();
    out.assert_line(&format!("Found 2 tag(s) in {}: v1, v2", subject.repo));
    assert_line_starting(&out, "Successfully backed up 2 tag(s)");
    assert_eq!(layout_tags(&sandbox.path("named")), ["v1", "v2"]);

    // Without tags every tag is found, but not the `sha256-<hex>` referrers index tag.
    let tags = sandbox
        .oras()
        .args(["repo", "tags", &subject.repo])
        .success();
    assert!(
        tags.stdout.lines().any(|t| t.starts_with("sha256-")),
        "the registry has a referrers tag\n{tags}"
    );
    let out = sandbox
        .oras()
        .args(["backup", "-o", "all", &subject.repo])
        .success();
    out.assert_line(&format!("Found 2 tag(s) in {}: v1, v2", subject.repo));
    assert_line_starting(&out, "Successfully backed up 2 tag(s)");
    assert_eq!(layout_tags(&sandbox.path("all")), ["v1", "v2"]);
}

#[test]
fn backup_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/errors");

    std::fs::create_dir(sandbox.path("exists.tar")).unwrap();
    let out = sandbox
        .oras()
        .args([
            "backup",
            "-o",
            "exists.tar",
            &format!("{}:v1", subject.repo),
        ])
        .failure();
    out.error_first_line("Error: the output path \"exists.tar\" already exists and is a directory");
    out.stderr_contains("please specify a different output file name");

    let out = sandbox
        .oras()
        .args([
            "backup",
            "-o",
            "missing-repo",
            &registry.reference("cmd-backup/no-such-repo"),
        ])
        .failure();
    out.error_first_line("Error response from registry:");

    // A repository whose only manifest (and with it its tag) was deleted.
    let empty = registry.reference("cmd-backup/empty");
    sandbox.write("gone.txt", "soon deleted\n");
    sandbox
        .oras()
        .args(["push", &format!("{empty}:v1"), "gone.txt"])
        .success();
    sandbox
        .oras()
        .args(["manifest", "delete", "-f", &format!("{empty}:v1")])
        .success();
    let out = sandbox
        .oras()
        .args(["backup", "-o", "empty", &empty])
        .failure();
    out.error_first_line(&format!("Error: no tags found in repository \"{empty}\""));
    out.stderr_contains("oras repo tags");

    let out = sandbox
        .oras()
        .args([
            "backup",
            "-o",
            "missing-tag",
            &format!("{}:v1,no-such-tag", subject.repo),
        ])
        .failure();
    out.error_first_line("Error");
    out.stderr_contains("no-such-tag");
    // Nothing half-written: every tag is resolved before the layout is created.
    assert!(!sandbox.path("missing-tag").exists(), "{out}");
}

/// A `.tar` that cannot be created fails at once with Go's `unable to create output file`.
#[test]
fn backup_to_a_tar_that_cannot_be_created_fails_before_any_request() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("a-file", "not a directory\n");
    // Regression: the staging directory's error ("failed to create a staging directory: No such
    // file or directory (os error 2) at path …/.oras-backup-XXXX") came after the tags were listed.
    for (output, why) in [
        ("no-such-dir/b.tar", "no such file or directory"),
        ("a-file/b.tar", "not a directory"),
    ] {
        let out = sandbox
            .oras()
            .args([
                "backup",
                "-o",
                output,
                &registry.reference("cmd-backup/unwritable:v1"),
            ])
            .failure();
        assert_eq!(
            out.stderr.trim_end(),
            format!("Error: unable to create output file {output}: open {output}: {why}"),
            "{out}"
        );
        assert!(out.stdout.is_empty(), "nothing was looked up: {out}");
    }
}

// ---------------------------------------------------------------------------------------------
// restore
// ---------------------------------------------------------------------------------------------

#[test]
fn restore_with_and_without_referrers() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-restore/src");
    backup_with_referrers(&sandbox, registry, &subject, "bk");

    let bare = registry.reference("cmd-restore/bare");
    let out = sandbox
        .oras()
        .args(["restore", "--input", "bk", "--exclude-referrers", &bare])
        .success();
    out.assert_line("Found 1 tag(s) in the backup: v1")
        .assert_line("Pushed tag v1 with 0 referrer(s)");
    assert_line_starting(
        &out,
        &format!("Successfully restored 1 tag(s) to \"{bare}\" in "),
    );
    assert!(discovered(&sandbox, registry, &format!("{bare}:v1")).is_empty());

    let full = registry.reference("cmd-restore/full");
    let out = sandbox
        .oras()
        .args(["restore", "--input", "bk", &full])
        .success();
    out.assert_line("Pushed tag v1 with 2 referrer(s)");
    assert_line_starting(&out, "Successfully restored 1 tag(s)");
    let mut expected = subject.referrers.clone();
    expected.sort();
    assert_eq!(
        discovered(&sandbox, registry, &format!("{full}:v1")),
        expected
    );
}

#[test]
fn restore_dry_run_pushes_nothing() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-restore/dry-src");
    backup_with_referrers(&sandbox, registry, &subject, "bk.tar");

    let dst = registry.reference("cmd-restore/dry-dst");
    let out = sandbox
        .oras()
        .args(["restore", "--dry-run", "--input", "bk.tar", &dst])
        .success();
    assert_line_starting(&out, "Loaded backup archive: bk.tar (");
    out.assert_line("Dry run: would push tag v1 with 2 referrer(s)")
        .assert_line(&format!(
            "Dry run complete: 1 tag(s) would be restored to \"{dst}\" (no data pushed)"
        ));
    assert!(!out.stdout.contains("Pushed"), "{out}");
    assert!(!registry_has(registry, "cmd-restore/dry-dst:v1"));
    for referrer in &subject.referrers {
        assert!(!registry_has(
            registry,
            &format!("cmd-restore/dry-dst@{referrer}")
        ));
    }
    // The repository was never created.
    sandbox.oras().args(["repo", "tags", &dst]).failure();
}

#[test]
fn restore_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let dst = registry.reference("cmd-restore/errors");

    let out = sandbox
        .oras()
        .args(["restore", "--input", "no-such-backup", &dst])
        .failure();
    out.error_first_line(
        "Error: failed to access input path \"no-such-backup\": stat no-such-backup: no such file or directory",
    );

    // A valid layout without tags.
    sandbox.write("untagged/oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#);
    sandbox.write(
        "untagged/index.json",
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
    );
    let out = sandbox
        .oras()
        .args(["restore", "--input", "untagged", &dst])
        .failure();
    // Regression: the hint said "in the OCI layout" where Go names the input.
    assert_eq!(
        out.stderr,
        "Error: no tags found in OCI layout \"untagged\"\n\
         If you want to list available tags in \"untagged\", use \"oras repo tags --oci-layout\"\n",
        "{out}"
    );

    // A text file named like an archive.
    sandbox.write("x.tar", "this is not a tar archive\n");
    let out = sandbox
        .oras()
        .args(["restore", "--input", "x.tar", &dst])
        .failure();
    out.error_first_line("Error: input path \"x.tar\" is not a tar archive");
    out.stderr_contains("invalid OCI Image Layout");
    // Regression: the message named the temp directory the archive was being unpacked into.
    assert!(!out.stderr.contains("oras-layout-"), "{out}");

    // A directory that is not a layout has no tags, as in Go (e2e restore.go).
    sandbox.write("not-a-layout/readme.txt", "hello\n");
    let out = sandbox
        .oras()
        .args(["restore", "--input", "not-a-layout", &dst])
        .failure();
    out.error_first_line("Error: no tags found in OCI layout \"not-a-layout\"");
    assert!(!out.stderr.contains("os error"), "{out}");

    let subject = push_subject(&sandbox, registry, "cmd-restore/errors-src");
    sandbox
        .oras()
        .args(["backup", "-o", "bk", &format!("{}:v1", subject.repo)])
        .success();
    let out = sandbox
        .oras()
        .args(["restore", "--input", "bk", &format!("{dst}:no-such-tag")])
        .failure();
    // Regression: it read `failed to find tag "no-such-tag" in "bk"`; Go's resolveTags words it.
    out.error_first_line("Error: failed to resolve tag \"no-such-tag\": ");
    out.stderr_contains("no-such-tag: not found");
    assert!(!registry_has(registry, "cmd-restore/errors:no-such-tag"));
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

/// backup with referrers → restore into a new repository: the subject and its referrers come
/// back byte for byte, discover lists the same referrers, and skopeo reads the image.
fn round_trip(registry: &Registry, src_repo: &str, dst_repo: &str) {
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, src_repo);
    let out = backup_with_referrers(&sandbox, registry, &subject, "round.tar");
    out.assert_line("Pulled tag v1 with 2 referrer(s)");

    let dst = registry.reference(dst_repo);
    let out = sandbox
        .oras()
        .args(["restore", "--input", "round.tar", &dst])
        .args(creds(registry))
        .success();
    out.assert_line("Pushed tag v1 with 2 referrer(s)");

    assert_eq!(
        fetch(&sandbox, registry, &format!("{dst}:v1")),
        fetch(&sandbox, registry, &format!("{}:v1", subject.repo))
    );
    for referrer in &subject.referrers {
        assert_eq!(
            fetch(&sandbox, registry, &format!("{dst}@{referrer}")),
            fetch(&sandbox, registry, &format!("{}@{referrer}", subject.repo))
        );
    }
    assert_eq!(
        discovered(&sandbox, registry, &format!("{dst}:v1")),
        discovered(&sandbox, registry, &format!("{}:v1", subject.repo))
    );
    assert_eq!(
        registry.manifest(&format!("{dst_repo}:v1")),
        registry.manifest(&format!("{src_repo}:v1"))
    );
    let creds_flag = format!("{USER}:{PASSWORD}");
    let mut args = vec!["--insecure-policy", "copy", "--src-tls-verify=false"];
    if registry.has_auth() {
        args.extend(["--src-creds", &creds_flag]);
    }
    let source = registry.docker_ref(&format!("{dst_repo}:v1"));
    let dir = format!("dir:{}", sandbox.path("skopeo-dir").display());
    args.extend([source.as_str(), dir.as_str()]);
    skopeo(&args);
    assert_eq!(
        sandbox.read("skopeo-dir/manifest.json"),
        fetch(&sandbox, registry, &format!("{dst}:v1"))
    );
}

#[test]
fn backup_and_restore_round_trip() {
    round_trip(registry(), "cmd-backup/round-src", "cmd-backup/round-dst");
}

#[test]
fn backup_and_restore_round_trip_with_credentials() {
    let registry = auth_registry();
    round_trip(registry, "cmd-backup/auth-src", "cmd-backup/auth-dst");

    // Without credentials both commands are refused.
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args([
            "backup",
            "-o",
            "out",
            &registry.reference("cmd-backup/auth-src:v1"),
        ])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("basic credential not found");
    let out = sandbox
        .oras()
        .args([
            "backup",
            "-o",
            "out",
            "-u",
            USER,
            "-p",
            "wrong-password",
            &registry.reference("cmd-backup/auth-src:v1"),
        ])
        .failure();
    out.error_first_line("Error response from registry:");
}

#[test]
fn backup_of_a_missing_tag_fails_before_announcing_tags() {
    // Regression: a missing tag was reported with the registry prefix (e2e backup.go matches
    // `Error:`), after `Found 2 tag(s) …` had been printed.
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/missing-tag");
    let out = sandbox
        .oras()
        .args(["backup", "-o", "out", &format!("{}:v1,v9", subject.repo)])
        .failure();
    assert_eq!(
        out.stderr,
        format!(
            "Error: failed to resolve tag \"v9\": {}:v9: not found\n",
            subject.repo
        ),
        "{out}"
    );
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn backup_tar_archive_is_readable_as_a_created_file_is() {
    // Regression: the archive was left 0600 (a temp file's mode); Go's os.Create gives 0666
    // less the umask.
    use std::os::unix::fs::PermissionsExt as _;
    let registry = registry();
    let sandbox = Sandbox::new();
    let subject = push_subject(&sandbox, registry, "cmd-backup/tar-mode");
    sandbox
        .oras()
        .args(["backup", "-o", "b.tar", &format!("{}:v1", subject.repo)])
        .success();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // The oras process inherits this one's umask: a file created here shows what it is.
    let probe = sandbox.write("probe", "");
    assert_eq!(mode(&sandbox.path("b.tar")), mode(&probe));
}

#[test]
fn restore_from_a_directory_without_a_layout_finds_no_tags() {
    // Regression: an empty directory (or one without index.json) was refused as an invalid
    // layout; Go finds no tags in it and says how to list them (e2e restore.go).
    let registry = registry();
    let sandbox = Sandbox::new();
    let dst = registry.reference("cmd-restore/not-a-layout");
    std::fs::create_dir_all(sandbox.path("empty")).unwrap();
    sandbox.write("stray/invalid-file.txt", "not a valid layout");
    for dir in ["empty", "stray"] {
        let out = sandbox
            .oras()
            .args(["restore", "--input", dir, &dst])
            .failure();
        assert_eq!(
            out.stderr,
            format!(
                "Error: no tags found in OCI layout \"{dir}\"\nIf you want to list available tags in \"{dir}\", use \"oras repo tags --oci-layout\"\n"
            ),
            "{out}"
        );
    }
    // Named tags cannot be found there either; the message names the tag.
    let out = sandbox
        .oras()
        .args(["restore", "--input", "empty", &format!("{dst}:v1")])
        .failure();
    out.error_first_line("Error: failed to find tag \"v1\" in \"empty\"");
}

#[test]
fn more_than_five_tags_are_listed_one_per_line() {
    // Regression: the tags were indented by two spaces; Go prints each bare (its
    // `OnTagsFound` of backup and restore).
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-backup/six-tags");
    sandbox.write("six.txt", "six tags\n");
    sandbox
        .oras()
        .args(["push", &format!("{repo}:t1,t2,t3,t4,t5,t6"), "six.txt"])
        .success();
    let tags = "t1,t2,t3,t4,t5,t6";
    let out = sandbox
        .oras()
        .args(["backup", "-o", "six", &format!("{repo}:{tags}")])
        .success();
    let listed = format!("Found 6 tag(s) in {repo}:\nt1\nt2\nt3\nt4\nt5\nt6\n");
    assert!(out.stdout.starts_with(&listed), "{out}");
    let out = sandbox
        .oras()
        .args(["restore", "--dry-run", "--input", "six"])
        .arg(registry.reference("cmd-restore/six-tags"))
        .success();
    assert!(
        out.stdout
            .starts_with("Found 6 tag(s) in the backup:\nt1\nt2\nt3\nt4\nt5\nt6\n"),
        "{out}"
    );
}

/// Regression: `--input` a FIFO was opened and read as a tar (a writer-less one hung), and
/// `/dev/null` was called "not a tar archive", where Go refuses both before reading.
#[test]
fn restore_refuses_an_input_that_is_neither_directory_nor_file() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.path("backup.fifo");
    let _writer = crate::harness::Fifo::new(&fifo, Vec::new());
    let dst = registry().reference("cmd-restore/special");
    for input in [fifo.to_str().unwrap(), "/dev/null"] {
        let out = sandbox
            .oras()
            .args(["restore", "--input", input, &dst])
            .failure();
        assert_eq!(
            out.stderr,
            format!("Error: input path {input:?} must be a directory or a tar archive\n"),
            "{out}"
        );
    }
}
