//! `--help` in cobra's layout: what the Go client's e2e suite (`test/e2e/suite/command`) reads
//! in help output, and pflag's flag table.

use regex::Regex;

use crate::harness::Sandbox;

/// `oras <args> --help` on stdout, after checking it succeeded quietly.
fn help(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.oras().args(args).arg("--help").success();
    assert!(out.stderr.is_empty(), "help goes to stdout only\n{out}");
    out.stdout
}

/// The e2e suite's `MatchKeyWords`: every word, case-insensitively.
fn assert_keywords(text: &str, words: &[&str]) {
    let lower = text.to_lowercase();
    for word in words {
        assert!(
            lower.contains(&word.to_lowercase()),
            "{word:?} not in\n{text}"
        );
    }
}

/// The e2e suite's `gbytes.Say`: each pattern matches, each after the previous one.
fn assert_say(text: &str, patterns: &[&str]) {
    let mut rest = text;
    for pattern in patterns {
        let re = Regex::new(pattern).expect("pattern");
        let found = re
            .find(rest)
            .unwrap_or_else(|| panic!("{pattern:?} not in\n{rest}"));
        // A closing newline may also open the next pattern's line.
        let end = found.end() - usize::from(found.as_str().ends_with('\n'));
        rest = &rest[end..];
    }
}

/// The e2e suite's `MatchDefaultFlagValue`: after `Flags:`, the entry of `--<flag>` (up to
/// the next flag) shows `(default "<value>")`.
fn assert_default(text: &str, flag: &str, value: &str) {
    let (_, flags) = text.split_once("Flags:").expect("a Flags: section");
    let (_, entry) = flags
        .split_once(&format!("--{flag}"))
        .unwrap_or_else(|| panic!("--{flag} not in\n{text}"));
    let entry = entry.split("\n  -").next().unwrap_or_default();
    let entry = entry.split("\n      --").next().unwrap_or_default();
    let want = format!("(default {value:?})");
    assert!(entry.contains(&want), "{want} not in --{flag}: {entry:?}");
}

#[test]
fn help_shows_the_go_clients_feature_marks_and_defaults() {
    let sb = Sandbox::new();
    let push = help(&sb, &["push"]);
    assert_say(
        &push,
        &[
            r"--image-spec string\s+\[Preview\]",
            r"--oci-layout-path string\s+\[Experimental\]",
        ],
    );
    for command in [
        &["push"][..],
        &["pull"],
        &["attach"],
        &["manifest", "fetch"],
    ] {
        assert_default(&help(&sb, command), "format", "text");
    }
    let discover = help(&sb, &["discover"]);
    assert_default(&discover, "format", "tree");
    assert_keywords(
        &discover,
        &[
            "[Preview] Discover",
            "** This command is in preview and under development. **",
            "disable colors",
        ],
    );
    assert_keywords(&help(&sb, &["attach"]), &["disable progress bars"]);
    for command in [
        &["attach"][..],
        &["discover"],
        &["manifest", "push"],
        &["manifest", "delete"],
    ] {
        assert_say(
            &help(&sb, command),
            &[r"--distribution-spec string\s+\[Preview\]"],
        );
    }
    let cp = help(&sb, &["cp"]);
    assert_keywords(
        &cp,
        &[
            "--from-distribution-spec",
            "--to-distribution-spec",
            "--from-oci-layout-path",
            "--to-oci-layout-path",
        ],
    );
    assert_say(&cp, &[r"-r, --recursive\s+\[Preview\]"]);
    for command in ["resolve", "digest"] {
        let text = help(&sb, &[command]);
        assert!(text.starts_with("[Preview]"), "{text}");
    }
    for command in ["backup", "restore"] {
        assert_keywords(&help(&sb, &[command]), &["[Experimental]"]);
    }
    assert_say(
        &help(&sb, &["repo", "tags"]),
        &[r"--exclude-digest-tags\s+\[Preview\]"],
    );
}

#[test]
fn help_shows_aliases_and_flags_of_subcommands() {
    let sb = Sandbox::new();
    for alias in ["fetch", "get", "show"] {
        let text = help(&sb, &["manifest", alias]);
        assert_keywords(&text, &["Aliases:", "fetch, get, show"]);
    }
    let blob = help(&sb, &["blob", "get"]);
    assert_keywords(&blob, &["--pretty", "prettify JSON"]);
    assert_keywords(&help(&sb, &["manifest", "index", "create"]), &["pack"]);
    assert_keywords(
        &help(&sb, &["manifest", "index", "update"]),
        &["--tag", "tags for the updated index"],
    );
    let list = help(&sb, &["repository", "list"]);
    assert_keywords(&list, &["\nExample - ", "Aliases:\n  ls, list"]);
    let show_tags = help(&sb, &["repository", "show-tags"]);
    assert_keywords(&show_tags, &["\nExample - ", "Aliases:\n  tags, show-tags"]);
    assert_keywords(
        &help(&sb, &["repo", "ls"]),
        &[
            "--format",
            "json",
            "text",
            "go-template",
            "oras repo ls localhost:5000 --format json",
        ],
    );
    assert_keywords(
        &help(&sb, &["repo", "tags"]),
        &[
            "--format",
            "json",
            "text",
            "go-template",
            "oras repo tags localhost:5000/hello --format go-template",
        ],
    );
}

/// Every command, as typed after `oras`, with whether it runs (a leaf) or groups others.
const COMMANDS: &[(&[&str], bool)] = &[
    (&[], false),
    (&["push"], true),
    (&["pull"], true),
    (&["login"], true),
    (&["logout"], true),
    (&["version"], true),
    (&["tag"], true),
    (&["resolve"], true),
    (&["cp"], true),
    (&["attach"], true),
    (&["discover"], true),
    (&["backup"], true),
    (&["restore"], true),
    (&["manifest"], false),
    (&["manifest", "fetch"], true),
    (&["manifest", "fetch-config"], true),
    (&["manifest", "push"], true),
    (&["manifest", "delete"], true),
    (&["manifest", "index"], false),
    (&["manifest", "index", "create"], true),
    (&["manifest", "index", "update"], true),
    (&["blob"], false),
    (&["blob", "fetch"], true),
    (&["blob", "push"], true),
    (&["blob", "delete"], true),
    (&["repo"], false),
    (&["repo", "ls"], true),
    (&["repo", "tags"], true),
];

#[test]
fn help_has_cobras_sections_and_no_deprecated_flags() {
    let sb = Sandbox::new();
    for (command, leaf) in COMMANDS {
        let text = help(&sb, command);
        let path = format!("oras {}", command.join(" "));
        let path = path.trim_end();
        assert!(
            !text.contains("--verbose"),
            "{path}: --verbose is hidden\n{text}"
        );
        assert!(
            !text.contains("\nOptions:\n"),
            "{path}: clap's layout\n{text}"
        );
        let name = command.last().copied().unwrap_or("oras");
        assert_say(
            &text,
            &[
                &format!(r"\nUsage:\n  {}[ \n]", regex::escape(path)),
                r"\n\nFlags:\n",
                &format!(r"\n  -h, --help +help for {name}\n"),
            ],
        );
        if *leaf {
            assert_keywords(&text, &["\nExample - "]);
            assert!(
                text.contains(&format!("Usage:\n  {path} [flags]")),
                "{text}"
            );
        } else {
            assert_say(
                &text,
                &[
                    &format!(r"Usage:\n  {} \[command\]\n", regex::escape(path)),
                    r"\n\nAvailable Commands:\n",
                    &format!(
                        r#"\n\nUse "{} \[command\] --help" for more information about a command\.\n$"#,
                        regex::escape(path)
                    ),
                ],
            );
        }
        assert_flag_table(path, &text);
    }
}

/// pflag's table: flags sorted by long name, every usage text starting in the same column, three
/// spaces after the widest flag.
fn assert_flag_table(path: &str, text: &str) {
    let (_, table) = text.split_once("\nFlags:\n").expect("a Flags: section");
    let rows: Vec<&str> = table
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.trim_start().starts_with('-'))
        .collect();
    let row = Regex::new(r"^  (?:-(\S), )?(?:    )?--([a-z-]+)(?: (\S+))?( +)\S").expect("re");
    let mut names = Vec::new();
    let mut columns = Vec::new();
    for line in &rows {
        let caps = row
            .captures(line)
            .unwrap_or_else(|| panic!("{path}: not a pflag row: {line:?}"));
        names.push(caps[2].to_owned());
        columns.push(caps.get(4).expect("gap").end());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "{path}: flags sorted by name\n{text}");
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "{path}: aligned usage texts\n{text}"
    );
    let widest = rows
        .iter()
        .zip(&columns)
        .map(|(line, col)| line[..*col].trim_end().len())
        .max()
        .unwrap_or_default();
    assert_eq!(columns[0], widest + 3, "{path}: three spaces\n{text}");
}

/// The type word after a flag: pflag's `string`, `int`, `stringArray`, `stringSlice`, nothing for
/// a bool, or the usage's first back-quoted word; and defaults only where not zero.
#[test]
fn flags_show_their_type_and_default_as_pflag_does() {
    let sb = Sandbox::new();
    let push = help(&sb, &["push"]);
    assert_say(
        &push,
        &[
            r"\n  -a, --annotation stringArray +Manifest annotations",
            r"\n      --artifact-type string +Artifact type of the manifest\n",
            r"\n      --concurrency int +\S.* \(default 5\)\n",
            r"\n      --config path +path of the config file",
            r"\n  -d, --debug +Output debug logs",
            r"\n      --disable-path-validation +Skip",
            r"\n      --plain-http +Allow insecure",
            r"\n      --resolve host:port:address\[:address_port\] +Customized DNS for registry, formatted in host:port:address\[:address_port\]\n",
        ],
    );
    let fetch = help(&sb, &["manifest", "fetch"]);
    assert_say(
        &fetch,
        &[
            r"\n      --media-type stringSlice +",
            r"\n  -o, --output path +Output file path, use - for stdout\n",
            r"\n      --platform os\[/arch\]\[/variant\]\[:os_version\] +Request platform",
        ],
    );
    assert_say(
        &help(&sb, &["blob", "push"]),
        &[
            r#"\n      --media-type string +Media type of the blob \(default "application/vnd\.oci\.image\.layer\.v1\.tar"\)\n"#,
            r"\n      --size int +.* \(default -1\)\n",
        ],
    );
    assert_say(
        &help(&sb, &["pull"]),
        &[r#"\n  -o, --output string +Output directory.* \(default "\."\)\n"#],
    );
}
