//! `ORAS_CACHE=<dir>`: pull, blob fetch, manifest fetch and fetch-config read through an OCI
//! layout cache (oras-cli.md §2.3). A hit is proven by deleting the content from the registry:
//! the cached command still succeeds where the uncached one fails.

use std::path::{Path, PathBuf};

use crate::harness::{Sandbox, registry, sha256_hex};

const CONFIG_TYPE: &str = "application/vnd.oras.test.config";

/// The cache directory of a sandbox: nested, so that its creation is tested too.
fn cache_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.root().join("cache").join("oras")
}

fn cached_blob(cache: &Path, digest: &str) -> PathBuf {
    cache
        .join("blobs")
        .join("sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// Pushes `files` (written with their content) to `reference`; returns the manifest digest.
fn push(sandbox: &Sandbox, reference: &str, files: &[(&str, &[u8])]) -> String {
    let mut args = vec!["push".to_owned(), reference.to_owned()];
    for (name, content) in files {
        sandbox.write(name, content);
        args.push((*name).to_owned());
    }
    let out = sandbox.oras().args(&args).success();
    format!("sha256:{}", out.digest_line())
}

/// Pushes `b.bin` (`layer`) with `config` as the config; returns the manifest digest.
fn push_with_config(sandbox: &Sandbox, reference: &str, config: &[u8], layer: &[u8]) -> String {
    sandbox.write("config.json", config);
    sandbox.write("b.bin", layer);
    let out = sandbox
        .oras()
        .args([
            "push",
            reference,
            "--config",
            &format!("config.json:{CONFIG_TYPE}"),
            "b.bin",
        ])
        .success();
    format!("sha256:{}", out.digest_line())
}

/// `oras pull <reference> -o <dir>` with or without the cache.
fn pull(
    sandbox: &Sandbox,
    reference: &str,
    dir: &str,
    cache: Option<&Path>,
) -> crate::harness::Output {
    let mut oras = sandbox.oras().args(["pull", reference, "-o", dir]);
    if let Some(cache) = cache {
        oras = oras.env("ORAS_CACHE", cache);
    }
    oras.run()
}

/// The digest of the one layer of the manifest `reference` names.
fn layer_digest(sandbox: &Sandbox, reference: &str) -> String {
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", reference])
        .success();
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).expect("manifest JSON");
    manifest["layers"][0]["digest"]
        .as_str()
        .expect("a layer")
        .to_owned()
}

fn delete_blob(sandbox: &Sandbox, repo: &str, digest: &str) {
    sandbox
        .oras()
        .args(["blob", "delete", "-f", &format!("{repo}@{digest}")])
        .success();
}

/// An artifact of one file `a.txt` pushed to `cmd-cache/<name>:v1`, pulled once through the
/// cache into `first/`.
struct Seeded {
    sandbox: Sandbox,
    cache: PathBuf,
    repo: String,
    tagged: String,
    manifest: String,
    layer: String,
}

fn seed(name: &str, content: &[u8]) -> Seeded {
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let repo = registry().reference(&format!("cmd-cache/{name}"));
    let tagged = format!("{repo}:v1");
    let manifest = push(&sandbox, &tagged, &[("a.txt", content)]);
    let layer = layer_digest(&sandbox, &tagged);
    pull(&sandbox, &tagged, "first", Some(&cache)).success();
    assert_eq!(sandbox.read("first/a.txt"), content);
    assert_eq!(
        std::fs::read(cached_blob(&cache, &layer)).expect("the layer is cached"),
        content
    );
    Seeded {
        sandbox,
        cache,
        repo,
        tagged,
        manifest,
        layer,
    }
}

#[test]
fn cache_pull_serves_content_the_registry_no_longer_has() {
    let content = b"cached layer content\n".repeat(1000);
    let Seeded {
        sandbox,
        cache,
        repo,
        tagged,
        manifest,
        layer,
    } = seed("pull", &content);

    // The registry loses the layer: only the cache still has it.
    delete_blob(&sandbox, &repo, &layer);
    pull(&sandbox, &tagged, "uncached", None).failure();
    let out = pull(&sandbox, &tagged, "second", Some(&cache)).success();
    assert_eq!(sandbox.read("second/a.txt"), content, "{out}");
    out.assert_line(&format!("Digest: {manifest}"));

    // The registry loses the manifest too: a pull by digest comes from the cache alone.
    sandbox
        .oras()
        .args(["manifest", "delete", "-f", &format!("{repo}@{manifest}")])
        .success();
    let by_digest = format!("{repo}@{manifest}");
    pull(&sandbox, &by_digest, "uncached", None).failure();
    let out = pull(&sandbox, &by_digest, "third", Some(&cache)).success();
    assert_eq!(sandbox.read("third/a.txt"), content, "{out}");
    out.assert_line(&format!("Digest: {manifest}"));
}

#[test]
fn cache_blob_fetch_manifest_fetch_and_fetch_config() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let repo = registry.reference("cmd-cache/fetch");
    let tagged = format!("{repo}:v1");
    let config = br#"{"cached":"config"}"#;
    let manifest = push_with_config(
        &sandbox,
        &tagged,
        config,
        &b"blob to fetch through the cache".repeat(500),
    );
    let layer = layer_digest(&sandbox, &tagged);
    let config_digest = format!("sha256:{}", sha256_hex(config));
    let blob = sandbox.read("b.bin");
    let with_cache = || sandbox.oras().env("ORAS_CACHE", &cache);

    // blob fetch: the first fetch fills the cache, the second needs only the cache.
    let by_digest = format!("{repo}@{layer}");
    with_cache()
        .args(["blob", "fetch", &by_digest, "--output", "fetched.bin"])
        .success();
    assert_eq!(sandbox.read("fetched.bin"), blob);
    assert_eq!(format!("sha256:{}", sha256_hex(&blob)), layer);
    assert_eq!(std::fs::read(cached_blob(&cache, &layer)).unwrap(), blob);
    delete_blob(&sandbox, &repo, &layer);
    sandbox
        .oras()
        .args(["blob", "fetch", &by_digest, "--output", "-"])
        .failure();
    let out = with_cache()
        .args(["blob", "fetch", &by_digest, "--output", "-"])
        .success();
    assert_eq!(out.stdout_bytes, blob, "{out}");
    let out = with_cache()
        .args(["blob", "fetch", &by_digest, "--descriptor"])
        .success();
    let desc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(desc["digest"], layer.as_str(), "{out}");
    assert_eq!(desc["size"], blob.len(), "{out}");

    // manifest fetch by tag fills the cache; by digest it is then served from the cache.
    let fetched = with_cache()
        .args(["manifest", "fetch", &tagged])
        .success()
        .stdout_bytes;
    assert_eq!(format!("sha256:{}", sha256_hex(&fetched)), manifest);
    let media_type = |out: &crate::harness::Output| {
        let desc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        desc["mediaType"].as_str().unwrap().to_owned()
    };
    let remote_type = media_type(
        &sandbox
            .oras()
            .args(["manifest", "fetch", &tagged, "--descriptor"])
            .success(),
    );

    // fetch-config: cached once, then the registry may lose the config.
    let out = with_cache()
        .args(["manifest", "fetch-config", &tagged])
        .success();
    assert_eq!(out.stdout_bytes, config, "{out}");
    delete_blob(&sandbox, &repo, &config_digest);
    sandbox
        .oras()
        .args(["manifest", "fetch-config", &tagged])
        .failure();
    let out = with_cache()
        .args(["manifest", "fetch-config", &tagged])
        .success();
    assert_eq!(out.stdout_bytes, config, "{out}");

    let manifest_ref = format!("{repo}@{manifest}");
    sandbox
        .oras()
        .args(["manifest", "delete", "-f", &manifest_ref])
        .success();
    sandbox
        .oras()
        .args(["manifest", "fetch", &manifest_ref])
        .failure();
    let out = with_cache()
        .args(["manifest", "fetch", &manifest_ref])
        .success();
    assert_eq!(out.stdout_bytes, fetched, "{out}");
    let out = with_cache()
        .args(["manifest", "fetch", &manifest_ref, "--descriptor"])
        .success();
    assert_eq!(media_type(&out), remote_type, "{out}");
    let out = with_cache()
        .args(["manifest", "fetch-config", &manifest_ref])
        .success();
    assert_eq!(out.stdout_bytes, config, "{out}");
}

#[test]
fn cache_resolves_tags_at_the_registry() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let tagged = registry.reference("cmd-cache/moving:latest");

    let first = push(&sandbox, &tagged, &[("a.txt", b"first version\n")]);
    pull(&sandbox, &tagged, "one", Some(&cache)).success();
    assert_eq!(sandbox.read("one/a.txt"), b"first version\n");
    assert!(cached_blob(&cache, &first).is_file());

    // The tag moves: the cache must not pin it to the manifest it saw first.
    let second = push(&sandbox, &tagged, &[("a.txt", b"second version\n")]);
    assert_ne!(first, second);
    let out = pull(&sandbox, &tagged, "two", Some(&cache)).success();
    out.assert_line(&format!("Digest: {second}"));
    assert_eq!(sandbox.read("two/a.txt"), b"second version\n");
    let out = sandbox
        .oras()
        .env("ORAS_CACHE", &cache)
        .args(["manifest", "fetch", &tagged, "--descriptor"])
        .success();
    let desc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(desc["digest"], second.as_str(), "{out}");
    // The cache has both manifests, and no tags.
    assert!(cached_blob(&cache, &second).is_file());
    let index = std::fs::read_to_string(cache.join("index.json")).unwrap();
    assert!(
        !index.contains("org.opencontainers.image.ref.name"),
        "{index}"
    );
}

#[test]
fn cache_corrupt_entries_are_refetched_and_repaired() {
    let content = b"the right bytes\n".repeat(256);
    let Seeded {
        sandbox,
        cache,
        repo,
        tagged,
        manifest,
        layer,
    } = seed("corrupt", &content);
    let layer_file = cached_blob(&cache, &layer);
    let manifest_file = cached_blob(&cache, &manifest);
    let manifest_bytes = std::fs::read(&manifest_file).expect("the manifest is cached");

    // Same size, wrong bytes: only the digest can tell.
    let mut flipped = content.clone();
    flipped[0] ^= 0xff;
    for (bad, name) in [(flipped, "same-size"), (b"garbage".to_vec(), "short")] {
        std::fs::write(&layer_file, &bad).unwrap();
        let out = pull(&sandbox, &tagged, name, Some(&cache)).success();
        assert_eq!(sandbox.read(&format!("{name}/a.txt")), content, "{out}");
        assert_eq!(
            std::fs::read(&layer_file).unwrap(),
            content,
            "{name}: repaired"
        );
    }

    // A corrupt manifest is fetched again too (a pull by digest would otherwise read it).
    let mut bad = manifest_bytes.clone();
    bad[0] = b' ';
    std::fs::write(&manifest_file, &bad).unwrap();
    let out = pull(
        &sandbox,
        &format!("{repo}@{manifest}"),
        "by-digest",
        Some(&cache),
    )
    .success();
    assert_eq!(sandbox.read("by-digest/a.txt"), content, "{out}");
    assert_eq!(std::fs::read(&manifest_file).unwrap(), manifest_bytes);

    // blob fetch does not serve a corrupt entry either.
    std::fs::write(&layer_file, b"bad").unwrap();
    let out = sandbox
        .oras()
        .env("ORAS_CACHE", &cache)
        .args(["blob", "fetch", &format!("{repo}@{layer}"), "--output", "-"])
        .success();
    assert_eq!(out.stdout_bytes, content, "{out}");
    assert_eq!(std::fs::read(&layer_file).unwrap(), content);
}

/// A cached config with the right size but other bytes: `manifest fetch-config` checks what it
/// read, asks again, and the entry is replaced with the registry's copy.
#[test]
fn cache_corrupt_config_is_refetched_by_fetch_config() {
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let tagged = registry().reference("cmd-cache/config:v1");
    let config = br#"{"cached":"config"}"#;
    push_with_config(&sandbox, &tagged, config, b"layer");
    let fetch_config = || {
        sandbox
            .oras()
            .env("ORAS_CACHE", &cache)
            .args(["manifest", "fetch-config", &tagged])
            .success()
    };
    assert_eq!(fetch_config().stdout_bytes, config);
    let entry = cached_blob(&cache, &format!("sha256:{}", sha256_hex(config)));
    assert_eq!(std::fs::read(&entry).expect("the config is cached"), config);
    let mut flipped = config.to_vec();
    flipped[2] = b'C';
    std::fs::write(&entry, &flipped).unwrap();
    let out = fetch_config();
    assert_eq!(out.stdout_bytes, config, "{out}");
    assert_eq!(std::fs::read(&entry).unwrap(), config, "repaired");
}

#[test]
fn cache_directory_is_an_oci_layout() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let repo = registry.reference("cmd-cache/layout");
    let tagged = format!("{repo}:v1");
    let manifest = push(
        &sandbox,
        &tagged,
        &[("a.txt", b"one\n"), ("b.txt", &b"two\n".repeat(100_000))],
    );
    assert!(!cache.exists());
    pull(&sandbox, &tagged, "out", Some(&cache)).success();

    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.join("oci-layout")).expect("oci-layout"))
            .unwrap();
    assert_eq!(marker["imageLayoutVersion"], "1.0.0");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.join("index.json")).expect("index.json"))
            .unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert!(index["manifests"].is_array(), "{index}");

    // Every file under blobs/ is complete: named by the digest of its content, no leftovers.
    let blobs = cache.join("blobs").join("sha256");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, sha256_hex(&std::fs::read(&path).unwrap()), "{name}");
        names.push(name);
    }
    // The manifest and the two layers: a pull never reads the config, so it is not cached (a
    // layout may lack blobs its manifests name, image-layout spec "Blobs").
    assert_eq!(names.len(), 3, "{names:?}");

    // It reads back as a layout, by digest.
    let out = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            &format!("{}@{manifest}", cache.display()),
            "-o",
            "from-layout",
        ])
        .success();
    assert_eq!(sandbox.read("from-layout/a.txt"), b"one\n", "{out}");
    assert_eq!(sandbox.read("from-layout/b.txt"), b"two\n".repeat(100_000));
}

#[test]
fn cache_is_ignored_by_writes_and_layout_targets() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let cache = cache_dir(&sandbox);
    let tagged = registry.reference("cmd-cache/writes:v1");
    let with_cache = || sandbox.oras().env("ORAS_CACHE", &cache);
    sandbox.write("a.txt", b"written\n");

    with_cache().args(["push", &tagged, "a.txt"]).success();
    with_cache().args(["tag", &tagged, "v2"]).success();
    with_cache()
        .args([
            "blob",
            "push",
            &registry.reference("cmd-cache/writes"),
            "a.txt",
        ])
        .success();
    with_cache()
        .args(["push", "--oci-layout", "layout:v1", "a.txt"])
        .success();
    with_cache()
        .args(["pull", "--oci-layout", "layout:v1", "-o", "from-layout"])
        .success();
    with_cache()
        .args(["manifest", "fetch", "--oci-layout", "layout:v1"])
        .success();
    assert!(!cache.exists(), "writes and layout targets left a cache");

    // A read from the registry does create it.
    pull(&sandbox, &tagged, "out", Some(&cache)).success();
    assert!(cache.join("oci-layout").is_file());
}

/// A miss that brings wrong bytes (same size) is not kept: the download finds them wrong and
/// asks again, and the second answer comes from the registry, not from the entry just made.
#[test]
fn cache_miss_with_damaged_bytes_is_fetched_again_from_the_registry() {
    use crate::faults::{Fault, FaultProxy, Rule};
    let sandbox = Sandbox::new();
    let content = b"damaged once on the way\n".repeat(64);
    let reference = registry().reference("cache/damaged:v1");
    push(&sandbox, &reference, &[("a.txt", &content)]);
    let layer = format!("sha256:{}", sha256_hex(&content));
    let proxy = FaultProxy::start(
        registry().port(),
        vec![Rule::new(&["GET"], format!("/blobs/{layer}"), Fault::Corrupt).times(1)],
    );
    let cache = cache_dir(&sandbox);
    let out = pull(
        &sandbox,
        &proxy.reference("cache/damaged:v1"),
        "out",
        Some(&cache),
    )
    .success();
    assert_eq!(sandbox.read("out/a.txt"), content, "{out}");
    assert_eq!(
        std::fs::read(cached_blob(&cache, &layer)).unwrap(),
        content,
        "the cache keeps the registry's second answer"
    );
    assert_eq!(proxy.seen("GET", &format!("/blobs/{layer}")).len(), 2);
}
