//! The shape of push/pull output when stdout is not a terminal: plain status lines in the Go
//! client's words, and `--format json` objects with its keys.

use crate::harness::{Output, Sandbox, assert_key_order, is_hex, registry, sha256_hex};

const HELLO_SHORT: &str = "a948904f2f0f";

#[track_caller]
fn parse_json_only(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout must be one JSON object and nothing else: {e}\n{out}"))
}

#[test]
fn push_and_pull_print_status_lines() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let reference = registry.reference("output/text:v1");

    let push = sandbox
        .oras()
        .args(["push", &reference, "hello.txt"])
        .success();
    push.assert_line(&format!("Uploading {HELLO_SHORT} hello.txt"))
        .assert_line(&format!("Uploaded  {HELLO_SHORT} hello.txt"))
        .assert_line(&format!("Pushed [registry] {reference}"))
        .assert_line("ArtifactType: application/vnd.unknown.artifact.v1");
    let digest = push.digest_line();
    assert_eq!(digest, sha256_hex(&registry.manifest("output/text:v1")));
    let lines: Vec<&str> = push.stdout.lines().collect();
    let at = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap();
    assert!(at("Pushed [registry]") < at("ArtifactType:"), "{push}");
    assert!(at("ArtifactType:") < at("Digest:"), "{push}");
    assert!(at("Uploaded  ") < at("Pushed"), "{push}");

    let again = sandbox
        .oras()
        .args(["push", &reference, "hello.txt"])
        .success();
    again.assert_line(&format!("Exists    {HELLO_SHORT} hello.txt"));
    assert!(
        !again.has_line(&format!("Uploaded  {HELLO_SHORT} hello.txt")),
        "{again}"
    );

    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    pull.assert_line(&format!("Downloaded  {HELLO_SHORT} hello.txt"))
        .assert_line(&format!("Pulled [registry] {reference}"));
    assert!(
        pull.has_line(&format!("Downloading {HELLO_SHORT} hello.txt")),
        "{pull}"
    );
    // Pushing the same file with a different created time gives another digest; the pull
    // reports the one it resolved now.
    assert_eq!(pull.digest_line(), again.digest_line());
}

/// Files with the same content are uploaded once, but each keeps its own layer (title, media
/// type) in the manifest; the later ones are reported as `Exists` (oras-cli.md §5.6). The same
/// holds for attach.
#[test]
fn files_with_the_same_content_keep_their_own_layers() {
    let registry = registry();
    let sandbox = Sandbox::new();
    for name in ["a.txt", "b.txt", "c.txt"] {
        sandbox.write(name, "same\n");
    }
    let short = &sha256_hex(b"same\n")[..12];
    let reference = registry.reference("output/same:v1");
    let want = [
        ("application/vnd.oci.image.layer.v1.tar", "a.txt"),
        ("text/plain", "b.txt"),
        ("application/vnd.oci.image.layer.v1.tar", "c.txt"),
    ];
    let layers_of = |manifest: &[u8]| -> Vec<(String, String)> {
        let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
        manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert_eq!(l["digest"], format!("sha256:{}", sha256_hex(b"same\n")));
                let title = &l["annotations"]["org.opencontainers.image.title"];
                (
                    l["mediaType"].as_str().unwrap().to_owned(),
                    title.as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
            .collect()
    };

    let push = sandbox
        .oras()
        .args(["push", &reference, "a.txt", "b.txt:text/plain", "c.txt"])
        .success();
    push.assert_line(&format!("Uploaded  {short} a.txt"))
        .assert_line(&format!("Exists    {short} b.txt"))
        .assert_line(&format!("Exists    {short} c.txt"));
    assert_eq!(
        layers_of(&registry.manifest("output/same:v1")),
        owned(&want),
        "{push}"
    );
    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-o", "out"])
        .success();
    for name in ["a.txt", "b.txt", "c.txt"] {
        assert_eq!(sandbox.read(&format!("out/{name}")), b"same\n", "{pull}");
    }

    let attach = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/same", &reference])
        .args(["a.txt", "b.txt:text/plain", "c.txt", "--format", "json"])
        .success();
    let attached: serde_json::Value = serde_json::from_str(&attach.stdout).unwrap();
    let digest = attached["digest"].as_str().unwrap();
    let fetched = sandbox
        .oras()
        .args([
            "manifest",
            "fetch",
            &registry.reference(&format!("output/same@{digest}")),
        ])
        .success();
    assert_eq!(
        layers_of(fetched.stdout.as_bytes()),
        owned(&want),
        "{attach}"
    );
}

/// `pull --config <path>` names the config by that path in its status lines (oras-cli.md
/// §13.3: `44136fa355b3 test.config`).
#[test]
fn pull_config_status_names_the_config_file() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "foo", "foo\n");
    let pull = sandbox
        .oras()
        .args([
            "pull",
            "--oci-layout",
            "lay:v1",
            "--config",
            "test.config",
            "-o",
            "out",
        ])
        .success();
    pull.assert_line("Downloaded  44136fa355b3 test.config");
    assert_eq!(sandbox.read("out/test.config"), b"{}");
}

#[test]
fn push_with_format_json_prints_only_the_descriptor() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let reference = registry.reference("output/json:t1,t2");
    let push = sandbox
        .oras()
        .args(["push", &reference, "hello.txt", "--format", "json"])
        .success();
    let json = parse_json_only(&push);
    assert_key_order(
        &push.stdout,
        &[
            "reference",
            "mediaType",
            "digest",
            "size",
            "annotations",
            "artifactType",
            "referenceAsTags",
        ],
    );

    let manifest = registry.manifest("output/json:t1");
    let digest = format!("sha256:{}", sha256_hex(&manifest));
    let repo = registry.reference("output/json");
    assert_eq!(json["reference"], format!("{repo}@{digest}"));
    assert_eq!(
        json["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(json["digest"], digest);
    assert_eq!(json["size"], manifest.len());
    assert_eq!(json["artifactType"], "application/vnd.unknown.artifact.v1");
    assert!(
        json["annotations"]["org.opencontainers.image.created"].is_string(),
        "{json}"
    );
    assert_eq!(
        json["referenceAsTags"],
        serde_json::json!([format!("{repo}:t1"), format!("{repo}:t2")])
    );
    assert_eq!(
        registry.manifest("output/json:t2"),
        manifest,
        "both tags point at one manifest"
    );
}

#[test]
fn multi_tag_push_tags_every_tag() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let push = sandbox
        .oras()
        .args([
            "push",
            &registry.reference("output/multi:t1,t2,t3"),
            "hello.txt",
        ])
        .success();
    push.assert_line(&format!(
        "Pushed [registry] {}",
        registry.reference("output/multi:t1")
    ))
    .assert_line("Tagged t2")
    .assert_line("Tagged t3");
    let digest = push.digest_line();
    for tag in ["t1", "t2", "t3"] {
        let manifest = registry.manifest(&format!("output/multi:{tag}"));
        assert_eq!(sha256_hex(&manifest), digest, "tag {tag}");
    }
}

#[test]
fn pull_with_format_json_lists_absolute_paths() {
    let registry = registry();
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    sandbox.write("other.txt", "other\n");
    let reference = registry.reference("output/pull-json:v1");
    let push = sandbox
        .oras()
        .args(["push", &reference, "hello.txt", "other.txt"])
        .success();

    let pull = sandbox
        .oras()
        .args(["pull", &reference, "-o", "out", "--format", "json"])
        .success();
    let json = parse_json_only(&pull);
    assert_key_order(&pull.stdout, &["reference", "files"]);
    assert_eq!(
        json["reference"],
        format!(
            "{}@sha256:{}",
            registry.reference("output/pull-json"),
            push.digest_line()
        )
    );
    let files = json["files"].as_array().expect("files array");
    assert_eq!(files.len(), 2, "{json}");
    let out_dir = std::fs::canonicalize(sandbox.path("out")).unwrap();
    for file in files {
        let path = std::path::Path::new(file["path"].as_str().expect("path string"));
        assert!(path.is_absolute(), "path must be absolute: {file}");
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(std::fs::canonicalize(path).unwrap(), out_dir.join(name));
        assert_eq!(file["annotations"]["org.opencontainers.image.title"], name);
        let digest = file["digest"].as_str().unwrap();
        assert!(
            is_hex(digest.strip_prefix("sha256:").unwrap(), 64),
            "{file}"
        );
        assert_eq!(
            digest,
            format!("sha256:{}", sha256_hex(&std::fs::read(path).unwrap()))
        );
    }
    assert_eq!(sandbox.read("out/hello.txt"), b"hello world\n");
    assert_eq!(sandbox.read("out/other.txt"), b"other\n");
}

#[test]
fn push_to_layout_prints_oci_layout_kind() {
    let sandbox = Sandbox::new();
    sandbox.write("hello.txt", "hello world\n");
    let push = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "hello.txt"])
        .success();
    push.assert_line(&format!("Uploaded  {HELLO_SHORT} hello.txt"))
        .assert_line("Pushed [oci-layout] lay:v1")
        .assert_line("ArtifactType: application/vnd.unknown.artifact.v1");
}

/// Pushes `f.txt` (`t\n`) with the annotation `k=v` to the layout `lay:v1`, rendering `template`.
fn push_rendering(sandbox: &Sandbox, template: &str) -> Output {
    sandbox.write("f.txt", "t\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "f.txt", "-a", "k=v"])
        .args(["--format", &format!("go-template={template}")])
        .success()
}

/// `--format go-template` is Go's template language, not a subset: pipes, `index` (annotation
/// keys have dots), `printf`, `eq`, variables, sprig's `join`/`default`; a template that does
/// not parse stops the command before it pushes anything.
#[test]
fn go_templates_use_the_whole_language() {
    let sandbox = Sandbox::new();
    let template = concat!(
        r#"{{index .annotations "org.opencontainers.image.created" | len}}|"#,
        r#"{{printf "%.12s" .digest}}|{{if eq .mediaType "application/vnd.oci.image.manifest.v1+json"}}manifest{{end}}|"#,
        r#"{{range $i, $t := .referenceAsTags}}{{$i}}={{$t}}{{end}}|{{join "," (keys .annotations)}}|"#,
        r#"{{default "none" .missing}}"#
    );
    let out = push_rendering(&sandbox, template);
    let parts: Vec<&str> = out.stdout.split('|').collect();
    assert_eq!(parts.len(), 6, "{out}");
    assert!(
        parts[1].starts_with("sha256:") && parts[1].len() == 12,
        "{out}"
    );
    assert_eq!(
        [parts[0], parts[2], parts[3], parts[4], parts[5]],
        [
            "20",
            "manifest",
            "0=lay:v1",
            "k,org.opencontainers.image.created",
            "none"
        ],
        "{out}"
    );

    for (template, says) in [
        ("{{.digest", "unclosed action"),
        ("{{.digest | uper}}", "function \"uper\" not defined"),
    ] {
        let bad = sandbox
            .oras()
            .args(["push", "--oci-layout", "bad:v1", "f.txt"])
            .args(["--format", &format!("go-template={template}")])
            .failure();
        bad.error_first_line("Error: invalid template");
        bad.stderr_contains(says);
        assert!(!sandbox.path("bad").exists(), "nothing pushed\n{bad}");
    }
}

/// The sprig string, regex, list and number functions CI scripts use to cut a digest or a
/// reference apart, with sprig's argument order (the piped value last).
#[test]
fn go_templates_have_sprigs_string_regex_and_number_functions() {
    // Regression: trunc, substr, split, splitList, regexReplaceAll, regexFind, sortAlpha,
    // add1, int and sha256sum were "not defined".
    let template = concat!(
        r#"{{.digest | trunc 19}}|{{(split ":" .digest)._1 | substr 0 12}}|"#,
        r#"{{regexReplaceAll "sha256:" .digest ""}}|{{regexFind "[0-9a-f]{64}$" .reference}}|"#,
        r#"{{splitList "@" .reference | first}}|{{keys .annotations | sortAlpha | join ","}}|"#,
        r#"{{add1 (int .size) | sub 1 | add .size}}|{{sha256sum "t\n" | trunc -6}}"#
    );
    let out = push_rendering(&Sandbox::new(), template);
    let parts: Vec<&str> = out.stdout.split('|').collect();
    assert_eq!(parts.len(), 8, "{out}");
    let hex = parts[2];
    assert!(is_hex(hex, 64), "{out}");
    assert_eq!(
        [
            parts[0], parts[1], parts[3], parts[4], parts[5], parts[6], parts[7]
        ],
        [
            &format!("sha256:{}", &hex[..12]),
            &hex[..12],
            hex,
            "lay",
            "k,org.opencontainers.image.created",
            "0",
            &sha256_hex(b"t\n")[58..],
        ],
        "{out}"
    );
}

/// sprig's `toJson` and `toPrettyJson` are Go's `json.Marshal(Indent)`: `<`, `>` and `&` come
/// out as `\u003c`, `\u003e`, `\u0026`; `toRawJson` keeps them.
#[test]
fn go_template_json_functions_escape_html_as_go_does() {
    // Regression: toJson and toPrettyJson wrote `&`, `<`, `>` unescaped.
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "t\n");
    let out = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "f.txt"])
        .args(["-a", "src=https://x.example/?a=1&b=<2>"])
        .args(["-a", "org.opencontainers.image.created=2000-01-01T00:00:00Z"])
        .args([
            "--format",
            "go-template={{toJson .annotations}}|{{toRawJson .annotations.src}}|{{toPrettyJson .annotations}}",
        ])
        .success();
    assert_eq!(
        out.stdout,
        concat!(
            r#"{"org.opencontainers.image.created":"2000-01-01T00:00:00Z","src":"https://x.example/?a=1\u0026b=\u003c2\u003e"}|"#,
            r#""https://x.example/?a=1&b=<2>"|"#,
            "{\n",
            r#"  "org.opencontainers.image.created": "2000-01-01T00:00:00Z","#,
            "\n",
            r#"  "src": "https://x.example/?a=1\u0026b=\u003c2\u003e""#,
            "\n}"
        ),
        "{out}"
    );
}

#[test]
fn version_names_the_go_release_it_reproduces() {
    // Scripts compare this with the Go client's releases (`--artifact-platform` needs 1.3).
    let sb = Sandbox::new();
    let out = sb.oras().arg("version").success();
    let version = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .expect("a Version line")
        .trim()
        .to_owned();
    assert_eq!(
        version,
        format!("1.3.3+oras-rs.{}", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        out.has_line(&format!("OS/Arch:        linux/{}", go_arch())),
        "{out}"
    );
    // Extra arguments are ignored with a warning (§13.10), as in Go.
    let out = sb.oras().args(["version", "foo", "bar"]).success();
    out.stderr_contains("warning:");
    out.stderr_contains("\"foo,bar\" will be ignored");
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
