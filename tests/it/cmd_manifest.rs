//! `oras manifest fetch|fetch-config|push|delete` against the registry and OCI layouts
//! (oras-cli.md §9, §13.7), plus the image and multi-arch fixtures the other `cmd_*` files share.

use std::path::Path;

use crate::harness::{
    HandLayer, Output, Registry, Sandbox, assert_key_order, layout_manifest, registry, sha256_hex,
    skopeo, skopeo_unchecked, write_layout,
};

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// A digest no test ever stores.
pub const ABSENT_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the cmd_* tests
// ---------------------------------------------------------------------------------------------

/// One image manifest written into a hand-built layout.
pub struct Image {
    pub manifest: Vec<u8>,
    pub digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layer: Vec<u8>,
    pub layer_digest: String,
}

impl Image {
    /// `{"mediaType":…,"digest":…,"size":…}` exactly as the Go client marshals a descriptor.
    pub fn descriptor(&self) -> String {
        descriptor_json(MANIFEST_TYPE, &self.digest, self.manifest.len())
    }
}

/// A two-platform image index (linux/amd64, linux/arm64) in a hand-built layout.
pub struct MultiArch {
    pub index: Vec<u8>,
    pub index_digest: String,
    pub amd64: Image,
    pub arm64: Image,
}

impl MultiArch {
    pub fn descriptor(&self) -> String {
        descriptor_json(INDEX_TYPE, &self.index_digest, self.index.len())
    }
}

/// Compact descriptor JSON in Go's field order (oras-cli.md §10).
pub fn descriptor_json(media_type: &str, digest: &str, size: usize) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

pub fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("create blobs dir");
    let hex = sha256_hex(bytes);
    std::fs::write(blobs.join(&hex), bytes).expect("write blob");
    format!("sha256:{hex}")
}

fn write_image(layout: &Path, arch: &str) -> Image {
    let layer = format!("layer content for linux/{arch}\n").into_bytes();
    let layer_digest = write_blob(layout, &layer);
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    )
    .into_bytes();
    let config_digest = write_blob(layout, &config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}","config":{{"mediaType":"{CONFIG_TYPE}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{LAYER_TYPE}","digest":"{layer_digest}","size":{},"annotations":{{"org.opencontainers.image.title":"{arch}.txt"}}}}]}}"#,
        config.len(),
        layer.len()
    )
    .into_bytes();
    let digest = write_blob(layout, &manifest);
    Image {
        manifest,
        digest,
        config,
        config_digest,
        layer,
        layer_digest,
    }
}

/// Writes an OCI layout whose `index.json` tags a two-platform image index as `tag`.
pub fn write_multi_arch_layout(layout: &Path, tag: &str) -> MultiArch {
    std::fs::create_dir_all(layout).expect("create layout dir");
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let amd64 = write_image(layout, "amd64");
    let arm64 = write_image(layout, "arm64");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX_TYPE}","manifests":[{{"mediaType":"{MANIFEST_TYPE}","digest":"{}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}},{{"mediaType":"{MANIFEST_TYPE}","digest":"{}","size":{},"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
        amd64.digest,
        amd64.manifest.len(),
        arm64.digest,
        arm64.manifest.len()
    )
    .into_bytes();
    let index_digest = write_blob(layout, &index);
    // Like a layout `oras cp` writes: every manifest is listed, only the index is tagged.
    let index_json = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX_TYPE}","manifests":[{},{},{{"mediaType":"{INDEX_TYPE}","digest":"{index_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}]}}"#,
        amd64.descriptor(),
        arm64.descriptor(),
        index.len()
    );
    std::fs::write(layout.join("index.json"), index_json).unwrap();
    MultiArch {
        index,
        index_digest,
        amd64,
        arm64,
    }
}

/// Writes the multi-arch layout into the sandbox and pushes all of it to `repo:tag` with skopeo.
pub fn seed_multi_arch(registry: &Registry, sandbox: &Sandbox, repo_and_tag: &str) -> MultiArch {
    let tag = repo_and_tag.rsplit(':').next().unwrap();
    let dir = sandbox.path(&format!(
        "seed-multi-{}",
        sha256_hex(repo_and_tag.as_bytes())
    ));
    let multi = write_multi_arch_layout(&dir, tag);
    skopeo(&[
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:{tag}", dir.display()),
        &registry.docker_ref(repo_and_tag),
    ]);
    assert_eq!(
        registry.manifest(repo_and_tag),
        multi.index,
        "skopeo kept the index bytes"
    );
    multi
}

/// A single-platform image (hand-built layout, one titled layer) pushed to `repo:tag` with
/// skopeo; returns the manifest bytes, its digest and the config bytes.
pub struct Seeded {
    pub manifest: Vec<u8>,
    pub digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layer_digest: String,
}

pub fn seed_image(registry: &Registry, sandbox: &Sandbox, repo_and_tag: &str) -> Seeded {
    let dir = sandbox.path(&format!(
        "seed-image-{}",
        sha256_hex(repo_and_tag.as_bytes())
    ));
    let content = format!("layer of {repo_and_tag}\n");
    let built = write_layout(
        &dir,
        "v1",
        &[HandLayer {
            title: "a.txt",
            content: content.as_bytes(),
        }],
        None,
    );
    registry.skopeo_push_layout(&dir, "v1", repo_and_tag);
    let (manifest, json) = layout_manifest(&dir, "v1");
    let config_digest = json["config"]["digest"].as_str().unwrap().to_owned();
    let config = std::fs::read(
        dir.join("blobs/sha256")
            .join(config_digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    Seeded {
        manifest,
        digest: built.manifest_digest,
        config,
        config_digest,
        layer_digest: format!("sha256:{}", built.layer_hexes[0]),
    }
}

/// Whether skopeo finds `repo:tag` (or `repo@digest`) in the registry.
pub fn registry_has(registry: &Registry, reference: &str) -> bool {
    let docker_ref = format!("docker://127.0.0.1:{}/{reference}", registry.port());
    skopeo_unchecked(&["inspect", "--raw", "--tls-verify=false", &docker_ref]).code == 0
}

/// Whether stdout has a status line `<prompt> <12 hex> <name>` (any padding between words).
pub fn has_status(out: &Output, prompt: &str, digest: &str, name: &str) -> bool {
    let hex12 = &digest.trim_start_matches("sha256:")[..12];
    out.stdout.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words == [prompt, hex12, name]
    })
}

#[track_caller]
pub fn assert_status(out: &Output, prompt: &str, digest: &str, name: &str) {
    assert!(
        has_status(out, prompt, digest, name),
        "stdout should have a status line {prompt:?} {digest} {name:?}\n{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// manifest fetch
// ---------------------------------------------------------------------------------------------

#[test]
fn manifest_fetch_prints_the_raw_bytes_by_tag_and_digest() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-manifest/fetch-raw:v1");
    let by_tag = registry.reference("cmd-manifest/fetch-raw:v1");
    let by_digest = registry.reference(&format!("cmd-manifest/fetch-raw@{}", seeded.digest));

    for args in [
        vec!["manifest", "fetch", by_tag.as_str()],
        vec!["manifest", "fetch", by_digest.as_str()],
        vec!["manifest", "get", by_tag.as_str()],
        vec!["manifest", "show", by_tag.as_str()],
        vec!["manifest", "fetch", by_tag.as_str(), "--output", "-"],
    ] {
        let out = sandbox.oras().args(&args).success();
        assert_eq!(
            out.stdout_bytes, seeded.manifest,
            "exact bytes, no newline\n{out}"
        );
        assert_eq!(
            format!("sha256:{}", sha256_hex(&out.stdout_bytes)),
            seeded.digest
        );
    }
}

#[test]
fn manifest_fetch_bytes_hash_to_the_digest_resolve_prints() {
    // Acceptance (issue 6): `manifest fetch` returns bytes whose sha256 is the resolved digest.
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("data.txt", "resolve me\n");
    let reference = registry.reference("cmd-manifest/fetch-vs-resolve:v1");
    sandbox
        .oras()
        .args(["push", &reference, "data.txt"])
        .success();
    let resolved = sandbox.oras().args(["resolve", &reference]).success();
    let fetched = sandbox
        .oras()
        .args(["manifest", "fetch", &reference])
        .success();
    assert_eq!(
        resolved.stdout,
        format!("sha256:{}\n", sha256_hex(&fetched.stdout_bytes)),
        "{resolved}\n{fetched}"
    );

    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "data.txt"])
        .success();
    let resolved = sandbox
        .oras()
        .args(["resolve", "--oci-layout", "lay:v1"])
        .success();
    let fetched = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "lay:v1"])
        .success();
    assert_eq!(
        resolved.stdout,
        format!("sha256:{}\n", sha256_hex(&fetched.stdout_bytes)),
        "{resolved}\n{fetched}"
    );
    assert_eq!(
        fetched.stdout_bytes,
        layout_manifest(&sandbox.path("lay"), "v1").0
    );
}

#[test]
fn manifest_fetch_descriptor_pretty_and_output_file() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-manifest/fetch-desc:v1");
    let reference = registry.reference("cmd-manifest/fetch-desc:v1");
    let expected = descriptor_json(MANIFEST_TYPE, &seeded.digest, seeded.manifest.len());

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &reference, "--descriptor"])
        .success();
    assert_eq!(out.stdout, expected, "compact, no newline\n{out}");

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &reference, "--descriptor", "--pretty"])
        .success();
    let parsed: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        parsed,
        serde_json::from_str::<serde_json::Value>(&expected).unwrap()
    );
    assert!(out.stdout.starts_with("{\n  \"mediaType\": "), "{out}");
    assert!(out.stdout.ends_with("}\n"), "{out}");

    // `--output <file> --descriptor`: descriptor on stdout, raw bytes in the file, pretty ignored.
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &reference,
            "--output",
            "m.json",
            "--descriptor",
            "--pretty",
        ])
        .success();
    assert!(out.stdout.contains(&seeded.digest), "{out}");
    assert_eq!(sandbox.read("m.json"), seeded.manifest);

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &reference, "-o", "plain.json"])
        .success();
    assert_eq!(out.stdout, "", "nothing on stdout with -o <file>\n{out}");
    assert_eq!(sandbox.read("plain.json"), seeded.manifest);

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &reference, "--pretty"])
        .success();
    let pretty: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        pretty,
        serde_json::from_slice::<serde_json::Value>(&seeded.manifest).unwrap()
    );
    // Indented as `json.Indent` does: same keys in the same order, only whitespace added.
    let squeezed: String = {
        let mut in_string = false;
        let mut escaped = false;
        out.stdout
            .chars()
            .filter(|&c| {
                let keep = in_string || !c.is_whitespace();
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_string = false;
                    }
                } else if c == '"' {
                    in_string = true;
                }
                keep
            })
            .collect()
    };
    assert_eq!(squeezed.as_bytes(), &seeded.manifest[..], "{out}");
    assert!(out.stdout.starts_with("{\n  \""), "{out}");
    assert!(out.stdout.ends_with("}\n"), "{out}");
}

#[test]
fn manifest_fetch_format_json_wraps_the_content() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-manifest/fetch-json:v1");
    let reference = registry.reference("cmd-manifest/fetch-json:v1");
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &reference, "--format", "json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(
        json["reference"],
        format!(
            "{}@{}",
            registry.reference("cmd-manifest/fetch-json"),
            seeded.digest
        )
    );
    assert_eq!(json["mediaType"], MANIFEST_TYPE);
    assert_eq!(json["digest"], seeded.digest.as_str());
    assert_eq!(json["size"], seeded.manifest.len());
    assert_eq!(
        json["content"],
        serde_json::from_slice::<serde_json::Value>(&seeded.manifest).unwrap()
    );
    assert!(out.stdout.ends_with('\n'), "{out}");
}

#[test]
fn manifest_fetch_format_json_keeps_the_descriptors_annotations_and_artifact_type() {
    // Regression: the object had no "annotations" (a layout's ref.name) nor "artifactType" (an
    // index entry chosen with --platform), which the Go client's descriptor model carries.
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("bin", "amd64 build\n");
    let reference = registry.reference("cmd-manifest/fetch-json-desc");
    for target in [reference.as_str(), "lay"] {
        let run = |args: &[&str]| {
            let layout = (target == "lay").then_some("--oci-layout");
            sandbox.oras().args(args).args(layout).success()
        };
        let (amd64, multi) = (format!("{target}:amd64"), format!("{target}:multi"));
        run(&["push", &amd64, "bin", "--artifact-platform", "linux/amd64"]);
        run(&["manifest", "index", "create", &multi, "amd64"]);
        let fetch_json = |reference: &str, platform: &[&str]| {
            let out = run(&[
                &["manifest", "fetch", reference, "--format", "json"],
                platform,
            ]
            .concat());
            let json: serde_json::Value =
                serde_json::from_str(&out.stdout).expect("one JSON object");
            (out.stdout, json)
        };

        let (text, json) = fetch_json(&multi, &["--platform", "linux/amd64"]);
        assert_eq!(
            json["artifactType"], "application/vnd.unknown.artifact.v1",
            "{text}"
        );
        assert_key_order(&text, &["size", "artifactType", "content"]);
        if target == "lay" {
            let (text, json) = fetch_json(&amd64, &[]);
            assert_eq!(
                json["annotations"],
                serde_json::json!({"org.opencontainers.image.ref.name": "amd64"}),
                "{text}"
            );
            assert_key_order(&text, &["size", "annotations", "content"]);
        }
    }
}

#[test]
fn manifest_fetch_selects_a_platform_from_an_index() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-manifest/fetch-multi:v1");
    let by_tag = registry.reference("cmd-manifest/fetch-multi:v1");
    let by_digest = registry.reference(&format!("cmd-manifest/fetch-multi@{}", multi.index_digest));
    let amd64_ref = registry.reference(&format!("cmd-manifest/fetch-multi@{}", multi.amd64.digest));

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &by_tag])
        .success();
    assert_eq!(out.stdout_bytes, multi.index);
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &by_tag, "--descriptor"])
        .success();
    assert_eq!(out.stdout, multi.descriptor());

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &by_digest,
            "--media-type",
            &format!("{INDEX_TYPE},{MANIFEST_TYPE}"),
        ])
        .success();
    assert_eq!(out.stdout_bytes, multi.index);
    // The types are the request's Accept: the registry has none of these for an index.
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", &by_tag, "--media-type", MANIFEST_TYPE])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains("not found");

    for reference in [&by_tag, &by_digest] {
        let out = sandbox
            .oras()
            .args(["manifest", "fetch", reference, "--platform", "linux/amd64"])
            .success();
        assert_eq!(out.stdout_bytes, multi.amd64.manifest, "{out}");
        let out = sandbox
            .oras()
            .args([
                "manifest",
                "fetch",
                reference,
                "--platform",
                "linux/arm64",
                "--descriptor",
            ])
            .success();
        assert_eq!(
            out.stdout,
            format!(
                r#"{{"mediaType":"{MANIFEST_TYPE}","digest":"{}","size":{},"platform":{{"architecture":"arm64","os":"linux"}}}}"#,
                multi.arm64.digest,
                multi.arm64.manifest.len()
            ),
            "the index entry, with its platform"
        );
    }

    // Validation only: a manifest fetched by digest with a matching platform has no platform.
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &amd64_ref,
            "--platform",
            "linux/amd64",
            "--descriptor",
        ])
        .success();
    assert_eq!(out.stdout, multi.amd64.descriptor());
}

#[test]
fn no_platform_match_keeps_the_commands_own_error_words() {
    // Regression: resolve and manifest fetch dropped "failed to resolve digest:" / "failed to
    // fetch the content of" / "failed to find" when --platform matched nothing, as Go keeps them.
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-manifest/no-platform:v1");
    let reference = registry.reference("cmd-manifest/no-platform:v1");
    let why = format!(
        "{}: not found: no matching manifest was found in the manifest list",
        multi.index_digest
    );
    for (args, wrapper) in [
        (&["resolve"][..], "failed to resolve digest".to_owned()),
        (
            &["manifest", "fetch"][..],
            format!("failed to fetch the content of {reference:?}"),
        ),
        (
            &["manifest", "fetch", "--descriptor"][..],
            format!("failed to find {reference:?}"),
        ),
    ] {
        let out = sandbox
            .oras()
            .args(args)
            .args([&reference, "--platform", "linux/s390x"])
            .failure();
        assert_eq!(
            out.stderr,
            format!("Error response from registry: {wrapper}: {why}\n"),
            "{args:?}"
        );
    }
}

#[test]
fn manifest_fetch_from_an_oci_layout() {
    let sandbox = Sandbox::new();
    let multi = write_multi_arch_layout(&sandbox.path("multi"), "v1");
    let by_digest = format!("multi@{}", multi.index_digest);

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "multi:v1"])
        .success();
    assert_eq!(out.stdout_bytes, multi.index);
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", &by_digest, "-o", "-"])
        .success();
    assert_eq!(out.stdout_bytes, multi.index);

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            "--oci-layout",
            &by_digest,
            "--descriptor",
        ])
        .success();
    assert_eq!(out.stdout, multi.descriptor());

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            "--oci-layout",
            &by_digest,
            "--media-type",
            MANIFEST_TYPE,
        ])
        .failure();
    out.stderr_contains("`--media-type` cannot be used with `--oci-layout` at the same time");

    let out = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "multi"])
        .failure();
    out.stderr_contains("no tag or digest specified");

    // By tag, the layout's index.json entry (with its ref.name annotation) is the descriptor.
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            "--oci-layout",
            "multi:v1",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            r#"{{"mediaType":"{INDEX_TYPE}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}"#,
            multi.index_digest,
            multi.index.len()
        )
    );

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            "--oci-layout",
            "multi:v1",
            "--platform",
            "linux/amd64",
        ])
        .success();
    assert_eq!(out.stdout_bytes, multi.amd64.manifest);
}

#[test]
fn manifest_fetch_rejects_bad_flag_combinations_and_missing_references() {
    let registry = registry();
    let sandbox = Sandbox::new();
    seed_image(registry, &sandbox, "cmd-manifest/fetch-bad:v1");
    let reference = registry.reference("cmd-manifest/fetch-bad:v1");

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &reference,
            "--output",
            "-",
            "--descriptor",
        ])
        .failure();
    out.stderr_contains("`--descriptor` cannot be used with `--output -` at the same time");
    sandbox
        .oras()
        .args([
            "manifest", "fetch", &reference, "--format", "json", "--pretty",
        ])
        .failure();
    sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &reference,
            "--format",
            "json",
            "--descriptor",
        ])
        .failure();

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &registry.reference("cmd-manifest/fetch-bad"),
        ])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("no tag or digest specified");
    out.stderr_contains("oras manifest fetch [flags] <name>{:<tag>|@<digest>}");
    out.stderr_contains("Please specify a reference");

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &registry.reference("cmd-manifest/fetch-bad:no-such-tag"),
        ])
        .failure();
    out.error_first_line("Error response from registry:");
    out.stderr_contains("not found");

    let out = sandbox.oras().args(["manifest", "fetch"]).failure();
    out.stderr_contains("Usage: oras manifest fetch");
    out.stderr_contains("Run \"oras manifest fetch -h\"");
}

// ---------------------------------------------------------------------------------------------
// manifest fetch-config
// ---------------------------------------------------------------------------------------------

#[test]
fn manifest_fetch_config_prints_the_config_and_its_descriptor() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-manifest/config:v1");
    let reference = registry.reference("cmd-manifest/config:v1");
    let by_digest = registry.reference(&format!("cmd-manifest/config@{}", seeded.digest));
    let expected = descriptor_json(CONFIG_TYPE, &seeded.config_digest, seeded.config.len());

    for reference in [&reference, &by_digest] {
        let out = sandbox
            .oras()
            .args(["manifest", "fetch-config", reference])
            .success();
        assert_eq!(out.stdout_bytes, seeded.config, "{out}");
        let out = sandbox
            .oras()
            .args(["manifest", "get-config", reference, "--descriptor"])
            .success();
        assert_eq!(out.stdout, expected, "{out}");
    }
    let out = sandbox
        .oras()
        .args(["manifest", "fetch-config", &reference, "-o", "config.json"])
        .success();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(sandbox.read("config.json"), seeded.config);

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            &registry.reference("cmd-manifest/config"),
        ])
        .failure();
    out.stderr_contains("no tag or digest specified");
    sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            &registry.reference("cmd-manifest/config:no-such-tag"),
        ])
        .failure();
    let conflicting = ["--output", "-", "--descriptor"];
    let out = sandbox
        .oras()
        .args(["manifest", "fetch-config", &reference])
        .args(conflicting)
        .failure();
    out.error_first_line("Error: `--descriptor` cannot be used with `--output -` at the same time");
}

#[test]
fn manifest_fetch_config_of_an_index_needs_a_platform() {
    let registry = registry();
    let sandbox = Sandbox::new();
    seed_multi_arch(registry, &sandbox, "cmd-manifest/config-index:v1");
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            &registry.reference("cmd-manifest/config-index:v1"),
        ])
        .failure();
    out.stderr_contains("is not an image manifest and does not have a config");

    let layout = write_multi_arch_layout(&sandbox.path("multi"), "v1");
    sandbox
        .oras()
        .args(["manifest", "fetch-config", "--oci-layout", "multi:v1"])
        .failure()
        .stderr_contains(&format!(
            "\"{}\" is not an image manifest and does not have a config",
            layout.index_digest
        ));
    // A child manifest by digest needs no platform.
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            "--oci-layout",
            &format!("multi@{}", layout.arm64.digest),
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            CONFIG_TYPE,
            &layout.arm64.config_digest,
            layout.arm64.config.len()
        )
    );
}

#[test]
fn manifest_fetch_config_selects_a_platform() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let multi = seed_multi_arch(registry, &sandbox, "cmd-manifest/config-multi:v1");
    let reference = registry.reference("cmd-manifest/config-multi:v1");

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            &reference,
            "--platform",
            "linux/amd64",
        ])
        .success();
    assert_eq!(out.stdout_bytes, multi.amd64.config);
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            &reference,
            "--platform",
            "linux/arm64",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(
            CONFIG_TYPE,
            &multi.arm64.config_digest,
            multi.arm64.config.len()
        )
    );

    let layout = write_multi_arch_layout(&sandbox.path("multi"), "v1");
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "fetch-config",
            "--oci-layout",
            "multi:v1",
            "--platform",
            "linux/amd64",
        ])
        .success();
    assert_eq!(out.stdout_bytes, layout.amd64.config);

    // No match: oras-go's not-found error, with the registry prefix for a registry.
    let why = "not found: no matching manifest was found in the manifest list";
    for (args, first_line) in [
        (
            vec![reference.clone()],
            format!(
                "Error response from registry: {}: {why}",
                multi.index_digest
            ),
        ),
        (
            vec!["--oci-layout".to_owned(), "multi:v1".to_owned()],
            format!("Error: {}: {why}", layout.index_digest),
        ),
    ] {
        let out = sandbox
            .oras()
            .args(["pull", "--platform", "linux/s390x", "-o", "none"])
            .args(&args)
            .failure();
        out.error_first_line(&first_line);
    }
}

// ---------------------------------------------------------------------------------------------
// manifest push
// ---------------------------------------------------------------------------------------------

/// The empty config `{}` every `oras push` artifact references.
const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn scratch_manifest() -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}","config":{{"mediaType":"{CONFIG_TYPE}","digest":"{EMPTY_DIGEST}","size":2}},"layers":[]}}"#
    )
}

/// Pushes an artifact so that the repository holds the `{}` blob a pushed manifest may refer to
/// (the registry checks referenced blobs exist).
fn prepare_repo_with_empty_blob(sandbox: &Sandbox, reference: &str) {
    sandbox.write("seed.txt", "seed\n");
    sandbox
        .oras()
        .args(["push", reference, "seed.txt"])
        .success();
}

#[test]
fn manifest_push_from_stdin_and_file_to_the_registry() {
    let registry = registry();
    let sandbox = Sandbox::new();
    prepare_repo_with_empty_blob(&sandbox, &registry.reference("cmd-manifest/push:seed"));
    let manifest = scratch_manifest();
    let digest = format!("sha256:{}", sha256_hex(manifest.as_bytes()));
    let reference = registry.reference("cmd-manifest/push:from-stdin");

    let out = sandbox
        .oras()
        .args(["manifest", "push", &reference, "-"])
        .stdin(manifest.clone())
        .success();
    out.assert_line(&format!("Pushed: [registry] {reference}"))
        .assert_line(&format!("Digest: {digest}"));
    assert_status(&out, "Uploading", &digest, MANIFEST_TYPE);
    assert_status(&out, "Uploaded", &digest, MANIFEST_TYPE);
    assert_eq!(
        registry.manifest("cmd-manifest/push:from-stdin"),
        manifest.as_bytes()
    );

    // Same bytes again: nothing to upload.
    let out = sandbox
        .oras()
        .args(["manifest", "push", &reference, "-"])
        .stdin(manifest.clone())
        .success();
    assert_status(&out, "Exists", &digest, MANIFEST_TYPE);
    assert!(
        !has_status(&out, "Uploading", &digest, MANIFEST_TYPE),
        "{out}"
    );
    out.assert_line(&format!("Digest: {digest}"));

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "push",
            &registry.reference("cmd-manifest/push:described"),
            "-",
            "--descriptor",
        ])
        .stdin(manifest.clone())
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(MANIFEST_TYPE, &digest, manifest.len()),
        "only the descriptor\n{out}"
    );

    // From a file whose JSON has no mediaType, with the flag.
    let bare = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"{CONFIG_TYPE}","digest":"{EMPTY_DIGEST}","size":2}},"layers":[]}}"#
    );
    sandbox.write("bare.json", &bare);
    let file_ref = registry.reference("cmd-manifest/push:from-file");
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "push",
            &file_ref,
            "bare.json",
            "--media-type",
            MANIFEST_TYPE,
        ])
        .success();
    out.assert_line(&format!("Digest: sha256:{}", sha256_hex(bare.as_bytes())));
    assert_eq!(
        registry.manifest("cmd-manifest/push:from-file"),
        bare.as_bytes()
    );

    let out = sandbox
        .oras()
        .args(["manifest", "push", &file_ref, "bare.json"])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains(
        "media type is not specified via the flag \"--media-type\" nor in \"bare.json\"",
    );
    out.stderr_contains("oras manifest push");
    out.stderr_contains(
        "Please specify a valid media type in the manifest JSON or via the \"--media-type\" flag",
    );

    sandbox.write("not.json", "this is not json");
    sandbox
        .oras()
        .args(["manifest", "push", &file_ref, "not.json"])
        .failure()
        .stderr_contains("not a valid json file");
    // Regression: with `--media-type` the bytes were refused here as not JSON; Go reads the
    // file as JSON only for its `mediaType`, and sends it: the registry refuses it.
    let out = sandbox
        .oras()
        .args(["manifest", "push", &file_ref, "not.json"])
        .args(["--media-type", MANIFEST_TYPE])
        .failure();
    out.error_first_line("Error response from registry:");
    assert!(!out.stderr.contains("not a valid json file"), "{out}");

    let out = sandbox
        .oras()
        .args(["manifest", "push", &reference, "-", "--password-stdin"])
        .stdin(manifest)
        .failure();
    out.stderr_contains(
        "`-` read file from input and `--password-stdin` read password from input cannot be both used",
    );
}

#[test]
fn manifest_push_with_several_tags() {
    let registry = registry();
    let sandbox = Sandbox::new();
    prepare_repo_with_empty_blob(&sandbox, &registry.reference("cmd-manifest/push-tags:seed"));
    let manifest = scratch_manifest();
    let digest = format!("sha256:{}", sha256_hex(manifest.as_bytes()));
    let first = registry.reference("cmd-manifest/push-tags:t1");
    let out = sandbox
        .oras()
        .args(["manifest", "push", &format!("{first},t2,t3"), "-"])
        .args(["--concurrency", "2"])
        .stdin(manifest.clone())
        .success();
    out.assert_line(&format!("Pushed: [registry] {first}"))
        .assert_line("Tagged t2")
        .assert_line("Tagged t3")
        .assert_line(&format!("Digest: {digest}"));
    for tag in ["t1", "t2", "t3"] {
        assert_eq!(
            registry.manifest(&format!("cmd-manifest/push-tags:{tag}")),
            manifest.as_bytes()
        );
    }
}

#[test]
fn manifest_push_into_an_oci_layout_records_it_in_index_json() {
    let sandbox = Sandbox::new();
    let manifest = scratch_manifest();
    let digest = format!("sha256:{}", sha256_hex(manifest.as_bytes()));

    let out = sandbox
        .oras()
        .args(["manifest", "push", "--oci-layout", "lay:from-stdin", "-"])
        .stdin(manifest.clone())
        .success();
    out.assert_line("Pushed: [oci-layout] lay:from-stdin")
        .assert_line(&format!("Digest: {digest}"));
    let (bytes, _) = layout_manifest(&sandbox.path("lay"), "from-stdin");
    assert_eq!(bytes, manifest.as_bytes());

    // Untagged push: index.json gains the digest without a ref.name.
    let other = manifest.replace(
        "\"layers\":[]",
        "\"layers\":[],\"annotations\":{\"k\":\"v\"}",
    );
    let other_digest = format!("sha256:{}", sha256_hex(other.as_bytes()));
    let out = sandbox
        .oras()
        .args([
            "manifest",
            "push",
            "--oci-layout",
            "lay",
            "-",
            "--descriptor",
        ])
        .stdin(other.clone())
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(MANIFEST_TYPE, &other_digest, other.len())
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.path("lay/index.json")).unwrap()).unwrap();
    assert!(
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == other_digest.as_str()),
        "{index}"
    );
    assert_eq!(
        std::fs::read(
            sandbox
                .path("lay/blobs/sha256")
                .join(other_digest.trim_start_matches("sha256:"))
        )
        .unwrap(),
        other.as_bytes()
    );

    // With `--media-type` the bytes reach the layout, which (as oras-go's store) reads a
    // manifest to index it: one that is not JSON is refused and not recorded.
    sandbox.write("not.json", "this is not json");
    let out = sandbox
        .oras()
        .args(["manifest", "push", "--oci-layout", "lay:junk", "not.json"])
        .args(["--media-type", MANIFEST_TYPE])
        .failure();
    out.error_first_line("Error: sha256:");
    out.stderr_contains(": invalid manifest: ");
    let index = std::fs::read_to_string(sandbox.path("lay/index.json")).unwrap();
    assert!(!index.contains("junk"), "{index}");
}

// ---------------------------------------------------------------------------------------------
// manifest delete
// ---------------------------------------------------------------------------------------------

#[test]
fn manifest_delete_prompts_and_cancels_without_yes() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "cmd-manifest/delete-cancel:v1");
    let reference = registry.reference("cmd-manifest/delete-cancel:v1");
    let prompt = format!(
        "Are you sure you want to delete the manifest \"{}\" and all tags associated with it? [y/N] ",
        seeded.digest
    );

    // No stdin at all, then an explicit "n".
    let out = sandbox
        .oras()
        .args(["manifest", "delete", &reference])
        .success();
    assert_eq!(
        out.stdout,
        format!("{prompt}Operation cancelled.\n"),
        "{out}"
    );
    let out = sandbox
        .oras()
        .args(["manifest", "rm", &reference])
        .stdin("n\n")
        .success();
    assert_eq!(
        out.stdout,
        format!("{prompt}Operation cancelled.\n"),
        "{out}"
    );
    assert!(registry_has(registry, "cmd-manifest/delete-cancel:v1"));

    let out = sandbox
        .oras()
        .args(["manifest", "delete", &reference, "--descriptor"])
        .failure();
    out.stderr_contains(
        "must apply --force to confirm the deletion if the descriptor is outputted",
    );
    assert!(registry_has(registry, "cmd-manifest/delete-cancel:v1"));
}

#[test]
fn manifest_delete_with_yes_or_force() {
    let registry = registry();
    let sandbox = Sandbox::new();

    let seeded = seed_image(registry, &sandbox, "cmd-manifest/delete-yes:v1");
    let reference = registry.reference("cmd-manifest/delete-yes:v1");
    let out = sandbox
        .oras()
        .args(["manifest", "delete", &reference])
        .stdin("y\n")
        .success();
    out.stdout_contains(&format!("Deleted [registry] {reference}"));
    assert!(!registry_has(registry, "cmd-manifest/delete-yes:v1"));
    assert!(!registry_has(
        registry,
        &format!("cmd-manifest/delete-yes@{}", seeded.digest)
    ));

    seed_image(registry, &sandbox, "cmd-manifest/delete-force:v1");
    let reference = registry.reference("cmd-manifest/delete-force:v1");
    let out = sandbox
        .oras()
        .args(["manifest", "remove", &reference, "-f"])
        .success();
    assert_eq!(
        out.stdout,
        format!("Deleted [registry] {reference}\n"),
        "no prompt\n{out}"
    );
    assert!(!registry_has(registry, "cmd-manifest/delete-force:v1"));

    let seeded = seed_image(registry, &sandbox, "cmd-manifest/delete-desc:v1");
    let reference = registry.reference("cmd-manifest/delete-desc:v1");
    let out = sandbox
        .oras()
        .args(["manifest", "delete", &reference, "-f", "--descriptor"])
        .success();
    assert_eq!(
        out.stdout,
        descriptor_json(MANIFEST_TYPE, &seeded.digest, seeded.manifest.len())
    );
    assert!(!registry_has(registry, "cmd-manifest/delete-desc:v1"));
}

#[test]
fn manifest_delete_of_a_missing_manifest() {
    let registry = registry();
    let sandbox = Sandbox::new();
    seed_image(registry, &sandbox, "cmd-manifest/delete-missing:v1");
    let missing = registry.reference(&format!("cmd-manifest/delete-missing@{ABSENT_DIGEST}"));

    let out = sandbox
        .oras()
        .args(["manifest", "delete", &missing])
        .failure();
    out.stderr_contains(&format!("{missing}: the specified manifest does not exist"));
    let out = sandbox
        .oras()
        .args(["manifest", "delete", &missing, "--force", "--descriptor"])
        .failure();
    out.stderr_contains(&format!("{missing}: the specified manifest does not exist"));
    let missing_tag = registry.reference("cmd-manifest/delete-missing:no-such-tag");
    sandbox
        .oras()
        .args(["manifest", "delete", &missing_tag, "-f", "--descriptor"])
        .failure()
        .stderr_contains(&format!(
            "{missing_tag}: the specified manifest does not exist"
        ));

    let out = sandbox
        .oras()
        .args(["manifest", "delete", &missing, "--force"])
        .success();
    assert_eq!(out.stdout, format!("Missing {missing}\n"));

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "delete",
            &registry.reference("cmd-manifest/delete-missing"),
        ])
        .failure();
    out.stderr_contains("no tag or digest specified");
    out.stderr_contains("oras manifest delete [flags] <name>{:<tag>|@<digest>}");
}

#[test]
fn manifest_delete_in_an_oci_layout() {
    let sandbox = Sandbox::new();
    let multi = write_multi_arch_layout(&sandbox.path("lay"), "v1");

    let out = sandbox
        .oras()
        .args(["manifest", "delete", "--oci-layout", "lay:v1"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "Are you sure you want to delete the manifest \"{}\" and all tags associated with it? [y/N] Operation cancelled.\n",
            multi.index_digest
        )
    );
    sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "lay:v1"])
        .success();

    let missing = format!("lay@{ABSENT_DIGEST}");
    let out = sandbox
        .oras()
        .args(["manifest", "delete", "--oci-layout", &missing, "--force"])
        .success();
    assert_eq!(out.stdout, format!("Missing {missing}\n"));
    sandbox
        .oras()
        .args(["manifest", "delete", "--oci-layout", &missing])
        .failure()
        .stderr_contains(&format!("{missing}: the specified manifest does not exist"));

    // A child manifest by digest, confirmed on stdin.
    let other = write_multi_arch_layout(&sandbox.path("other"), "v1");
    let amd64 = format!("other@{}", other.amd64.digest);
    let out = sandbox
        .oras()
        .args(["manifest", "delete", "--oci-layout", &amd64])
        .stdin("y\n")
        .success();
    out.stdout_contains(&format!("Deleted [oci-layout] {amd64}"));
    sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", &amd64])
        .failure();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.path("other/index.json")).unwrap()).unwrap();
    assert!(
        !index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == other.amd64.digest.as_str()),
        "index.json no longer lists the deleted manifest: {index}"
    );

    let out = sandbox
        .oras()
        .args([
            "manifest",
            "delete",
            "--oci-layout",
            "lay:v1",
            "-f",
            "--descriptor",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            r#"{{"mediaType":"{INDEX_TYPE}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}"#,
            multi.index_digest,
            multi.index.len()
        )
    );
    sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "lay:v1"])
        .failure()
        .stderr_contains(": not found");
}
