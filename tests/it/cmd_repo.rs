//! `oras repo ls` and `oras repo tags` (alias `show-tags`) against the registry, and `repo tags`
//! on OCI layouts (oras-cli.md §4 repo ls argument, §9, §13.10).

use std::sync::Arc;

use crate::faults::{Fault, FaultProxy, Rule};
use crate::harness::{Output, Sandbox, registry};

/// stdout's lines, sorted: docker-registry 2.8 lists tags in directory order and the Go client
/// prints them as received.
fn sorted_lines(out: &Output) -> Vec<&str> {
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    lines
}

fn push(sandbox: &Sandbox, reference: &str, layout: bool) -> String {
    sandbox.write("f.txt", format!("{reference}\n"));
    let mut oras = sandbox.oras().arg("push");
    if layout {
        oras = oras.arg("--oci-layout");
    }
    let out = oras.args([reference, "f.txt"]).success();
    format!("sha256:{}", out.digest_line())
}

#[test]
fn repo_tags_lists_one_tag_per_line() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-repo/tags");
    push(&sandbox, &format!("{repo}:v1,v2,latest"), false);
    push(&sandbox, &format!("{repo}:other"), false);

    let out = sandbox.oras().args(["repo", "tags", &repo]).success();
    assert_eq!(sorted_lines(&out), ["latest", "other", "v1", "v2"], "{out}");
    assert!(out.stdout.ends_with('\n'), "{out}");
    let listed = out.stdout.clone();
    let out = sandbox
        .oras()
        .args(["repository", "show-tags", &repo])
        .success();
    assert_eq!(out.stdout, listed, "{out}");

    let out = sandbox
        .oras()
        .args(["repo", "tags", &repo, "--format", "json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let in_order: Vec<&str> = listed.lines().collect();
    assert_eq!(json, serde_json::json!({ "tags": in_order }));
}

#[test]
fn repo_tags_filtered_by_a_digest() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-repo/tags-filter");
    let first = push(&sandbox, &format!("{repo}:a1,a2"), false);
    push(&sandbox, &format!("{repo}:b1"), false);

    let out = sandbox
        .oras()
        .args(["repo", "tags", &format!("{repo}@{first}")])
        .success();
    assert_eq!(sorted_lines(&out), ["a1", "a2"], "{out}");
    out.stderr_contains("[Experimental] querying tags associated to");
    out.stderr_contains(&first);

    let out = sandbox
        .oras()
        .args(["repo", "tags", &format!("{repo}:a2")])
        .success();
    assert_eq!(sorted_lines(&out), ["a1", "a2"], "{out}");
}

#[test]
fn repo_tags_filtered_by_a_tag_names_the_digest_it_resolved() {
    // Regression: the note named the tag given instead of the digest it stands for (e2e
    // repo.go matches the digest on stderr), and a missing tag was announced before failing.
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-repo/tags-by-tag");
    let digest = push(&sandbox, &format!("{repo}:t1,t2"), false);
    push(&sandbox, &format!("{repo}:other"), false);

    let out = sandbox
        .oras()
        .args(["repo", "tags", &format!("{repo}:t1")])
        .success();
    assert_eq!(sorted_lines(&out), ["t1", "t2"], "{out}");
    assert_eq!(
        out.stderr,
        format!("[Experimental] querying tags associated to {digest}, it may take a while...\n"),
        "{out}"
    );

    let out = sandbox
        .oras()
        .args(["repo", "tags", &format!("{repo}:missing")])
        .failure();
    assert!(!out.stderr.contains("[Experimental]"), "{out}");
    out.error_first_line("Error response from registry:");
    out.stderr_contains("missing: not found");
}

#[test]
fn repo_tags_can_hide_digest_tags() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-repo/tags-digest");
    let digest = push(&sandbox, &format!("{repo}:v1"), false);
    let digest_tag = digest.replacen(':', "-", 1);
    sandbox
        .oras()
        .args(["tag", &format!("{repo}:v1"), &digest_tag])
        .success();

    let out = sandbox.oras().args(["repo", "tags", &repo]).success();
    assert_eq!(sorted_lines(&out), [digest_tag.as_str(), "v1"], "{out}");
    let out = sandbox
        .oras()
        .args(["repo", "tags", &repo, "--exclude-digest-tags"])
        .success();
    assert_eq!(out.stdout, "v1\n", "{out}");
}

#[test]
fn repo_tags_in_an_oci_layout() {
    let sandbox = Sandbox::new();
    let digest = push(&sandbox, "lay:v2,v1", true);
    push(&sandbox, "lay:zeta", true);

    let out = sandbox
        .oras()
        .args(["repo", "tags", "--oci-layout", "lay"])
        .success();
    assert_eq!(out.stdout, "v1\nv2\nzeta\n", "{out}");
    let out = sandbox
        .oras()
        .args(["repo", "tags", "--oci-layout", &format!("lay@{digest}")])
        .success();
    assert_eq!(out.stdout, "v1\nv2\n", "{out}");
    let out = sandbox
        .oras()
        .args(["repo", "tags", "--oci-layout", "lay", "--format", "json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(json, serde_json::json!({"tags": ["v1", "v2", "zeta"]}));

    // A layout named by --oci-layout-path holds whole references as tags; `repo tags` lists
    // those of the repository given, by their tag (oras-cli.md §9).
    for (from, to) in [
        ("lay:v1", "example.com/r:v1"),
        ("lay:zeta", "other.io/x:v9"),
    ] {
        sandbox
            .oras()
            .args([
                "cp",
                "--from-oci-layout",
                from,
                "--to-oci-layout-path",
                "refs",
                to,
            ])
            .success();
    }
    let out = sandbox
        .oras()
        .args(["repo", "tags", "--oci-layout-path", "refs", "example.com/r"])
        .success();
    assert_eq!(out.stdout, "v1\n", "{out}");
}

#[test]
fn repo_tags_errors() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let out = sandbox
        .oras()
        .args(["repo", "tags", &registry.host()])
        .failure();
    out.error_first_line("Error:");
    let out = sandbox
        .oras()
        .args(["repo", "tags", &registry.reference("cmd-repo/never-pushed")])
        .failure();
    out.error_first_line("Error response from registry:");
    let out = sandbox.oras().args(["repo", "tags"]).failure();
    out.stderr_contains("Usage: oras repo tags");
}

#[test]
fn repo_ls_lists_repositories() {
    let registry = registry();
    let sandbox = Sandbox::new();
    for repo in [
        "cmd-repo-ls/ns/alpha",
        "cmd-repo-ls/ns/beta/deep",
        "cmd-repo-ls/ns-draft/gamma",
        "cmd-repo-ls/other",
    ] {
        push(&sandbox, &registry.reference(&format!("{repo}:v1")), false);
    }

    let out = sandbox
        .oras()
        .args(["repo", "ls", &registry.host()])
        .success();
    for repo in [
        "cmd-repo-ls/ns/alpha",
        "cmd-repo-ls/ns/beta/deep",
        "cmd-repo-ls/ns-draft/gamma",
        "cmd-repo-ls/other",
    ] {
        out.assert_line(repo);
    }
    // In the registry's order, as Go prints it (regression: they were sorted by bytes, which
    // put `ns-draft/gamma` first). docker-registry walks its tree: `ns/…` before `ns-draft`.
    let position = |name: &str| out.stdout.lines().position(|l| l == name).unwrap();
    assert!(
        position("cmd-repo-ls/ns/beta/deep") < position("cmd-repo-ls/ns-draft/gamma"),
        "catalog order\n{out}"
    );

    // A namespace: only repositories below it, with the namespace stripped.
    let out = sandbox
        .oras()
        .args(["repository", "list", &registry.reference("cmd-repo-ls/ns")])
        .success();
    assert_eq!(out.stdout, "alpha\nbeta/deep\n", "{out}");
    let out = sandbox
        .oras()
        .args([
            "repo",
            "ls",
            &format!("{}/", registry.reference("cmd-repo-ls/ns")),
        ])
        .success();
    assert_eq!(
        out.stdout, "alpha\nbeta/deep\n",
        "trailing slash trimmed\n{out}"
    );

    let out = sandbox
        .oras()
        .args([
            "repo",
            "ls",
            &registry.reference("cmd-repo-ls/ns"),
            "--format",
            "json",
        ])
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({
            "registry": registry.host(),
            "repositories": ["cmd-repo-ls/ns/alpha", "cmd-repo-ls/ns/beta/deep"],
        })
    );

    // --last is the registry's: the names after the given one in its order.
    let out = sandbox
        .oras()
        .args([
            "repo",
            "ls",
            &registry.host(),
            "--last",
            "cmd-repo-ls/ns/beta/deep",
        ])
        .success();
    let after: Vec<&str> = out.stdout.lines().collect();
    assert!(!after.contains(&"cmd-repo-ls/ns/alpha"), "{out}");
    assert!(!after.contains(&"cmd-repo-ls/ns/beta/deep"), "{out}");
    assert!(after.contains(&"cmd-repo-ls/other"), "{out}");
    assert!(after.contains(&"cmd-repo-ls/ns-draft/gamma"), "{out}");

    let out = sandbox
        .oras()
        .args(["repo", "ls", &registry.reference("cmd-repo-ls/ns:tag")])
        .failure();
    out.error_first_line("Error:");
    out.stderr_contains("tags or digests should not be provided");

    // The namespace must be a valid repository path, as in oras-go's ParseRepoPath.
    for (path, error) in [
        (
            "cmd-repo-ls/NS",
            "Error: could not parse repository path: invalid reference: invalid repository \"cmd-repo-ls/NS\"",
        ),
        (
            "cmd-repo-ls/ns@sha256:abc",
            "Error: could not parse repository path: invalid reference: invalid digest \"sha256:abc\": invalid checksum digest length",
        ),
    ] {
        let out = sandbox
            .oras()
            .args(["repo", "ls", &format!("{}/{path}", registry.host())])
            .failure();
        out.error_first_line(error);
    }
}

/// Regression: `--last` was applied to the full list only, never sent. Go passes it on as
/// `?last=`; docker-registry 2.8 ignores it, so the list is filtered here too.
#[test]
fn repo_tags_last_is_sent_to_the_registry_and_applied_locally() {
    let registry = registry();
    let sandbox = Sandbox::new();
    push(
        &sandbox,
        &registry.reference("cmd-repo/last:a,b,c,d"),
        false,
    );
    // The registry as it is, and one that ignores `last` and lists every tag.
    let every = br#"{"name":"cmd-repo/last","tags":["a","b","c","d"]}"#.to_vec();
    let ignores = Fault::Serve(Arc::new(every), "application/json");
    for rules in [vec![], vec![Rule::new(&["GET"], "/tags/list", ignores)]] {
        let proxy = FaultProxy::start(registry.port(), rules);
        let repo = proxy.reference("cmd-repo/last");
        let out = sandbox
            .oras()
            .args(["repo", "tags", &repo, "--last", "b"])
            .success();
        assert_eq!(out.stdout, "c\nd\n", "{out}");
        let asked: Vec<String> = proxy
            .seen("GET", "/tags/list")
            .into_iter()
            .map(|s| s.path)
            .collect();
        assert_eq!(asked, ["/v2/cmd-repo/last/tags/list?last=b"], "{out}");
    }
}

#[test]
fn repo_ls_follows_catalog_pages() {
    // docker-registry pages its catalog (100 names by default): list more than a page.
    let registry = registry();
    let sandbox = Sandbox::new();
    let layout = sandbox.path("one");
    sandbox.write("f.txt", "same content everywhere\n");
    sandbox
        .oras()
        .args(["push", "--oci-layout", "one:v1", "f.txt"])
        .success();
    let names: Vec<String> = (0..105)
        .map(|i| format!("cmd-repo-pages/r{i:03}"))
        .collect();
    for name in &names {
        registry.skopeo_push_layout(&layout, "v1", &format!("{name}:v1"));
    }
    let out = sandbox
        .oras()
        .args(["repo", "ls", &registry.reference("cmd-repo-pages")])
        .success();
    let expected: Vec<String> = (0..105).map(|i| format!("r{i:03}")).collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected, "{out}");
}

#[test]
fn repo_ls_and_repo_tags_render_go_templates() {
    // oras-cli.md §2.3/§10: `--format go-template=<tmpl>` on repo ls and repo tags.
    let registry = registry();
    let sandbox = Sandbox::new();
    let repo = registry.reference("cmd-repo-tpl/ns/tags");
    push(&sandbox, &format!("{repo}:v1,v2"), false);
    let listed = sandbox
        .oras()
        .args(["repo", "tags", &repo])
        .success()
        .stdout;

    let out = sandbox
        .oras()
        .args([
            "repo",
            "tags",
            &repo,
            "--format",
            "go-template={{range .tags}}<{{.}}>{{end}}",
        ])
        .success();
    let expected: String = listed.lines().flat_map(|t| ["<", t, ">"]).collect();
    assert_eq!(out.stdout, expected, "{out}");

    let out = sandbox
        .oras()
        .args([
            "repo",
            "ls",
            &registry.reference("cmd-repo-tpl/ns"),
            "--format",
            "go-template={{.registry}} {{range .repositories}}[{{.}}]{{end}}",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!("{} [cmd-repo-tpl/ns/tags]", registry.host())
    );
}
