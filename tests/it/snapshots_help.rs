//! Snapshots (insta, under `snapshots/`) of every command's `--help` and of the main error
//! messages, so that a change to what users read shows up in review.

use crate::harness::{Output, Sandbox, auth_registry, registry};

/// Every command and subcommand, as typed after `oras`.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["push"],
    &["pull"],
    &["login"],
    &["logout"],
    &["version"],
    &["tag"],
    &["resolve"],
    &["cp"],
    &["attach"],
    &["discover"],
    &["backup"],
    &["restore"],
    &["manifest"],
    &["manifest", "fetch"],
    &["manifest", "fetch-config"],
    &["manifest", "push"],
    &["manifest", "delete"],
    &["manifest", "index"],
    &["manifest", "index", "create"],
    &["manifest", "index", "update"],
    &["blob"],
    &["blob", "fetch"],
    &["blob", "push"],
    &["blob", "delete"],
    &["repo"],
    &["repo", "ls"],
    &["repo", "tags"],
];

/// Commands whose help has no `Example - ` section: the root and the groups only list their
/// subcommands (as the Go client's do).
const WITHOUT_EXAMPLES: &[&[&str]] = &[
    &[],
    &["manifest"],
    &["manifest", "index"],
    &["blob"],
    &["repo"],
];

/// Runs `oras <args>` in `sb` with a terminal width set: help (cobra's layout) ignores it.
fn oras(sb: &Sandbox, args: &[&str]) -> Output {
    sb.oras().args(args).env("COLUMNS", "100").run()
}

/// Insta settings for error messages, replacing what varies between runs: registry ports, the
/// sandbox path and digests.
fn settings(sb: &Sandbox) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let root = sb
        .root()
        .canonicalize()
        .expect("canonical sandbox path")
        .display()
        .to_string();
    let mut filters = vec![
        (regex_escape(&root), "[SANDBOX]".to_owned()),
        (
            regex_escape(&sb.root().display().to_string()),
            "[SANDBOX]".to_owned(),
        ),
        (
            r"(localhost|127\.0\.0\.1):\d+".to_owned(),
            "$1:[PORT]".to_owned(),
        ),
        (
            r"sha256:[0-9a-f]{64}".to_owned(),
            "sha256:[DIGEST]".to_owned(),
        ),
    ];
    filters.dedup();
    for (pattern, replacement) in filters {
        settings.add_filter(&pattern, replacement);
    }
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// `help_push`, `help_manifest_fetch-config`, `help_root`.
fn snapshot_name(command: &[&str]) -> String {
    if command.is_empty() {
        "help_root".to_owned()
    } else {
        format!("help_{}", command.join("_"))
    }
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let sb = Sandbox::new();
    // Help text does not vary: no filters (its examples name `localhost:5000`).
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let out = oras(&sb, &args).success();
        assert!(out.stderr.is_empty(), "help goes to stdout only\n{out}");
        let usage = format!("Usage:\n  oras {}", command.join(" "));
        assert!(
            out.stdout.contains(usage.trim_end()),
            "help names its command\n{out}"
        );
        if !WITHOUT_EXAMPLES.contains(command) {
            assert!(
                out.stdout.contains("\nExample - "),
                "`oras {}` should show examples as the Go client does\n{out}",
                command.join(" ")
            );
        }
        settings.bind(|| insta::assert_snapshot!(snapshot_name(command), out.stdout));
    }
}

/// `oras` alone and a command group alone (`oras manifest`) print their help on stdout and
/// succeed, as the Go client does.
#[test]
fn a_group_without_a_subcommand_prints_its_help() {
    let sb = Sandbox::new();
    for command in [
        &[][..],
        &["manifest"],
        &["blob"],
        &["repo"],
        &["manifest", "index"],
    ] {
        let bare = oras(&sb, command).success();
        let mut flag = command.to_vec();
        flag.push("--help");
        let help = oras(&sb, &flag).success();
        assert!(bare.stderr.is_empty(), "{bare}");
        assert_eq!(bare.stdout, help.stdout, "{bare}");
    }
}

#[test]
fn help_flag_and_help_subcommand_agree() {
    let sb = Sandbox::new();
    for command in COMMANDS.iter().filter(|c| !c.is_empty()) {
        let mut flag = command.to_vec();
        flag.push("--help");
        let mut sub = vec!["help"];
        sub.extend_from_slice(command);
        let (by_flag, by_sub) = (oras(&sb, &flag).success(), oras(&sb, &sub).success());
        assert_eq!(by_flag.stdout, by_sub.stdout, "{by_flag}\n{by_sub}");
    }
}

/// One error case: its snapshot name and the arguments of the failing command.
struct Case {
    name: &'static str,
    args: Vec<String>,
}

/// Renders a failed run for a snapshot: the command, then stdout and stderr.
fn failure_text(out: &Output) -> String {
    format!(
        "$ {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.command, out.stdout, out.stderr
    )
}

#[test]
fn main_error_messages_match_their_snapshots() {
    let open = registry();
    let auth = auth_registry();
    let sb = Sandbox::new();
    sb.write("hi.txt", "hi\n");
    // A manifest that exists, so that "missing tag" is about the tag, not the repository.
    oras(&sb, &["push", &open.reference("snap/errors:v1"), "hi.txt"]).success();
    let s = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases = [
        Case {
            name: "error_bad_reference",
            args: s(&["pull", &open.reference("UPPER/case:v1")]),
        },
        Case {
            name: "error_reference_without_registry",
            args: s(&["resolve", "notareference"]),
        },
        Case {
            name: "error_missing_file",
            args: s(&["push", &open.reference("snap/errors:v2"), "missing.txt"]),
        },
        Case {
            name: "error_invalid_media_type",
            args: s(&["push", &open.reference("snap/errors:v2"), "hi.txt:bad"]),
        },
        Case {
            name: "error_invalid_artifact_type",
            args: s(&[
                "push",
                "--artifact-type",
                "bad type",
                &open.reference("snap/errors:v2"),
                "hi.txt",
            ]),
        },
        Case {
            name: "error_missing_tag",
            args: s(&["resolve", &open.reference("snap/errors:nosuchtag")]),
        },
        Case {
            name: "error_missing_tag_pull",
            args: s(&["pull", &open.reference("snap/errors:nosuchtag")]),
        },
        Case {
            name: "error_too_few_arguments",
            args: s(&["tag", &open.reference("snap/errors:v1")]),
        },
        Case {
            name: "error_no_arguments",
            args: s(&["pull"]),
        },
        Case {
            name: "error_unknown_flag",
            args: s(&["pull", "--frobnicate", &open.reference("snap/errors:v1")]),
        },
        Case {
            name: "error_misspelt_flag",
            args: s(&["pull", "--plain-htp", &open.reference("snap/errors:v1")]),
        },
        Case {
            name: "error_unknown_command",
            args: s(&["pul", &open.reference("snap/errors:v1")]),
        },
        Case {
            name: "error_no_credentials",
            args: s(&["pull", &auth.reference("snap/errors:v1")]),
        },
        Case {
            name: "error_invalid_format",
            args: s(&[
                "manifest",
                "fetch",
                "--format",
                "yaml",
                &open.reference("snap/errors:v1"),
            ]),
        },
    ];
    let settings = settings(&sb);
    for case in cases {
        let out = oras(
            &sb,
            &case.args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        // Exit code 1 for every error, usage errors included, as the Go client does.
        assert_eq!(out.code, 1, "{}: expected a failure\n{out}", case.name);
        assert!(
            out.stderr.starts_with("Error: ")
                || out.stderr.starts_with("Error response from registry: "),
            "{}: the message starts with `Error: ` or `Error response from registry: `\n{out}",
            case.name
        );
        settings.bind(|| insta::assert_snapshot!(case.name, failure_text(&out)));
    }
}
