//! Bad references, missing files, invalid media types and absolute paths: exit code 1 and an
//! `Error:` line in the Go client's words.

use crate::harness::{Output, Sandbox, layout_manifest, registry};

#[track_caller]
fn assert_error(out: &Output, needle: &str) {
    assert_eq!(out.code, 1, "{out}");
    out.error_first_line("Error:");
    out.stderr_contains(needle);
}

#[test]
fn a_docker_style_short_name_gets_the_full_docker_hub_reference_as_a_hint() {
    let sandbox = Sandbox::new();
    let out = sandbox.oras().args(["pull", "alpine:3"]).failure();
    assert_eq!(
        out.stderr,
        "Error: \"alpine:3\": invalid reference: missing registry or repository\n\
         Please make sure the provided reference is in the form of <registry>/<repo>[:tag|@digest]\n\
         Did you mean \"docker.io/library/alpine:3\"?\n",
        "{out}"
    );
    // Only for names Docker Hub could hold.
    let out = sandbox.oras().args(["pull", "Alpine:3"]).failure();
    assert!(!out.stderr.contains("Did you mean"), "{out}");
}

#[test]
fn a_registry_without_repository_gets_no_docker_hub_hint() {
    // Regression: `oras repo tags localhost:5000` was asked whether it meant
    // "docker.io/library/localhost:5000".
    let sandbox = Sandbox::new();
    for raw in [
        "localhost:5000",
        "localhost",
        "ghcr.io",
        "registry.example.com:443",
    ] {
        let out = sandbox.oras().args(["repo", "tags", raw]).failure();
        assert_eq!(
            out.stderr,
            format!(
                "Error: \"{raw}\": invalid reference: missing registry or repository\n\
                 Please make sure the provided reference is in the form of <registry>/<repo>[:tag|@digest]\n"
            ),
            "{out}"
        );
    }
}

#[test]
fn push_rejects_a_reference_without_registry() {
    let sandbox = Sandbox::new();
    sandbox.write("x.txt", "x\n");
    let out = sandbox.oras().args(["push", "/oras", "x.txt"]).failure();
    assert_error(
        &out,
        r#"Error: "/oras": invalid reference: invalid registry """#,
    );
}

#[test]
fn an_empty_tag_or_digest_means_none_as_in_oras_go() {
    let sandbox = Sandbox::new();
    for (command, raw) in [
        ("pull", "localhost:5000/hello:"),
        ("resolve", "localhost:5000/hello@"),
        ("manifest fetch", "localhost:5000/hello:v1@"),
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push(raw);
        let out = sandbox.oras().args(&args).failure();
        out.error_first_line(&format!("Error: \"{raw}\": no tag or digest specified"));
    }
}

#[test]
fn pull_rejects_an_uppercase_repository() {
    let sandbox = Sandbox::new();
    let reference = registry().reference("UPPER:v1");
    let out = sandbox.oras().args(["pull", &reference]).failure();
    assert_error(&out, "invalid repository");
    out.stderr_contains("UPPER");
}

#[test]
fn push_reports_a_missing_file_with_its_absolute_path() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args([
            "push",
            &registry().reference("bad/missing:v1"),
            "missing.txt",
        ])
        .failure();
    assert_error(&out, "no such file or directory");
    let absolute = std::fs::canonicalize(sandbox.work())
        .unwrap()
        .join("missing.txt");
    out.stderr_contains(absolute.to_str().unwrap());
}

#[test]
fn push_rejects_an_invalid_artifact_type() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    let out = sandbox
        .oras()
        .args([
            "push",
            &registry().reference("bad/type:v1"),
            "a.txt",
            "--artifact-type",
            "bad",
        ])
        .failure();
    assert_error(&out, "invalid media type");
    // Nothing was pushed under the tag.
    let inspect = crate::harness::skopeo_unchecked(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &registry().docker_ref("bad/type:v1"),
    ]);
    assert_ne!(
        inspect.code, 0,
        "a rejected push must not create the tag\n{inspect}"
    );
}

#[test]
fn attach_of_an_absolute_path_hints_at_attach() {
    // Regression: the hint told an `oras attach` user to run `oras push`.
    let sandbox = Sandbox::new();
    let file = sandbox.write("abs.txt", "absolute\n");
    let absolute = file.to_str().unwrap();
    let out = sandbox
        .oras()
        .args(["attach", "--artifact-type", "test/attach"])
        .args(["--oci-layout", "lay:v1", absolute])
        .failure();
    assert_error(&out, "absolute file path detected");
    out.stderr_contains(&format!(
        "To name the layer \"abs.txt\" instead, attach it from its directory: cd {} && oras attach --artifact-type test/attach <subject> abs.txt",
        sandbox.work().display()
    ));
}

#[test]
fn push_rejects_an_absolute_path_unless_validation_is_disabled() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("abs.txt", "absolute\n");
    let absolute = file.to_str().unwrap();
    let out = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", absolute])
        .failure();
    assert_error(&out, "absolute file path detected");
    out.stderr_contains("--disable-path-validation");
    out.stderr_contains(absolute);
    // oras#1744: a way that needs no unsafe flag.
    out.stderr_contains(&format!(
        "To name the layer \"abs.txt\" instead, push it from its directory: cd {} && oras push <name> abs.txt",
        sandbox.work().display()
    ));
    assert!(
        !sandbox.path("lay/index.json").exists(),
        "nothing may be written on refusal"
    );

    sandbox
        .oras()
        .args([
            "push",
            "--oci-layout",
            "lay:v1",
            absolute,
            "--disable-path-validation",
        ])
        .success();
    let (_, manifest) = layout_manifest(&sandbox.path("lay"), "v1");
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        absolute
    );
}

/// Argument lists the Go client refuses: arguments, how many, its usage line, `CheckArgs`'s
/// `exactly N argument` / `at least N argument` (never plural) and the command's description
/// of them (attach's and index create's end with a full stop, hence a `..` in the hint).
#[rustfmt::skip]
const ARGUMENT_COUNTS: &[(&[&str], usize, &str, &str, &str)] = &[
    (&["push"], 0, "oras push [flags] <name>[:<tag>[,<tag>][...]] <file>[:<type>] [...]", "at least 1 argument", "the destination for pushing"),
    (&["attach", "--artifact-type", "t/x"], 0, "oras attach [flags] --artifact-type=<type> <name>{:<tag>|@<digest>} {<file>[:<layer_media_type>]|--annotation <key>=<value>} [...]", "at least 1 argument", "the destination artifact for attaching."),
    (&["pull"], 0, "oras pull [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the artifact reference you want to pull"),
    (&["pull", "a/b:c", "d"], 2, "oras pull [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the artifact reference you want to pull"),
    (&["discover"], 0, "oras discover [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the target artifact to discover referrers from"),
    (&["cp", "a/b:c"], 1, "oras cp [flags] <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]", "exactly 2 argument", "the source and destination for copying"),
    (&["copy", "foo", "bar", "buz"], 3, "oras cp [flags] <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]", "exactly 2 argument", "the source and destination for copying"),
    (&["tag"], 0, "oras tag [flags] <name>{:<tag>|@<digest>} <new_tag> [...]", "at least 1 argument", "the artifact to be retagged and the tags to be added"),
    (&["resolve"], 0, "oras resolve [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the target artifact reference to resolve"),
    (&["login"], 0, "oras login [flags] <registry>", "exactly 1 argument", "the registry to log in to"),
    (&["logout"], 0, "oras logout [flags] <registry>", "exactly 1 argument", "the registry you want to log out"),
    (&["backup", "-o", "x"], 0, "oras backup [flags] --output <path> <registry>/<repository>[:<ref1>[,<ref2>...]]", "exactly 1 argument", "the artifact reference you want to back up"),
    (&["restore", "--input", "x"], 0, "oras restore [flags] --input <path> <registry>/<repository>[:<ref1>[,<ref2>...]]", "exactly 1 argument", "the targets to restore to"),
    (&["blob", "fetch"], 0, "oras blob fetch [flags] {--output <file> | --descriptor} <name>@<digest>", "exactly 1 argument", "the target blob to fetch"),
    (&["blob", "push", "a/b"], 1, "oras blob push [flags] <name>[@digest] <file>", "exactly 2 argument", "the destination to push to and the file to read blob content from"),
    (&["blob", "delete"], 0, "oras blob delete [flags] <name>@<digest>", "exactly 1 argument", "the target blob to delete"),
    (&["manifest", "fetch"], 0, "oras manifest fetch [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the manifest to fetch"),
    (&["manifest", "fetch-config"], 0, "oras manifest fetch-config [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the manifest config to fetch"),
    (&["manifest", "push"], 0, "oras manifest push [flags] <name>[:<tag>[,<tag>][...]|@<digest>] <file>", "exactly 2 argument", "the destination to push to and the file to read manifest content from"),
    (&["manifest", "delete"], 0, "oras manifest delete [flags] <name>{:<tag>|@<digest>}", "exactly 1 argument", "the manifest to delete"),
    (&["manifest", "index", "create"], 0, "oras manifest index create [flags] <name>[:<tag>[,<tag>][...]] [{<tag>|<digest>}...]", "at least 1 argument", "the destination index to create."),
    (&["manifest", "index", "update"], 0, "oras manifest index update [flags] <name>{:<tag>|@<digest>} [{--add|--merge|--remove} {<tag>|<digest>}] [...]", "exactly 1 argument", "the target index to update"),
    (&["repo", "ls"], 0, "oras repo ls [flags] <registry>[/<namespace>]", "exactly 1 argument", "the target registry to list repositories from"),
    (&["repo", "tags"], 0, "oras repo tags [flags] <name>", "exactly 1 argument", "the target repository to list tags from"),
];

/// Regression: the hint of an argument-count error dropped `exactly`, pluralised `argument`
/// and described the arguments in words of our own; `oras tag` asked for 2 where Go asks for 1.
#[test]
fn argument_count_errors_are_the_go_clients_word_for_word() {
    let sandbox = Sandbox::new();
    for &(args, got, usage, text, what) in ARGUMENT_COUNTS {
        let out = sandbox.oras().args(args).failure();
        // Usage and `-h` name the command, whichever alias was typed.
        let path = usage.split(" [flags]").next().unwrap();
        assert_eq!(
            out.stderr,
            format!(
                "Error: \"{path}\" requires {text} but got {got}\n\
                 Usage: {usage}\n\
                 Please specify {text} as {what}. Run \"{path} -h\" for more options and examples\n"
            ),
            "{args:?}\n{out}"
        );
    }
}

/// Too few (or too many) arguments together with an option the Go client refuses: cobra
/// counts the arguments (`Args`, oras's `CheckArgs`) before oras validates its options
/// (`PreRunE`), so the count is what is reported. Each row: the command line and the count's
/// words.
#[rustfmt::skip]
const ARGUMENTS_BEFORE_OPTIONS: &[(&[&str], &str)] = &[
    (&["push", "--format", "bogus"], "\"oras push\" requires at least 1 argument but got 0"),
    (&["push", "--template", "{{.}}"], "\"oras push\" requires at least 1 argument but got 0"),
    (&["push", "--image-spec", "v9"], "\"oras push\" requires at least 1 argument but got 0"),
    (&["attach", "--artifact-type", "t/x", "--format", "bogus"], "\"oras attach\" requires at least 1 argument but got 0"),
    (&["attach", "--format", "bogus"], "\"oras attach\" requires at least 1 argument but got 0"),
    (&["attach", "--distribution-spec", "bogus"], "\"oras attach\" requires at least 1 argument but got 0"),
    (&["attach", "--artifact-type", "t/x", "--config", "c", "--platform", "linux/amd64"], "\"oras attach\" requires at least 1 argument but got 0"),
    (&["pull", "--format", "bogus"], "\"oras pull\" requires exactly 1 argument but got 0"),
    (&["pull", "--format", "go-template"], "\"oras pull\" requires exactly 1 argument but got 0"),
    (&["pull", "--output", "-", "--format", "json", "a/b:c", "d"], "\"oras pull\" requires exactly 1 argument but got 2"),
    (&["discover", "--format", "bogus"], "\"oras discover\" requires exactly 1 argument but got 0"),
    (&["discover", "--format", "json", "--output", "json"], "\"oras discover\" requires exactly 1 argument but got 0"),
    (&["discover", "--output", "table"], "\"oras discover\" requires exactly 1 argument but got 0"),
    (&["discover", "--depth", "0"], "\"oras discover\" requires exactly 1 argument but got 0"),
    (&["manifest", "fetch", "--format", "bogus"], "\"oras manifest fetch\" requires exactly 1 argument but got 0"),
    (&["manifest", "fetch", "--format", "json", "--pretty"], "\"oras manifest fetch\" requires exactly 1 argument but got 0"),
    (&["manifest", "fetch", "--media-type", "a/b", "--oci-layout"], "\"oras manifest fetch\" requires exactly 1 argument but got 0"),
    (&["manifest", "fetch-config", "--output", "-", "--descriptor"], "\"oras manifest fetch-config\" requires exactly 1 argument but got 0"),
    (&["manifest", "push", "--distribution-spec", "bogus", "a/b:c"], "\"oras manifest push\" requires exactly 2 argument but got 1"),
    (&["manifest", "delete", "--distribution-spec", "bogus"], "\"oras manifest delete\" requires exactly 1 argument but got 0"),
    (&["manifest", "delete", "--descriptor"], "\"oras manifest delete\" requires exactly 1 argument but got 0"),
    (&["manifest", "index", "create", "--annotation", "foo:bar"], "\"oras manifest index create\" requires at least 1 argument but got 0"),
    (&["manifest", "index", "update", "--tag", "v2", "--output", "-"], "\"oras manifest index update\" requires exactly 1 argument but got 0"),
    (&["manifest", "index", "update", "--remove", "latest"], "\"oras manifest index update\" requires exactly 1 argument but got 0"),
    (&["blob", "fetch"], "\"oras blob fetch\" requires exactly 1 argument but got 0"),
    (&["blob", "fetch", "--output", "-", "--descriptor"], "\"oras blob fetch\" requires exactly 1 argument but got 0"),
    (&["blob", "push", "--header", "bogus", "a/b"], "\"oras blob push\" requires exactly 2 argument but got 1"),
    (&["blob", "delete", "--descriptor"], "\"oras blob delete\" requires exactly 1 argument but got 0"),
    (&["repo", "ls", "--format", "bogus"], "\"oras repo ls\" requires exactly 1 argument but got 0"),
    (&["repo", "tags", "--format", "bogus"], "\"oras repo tags\" requires exactly 1 argument but got 0"),
    (&["tag", "--header", "bogus"], "\"oras tag\" requires at least 1 argument but got 0"),
    (&["resolve", "--platform", "/"], "\"oras resolve\" requires exactly 1 argument but got 0"),
    (&["cp", "--from-distribution-spec", "bogus", "a/b:c"], "\"oras cp\" requires exactly 2 argument but got 1"),
    (&["login", "--username", "u", "--identity-token", "t"], "\"oras login\" requires exactly 1 argument but got 0"),
    (&["backup", "--output", ""], "\"oras backup\" requires exactly 1 argument but got 0"),
    (&["backup", "--output", "x", "--distribution-spec", "bogus"], "\"oras backup\" requires exactly 1 argument but got 0"),
    (&["restore", "--input", ""], "\"oras restore\" requires exactly 1 argument but got 0"),
];

/// Regression: push, attach, pull, discover, manifest fetch and repo ls/tags parsed `--format`
/// (discover also printed its `--output`/`table` deprecations), and manifest delete
/// `--distribution-spec`, before counting the arguments. pflag's `--verbose` deprecation,
/// printed as the flags are parsed, still comes first.
#[test]
fn arguments_are_counted_before_options_are_validated() {
    const DEPRECATED: &str =
        "Flag --verbose has been deprecated, and will be removed in a future release.";
    let sandbox = Sandbox::new();
    let mut wrong = Vec::new();
    for &(args, count) in ARGUMENTS_BEFORE_OPTIONS {
        for verbose in [false, true] {
            let mut command = sandbox.oras().args(args);
            if verbose {
                command = command.arg("--verbose");
            }
            let out = command.failure();
            let error = format!("Error: {count}");
            let head: &[&str] = if verbose {
                &[DEPRECATED, &error]
            } else {
                &[&error]
            };
            let lines: Vec<&str> = out.stderr.lines().collect();
            // The count's error is whole: its usage and hint lines follow it, nothing else.
            let whole = lines.len() == head.len() + 2
                && lines.starts_with(head)
                && lines[head.len()].starts_with("Usage: oras ")
                && lines[head.len() + 1].starts_with("Please specify ");
            if !whole {
                wrong.push(format!("{args:?} verbose={verbose}\n{out}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The oras 0.x flags are deprecated the way pflag deprecates: as the flags are parsed.
    let out = sandbox.oras().args(["pull", "--allow-all"]).failure();
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("Flag --allow-all has been deprecated")
            && lines[1] == "Error: \"oras pull\" requires exactly 1 argument but got 0",
        "{out}"
    );
}

/// Regression: attach asked for `--artifact-type` before validating its other options; cobra
/// checks required flags only after `PreRunE`.
#[test]
fn attach_reports_a_bad_option_before_a_missing_artifact_type() {
    let sandbox = Sandbox::new();
    for (flags, error) in [
        (
            &["--format", "bogus"][..],
            "Error: invalid format type: \"bogus\"",
        ),
        (
            &["--distribution-spec", "bogus"],
            "Error: unknown distribution specification flag: bogus",
        ),
        (
            &["--config", "c.json", "--platform", "linux/amd64"],
            "Error: --config, --platform cannot be used at the same time",
        ),
    ] {
        let out = sandbox
            .oras()
            .arg("attach")
            .args(flags)
            .args(["localhost:1/a/b:v1", "f.txt"])
            .failure();
        out.error_first_line(error);
    }
}

/// Go's check lets `oras tag <ref>` through; oras-go's `TagN` refuses the empty list of tags
/// before any request.
#[test]
fn tag_without_new_tags_is_refused_in_oras_gos_words() {
    let sandbox = Sandbox::new();
    let out = sandbox.oras().args(["tag", "localhost:1/a/b:v1"]).failure();
    out.error_first_line("Error: dstReferences cannot be empty: missing reference");
    out.stderr_contains("Usage: oras tag [flags]");
}

#[test]
fn a_file_name_with_a_colon_gets_the_trailing_colon_hint() {
    // oras#695: `a:b.txt` reads as file `a` with media type `b.txt`.
    let sandbox = Sandbox::new();
    sandbox.write("a:b.txt", "colon\n");
    let out = sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "a:b.txt"])
        .failure();
    assert_eq!(
        out.stderr,
        "Error: invalid media type \"b.txt\" for file \"a\": want type/subtype\n\
         To push the file \"a:b.txt\" itself, end the argument with a colon: \"a:b.txt:\"\n",
        "{out}"
    );
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "a:b.txt:"])
        .success();
    sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .success();
    assert_eq!(sandbox.read("out/a:b.txt"), b"colon\n");
}

#[test]
fn a_path_climbing_out_is_pushed_with_a_warning_about_pulling_it() {
    let sandbox = Sandbox::new();
    sandbox.write("up.txt", "up\n");
    std::fs::create_dir_all(sandbox.path("sub")).unwrap();
    let out = sandbox
        .oras()
        .args(["push", "--oci-layout", "../lay:v1", "../up.txt"])
        .cwd(sandbox.path("sub"))
        .success();
    out.stderr_contains(
        "Warning: \"../up.txt\" is titled \"../up.txt\", which leaves the directory it is pulled into: pulling it will need --allow-path-traversal",
    );
    sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .failure()
        .stderr_contains("path traversal disallowed");
}

/// Regression: a repeated `-a` key read `duplicate annotation key: <k>`; Go's
/// `parseAnnotationFlags` writes `%w: %v, ` and stops at the first repeated key.
#[test]
fn a_repeated_annotation_key_is_named_in_the_go_clients_words() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    let repeated = ["-a", "b=1", "-a", "a=1", "-a", "a=2", "-a", "b=2"];
    for command in [
        &["push", "--oci-layout", "lay:v1", "a.txt"][..],
        &[
            "attach",
            "--oci-layout",
            "--artifact-type",
            "t/x",
            "lay:v1",
            "a.txt",
        ],
        &["manifest", "index", "create", "--oci-layout", "lay:i"],
    ] {
        let out = sandbox.oras().args(command).args(repeated).failure();
        assert_eq!(
            out.stderr, "Error: duplicate annotation key: a, \n",
            "{out}"
        );
    }
    assert!(!sandbox.path("lay").exists(), "nothing may be written");
}

/// Regression: a layout reference with a bad digest after `@` was called an invalid tag, and
/// `lay@` was refused as an invalid tag "" where Go finds no tag or digest.
#[test]
fn a_layout_reference_names_its_bad_digest_as_the_go_client_does() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "a.txt"])
        .success();
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["manifest", "fetch", "--oci-layout", "lay@sha256:bad"], "Error: \"lay@sha256:bad\": invalid reference: invalid digest \"sha256:bad\": invalid checksum digest length"),
        (&["blob", "fetch", "--oci-layout", "lay@md5:abc", "-o", "x"], "Error: \"lay@md5:abc\": invalid reference: invalid digest \"md5:abc\": unsupported digest algorithm"),
        (&["resolve", "--oci-layout", "lay:-bad"], "Error: \"lay:-bad\": invalid reference: invalid tag \"-bad\""),
        (&["manifest", "fetch", "--oci-layout", "lay@"], "Error: \"lay@\": no tag or digest specified"),
    ];
    for (args, first) in cases {
        let out = sandbox.oras().args(*args).failure();
        assert_eq!(out.stderr.lines().next(), Some(*first), "{out}");
    }
}

/// The Go client's words (§16 of the reference) for flags and push inputs it refuses before
/// anything is sent: the whole first line, or (`…`) its fixed beginning where the rest is the
/// reason of a library.
#[rustfmt::skip]
const REFUSED_INPUTS: &[(&[&str], &str)] = &[
    (&["push", "--oci-layout", "lay:v1", "-H", "foo:bar", "a.txt"], "custom header flags cannot be used on an OCI image layout target"),
    (&["pull", "--oci-layout", "lay:v1", "-H", "foo:bar"], "custom header flags cannot be used on an OCI image layout target"),
    (&["push", "--resolve", "bad", "localhost:5000/a:v1", "a.txt"], "failed to parse resolve flag \"bad\": expecting host:port:address[:address_port]"),
    (&["push", "--resolve", "h:x:127.0.0.1", "localhost:5000/a:v1", "a.txt"], "failed to parse resolve flag \"h:x:127.0.0.1\": expecting uint64 host port"),
    (&["push", "--resolve", "h:80:notip", "localhost:5000/a:v1", "a.txt"], "failed to parse resolve flag \"h:80:notip\": invalid IP address"),
    (&["push", "--resolve", "h:80:127.0.0.1:y", "localhost:5000/a:v1", "a.txt"], "failed to parse resolve flag \"h:80:127.0.0.1:y\": expecting uint64 address port"),
    (&["push", "--oci-layout", "lay:v1", "--image-spec", "v2", "a.txt"], "unknown image specification flag: v2"),
    (&["push", "--oci-layout", "lay:v1", "--format", "go-template", "a.txt"], "\"go-template\" format specified but no template given"),
    (&["push", "--oci-layout", "lay:v1", "--template", "{{.}}", "a.txt"], "--template must be used with --format go-template"),
    (&["push", "--oci-layout", "lay:v1", "--format", "json", "--template", "{{.}}", "a.txt"], "--template must be used with --format go-template"),
    (&["push", "--oci-layout", "lay:v1", ":text/plain"], "found empty file path in \":text/plain\""),
    (&["push", "--oci-layout", "lay:v1", "--config", "c.json", "--image-spec", "v1.1", "a.txt"], "missing artifact type for OCI image-spec v1.1 artifacts"),
    (&["push", "--oci-layout", "lay:v1", "--config", "c.json", "--image-spec", "v1.0", "--artifact-type", "a/b", "a.txt"], "--artifact-type and --config cannot both be provided for 1.0 OCI image"),
    (&["push", "--oci-layout", "lay:v1", "--config", "c.json:bad", "a.txt"], "invalid config mediaType format: bad: invalid media type"),
    (&["push", "--oci-layout", "lay:v1", "--artifact-type", "bad", "a.txt"], "invalid artifactType format: bad: invalid media type"),
    (&["push", "--oci-layout", "lay:v1", "-a", "org.opencontainers.image.created=yesterday", "a.txt"], "invalid date and time format: …"),
    (&["manifest", "index", "create", "--oci-layout", "lay:i", "v1", "--artifact-type", "bad"], "bad: invalid media type"),
    (&["blob", "push", "--oci-layout", "blobs", "missing.bin"], "failed to open missing.bin: …"),
    (&["blob", "push", "--oci-layout", "blobs", "a.txt", "--size", "10"], "input size 10 does not match the actual content size 2"),
];

#[test]
fn refused_flags_and_inputs_are_named_in_the_go_clients_words() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a\n");
    sandbox.write("c.json", "{}");
    for (args, message) in REFUSED_INPUTS {
        let out = sandbox.oras().args(*args).failure();
        let first = out.stderr.lines().next().unwrap_or_default();
        match message.strip_suffix('…') {
            Some(start) => assert!(first.starts_with(&format!("Error: {start}")), "{out}"),
            None => assert_eq!(first, format!("Error: {message}"), "{out}"),
        }
    }
    // (`blob push`, as Go's, opens its layout before it reads the file.)
    assert!(!sandbox.path("lay").exists(), "nothing may be written");
}
