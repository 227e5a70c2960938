//! `oras attach`, `oras discover` and `oras cp -r` (oras-cli.md §6, §9, §13.4–§13.6) against
//! the Debian registry, which has no referrers API (so the `sha256-<hex>` tag schema is what
//! is exercised), and against OCI image layouts. skopeo reads the tag-schema indexes we write.

use serde_json::Value;

use crate::cmd_manifest::{MANIFEST_TYPE, registry_has, seed_image, seed_multi_arch};
use crate::harness::{Output, Registry, Sandbox, layout_manifest, registry, skopeo};

const SBOM: &str = "test/sbom.file";
const SIGNATURE: &str = "test/signature.file";

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{out}"))
}

/// The `sha256-<hex>` referrers index of `subject` in `repo`, read by skopeo.
fn tag_schema_index(registry: &Registry, repo: &str, subject: &str) -> Value {
    let tag = subject.replacen(':', "-", 1);
    let out = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &registry.docker_ref(&format!("{repo}:{tag}")),
    ]);
    serde_json::from_str(&out.stdout).expect("the referrers index is JSON")
}

fn index_digests(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Attaches `file` (written with `content`) to `subject` and returns the referrer's digest.
fn attach(
    sandbox: &Sandbox,
    extra: &[&str],
    subject: &str,
    artifact_type: &str,
    file: &str,
) -> String {
    sandbox.write(file, format!("{file} attached to {subject}\n"));
    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", artifact_type])
        .args(extra)
        .args([subject, file])
        .success();
    format!("sha256:{}", out.digest_line())
}

// ---------------------------------------------------------------------------------------------
// attach
// ---------------------------------------------------------------------------------------------

#[test]
fn attach_argument_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-attach/errors");
    sandbox.write("f.txt", "f\n");

    // No subject: the argument count is checked first, even before --artifact-type (§13.1).
    for args in [
        &["attach", "--artifact-type", "test/attach"][..],
        &["attach"],
    ] {
        let out = sandbox.oras().args(args).failure();
        out.error_first_line("Error: \"oras attach\" requires at least 1 argument but got 0");
        out.stderr_contains("\nUsage: oras attach");
        out.stderr_contains("Run \"oras attach -h\"");
    }
    let out = sandbox
        .oras()
        .args(["attach", &format!("{repo}:v1"), "f.txt"])
        .failure();
    out.error_first_line("Error: required flag(s) \"artifact-type\" not set");

    // Nothing to attach: with a tagged subject, says so; without a tag, the reference is more
    // likely what is missing.
    for layout in [false, true] {
        let (untagged, tagged) = if layout {
            ("layout".to_owned(), "layout:v1".to_owned())
        } else {
            (repo.clone(), format!("{repo}:v1"))
        };
        let attach = |subject: &str| {
            let mut cmd = sandbox
                .oras()
                .args(["attach", "--artifact-type", "test/attach"]);
            if layout {
                cmd = cmd.arg("--oci-layout");
            }
            cmd.arg(subject).failure()
        };
        let out = attach(&untagged);
        out.error_first_line("Error:");
        out.stderr_contains("no tag or digest specified");
        out.stderr_contains("\nAre you missing an artifact reference to attach to?");
        let out = attach(&tagged);
        out.error_first_line("Error: neither file nor annotation");
        out.stderr_contains("Usage: oras attach");
    }

    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            "--distribution-spec",
            "???",
        ])
        .args([&format!("{repo}:v1"), "f.txt"])
        .failure();
    out.stderr_contains("unknown distribution specification flag");
    out.stderr_contains("Available options: v1.1-referrers-tag, v1.1-referrers-api");

    // A file but no tag: the plain "no tag or digest" error, without the missing-ref hint.
    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach", &repo, "f.txt"])
        .failure();
    out.stderr_contains("no tag or digest specified");
    assert!(!out.stderr.contains("Are you missing"), "{out}");

    let out = sandbox
        .oras()
        .args(["attach", &format!("{repo}:v1"), "f.txt"])
        .failure();
    out.stderr_contains("artifact-type");

    // Layouts take no custom headers.
    let out = sandbox
        .oras()
        .args([
            "attach",
            "--oci-layout",
            "--artifact-type",
            "test/attach",
            "-H=foo:bar",
        ])
        .args(["layout:v1", "f.txt"])
        .failure();
    out.stderr_contains("custom header");
}

#[test]
fn attach_to_a_tag_and_a_digest_records_the_referrer_in_the_tag_schema() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-attach/subject:foobar");
    let repo = registry.reference("cmd-attach/subject");
    sandbox.write("foobar/to-be-attached", "attached\n");

    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach"])
        .args([
            &format!("{repo}:foobar"),
            "foobar/to-be-attached:test/oras.e2e",
        ])
        .success();
    out.assert_line(&format!("Attached to [registry] {repo}@{}", seeded.digest));
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("Uploaded ") && l.ends_with("foobar/to-be-attached")),
        "{out}"
    );
    let first = format!("sha256:{}", out.digest_line());

    // The referrer is an image manifest whose subject is the subject's descriptor.
    let fetched = sandbox
        .oras()
        .args(["manifest", "fetch", &format!("{repo}@{first}")])
        .success();
    let manifest = json(&fetched);
    assert_eq!(manifest["artifactType"], "test/attach");
    assert_eq!(manifest["subject"]["digest"], seeded.digest.as_str());
    assert_eq!(manifest["subject"]["mediaType"], MANIFEST_TYPE);
    assert_eq!(manifest["subject"]["size"], seeded.manifest.len());
    assert_eq!(manifest["layers"][0]["mediaType"], "test/oras.e2e");
    assert!(manifest["annotations"]["org.opencontainers.image.created"].is_string());

    // By digest: the raw reference is kept in the text.
    let by_digest = format!("{repo}@{}", seeded.digest);
    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach", &by_digest])
        .args(["foobar/to-be-attached"])
        .success();
    out.assert_line(&format!("Attached to [registry] {by_digest}"));
    let second = format!("sha256:{}", out.digest_line());
    assert_ne!(first, second, "the created annotation differs");

    // No referrers API here: both are listed in the sha256-<hex> index, which skopeo reads.
    let index = tag_schema_index(registry, "cmd-attach/subject", &seeded.digest);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(index_digests(&index), [first.clone(), second.clone()]);
    assert_eq!(index["manifests"][0]["artifactType"], "test/attach");

    // Both are discovered.
    let out = sandbox
        .oras()
        .args(["discover", &format!("{repo}:foobar")])
        .args([
            "--format",
            "go-template={{range .referrers}}{{println .reference}}{{end}}",
        ])
        .success();
    let listed: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        listed,
        [format!("{repo}@{first}"), format!("{repo}@{second}")],
        "{out}"
    );

    // Forcing the tag schema gives the same answer; forcing the API fails here.
    let out = sandbox
        .oras()
        .args([
            "discover",
            "--distribution-spec",
            "v1.1-referrers-tag",
            "--format",
            "json",
        ])
        .arg(format!("{repo}:foobar"))
        .success();
    assert_eq!(json(&out)["referrers"].as_array().unwrap().len(), 2);
    let out = sandbox
        .oras()
        .args(["discover", "--distribution-spec", "v1.1-referrers-api"])
        .arg(format!("{repo}:foobar"))
        .failure();
    out.stderr_contains("referrers API");
}

#[test]
fn attach_outputs_json_templates_and_the_exported_manifest() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-attach/outputs:v1");
    let subject = registry.reference("cmd-attach/outputs:v1");
    let repo = registry.reference("cmd-attach/outputs");
    sandbox.write("a.txt", "a\n");

    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            "--export-manifest",
            "manifest.json",
        ])
        .args(["--format", "go-template={{.reference}}", &subject, "a.txt"])
        .success();
    let reference = out.stdout.clone();
    assert!(reference.starts_with(&format!("{repo}@sha256:")), "{out}");
    let fetched = sandbox
        .oras()
        .args(["manifest", "fetch", &reference])
        .success();
    assert_eq!(sandbox.read("manifest.json"), fetched.stdout_bytes);

    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach"])
        .args([
            "--format",
            "go-template={{.reference}}---{{.artifactType}}",
            &subject,
            "a.txt",
        ])
        .success();
    assert!(out.stdout.ends_with("---test/attach"), "{out}");

    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            "--format",
            "json",
            &subject,
            "a.txt",
        ])
        .success();
    let v = json(&out);
    assert!(
        v["reference"]
            .as_str()
            .unwrap()
            .contains("cmd-attach/outputs"),
        "{out}"
    );
    assert_eq!(v["mediaType"], MANIFEST_TYPE);
    assert_eq!(v["artifactType"], "test/attach");
    // Keys in the Go client's order.
    let at = |key: &str| {
        out.stdout
            .find(&format!("\n  \"{key}\":"))
            .unwrap_or_else(|| panic!("no {key}\n{out}"))
    };
    let order = [
        "reference",
        "mediaType",
        "digest",
        "size",
        "annotations",
        "artifactType",
    ];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{out}");

    // --config with and without a media type; with --platform it is refused.
    sandbox.write("foobar/config.json", "{\"k\":\"config\"}");
    let digest = attach(
        &sandbox,
        &["--config", "foobar/config.json"],
        &subject,
        "test/attach",
        "b.txt",
    );
    let m = json(
        &sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{repo}@{digest}")])
            .success(),
    );
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
    assert_eq!(m["config"]["size"], 14);
    let digest = attach(
        &sandbox,
        &["--config", "foobar/config.json:config/type"],
        &subject,
        "test/attach",
        "c.txt",
    );
    let m = json(
        &sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{repo}@{digest}")])
            .success(),
    );
    assert_eq!(m["config"]["mediaType"], "config/type");
    for bad in [
        vec![
            "--config",
            "foobar/config.json",
            "--platform",
            "linux/amd64",
        ],
        vec!["--config", ":"],
        vec!["--config", "foobar/missing.json"],
    ] {
        sandbox
            .oras()
            .args(["attach", "--artifact-type", "test/attach"])
            .args(&bad)
            .args([&subject, "a.txt"])
            .failure()
            .error_first_line("Error:");
    }

    // Absolute paths need --disable-path-validation.
    let absolute = sandbox.path("a.txt").display().to_string();
    sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            &subject,
            &absolute,
        ])
        .failure()
        .stderr_contains("absolute file path");
    sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            "--disable-path-validation",
        ])
        .args([&subject, &absolute])
        .success();

    // Annotations alone are enough.
    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/note",
            "-a",
            "note=hello",
            &subject,
        ])
        .success();
    let digest = format!("sha256:{}", out.digest_line());
    let m = json(
        &sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{repo}@{digest}")])
            .success(),
    );
    assert_eq!(m["annotations"]["note"], "hello");
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(m["subject"]["digest"], seeded.digest.as_str());
}

#[test]
fn attach_to_one_platform_of_a_multi_arch_image() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-attach/multi:multi");
    let repo = registry.reference("cmd-attach/multi");
    sandbox.write("a.txt", "a\n");

    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "test/attach",
            "--platform",
            "linux/amd64",
        ])
        .args([
            "--format",
            "go-template={{.digest}}",
            &format!("{repo}:multi"),
            "a.txt",
        ])
        .success();
    let referrer = out.stdout.clone();
    let m = json(
        &sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{repo}@{referrer}")])
            .success(),
    );
    assert_eq!(m["subject"]["digest"], multi.amd64.digest.as_str());
    assert_eq!(m["subject"]["platform"]["architecture"], "amd64");

    let out = sandbox
        .oras()
        .args([
            "discover",
            "--artifact-type",
            "test/attach",
            "--format",
            "json",
        ])
        .arg(format!("{repo}@{}", multi.amd64.digest))
        .success();
    assert_eq!(json(&out)["referrers"][0]["digest"], referrer.as_str());
    // discover --platform reaches the same child through the index.
    let out = sandbox
        .oras()
        .args(["discover", "--platform", "linux/amd64", "--format", "json"])
        .arg(format!("{repo}:multi"))
        .success();
    let v = json(&out);
    assert_eq!(v["digest"], multi.amd64.digest.as_str());
    assert_eq!(v["referrers"][0]["digest"], referrer.as_str());
    // The index itself has none.
    let out = sandbox
        .oras()
        .args(["discover", "--format", "json", &format!("{repo}:multi")])
        .success();
    assert_eq!(json(&out)["referrers"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// discover
// ---------------------------------------------------------------------------------------------

/// A subject with an SBOM attached and a signature attached to the SBOM, in the registry or a
/// layout; returns (subject ref, repo or layout display, subject digest, sbom, signature).
struct Chain {
    subject: String,
    display: String,
    digest: String,
    sbom: String,
    signature: String,
    layout: bool,
}

fn chain(sandbox: &Sandbox, registry: Option<(&Registry, &str)>) -> Chain {
    sandbox.write("hi.txt", "hi\n");
    let (subject, display, flags): (String, String, Vec<&str>) = match registry {
        Some((r, repo)) => (
            r.reference(&format!("{repo}:foobar")),
            r.reference(repo),
            vec![],
        ),
        None => (
            "layout:foobar".to_owned(),
            "layout".to_owned(),
            vec!["--oci-layout"],
        ),
    };
    let out = sandbox
        .oras()
        .arg("push")
        .args(&flags)
        .args([&subject, "hi.txt"])
        .success();
    let digest = format!("sha256:{}", out.digest_line());
    let sbom = attach(sandbox, &flags, &subject, SBOM, "sbom.json");
    let signature = attach(
        sandbox,
        &flags,
        &format!("{display}@{sbom}"),
        SIGNATURE,
        "signature.sig",
    );
    Chain {
        subject,
        display,
        digest,
        sbom,
        signature,
        layout: registry.is_none(),
    }
}

impl Chain {
    fn discover(&self, sandbox: &Sandbox, extra: &[&str]) -> Output {
        let mut cmd = sandbox.oras().arg("discover");
        if self.layout {
            cmd = cmd.arg("--oci-layout");
        }
        cmd.args(extra).arg(&self.subject).run()
    }
}

fn check_discover_json(sandbox: &Sandbox, c: &Chain) {
    let v = json(&c.discover(sandbox, &["--format", "json"]).success());
    assert_eq!(
        v["reference"],
        format!("{}@{}", c.display, c.digest).as_str()
    );
    assert_eq!(v["mediaType"], MANIFEST_TYPE);
    assert_eq!(v["digest"], c.digest.as_str());
    if c.layout {
        assert_eq!(
            v["annotations"],
            serde_json::json!({"org.opencontainers.image.ref.name": "foobar"})
        );
    } else {
        assert!(v.get("annotations").is_none(), "{v}");
    }
    let sbom = &v["referrers"][0];
    assert_eq!(v["referrers"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        sbom["reference"],
        format!("{}@{}", c.display, c.sbom).as_str()
    );
    assert_eq!(sbom["artifactType"], SBOM);
    assert!(sbom["annotations"]["org.opencontainers.image.created"].is_string());
    let signature = &sbom["referrers"][0];
    assert_eq!(signature["digest"], c.signature.as_str());
    assert_eq!(signature["artifactType"], SIGNATURE);
    assert_eq!(signature["referrers"], serde_json::json!([]));

    let v = json(
        &c.discover(sandbox, &["--format", "json", "--depth", "1"])
            .success(),
    );
    assert_eq!(v["referrers"][0]["referrers"], serde_json::json!([]));
    let v = json(
        &c.discover(sandbox, &["--format", "json", "--artifact-type", SBOM])
            .success(),
    );
    assert_eq!(v["referrers"][0]["digest"], c.sbom.as_str());
    let v = json(
        &c.discover(sandbox, &["--format", "json", "--artifact-type", "???"])
            .success(),
    );
    assert_eq!(v["referrers"], serde_json::json!([]));
    // The deprecated -o json still works, with a note.
    let out = c.discover(sandbox, &["-o", "json"]).success();
    assert_eq!(json(&out)["digest"], c.digest.as_str());
    out.stderr_contains("[DEPRECATED] --output is deprecated");
    // It names a shape only: a template, which --format takes, is refused in Go's words.
    let out = c
        .discover(sandbox, &["-o", "go-template={{.digest}}"])
        .failure();
    assert_eq!(
        out.stderr,
        "Error: output type can only be tree, table or json\n"
    );
    // go-template over the same model.
    let out = c
        .discover(
            sandbox,
            &["--format", "go-template={{(first .referrers).reference}}"],
        )
        .success();
    assert_eq!(out.stdout, format!("{}@{}", c.display, c.sbom));
}

fn check_discover_tree_and_table(sandbox: &Sandbox, c: &Chain) {
    let out = c.discover(sandbox, &[]).success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("{}@{}", c.display, c.digest), "{out}");
    assert_eq!(lines[1], format!("└── {SBOM}"), "{out}");
    assert_eq!(lines[2], format!("    └── {}", c.sbom), "{out}");
    assert_eq!(lines[3], "        ├── [annotations]", "{out}");
    assert!(
        lines[4].starts_with("        │   └── org.opencontainers.image.created: \"20"),
        "{out}"
    );
    assert_eq!(lines[5], format!("        └── {SIGNATURE}"), "{out}");
    assert_eq!(
        lines[6],
        format!("            └── {}", c.signature),
        "{out}"
    );
    assert_eq!(lines[7], "                └── [annotations]", "{out}");
    assert_eq!(lines.len(), 9, "{out}");

    let out = c.discover(sandbox, &["--verbose=false"]).success();
    assert!(!out.stdout.contains("[annotations]"), "{out}");
    assert!(out.stdout.contains(&c.signature), "{out}");
    let out = c.discover(sandbox, &["--depth", "1"]).success();
    assert!(!out.stdout.contains(&c.signature), "{out}");
    assert!(out.stdout.contains(&c.sbom), "{out}");

    let out = c.discover(sandbox, &["--format", "table"]).success();
    assert_eq!(
        out.stderr,
        "Format \"table\" is deprecated and will be removed in a future release.\n"
    );
    out.assert_line(&format!("Discovered 1 artifact referencing {}", c.subject));
    out.assert_line(&format!("Digest: {}", c.digest));
    assert!(out.has_line(&format!("{SBOM}   {}", c.sbom)), "{out}");
    assert!(
        !out.stdout.contains(&c.signature),
        "the table is one level deep\n{out}"
    );
}

#[test]
fn discover_on_the_registry_through_the_tag_schema() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let c = chain(&sandbox, Some((registry, "cmd-discover/chain")));
    check_discover_json(&sandbox, &c);
    check_discover_tree_and_table(&sandbox, &c);
    // The tag schema is what holds them: the subject's index lists the SBOM, and skopeo
    // reads it.
    let index = tag_schema_index(registry, "cmd-discover/chain", &c.digest);
    assert_eq!(index_digests(&index), [c.sbom.as_str()]);
    let index = tag_schema_index(registry, "cmd-discover/chain", &c.sbom);
    assert_eq!(index_digests(&index), [c.signature.as_str()]);
}

#[test]
fn discover_in_an_oci_layout() {
    let sandbox = Sandbox::new();
    let c = chain(&sandbox, None);
    check_discover_json(&sandbox, &c);
    check_discover_tree_and_table(&sandbox, &c);
    // No tag schema in a layout: only the subject's tag and untagged referrers.
    let index: Value =
        serde_json::from_slice(&sandbox.read("layout/index.json")).expect("index.json");
    let tags: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .collect();
    assert_eq!(tags, ["foobar"]);
}

#[test]
fn discover_argument_errors_and_unknown_artifact_types() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-discover/errors");

    sandbox
        .oras()
        .arg("discover")
        .failure()
        .error_first_line("Error:");
    sandbox
        .oras()
        .args(["discover", &repo])
        .failure()
        .stderr_contains("no tag or digest specified")
        .stderr_contains("oras discover");
    for args in [
        ["--format", "json", "--output", "json"],
        ["--output", "json", "--format", "json"],
    ] {
        let out = sandbox
            .oras()
            .arg("discover")
            .args(args)
            .arg(format!("{repo}:v1"))
            .failure();
        out.stderr_contains("--format");
        out.stderr_contains("--output");
        out.stderr_contains("same time");
    }
    let out = sandbox
        .oras()
        .args(["discover", "--output", "ukpkmkk", &format!("{repo}:v1")])
        .failure();
    out.stderr_contains("invalid format type");
    for t in ["tree", "table", "json", "go-template"] {
        out.stderr_contains(t);
    }
    sandbox
        .oras()
        .args(["discover", "--depth", "0", &format!("{repo}:v1")])
        .failure()
        .stderr_contains("depth value should be at least 1");

    // A referrer without an artifact type (an index with a subject) shows as <unknown>.
    let seeded = seed_image(registry, &sandbox, "cmd-discover/errors:v1");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"subject":{{"mediaType":"{MANIFEST_TYPE}","digest":"{}","size":{}}}}}"#,
        seeded.digest,
        seeded.manifest.len()
    );
    sandbox.write("index.json", &index);
    sandbox
        .oras()
        .args(["manifest", "push", &format!("{repo}:untyped"), "index.json"])
        .success();
    let out = sandbox
        .oras()
        .args(["discover", &format!("{repo}:v1")])
        .success();
    assert!(out.has_line("└── <unknown>"), "{out}");
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &format!("{repo}:v1")])
            .success(),
    );
    assert!(v["referrers"][0].get("artifactType").is_none(), "{v}");
}

// ---------------------------------------------------------------------------------------------
// cp -r
// ---------------------------------------------------------------------------------------------

#[test]
fn cp_recursive_copies_referrers_between_registry_and_layouts() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let c = chain(&sandbox, Some((registry, "cmd-cp-r/src")));
    let dst = registry.reference("cmd-cp-r/dst");

    // Without -r only the subject moves.
    sandbox
        .oras()
        .args(["cp", &c.subject, &format!("{dst}:plain")])
        .success();
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &format!("{dst}:plain")])
            .success(),
    );
    assert_eq!(v["referrers"], serde_json::json!([]));

    // registry -> registry, with -r.
    let out = sandbox
        .oras()
        .args(["cp", "-r", &c.subject, &format!("{dst}:copied")])
        .success();
    assert_eq!(format!("sha256:{}", out.digest_line()), c.digest);
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &format!("{dst}:copied")])
            .success(),
    );
    assert_eq!(v["referrers"][0]["digest"], c.sbom.as_str());
    assert_eq!(
        v["referrers"][0]["referrers"][0]["digest"],
        c.signature.as_str()
    );
    for digest in [&c.sbom, &c.signature] {
        let src = sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{}@{digest}", c.display)])
            .success();
        let copied = sandbox
            .oras()
            .args(["manifest", "fetch", &format!("{dst}@{digest}")])
            .success();
        assert_eq!(src.stdout_bytes, copied.stdout_bytes);
    }
    // skopeo reads the copied referrer and the destination's tag index.
    let index = tag_schema_index(registry, "cmd-cp-r/dst", &c.digest);
    assert_eq!(index_digests(&index), [c.sbom.as_str()]);
    skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &registry.docker_ref(&format!("cmd-cp-r/dst@{}", c.signature)),
    ]);

    // registry -> layout -> registry.
    sandbox
        .oras()
        .args([
            "cp",
            "-r",
            "--to-oci-layout",
            &c.subject,
            "copied-layout:v1",
        ])
        .success();
    let out = sandbox
        .oras()
        .args([
            "discover",
            "--oci-layout",
            "--format",
            "json",
            "copied-layout:v1",
        ])
        .success();
    assert_eq!(
        json(&out)["referrers"][0]["referrers"][0]["digest"],
        c.signature.as_str()
    );
    sandbox
        .oras()
        .args([
            "cp",
            "-r",
            "--from-oci-layout",
            "copied-layout:v1",
            &format!("{dst}:back"),
        ])
        .success();
    let index = tag_schema_index(registry, "cmd-cp-r/dst", &c.sbom);
    assert_eq!(index_digests(&index), [c.signature.as_str()]);
}

#[test]
fn cp_recursive_copies_referrers_of_an_index_children() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-cp-r/multi:multi");
    let repo = registry.reference("cmd-cp-r/multi");
    let referrer = attach(
        &sandbox,
        &["--platform", "linux/arm64"],
        &format!("{repo}:multi"),
        "test/arm64-note",
        "note.txt",
    );
    let dst = registry.reference("cmd-cp-r/multi-copy:multi");
    sandbox
        .oras()
        .args(["cp", "-r", &format!("{repo}:multi"), &dst])
        .success();
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json"])
            .arg(registry.reference(&format!("cmd-cp-r/multi-copy@{}", multi.arm64.digest)))
            .success(),
    );
    assert_eq!(v["referrers"][0]["digest"], referrer.as_str());
    assert_eq!(v["referrers"][0]["artifactType"], "test/arm64-note");
}

/// oras#812/#826: `cp -r --platform` copies the selected platform's manifest with its own
/// referrers (and theirs), not the index or the referrers of the index or of other platforms;
/// from a registry or a layout, to a registry or a layout.
#[test]
fn cp_recursive_with_a_platform_copies_that_manifest_and_its_referrers() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-cp-r/plat:multi");
    let repo = registry.reference("cmd-cp-r/plat");
    let src = format!("{repo}:multi");
    let of_index = attach(&sandbox, &[], &src, "test/index-note", "index.txt");
    let on_amd64 = ["--platform", "linux/amd64"];
    let of_amd64 = attach(&sandbox, &on_amd64, &src, "test/amd64-note", "amd64.txt");
    let signature = attach(
        &sandbox,
        &[],
        &format!("{repo}@{of_amd64}"),
        SIGNATURE,
        "sig.txt",
    );
    let of_arm64 = attach(
        &sandbox,
        &["--platform", "linux/arm64"],
        &src,
        "test/arm64-note",
        "arm64.txt",
    );
    let copied = [multi.amd64.digest.as_str(), &of_amd64, &signature];
    let left = [
        multi.index_digest.as_str(),
        &multi.arm64.digest,
        &of_index,
        &of_arm64,
    ];

    let dst = registry.reference("cmd-cp-r/plat-copy:amd");
    let out = sandbox
        .oras()
        .args(["cp", "-r", "--platform", "linux/amd64", &src, &dst])
        .success();
    out.assert_line(&format!("Digest: {}", multi.amd64.digest));
    assert_eq!(
        registry.manifest("cmd-cp-r/plat-copy:amd"),
        multi.amd64.manifest
    );
    for digest in copied {
        assert!(
            registry_has(registry, &format!("cmd-cp-r/plat-copy@{digest}")),
            "{digest} copied\n{out}"
        );
    }
    for digest in left {
        assert!(
            !registry_has(registry, &format!("cmd-cp-r/plat-copy@{digest}")),
            "{digest} not copied\n{out}"
        );
    }

    // Through OCI layouts: the whole graph into one, then one platform out of it into another.
    sandbox
        .oras()
        .args(["cp", "-r", &src, "--to-oci-layout", "full:multi"])
        .success();
    let full = String::from_utf8(sandbox.read("full/index.json")).unwrap();
    for digest in copied.iter().chain(&left) {
        assert!(full.contains(digest), "{digest} in the whole graph");
    }
    let out = sandbox
        .oras()
        .args([
            "cp",
            "-r",
            "--platform",
            "linux/amd64",
            "--from-oci-layout",
            "full:multi",
        ])
        .args(["--to-oci-layout", "amd:amd"])
        .success();
    out.assert_line(&format!("Digest: {}", multi.amd64.digest));
    assert_eq!(
        layout_manifest(&sandbox.path("amd"), "amd").0,
        multi.amd64.manifest
    );
    let index = String::from_utf8(sandbox.read("amd/index.json")).unwrap();
    let in_layout = |digest: &str| index.contains(digest);
    for digest in copied {
        assert!(in_layout(digest), "{digest} copied\n{out}");
    }
    for digest in left {
        assert!(!in_layout(digest), "{digest} not copied\n{out}");
    }
}

#[test]
fn deleting_a_referrer_removes_it_from_the_tag_schema_index() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-referrers/delete:v1");
    let repo = registry.reference("cmd-referrers/delete");
    let subject = format!("{repo}:v1");
    let first = attach(&sandbox, &[], &subject, SBOM, "one.txt");
    let second = attach(&sandbox, &[], &subject, SBOM, "two.txt");
    let index_tag = seeded.digest.replacen(':', "-", 1);

    sandbox
        .oras()
        .args(["manifest", "delete", "-f", &format!("{repo}@{first}")])
        .success();
    let index = tag_schema_index(registry, "cmd-referrers/delete", &seeded.digest);
    assert_eq!(index_digests(&index), [second.as_str()]);
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &subject])
            .success(),
    );
    assert_eq!(v["referrers"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["referrers"][0]["digest"], second.as_str());

    // The last one gone, the index goes too.
    sandbox
        .oras()
        .args(["manifest", "delete", "-f", &format!("{repo}@{second}")])
        .success();
    let tags = sandbox.oras().args(["repo", "tags", &repo]).success();
    assert!(!tags.has_line(&index_tag), "{tags}");
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &subject])
            .success(),
    );
    assert_eq!(v["referrers"], serde_json::json!([]));
}

#[test]
fn manifest_push_indexes_referrers_unless_told_the_registry_has_the_api_and_tag_never_does() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-referrers/mpush:v1");
    let repo = registry.reference("cmd-referrers/mpush");
    let index_tag = seeded.digest.replacen(':', "-", 1);
    let referrer = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}","artifactType":"test/m","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[],"subject":{{"mediaType":"{MANIFEST_TYPE}","digest":"{}","size":{}}}}}"#,
        seeded.digest,
        seeded.manifest.len()
    );
    sandbox.write("referrer.json", &referrer);
    sandbox.write("empty.json", "{}");
    sandbox
        .oras()
        .args(["blob", "push", &repo, "empty.json"])
        .success();
    let tags = || sandbox.oras().args(["repo", "tags", &repo]).success();

    // Told the registry indexes referrers itself: no sha256-<hex> index is written.
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "push",
            "--distribution-spec",
            "v1.1-referrers-api",
        ])
        .args([&format!("{repo}:untracked"), "referrer.json"])
        .success();
    let digest = format!("sha256:{}", out.digest_line());
    assert!(!tags().has_line(&index_tag), "{}", tags());
    // Tagging a referrer never indexes it either (the Go client's `oras tag`).
    sandbox
        .oras()
        .args(["tag", &format!("{repo}@{digest}"), "tagged"])
        .success();
    assert!(!tags().has_line(&index_tag), "{}", tags());
    // A plain manifest push does.
    sandbox
        .oras()
        .args([
            "manifest",
            "push",
            &format!("{repo}:tracked"),
            "referrer.json",
        ])
        .success();
    assert!(tags().has_line(&index_tag), "{}", tags());
    let index = tag_schema_index(registry, "cmd-referrers/mpush", &seeded.digest);
    assert_eq!(index_digests(&index), [digest.as_str()]);
}

#[test]
fn attach_with_the_tag_schema_forced_and_cp_recursive_edge_cases() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-referrers/edge:v1");
    let repo = registry.reference("cmd-referrers/edge");
    let referrer = attach(
        &sandbox,
        &["--distribution-spec", "v1.1-referrers-tag"],
        &format!("{repo}:v1"),
        "test/forced",
        "forced.txt",
    );
    let index = tag_schema_index(registry, "cmd-referrers/edge", &seeded.digest);
    assert_eq!(index_digests(&index), [referrer.as_str()]);

    // --concurrency 0 still copies (one at a time), referrers included.
    let dst = registry.reference("cmd-referrers/edge-copy:v1");
    sandbox
        .oras()
        .args([
            "cp",
            "-r",
            "--concurrency",
            "0",
            &format!("{repo}:v1"),
            &dst,
        ])
        .success();
    let v = json(
        &sandbox
            .oras()
            .args(["discover", "--format", "json", &dst])
            .success(),
    );
    assert_eq!(v["referrers"][0]["digest"], referrer.as_str());

    // An empty index copies recursively too.
    sandbox.write(
        "empty-index.json",
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
    );
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "push",
            &format!("{repo}:empty"),
            "empty-index.json",
        ])
        .success();
    let digest = out.digest_line();
    let out = sandbox
        .oras()
        .args([
            "cp",
            "-r",
            &format!("{repo}:empty"),
            &registry.reference("cmd-referrers/edge-copy:empty"),
        ])
        .success();
    assert_eq!(out.digest_line(), digest);
    let copied = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &registry.reference("cmd-referrers/edge-copy:empty"),
        ])
        .success();
    assert_eq!(copied.stdout_bytes, sandbox.read("empty-index.json"));
}

#[test]
fn cp_recursive_skips_what_is_not_a_referrer_and_copies_past_a_missing_one() {
    // oras#952 and oras#1907: a stale tag-schema entry stopped the Go client's copy at once,
    // and a manifest listed there without a subject was copied as a referrer.
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-cp-r/stale:v1");
    let subject = registry.reference("cmd-cp-r/stale:v1");
    let gone = attach(&sandbox, &[], &subject, SIGNATURE, "gone.txt");
    let kept = attach(&sandbox, &[], &subject, SBOM, "kept.txt");
    // Deleted behind oras's back, so the tag index still lists it.
    skopeo(&[
        "delete",
        "--tls-verify=false",
        &registry.docker_ref(&format!("cmd-cp-r/stale@{gone}")),
    ]);
    let dst = registry.reference("cmd-cp-r/stale-copy:v1");
    let out = sandbox.oras().args(["cp", "-r", &subject, &dst]).failure();
    out.stderr_contains(&format!(
        "Warning: referrer {gone} of {} is listed but not found",
        seeded.digest
    ));
    assert_eq!(
        out.stderr.lines().last(),
        Some(
            format!(
                "Error: 1 referrer(s) of {} could not be found in the source; the 1 found were copied",
                seeded.digest
            )
            .as_str()
        ),
        "{out}"
    );
    let index = tag_schema_index(registry, "cmd-cp-r/stale-copy", &seeded.digest);
    assert_eq!(index_digests(&index), [kept.as_str()]);

    // A tag index listing a manifest with no subject: not copied as a referrer.
    let other = seed_image(registry, &sandbox, "cmd-cp-r/listed:v1");
    let listed = seed_image(registry, &sandbox, "cmd-cp-r/listed:stranger");
    let fake_index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": MANIFEST_TYPE, "digest": listed.digest, "size": listed.manifest.len()}],
    });
    sandbox.write("index.json", fake_index.to_string());
    sandbox
        .oras()
        .args([
            "manifest",
            "push",
            "--media-type",
            "application/vnd.oci.image.index.v1+json",
            &registry.reference(&format!(
                "cmd-cp-r/listed:{}",
                other.digest.replacen(':', "-", 1)
            )),
            "index.json",
        ])
        .success();
    let out = sandbox
        .oras()
        .args([
            "cp",
            "-r",
            &registry.reference("cmd-cp-r/listed:v1"),
            &registry.reference("cmd-cp-r/listed-copy:v1"),
        ])
        .success();
    out.stderr_contains(&format!(
        "Warning: {} is listed as a referrer of {} but does not refer to it; skipped",
        listed.digest, other.digest
    ));
    assert!(
        !registry_has(registry, &format!("cmd-cp-r/listed-copy@{}", listed.digest)),
        "{out}"
    );
}
