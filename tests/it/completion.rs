//! Shell completions (`oras completion <shell>`) and the man page (`oras manpage`).

use crate::harness::Sandbox;

#[test]
fn completion_scripts_for_every_shell() {
    let sb = Sandbox::new();
    let cases = [
        ("bash", "complete -F _oras"),
        ("zsh", "#compdef oras"),
        ("fish", "complete -c oras"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, marker) in cases {
        let out = sb.oras().args(["completion", shell]).success();
        assert!(out.stdout.contains(marker), "{shell}: {out}");
        // Every command is offered.
        for cmd in ["push", "pull", "login", "cp", "manifest"] {
            assert!(out.stdout.contains(cmd), "{shell} completion lacks {cmd}");
        }
    }
    let out = sb.oras().args(["completion", "tcsh"]).failure();
    out.error_first_line("Error");
}

#[test]
fn man_page_is_roff_naming_every_command() {
    let out = Sandbox::new().oras().arg("manpage").success();
    assert!(out.stdout.contains(".TH oras 1"), "{out}");
    for cmd in ["push", "pull", "login", "logout", "tag", "resolve", "cp"] {
        assert!(out.stdout.contains(cmd), "man page lacks {cmd}");
    }
}

#[test]
fn man_page_of_a_command_is_printed_by_its_words() {
    let sb = Sandbox::new();
    let out = sb.oras().args(["manpage", "manifest", "fetch"]).success();
    assert!(out.stdout.contains(".TH oras-manifest-fetch 1"), "{out}");
    assert!(out.stdout.contains("\\-\\-descriptor"), "{out}");
    // Aliases find the same page.
    let alias = sb.oras().args(["manpage", "manifest", "get"]).success();
    assert_eq!(alias.stdout, out.stdout);
    let out = sb.oras().args(["manpage", "manifest", "nope"]).failure();
    out.error_first_line("Error: unknown command \"nope\" for \"oras manifest\"");
}

#[test]
fn man_pages_written_to_a_directory_include_every_page_they_name() {
    let sb = Sandbox::new();
    let out = sb
        .oras()
        .args(["manpage", "--output-dir", "man1"])
        .success();
    let dir = sb.path("man1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.contains(&"oras.1".to_owned()), "{names:?}");
    assert_eq!(out.stdout.lines().count(), names.len(), "{out}");
    // Each SUBCOMMANDS entry `oras\-push(1)` of every page is a file that was written.
    let mut named = 0;
    for name in &names {
        let page = std::fs::read_to_string(dir.join(name)).unwrap();
        for line in page.lines().filter(|l| l.ends_with("(1)")) {
            let file = format!("{}.1", line.trim_end_matches("(1)").replace("\\-", "-"));
            assert!(
                names.contains(&file),
                "{name} names {line}, not written: {names:?}"
            );
            named += 1;
        }
    }
    assert!(named >= 20, "only {named} pages named");
    for page in [
        "oras-push.1",
        "oras-manifest-index-create.1",
        "oras-repo-tags.1",
    ] {
        assert!(
            names.contains(&page.to_owned()),
            "{page} missing: {names:?}"
        );
    }
}
