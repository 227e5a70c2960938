//! Command lines as the Go client's parser (pflag) reads them (oras-cli.md §0): boolean flags
//! with `=true`/`=false`, a flag given twice keeping its last value, values that start with
//! `-`, short-flag clusters, and unknown flags in pflag's words.

use crate::harness::Sandbox;

fn annotations(sandbox: &Sandbox, reference: &str) -> serde_json::Value {
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", reference])
        .success();
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    manifest["annotations"].clone()
}

#[test]
fn boolean_flags_take_true_and_false_and_any_flag_may_repeat() {
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "pflag\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout=true", "lay:v1", "f.txt"])
        .args([
            "--disable-path-validation=false",
            "-d=false",
            "--no-tty=true",
        ])
        .args(["--concurrency", "2", "--concurrency", "-1"])
        .args([
            "--oci-layout",
            "--artifact-type",
            "a/b",
            "--artifact-type",
            "c/d",
        ])
        .success();
    let out = sandbox
        .oras()
        .args(["manifest", "fetch", "--oci-layout", "lay:v1"])
        .success();
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(manifest["artifactType"], "c/d", "the last value wins");

    // `=false` turns the flag off: without --oci-layout, `lay:v1` is not a registry reference.
    sandbox
        .oras()
        .args(["resolve", "--oci-layout=false", "lay:v1"])
        .failure()
        .error_first_line("Error");
    sandbox
        .oras()
        .args(["resolve", "--oci-layout=true", "lay:v1"])
        .success();
}

#[test]
fn a_value_may_start_with_a_dash_and_is_never_rewritten() {
    let sandbox = Sandbox::new();
    sandbox.write("f.txt", "pflag\n");
    // `-a`'s values look like flags (one like a boolean's `=false` form); they stay values.
    sandbox
        .oras()
        .args(["push", "--oci-layout", "lay:v1", "f.txt"])
        .args(["-a", "-k=v", "-a", "--debug=false"])
        .success();
    let got = annotations(&sandbox, "lay:v1");
    assert_eq!(got["-k"], "v", "{got}");
    assert_eq!(got["--debug"], "false", "{got}");
}

#[test]
fn short_flags_cluster_with_a_value_last() {
    let sandbox = Sandbox::new();
    sandbox.push_to_layout("lay:v1", "f.txt", "pflag\n");
    // -k (keep old files), -T (allow path traversal), -o <dir>.
    sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-kTo", "out"])
        .success();
    assert_eq!(sandbox.read("out/f.txt"), b"pflag\n");
    let again = sandbox
        .oras()
        .args(["pull", "--oci-layout", "lay:v1", "-kTo", "out"])
        .failure();
    again.stderr_contains("overwrite disallowed");
}

#[test]
fn unknown_flags_are_named_as_the_go_client_does() {
    let sandbox = Sandbox::new();
    let out = sandbox.oras().args(["pull", "--bogus", "x/y:z"]).failure();
    assert_eq!(
        out.stderr.lines().next(),
        Some("Error: unknown flag: --bogus"),
        "{out}"
    );
    let out = sandbox.oras().args(["pull", "-Z", "x/y:z"]).failure();
    assert_eq!(
        out.stderr.lines().next(),
        Some("Error: unknown shorthand flag: 'Z' in -Z"),
        "{out}"
    );
    let out = sandbox
        .oras()
        .args(["pull", "--bogus=1", "x/y:z"])
        .failure();
    assert_eq!(
        out.stderr.lines().next(),
        Some("Error: unknown flag: --bogus"),
        "{out}"
    );
}

#[test]
fn unknown_commands_missing_values_and_bad_numbers_read_as_cobra_and_pflag_print_them() {
    let sandbox = Sandbox::new();
    for (args, stderr) in [
        (
            &["foo"][..],
            "Error: unknown command \"foo\" for \"oras\"\nRun 'oras --help' for usage.\n",
        ),
        (
            &["psh", "x"][..],
            "Error: unknown command \"psh\" for \"oras\"\n\nDid you mean this?\n\tpush\n\nRun 'oras --help' for usage.\n",
        ),
        (
            &["manifest", "foo"][..],
            "Error: unknown command \"foo\" for \"oras manifest\"\nRun 'oras manifest --help' for usage.\n",
        ),
        (
            &["push", "--concurrency"][..],
            "Error: flag needs an argument: --concurrency\n",
        ),
        (
            &["pull", "x/y:z", "-ko"][..],
            "Error: flag needs an argument: 'o' in -ko\n",
        ),
        (
            &["push", "x/y:z", "--concurrency", "abc"][..],
            "Error: invalid argument \"abc\" for \"--concurrency\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\n",
        ),
        (
            &["discover", "x/y:z", "--depth", "two"][..],
            "Error: invalid argument \"two\" for \"--depth\" flag: strconv.ParseInt: parsing \"two\": invalid syntax\n",
        ),
    ] {
        let out = sandbox.oras().args(args).failure();
        assert_eq!(out.stderr, stderr, "{out}");
    }
}

#[test]
fn an_empty_value_for_a_path_flag_names_that_flag() {
    // Regression: `--registry-config "$CFG" --insecure` with the variable unset said "flag needs
    // an argument: --insecure", naming the wrong flag for the wrong fault.
    let sb = Sandbox::new();
    for args in [
        &[
            "repo",
            "tags",
            "localhost:5000/r",
            "--registry-config",
            "",
            "--insecure",
        ][..],
        &["repo", "tags", "localhost:5000/r", "--registry-config="],
        &["pull", "--oci-layout-path", "", "-o", "out", "x:v1"],
    ] {
        let flag = args
            .iter()
            .find(|a| a.contains("registry-config") || a.contains("layout-path"))
            .unwrap()
            .trim_end_matches('=');
        let out = sb.oras().args(args).failure();
        assert_eq!(
            out.stderr,
            format!("Error: invalid argument \"\" for \"{flag}\" flag: the value is empty\n"),
            "{args:?}"
        );
    }
    let out = sb
        .oras()
        .args(["repo", "tags", "localhost:5000/r", "--registry-config"])
        .failure();
    assert_eq!(
        out.stderr,
        "Error: flag needs an argument: --registry-config\n"
    );
}
