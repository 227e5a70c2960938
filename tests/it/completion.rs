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
