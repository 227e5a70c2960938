//! `oras manifest index create|update` (alias `pack`) against the registry and OCI layouts
//! (oras-cli.md §9, §13.8). The expected indexes are written out here byte for byte as the Go
//! client marshals them, so every printed digest is checked against bytes built independently.
//!
//! The Go e2e suite asserts exact index digests (`sha256:cce9590b…` and so on) that depend on
//! its own fixture bytes, which these tests cannot reproduce; they assert the exact index bytes
//! built from this file's fixture instead, which pins the same serialisation.

use std::path::Path;
use std::sync::OnceLock;

use crate::cmd_manifest::{
    CONFIG_TYPE, INDEX_TYPE, LAYER_TYPE, MANIFEST_TYPE, descriptor_json, registry_has, write_blob,
};
use crate::harness::{Output, Sandbox, registry, sha256_hex, skopeo};

/// The repository holding the fixture; every registry test pushes its indexes there (they must
/// sit beside their manifests) under tags of its own.
const REPO: &str = "cmd-index/src";
const ARTIFACT_TYPE: &str = "application/vnd.example.sbom";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// One manifest of the fixture and the entry an index lists it with.
struct Child {
    media_type: &'static str,
    digest: String,
    size: usize,
    /// The index entry, in Go's field order.
    entry: String,
}

/// The fixture (the Go suite's `ImageRepo`): single-platform images for linux/amd64, linux/arm64
/// and linux/arm/v7, an image whose config is not JSON, an artifact with an artifact type, and
/// a two-platform index, tagged as in [`TAGS`].
struct Fixture {
    amd64: Child,
    arm64: Child,
    armv7: Child,
    nonjson: Child,
    artifact: Child,
    multi: Child,
    /// A blob that is not a manifest (the amd64 config).
    blob: String,
}

const TAGS: [&str; 6] = [
    "linux-amd64",
    "linux-arm64",
    "linux-armv7",
    "nonjson-config",
    "artifact",
    "multi",
];

impl Fixture {
    fn children(&self) -> [&Child; 6] {
        [
            &self.amd64,
            &self.arm64,
            &self.armv7,
            &self.nonjson,
            &self.artifact,
            &self.multi,
        ]
    }
}

/// Writes an image manifest with one layer; returns it as a child listed with `entry_tail`
/// (`,"platform":…` or `,"artifactType":…`) and the config digest.
fn write_manifest(
    dir: &Path,
    config_type: &str,
    config: &[u8],
    layer: &[u8],
    artifact_type: Option<&str>,
    entry_tail: &str,
) -> (Child, String) {
    let config_digest = write_blob(dir, config);
    let layer_digest = write_blob(dir, layer);
    let artifact = artifact_type
        .map(|t| format!(r#""artifactType":"{t}","#))
        .unwrap_or_default();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}",{artifact}"config":{{"mediaType":"{config_type}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{LAYER_TYPE}","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let digest = write_blob(dir, manifest.as_bytes());
    let plain = descriptor_json(MANIFEST_TYPE, &digest, manifest.len());
    let entry = format!("{}{entry_tail}}}", plain.trim_end_matches('}'));
    let child = Child {
        media_type: MANIFEST_TYPE,
        digest,
        size: manifest.len(),
        entry,
    };
    (child, config_digest)
}

/// A linux image whose config names `arch` (and `variant`).
fn write_image(dir: &Path, arch: &str, variant: Option<&str>) -> (Child, String) {
    let layer = format!("layer for linux/{arch}\n");
    let variant_field = variant
        .map(|v| format!(r#","variant":"{v}""#))
        .unwrap_or_default();
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux"{variant_field},"rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
        sha256_hex(layer.as_bytes())
    );
    let platform =
        format!(r#","platform":{{"architecture":"{arch}","os":"linux"{variant_field}}}"#);
    write_manifest(
        dir,
        CONFIG_TYPE,
        config.as_bytes(),
        layer.as_bytes(),
        None,
        &platform,
    )
}

/// Writes the fixture as an OCI image layout at `dir`, every manifest tagged in `index.json`.
fn write_fixture(dir: &Path) -> Fixture {
    std::fs::create_dir_all(dir).expect("create layout dir");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let (amd64, blob) = write_image(dir, "amd64", None);
    let (arm64, _) = write_image(dir, "arm64", None);
    let (armv7, _) = write_image(dir, "arm", Some("v7"));
    // A config that is not JSON gives no platform (and no error).
    let (nonjson, _) = write_manifest(
        dir,
        CONFIG_TYPE,
        b"this config is not JSON\n",
        b"layer of the odd image\n",
        None,
        "",
    );
    let (artifact, _) = write_manifest(
        dir,
        EMPTY_TYPE,
        b"{}",
        b"an sbom\n",
        Some(ARTIFACT_TYPE),
        &format!(r#","artifactType":"{ARTIFACT_TYPE}""#),
    );
    let multi_bytes = index_json(None, &[&amd64.entry, &arm64.entry], None);
    let multi_digest = write_blob(dir, multi_bytes.as_bytes());
    let multi = Child {
        media_type: INDEX_TYPE,
        entry: descriptor_json(INDEX_TYPE, &multi_digest, multi_bytes.len()),
        digest: multi_digest,
        size: multi_bytes.len(),
    };
    let fixture = Fixture {
        amd64,
        arm64,
        armv7,
        nonjson,
        artifact,
        multi,
        blob,
    };
    let entries: Vec<String> = fixture
        .children()
        .iter()
        .zip(TAGS)
        .map(|(c, tag)| {
            format!(
                r#"{{"mediaType":"{}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}"#,
                c.media_type, c.digest, c.size
            )
        })
        .collect();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{INDEX_TYPE}","manifests":[{}]}}"#,
            entries.join(",")
        ),
    )
    .unwrap();
    fixture
}

/// The fixture pushed once (every tag, with skopeo) to [`REPO`].
fn seeded() -> &'static Fixture {
    static SEEDED: OnceLock<Fixture> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let registry = registry();
        let dir = tempfile::Builder::new()
            .prefix("oras-it-index-")
            .tempdir()
            .expect("temp dir");
        let fixture = write_fixture(dir.path());
        for tag in TAGS {
            skopeo(&[
                "--insecure-policy",
                "copy",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
                &format!("oci:{}:{tag}", dir.path().display()),
                &registry.docker_ref(&format!("{REPO}:{tag}")),
            ]);
        }
        fixture
    })
}

/// An index as the Go client marshals it: compact, fields in the order schemaVersion,
/// mediaType, artifactType, manifests, annotations.
fn index_json(artifact_type: Option<&str>, entries: &[&str], annotations: Option<&str>) -> String {
    let artifact_type = artifact_type
        .map(|t| format!(r#""artifactType":"{t}","#))
        .unwrap_or_default();
    let annotations = annotations
        .map(|a| format!(r#","annotations":{a}"#))
        .unwrap_or_default();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX_TYPE}",{artifact_type}"manifests":[{}]{annotations}}}"#,
        entries.join(",")
    )
}

fn digest_of(text: &str) -> String {
    format!("sha256:{}", sha256_hex(text.as_bytes()))
}

/// `Packed    <12 hex> <index media type>`.
fn packed_line(digest: &str) -> String {
    format!("Packed    {} {INDEX_TYPE}", &digest[7..19])
}

/// Asserts stdout is exactly `lines`, one per line.
#[track_caller]
fn assert_stdout(out: &Output, lines: &[String]) {
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), lines, "{out}");
    assert!(out.stdout.ends_with('\n'), "{out}");
}

/// Asserts `repo_ref` (`<repo>:<tag>` or `<repo>@<digest>`) holds exactly `expected`, through
/// `oras manifest fetch` (whose bytes hash to the digest printed) and through skopeo.
#[track_caller]
fn assert_registry_index(sb: &Sandbox, repo_ref: &str, expected: &str) {
    let registry = registry();
    let out = sb
        .oras()
        .args(["manifest", "fetch", &registry.reference(repo_ref)])
        .success();
    assert_eq!(out.stdout, expected, "{out}");
    assert_eq!(
        format!("sha256:{}", sha256_hex(&out.stdout_bytes)),
        digest_of(expected)
    );
    assert_eq!(
        String::from_utf8(registry.manifest(repo_ref)).unwrap(),
        expected,
        "skopeo reads the same index"
    );
}

/// Asserts the layout at `dir` holds exactly `expected` under `reference` (tag or digest).
#[track_caller]
fn assert_layout_index(sb: &Sandbox, layout_ref: &str, expected: &str) {
    let out = sb
        .oras()
        .args(["manifest", "fetch", "--oci-layout", layout_ref])
        .success();
    assert_eq!(out.stdout, expected, "{out}");
}

fn in_repo(tag: &str) -> String {
    registry().reference(&format!("{REPO}:{tag}"))
}

fn oras_index(sb: &Sandbox, args: &[&str]) -> Output {
    sb.oras().args(["manifest", "index"]).args(args).run()
}

// ---------------------------------------------------------------------------------------------
// index create, registry
// ---------------------------------------------------------------------------------------------

#[test]
fn index_create_from_digests_lists_them_with_their_platforms() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("create-by-digest");
    let out = oras_index(&sb, &["create", &target, &f.amd64.digest, &f.arm64.digest]).success();
    let expected = index_json(None, &[&f.amd64.entry, &f.arm64.entry], None);
    let digest = digest_of(&expected);
    assert_stdout(
        &out,
        &[
            format!("Fetching  {}", f.amd64.digest),
            format!("Fetched   {}", f.amd64.digest),
            format!("Fetching  {}", f.arm64.digest),
            format!("Fetched   {}", f.arm64.digest),
            packed_line(&digest),
            format!("Pushed    [registry] {target}"),
            format!("Digest: {digest}"),
        ],
    );
    assert_registry_index(&sb, &format!("{REPO}:create-by-digest"), &expected);
}

#[test]
fn index_create_from_tags_keeps_the_argument_order() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("create-by-tag");
    // `pack` is the alias of `create`.
    let out = oras_index(&sb, &["pack", &target, "linux-arm64", "linux-amd64"]).success();
    let expected = index_json(None, &[&f.arm64.entry, &f.amd64.entry], None);
    assert_stdout(
        &out,
        &[
            "Fetching  linux-arm64".to_owned(),
            format!("Fetched   {} linux-arm64", f.arm64.digest),
            "Fetching  linux-amd64".to_owned(),
            format!("Fetched   {} linux-amd64", f.amd64.digest),
            packed_line(&digest_of(&expected)),
            format!("Pushed    [registry] {target}"),
            format!("Digest: {}", digest_of(&expected)),
        ],
    );
    assert_registry_index(&sb, &format!("{REPO}:create-by-tag"), &expected);
}

#[test]
fn index_create_without_a_tag_pushes_by_digest() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = registry().reference(REPO);
    let out = oras_index(
        &sb,
        &[
            "create",
            &target,
            "linux-arm64",
            "linux-amd64",
            &f.armv7.digest,
        ],
    )
    .success();
    let expected = index_json(
        None,
        &[&f.arm64.entry, &f.amd64.entry, &f.armv7.entry],
        None,
    );
    let digest = digest_of(&expected);
    out.assert_line(&format!("Pushed    [registry] {target}"))
        .assert_line(&format!("Digest: {digest}"));
    assert!(!out.stdout.contains("Tagged"), "{out}");
    assert_registry_index(&sb, &format!("{REPO}@{digest}"), &expected);
}

#[test]
fn index_create_with_several_tags() {
    let f = seeded();
    let sb = Sandbox::new();
    let first = in_repo("create-t0");
    let out = oras_index(
        &sb,
        &[
            "create",
            &format!("{first},create-t1,create-t2,create-t3"),
            &f.armv7.digest,
            "linux-arm64",
            "linux-amd64",
        ],
    )
    .success();
    let expected = index_json(
        None,
        &[&f.armv7.entry, &f.arm64.entry, &f.amd64.entry],
        None,
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[lines.len() - 5..],
        [
            format!("Pushed    [registry] {first}"),
            "Tagged create-t1".to_owned(),
            "Tagged create-t2".to_owned(),
            "Tagged create-t3".to_owned(),
            format!("Digest: {}", digest_of(&expected)),
        ],
        "{out}"
    );
    for tag in ["create-t0", "create-t1", "create-t2", "create-t3"] {
        assert_registry_index(&sb, &format!("{REPO}:{tag}"), &expected);
    }
}

#[test]
fn index_create_copies_the_artifact_type_of_a_child() {
    let f = seeded();
    let sb = Sandbox::new();
    oras_index(&sb, &["create", &in_repo("create-artifact"), "artifact"]).success();
    assert!(f.artifact.entry.contains(ARTIFACT_TYPE));
    let expected = index_json(None, &[&f.artifact.entry], None);
    assert_registry_index(&sb, &format!("{REPO}:create-artifact"), &expected);
}

#[test]
fn index_create_nests_an_index_as_a_plain_descriptor() {
    let f = seeded();
    let sb = Sandbox::new();
    oras_index(&sb, &["create", &in_repo("create-nested"), "multi"]).success();
    let expected = index_json(None, &[&f.multi.entry], None);
    assert_registry_index(&sb, &format!("{REPO}:create-nested"), &expected);
}

#[test]
fn index_create_from_an_image_with_a_non_json_config() {
    let f = seeded();
    let sb = Sandbox::new();
    oras_index(
        &sb,
        &["create", &in_repo("create-nonjson"), "nonjson-config"],
    )
    .success();
    let expected = index_json(None, &[&f.nonjson.entry], None);
    assert_registry_index(&sb, &format!("{REPO}:create-nonjson"), &expected);
}

#[test]
fn index_create_with_annotations_and_the_last_artifact_type() {
    let f = seeded();
    let sb = Sandbox::new();
    oras_index(
        &sb,
        &[
            "create",
            &in_repo("create-annotated"),
            "linux-amd64",
            "-a",
            "k1=v1",
            "--annotation",
            "k0=a=b",
            "--artifact-type",
            "application/vnd.first",
            "--artifact-type",
            "application/vnd.example.index",
        ],
    )
    .success();
    let expected = index_json(
        Some("application/vnd.example.index"),
        &[&f.amd64.entry],
        Some(r#"{"k0":"a=b","k1":"v1"}"#),
    );
    assert_registry_index(&sb, &format!("{REPO}:create-annotated"), &expected);
}

#[test]
fn index_create_to_a_file_or_stdout_does_not_push() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = registry().reference(REPO);

    // An annotation of its own keeps this index's digest apart from other tests' indexes.
    let out = oras_index(
        &sb,
        &[
            "create",
            &target,
            &f.amd64.digest,
            "-a",
            "test=output-file",
            "--output",
            "created.json",
            "--pretty",
        ],
    )
    .success();
    let expected = index_json(None, &[&f.amd64.entry], Some(r#"{"test":"output-file"}"#));
    let digest = digest_of(&expected);
    assert_stdout(
        &out,
        &[
            format!("Fetching  {}", f.amd64.digest),
            format!("Fetched   {}", f.amd64.digest),
            packed_line(&digest),
            format!("Digest: {digest}"),
        ],
    );
    // A file gets the exact bytes, `--pretty` or not.
    assert_eq!(
        String::from_utf8(sb.read("created.json")).unwrap(),
        expected
    );
    assert!(!registry_has(registry(), &format!("{REPO}@{digest}")));

    // `-o -`: the index alone on stdout, byte for byte (the Go suite's `CreatedIndex` shape).
    let out = oras_index(
        &sb,
        &[
            "create",
            &target,
            &f.amd64.digest,
            "-a",
            "test=output-stdout",
            "-o",
            "-",
        ],
    )
    .success();
    let expected = index_json(None, &[&f.amd64.entry], Some(r#"{"test":"output-stdout"}"#));
    assert_eq!(out.stdout, expected, "{out}");
    assert!(!registry_has(
        registry(),
        &format!("{REPO}@{}", digest_of(&expected))
    ));

    let out = oras_index(
        &sb,
        &[
            "create",
            &target,
            &f.amd64.digest,
            "-a",
            "test=output-stdout",
            "-o",
            "-",
            "--pretty",
        ],
    )
    .success();
    assert!(
        out.stdout
            .starts_with("{\n  \"schemaVersion\": 2,\n  \"mediaType\": ")
            && out.stdout.ends_with("\n}\n"),
        "{out}"
    );
    let pretty: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        pretty,
        serde_json::from_str::<serde_json::Value>(&expected).unwrap()
    );
}

#[test]
fn index_create_errors() {
    seeded();
    let sb = Sandbox::new();
    let target = in_repo("create-errors");

    let out = oras_index(&sb, &["create", &target, "does-not-exist"]).failure();
    out.error_first_line("Error");
    out.stderr_contains("could not find the manifest does-not-exist");

    // (A blob digest as a source is checked against a layout: docker-registry answers a
    // manifest request for a blob with a 500, which the client retries for seconds.)

    let out = oras_index(&sb, &["create", &target, "linux-amd64", "-a", "foo:bar"]).failure();
    out.error_first_line("Error: annotation value doesn't match the required format");

    let out = oras_index(
        &sb,
        &[
            "create",
            &target,
            "linux-amd64",
            "--artifact-type",
            "invalid",
        ],
    )
    .failure();
    out.error_first_line("Error: invalid: invalid media type");

    let out = oras_index(&sb, &["create"]).failure();
    out.error_first_line(
        "Error: \"oras manifest index create\" requires at least 1 argument but got 0",
    );
    out.stderr_contains("Usage: oras manifest index create [flags] <name>");

    assert!(!registry_has(registry(), &format!("{REPO}:create-errors")));
}

// ---------------------------------------------------------------------------------------------
// index update, registry
// ---------------------------------------------------------------------------------------------

#[test]
fn index_update_by_tag_moves_the_tag() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("update-by-tag");
    oras_index(&sb, &["create", &target, &f.amd64.digest, &f.arm64.digest]).success();
    let old = index_json(None, &[&f.amd64.entry, &f.arm64.entry], None);

    let out = oras_index(&sb, &["update", &target, "--add", &f.armv7.digest]).success();
    let expected = index_json(
        None,
        &[&f.amd64.entry, &f.arm64.entry, &f.armv7.entry],
        None,
    );
    let digest = digest_of(&expected);
    assert_stdout(
        &out,
        &[
            "Fetching  update-by-tag".to_owned(),
            format!("Fetched   {} update-by-tag", digest_of(&old)),
            format!("Fetching  {}", f.armv7.digest),
            format!("Fetched   {}", f.armv7.digest),
            format!("Added     {}", f.armv7.digest),
            format!("Updated   {digest}"),
            format!("Pushed    [registry] {target}"),
            format!("Digest: {digest}"),
        ],
    );
    assert_registry_index(&sb, &format!("{REPO}:update-by-tag"), &expected);
}

#[test]
fn index_update_by_digest_pushes_a_new_untagged_index() {
    let f = seeded();
    let sb = Sandbox::new();
    let repo = registry().reference(REPO);
    // Other tests push the same two-entry index into this repository at the same time, and
    // the registry does not write manifests atomically: an annotation makes this one unique.
    let annotation = r#"{"test":"update-by-digest"}"#;
    oras_index(
        &sb,
        &[
            "create",
            &repo,
            &f.amd64.digest,
            &f.arm64.digest,
            "--annotation",
            "test=update-by-digest",
        ],
    )
    .success();
    let old = index_json(None, &[&f.amd64.entry, &f.arm64.entry], Some(annotation));
    let by_digest = format!("{repo}@{}", digest_of(&old));

    let out = oras_index(&sb, &["update", &by_digest, "--add", "linux-armv7"]).success();
    let expected = index_json(
        None,
        &[&f.amd64.entry, &f.arm64.entry, &f.armv7.entry],
        Some(annotation),
    );
    out.assert_line(&format!("Fetched   {}", digest_of(&old)))
        .assert_line(&format!("Added     {} linux-armv7", f.armv7.digest))
        .assert_line(&format!("Pushed    [registry] {repo}"))
        .assert_line(&format!("Digest: {}", digest_of(&expected)));
    assert_registry_index(&sb, &format!("{REPO}@{}", digest_of(&expected)), &expected);
    // The index updated stays as it was.
    assert_registry_index(&sb, &format!("{REPO}@{}", digest_of(&old)), &old);
}

#[test]
fn index_update_removes_then_adds_then_merges() {
    let f = seeded();
    let sb = Sandbox::new();
    let first = in_repo("update-all-01");
    let second = in_repo("update-all-02");
    oras_index(&sb, &["create", &first, &f.amd64.digest]).success();
    oras_index(&sb, &["create", &second, &f.arm64.digest]).success();
    let merged = index_json(None, &[&f.arm64.entry], None);

    let out = oras_index(
        &sb,
        &[
            "update",
            &first,
            "--add",
            &f.armv7.digest,
            "--merge",
            "update-all-02",
            "--remove",
            &f.amd64.digest,
        ],
    )
    .success();
    let expected = index_json(None, &[&f.armv7.entry, &f.arm64.entry], None);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[2..],
        [
            format!("Removed   {}", f.amd64.digest),
            format!("Fetching  {}", f.armv7.digest),
            format!("Fetched   {}", f.armv7.digest),
            format!("Added     {}", f.armv7.digest),
            "Fetching  update-all-02".to_owned(),
            format!("Fetched   {} update-all-02", digest_of(&merged)),
            format!("Merged    {} update-all-02", digest_of(&merged)),
            format!("Updated   {}", digest_of(&expected)),
            format!("Pushed    [registry] {first}"),
            format!("Digest: {}", digest_of(&expected)),
        ],
        "{out}"
    );
    assert_registry_index(&sb, &format!("{REPO}:update-all-01"), &expected);
}

#[test]
fn index_update_sets_keeps_and_clears_the_artifact_type() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("update-artifact-type");
    let repo_ref = format!("{REPO}:update-artifact-type");
    oras_index(
        &sb,
        &[
            "create",
            &target,
            "linux-amd64",
            "--artifact-type",
            "application/vnd.example.index",
            "-a",
            "k=v",
        ],
    )
    .success();

    // Neither the artifact type nor the annotations change unless asked.
    oras_index(&sb, &["update", &target, "--add", "linux-arm64"]).success();
    let entries = [f.amd64.entry.as_str(), f.arm64.entry.as_str()];
    let annotations = Some(r#"{"k":"v"}"#);
    assert_registry_index(
        &sb,
        &repo_ref,
        &index_json(Some("application/vnd.example.index"), &entries, annotations),
    );

    // `--artifact-type` alone is a change.
    let out = oras_index(
        &sb,
        &[
            "update",
            &target,
            "--artifact-type",
            "application/vnd.other",
        ],
    )
    .success();
    let expected = index_json(Some("application/vnd.other"), &entries, annotations);
    out.assert_line(&format!("Updated   {}", digest_of(&expected)));
    assert_registry_index(&sb, &repo_ref, &expected);

    oras_index(&sb, &["update", &target, "--artifact-type", ""]).success();
    assert_registry_index(&sb, &repo_ref, &index_json(None, &entries, annotations));

    let out = oras_index(&sb, &["update", &target, "--artifact-type", "invalid"]).failure();
    out.error_first_line("Error: invalid: invalid media type");
}

#[test]
fn index_update_tags_the_result_with_tag_flags() {
    let f = seeded();
    let sb = Sandbox::new();
    let repo = registry().reference(REPO);
    oras_index(&sb, &["create", &repo, &f.amd64.digest, &f.arm64.digest]).success();
    let old = index_json(None, &[&f.amd64.entry, &f.arm64.entry], None);
    let out = oras_index(
        &sb,
        &[
            "update",
            &format!("{repo}@{}", digest_of(&old)),
            "--add",
            &f.armv7.digest,
            "--tag",
            "update-tagged",
            "--tag",
            "update-tagged-2",
        ],
    )
    .success();
    let expected = index_json(
        None,
        &[&f.amd64.entry, &f.arm64.entry, &f.armv7.entry],
        None,
    );
    out.assert_line("Tagged update-tagged")
        .assert_line("Tagged update-tagged-2")
        .assert_line(&format!("Digest: {}", digest_of(&expected)));
    assert_registry_index(&sb, &format!("{REPO}:update-tagged"), &expected);
    assert_registry_index(&sb, &format!("{REPO}:update-tagged-2"), &expected);
}

#[test]
fn index_update_to_a_file_or_stdout_does_not_push() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("update-output");
    oras_index(
        &sb,
        &["create", &target, "linux-amd64", "-a", "test=update-output"],
    )
    .success();
    let old = index_json(None, &[&f.amd64.entry], Some(r#"{"test":"update-output"}"#));
    let expected = index_json(
        None,
        &[&f.amd64.entry, &f.arm64.entry],
        Some(r#"{"test":"update-output"}"#),
    );

    let out = oras_index(
        &sb,
        &[
            "update",
            &target,
            "--add",
            "linux-arm64",
            "-o",
            "updated.json",
        ],
    )
    .success();
    assert!(!out.stdout.contains("Pushed"), "{out}");
    out.assert_line(&format!("Updated   {}", digest_of(&expected)))
        .assert_line(&format!("Digest: {}", digest_of(&expected)));
    assert_eq!(
        String::from_utf8(sb.read("updated.json")).unwrap(),
        expected
    );

    let out = oras_index(&sb, &["update", &target, "--add", "linux-arm64", "-o", "-"]).success();
    assert_eq!(out.stdout, expected, "{out}");
    let out = oras_index(
        &sb,
        &[
            "update",
            &target,
            "--add",
            "linux-arm64",
            "--output",
            "-",
            "--pretty",
        ],
    )
    .success();
    assert!(
        out.stdout.starts_with("{\n  \"schemaVersion\": 2,"),
        "{out}"
    );
    assert!(out.stdout.ends_with("}\n"), "{out}");

    // Nothing was pushed: the tag still names the index created.
    assert_registry_index(&sb, &format!("{REPO}:update-output"), &old);
    assert!(!registry_has(
        registry(),
        &format!("{REPO}@{}", digest_of(&expected))
    ));
}

#[test]
fn index_update_errors() {
    let f = seeded();
    let sb = Sandbox::new();
    let target = in_repo("update-errors");
    oras_index(&sb, &["create", &target, &f.amd64.digest]).success();

    // No change asked for: a message and success, without looking the index up.
    let out = oras_index(&sb, &["update", &in_repo("nothing-to-update")]).success();
    assert_eq!(out.stdout, "Nothing to update as no change is requested\n");

    let repo = registry().reference(REPO);
    let out = oras_index(&sb, &["update", &repo, "--add", &f.armv7.digest]).failure();
    out.error_first_line(&format!("Error: \"{repo}\": no tag or digest specified"));

    let out = oras_index(
        &sb,
        &["update", &in_repo("does-not-exist"), "--add", "linux-armv7"],
    )
    .failure();
    out.error_first_line("Error");
    out.stderr_contains("could not find the index does-not-exist");

    let out = oras_index(&sb, &["update", &target, "--add", "does-not-exist"]).failure();
    out.stderr_contains("could not find the manifest does-not-exist");

    let out = oras_index(&sb, &["update", &target, "--merge", "does-not-exist"]).failure();
    out.stderr_contains("could not find the index does-not-exist");

    let out = oras_index(&sb, &["update", &target, "--merge", "linux-amd64"]).failure();
    out.error_first_line("Error: linux-amd64 is not an index");

    let out = oras_index(&sb, &["update", &target, "--remove", "latest"]).failure();
    out.error_first_line("Error: remove: latest is not a digest");

    let out = oras_index(&sb, &["update", &target, "--remove", &f.arm64.digest]).failure();
    out.error_first_line(&format!(
        "Error: {} does not exist in the index update-errors",
        f.arm64.digest
    ));

    let out = oras_index(
        &sb,
        &[
            "update",
            &target,
            "--add",
            "linux-arm64",
            "--output",
            "-",
            "--tag",
            "v2",
        ],
    )
    .failure();
    out.error_first_line("Error: --tag, --output cannot be used at the same time");

    let out = oras_index(
        &sb,
        &["update", &in_repo("linux-amd64"), "--add", "linux-arm64"],
    )
    .failure();
    out.error_first_line("Error: linux-amd64 is not an index");

    // None of that changed the index.
    assert_registry_index(
        &sb,
        &format!("{REPO}:update-errors"),
        &index_json(None, &[&f.amd64.entry], None),
    );
}

// ---------------------------------------------------------------------------------------------
// OCI image layouts
// ---------------------------------------------------------------------------------------------

#[test]
fn index_create_in_an_oci_layout() {
    let sb = Sandbox::new();
    let f = write_fixture(&sb.path("lay"));
    let one = index_json(None, &[&f.amd64.entry], None);

    // From a digest, tagged.
    let out = oras_index(
        &sb,
        &["create", "--oci-layout", "lay:by-digest", &f.amd64.digest],
    )
    .success();
    out.assert_line("Pushed    [oci-layout] lay:by-digest")
        .assert_line(&format!("Digest: {}", digest_of(&one)));
    assert_layout_index(&sb, "lay:by-digest", &one);

    // From a tag, with several tags.
    let out = oras_index(
        &sb,
        &["create", "--oci-layout", "lay:t0,t1,t2,t3", "linux-amd64"],
    )
    .success();
    out.assert_line(&format!("Fetched   {} linux-amd64", f.amd64.digest))
        .assert_line("Tagged t3");
    for tag in ["t0", "t1", "t2", "t3"] {
        assert_layout_index(&sb, &format!("lay:{tag}"), &one);
    }

    // Untagged: recorded in index.json by digest only. (The Go suite pins `Digest:
    // sha256:c543059818cb…` for its own fixture bytes.)
    let two = index_json(None, &[&f.arm64.entry, &f.armv7.entry], None);
    let out = oras_index(
        &sb,
        &[
            "create",
            "--oci-layout",
            "lay",
            "linux-arm64",
            "linux-armv7",
        ],
    )
    .success();
    out.assert_line("Pushed    [oci-layout] lay")
        .assert_line(&format!("Digest: {}", digest_of(&two)));
    assert_layout_index(&sb, &format!("lay@{}", digest_of(&two)), &two);
    let index_json_file = String::from_utf8(sb.read("lay/index.json")).unwrap();
    assert!(
        index_json_file.contains(&descriptor_json(INDEX_TYPE, &digest_of(&two), two.len())),
        "{index_json_file}"
    );

    // A nested index, a non-JSON config and an artifact type.
    oras_index(&sb, &["create", "--oci-layout", "lay:nested", "multi"]).success();
    assert_layout_index(
        &sb,
        "lay:nested",
        &index_json(None, &[&f.multi.entry], None),
    );
    oras_index(
        &sb,
        &[
            "create",
            "--oci-layout",
            "lay:odd",
            "nonjson-config",
            "artifact",
        ],
    )
    .success();
    assert_layout_index(
        &sb,
        "lay:odd",
        &index_json(None, &[&f.nonjson.entry, &f.artifact.entry], None),
    );

    // To a file and to stdout: nothing is recorded.
    let before = sb.read("lay/index.json");
    oras_index(
        &sb,
        &[
            "create",
            "--oci-layout",
            "lay:output",
            &f.amd64.digest,
            "--output",
            "created.json",
        ],
    )
    .success();
    assert_eq!(String::from_utf8(sb.read("created.json")).unwrap(), one);
    let out = oras_index(
        &sb,
        &[
            "create",
            "--oci-layout",
            "lay:output",
            &f.amd64.digest,
            "-o",
            "-",
        ],
    )
    .success();
    assert_eq!(out.stdout, one);
    assert_eq!(sb.read("lay/index.json"), before);

    let out = oras_index(
        &sb,
        &["create", "--oci-layout", "lay:latest", "does-not-exist"],
    )
    .failure();
    out.error_first_line("Error");
    out.stderr_contains("could not find the manifest does-not-exist");

    let out = oras_index(&sb, &["create", "--oci-layout", "lay:latest", &f.blob]).failure();
    out.error_first_line(&format!("Error: {} is not a manifest", f.blob));
}

#[test]
fn index_update_in_an_oci_layout() {
    let sb = Sandbox::new();
    let f = write_fixture(&sb.path("lay"));
    oras_index(
        &sb,
        &[
            "create",
            "--oci-layout",
            "lay:latest",
            &f.amd64.digest,
            &f.arm64.digest,
        ],
    )
    .success();
    let three = index_json(
        None,
        &[&f.amd64.entry, &f.arm64.entry, &f.armv7.entry],
        None,
    );

    // By tag: the tag moves.
    let out = oras_index(
        &sb,
        &[
            "update",
            "--oci-layout",
            "lay:latest",
            "--add",
            &f.armv7.digest,
        ],
    )
    .success();
    out.assert_line("Pushed    [oci-layout] lay:latest")
        .assert_line(&format!("Digest: {}", digest_of(&three)));
    assert_layout_index(&sb, "lay:latest", &three);

    // By digest: a new untagged index, the path shown without the digest.
    let two = index_json(None, &[&f.amd64.entry, &f.arm64.entry], None);
    let out = oras_index(
        &sb,
        &[
            "update",
            "--oci-layout",
            &format!("lay@{}", digest_of(&two)),
            "--add",
            "linux-armv7",
        ],
    )
    .success();
    out.assert_line("Pushed    [oci-layout] lay");
    assert_layout_index(&sb, &format!("lay@{}", digest_of(&three)), &three);

    // Remove, add and merge together.
    oras_index(
        &sb,
        &["create", "--oci-layout", "lay:index01", &f.amd64.digest],
    )
    .success();
    oras_index(
        &sb,
        &["create", "--oci-layout", "lay:index02", &f.arm64.digest],
    )
    .success();
    oras_index(
        &sb,
        &[
            "update",
            "--oci-layout",
            "lay:index01",
            "--add",
            &f.armv7.digest,
            "--merge",
            "index02",
            "--remove",
            &f.amd64.digest,
        ],
    )
    .success();
    assert_layout_index(
        &sb,
        "lay:index01",
        &index_json(None, &[&f.armv7.entry, &f.arm64.entry], None),
    );

    let out = oras_index(&sb, &["update", "--oci-layout", "lay:latest"]).success();
    assert_eq!(out.stdout, "Nothing to update as no change is requested\n");

    let out = oras_index(
        &sb,
        &["update", "--oci-layout", "lay", "--add", &f.armv7.digest],
    )
    .failure();
    out.error_first_line("Error: \"lay\": no tag or digest specified");

    let out = oras_index(
        &sb,
        &[
            "update",
            "--oci-layout",
            "lay:linux-amd64",
            "--add",
            &f.armv7.digest,
        ],
    )
    .failure();
    out.error_first_line("Error: linux-amd64 is not an index");

    let out = oras_index(
        &sb,
        &["update", "--oci-layout", "lay:latest", "--add", &f.blob],
    )
    .failure();
    out.error_first_line(&format!("Error: {} is not a manifest", f.blob));

    let out = oras_index(
        &sb,
        &[
            "update",
            "--oci-layout",
            "lay:latest",
            "--merge",
            "linux-amd64",
        ],
    )
    .failure();
    out.error_first_line("Error: linux-amd64 is not an index");
    assert_layout_index(&sb, "lay:latest", &three);
}
