//! `oras discover`: the referrers of a manifest, recursively, as a tree, a table, JSON or a
//! Go template (oras-cli.md §9, §13.5). Registries without the referrers API are read through
//! the `sha256-<hex>` tag schema; OCI layouts by scanning the manifests they hold.

use std::collections::HashSet;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use super::FormatChoice;
use super::{Arity, begin, open_target, referrers_mode, require_selector, resolve_manifest};
use crate::cli::DiscoverArgs;
use crate::oci::{Annotations, Descriptor, Digest};
use crate::output::{Format, Output};
use crate::target::Target;

const USAGE: &str = "oras discover [flags] <name>{:<tag>|@<digest>}";

/// The referrers graph is the registry's word, not content it must prove: listed digests need
/// not exist, so a registry can answer every question with new referrers. These bound what
/// one `discover` walks: levels (each a nested call, beyond any real chain of signatures and
/// attestations) and referrers in all.
const MAX_LEVELS: usize = 64;
const MAX_REFERRERS: usize = 100_000;

/// How the referrers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Tree,
    Table,
    Json,
    Template,
}

/// One manifest and the referrers found under it, in the JSON shape of oras-cli.md §17.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    reference: String,
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Annotations>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    referrers: Vec<Node>,
}

pub async fn run(args: DiscoverArgs) -> Result<()> {
    let verbose = begin(
        &args.common,
        "discover",
        &args.args,
        Arity::Exactly(1),
        USAGE,
        "the target artifact to discover referrers from",
    )?;
    let (shape, template) = parse_shape(&args)?;
    let out = Output::new(
        if shape == Shape::Tree || shape == Shape::Table {
            Format::Text
        } else if shape == Shape::Json {
            Format::Json
        } else {
            Format::Template
        },
        true,
        args.common.debug,
        true,
    )
    .with_template(template);
    if shape == Shape::Table {
        out.warn("Format \"table\" is deprecated and will be removed in a future release.");
    }
    let depth = match args.depth {
        Some(d) if d < 1 => bail!("depth value should be at least 1"),
        Some(d) => usize::try_from(d).unwrap_or(usize::MAX),
        None => usize::MAX,
    };
    // The table lists direct referrers only.
    let depth = if shape == Shape::Table { 1 } else { depth };
    let mode = referrers_mode(&args.referrers)?;
    let raw = &args.args[0];
    let mut opened = open_target(raw, &args.target, false, args.common.debug, &out)?;
    opened.target.set_referrers_mode(mode);
    let selector = require_selector(&opened, raw, "discover", USAGE)?;
    let target = opened.target.as_ref();
    // Go returns the resolve error as it is (no `failed to resolve` wrapping, unlike attach).
    let (root, _) = resolve_manifest(target, &selector, args.platform.as_deref()).await?;

    let mut visited = HashSet::from([root.digest.clone()]);
    let referrers = walk(
        target,
        &root,
        args.artifact_type.as_deref(),
        (depth, 0),
        &mut visited,
    )
    .await?;
    let tree = node(target, &root, referrers);
    match shape {
        Shape::Json | Shape::Template => out.json(&tree),
        Shape::Tree => {
            let mut lines = vec![tree.reference.clone()];
            draw(&tree.referrers, verbose, "", &mut lines);
            for line in lines {
                out.line(&line);
            }
            Ok(())
        }
        Shape::Table => table(&out, raw, &tree, verbose),
    }
}

/// `--format`, or the deprecated `-o/--output`, with the template they name.
fn parse_shape(args: &DiscoverArgs) -> Result<(Shape, Option<String>)> {
    let raw = match (&args.format, &args.output) {
        (Some(_), Some(_)) => bail!("--format, --output cannot be used at the same time"),
        (Some(f), None) | (None, Some(f)) => f.as_str(),
        (None, None) => "tree",
    };
    let choice = super::parse_format_flag(
        raw,
        args.template.as_ref(),
        &["tree", "", "table", "json"],
        "tree, table, json, go-template",
    )?;
    if args.output.is_some() {
        // The deprecated flag names a shape only: a template it parsed is refused after.
        if matches!(choice, FormatChoice::Template(_)) {
            bail!("output type can only be tree, table or json");
        }
        // Once the format parsed, as the Go client's PreRunE. It prints the --template value
        // here (usually empty), a known bug.
        crate::output::warn(&format!(
            "[DEPRECATED] --output is deprecated, try `--format {}` instead",
            args.template.as_deref().unwrap_or_default()
        ));
    }
    let shape = match choice {
        FormatChoice::Template(t) => return Ok((Shape::Template, Some(t))),
        FormatChoice::Named("table") => Shape::Table,
        FormatChoice::Named("json") => Shape::Json,
        FormatChoice::Named(_) => Shape::Tree,
    };
    Ok((shape, None))
}

/// The referrers of `subject` (filtered by artifact type) and theirs, down to `depth` levels,
/// never visiting a manifest twice (referrer graphs may have cycles). `levels` is how many more
/// levels to walk, and how many are above `subject`.
async fn walk(
    target: &dyn Target,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    levels: (usize, usize),
    visited: &mut HashSet<Digest>,
) -> Result<Vec<Node>> {
    let (depth, level) = levels;
    if depth == 0 {
        return Ok(Vec::new());
    }
    if level >= MAX_LEVELS {
        bail!(
            "the referrers of {} go deeper than {MAX_LEVELS} levels: the registry's referrers graph does not end (limit it with --depth)",
            subject.digest
        );
    }
    let found = target
        .referrers(subject)
        .await
        .with_context(|| format!("failed to find referrers of {}", subject.digest))?;
    let mut out = Vec::new();
    for referrer in found {
        if artifact_type.is_some_and(|t| referrer.artifact_type.as_deref().unwrap_or("") != t) {
            continue;
        }
        if !visited.insert(referrer.digest.clone()) {
            continue;
        }
        if visited.len() > MAX_REFERRERS {
            bail!(
                "more than {MAX_REFERRERS} referrers found: the registry's referrers graph does not end (limit it with --depth)"
            );
        }
        let children = Box::pin(walk(
            target,
            &referrer,
            artifact_type,
            (depth - 1, level + 1),
            visited,
        ))
        .await?;
        out.push(node(target, &referrer, children));
    }
    Ok(out)
}

fn node(target: &dyn Target, desc: &Descriptor, referrers: Vec<Node>) -> Node {
    Node {
        reference: format!("{}@{}", target.display(), desc.digest),
        media_type: desc.media_type.clone(),
        digest: desc.digest.clone(),
        size: desc.size,
        annotations: desc.annotations.clone().filter(|a| !a.is_empty()),
        artifact_type: desc.artifact_type.clone().filter(|t| !t.is_empty()),
        referrers,
    }
}

/// The tree of oras-cli.md §17: referrers grouped by artifact type (`<unknown>` when empty),
/// then by digest, with their annotations and their own referrers below.
fn draw(referrers: &[Node], verbose: bool, prefix: &str, lines: &mut Vec<String>) {
    let mut groups: Vec<(&str, Vec<&Node>)> = Vec::new();
    for r in referrers {
        let t = r.artifact_type.as_deref().unwrap_or("<unknown>");
        match groups.iter_mut().find(|(k, _)| *k == t) {
            Some((_, v)) => v.push(r),
            None => groups.push((t, vec![r])),
        }
    }
    for (gi, (artifact_type, members)) in groups.iter().enumerate() {
        let last_group = gi + 1 == groups.len();
        // Artifact types and annotation keys are the registry's word: shown escaped.
        lines.push(format!(
            "{prefix}{}{}",
            branch(last_group),
            crate::output::escape_line(artifact_type)
        ));
        let inner = format!("{prefix}{}", indent(last_group));
        for (mi, r) in members.iter().enumerate() {
            let last = mi + 1 == members.len();
            lines.push(format!("{inner}{}{}", branch(last), r.digest));
            let below = format!("{inner}{}", indent(last));
            let annotations = r.annotations.as_ref().filter(|a| verbose && !a.is_empty());
            if let Some(a) = annotations {
                let last_child = r.referrers.is_empty();
                lines.push(format!("{below}{}[annotations]", branch(last_child)));
                let deeper = format!("{below}{}", indent(last_child));
                for (ai, (k, v)) in a.iter().enumerate() {
                    let last_a = ai + 1 == a.len();
                    lines.push(format!(
                        "{deeper}{}{}: {}",
                        branch(last_a),
                        crate::output::escape_line(k),
                        crate::output::escape_line(&yaml_scalar(v))
                    ));
                }
            }
            draw(&r.referrers, verbose, &below, lines);
        }
    }
}

fn branch(last: bool) -> &'static str {
    if last { "└── " } else { "├── " }
}

fn indent(last: bool) -> &'static str {
    if last { "    " } else { "│   " }
}

/// A string as YAML writes it in a `key: value` line: plain when YAML would read it back as
/// the same string, double-quoted when it would read as another type (a time, number, bool or
/// null), single-quoted when it holds characters plain scalars cannot.
fn yaml_scalar(v: &str) -> String {
    let other_type = v.is_empty()
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        || v.parse::<f64>().is_ok()
        || looks_like_time(v);
    if other_type {
        return format!("{v:?}");
    }
    let special_start =
        v.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c) || c.is_whitespace());
    if special_start
        || v.ends_with(char::is_whitespace)
        || v.contains(": ")
        || v.contains(" #")
        || v.ends_with(':')
        || v.contains('\n')
    {
        return format!("'{}'", v.replace('\'', "''"));
    }
    v.to_owned()
}

/// `2024-01-01` or `2024-01-01T10:32:55Z`-like values, which YAML reads as timestamps.
fn looks_like_time(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// The deprecated table: direct referrers with their artifact types.
fn table(out: &Output, raw: &str, tree: &Node, verbose: bool) -> Result<()> {
    let n = tree.referrers.len();
    out.line(&format!(
        "Discovered {n} artifact{} referencing {raw}",
        // Go's table handler: plural only above one, so none reads "0 artifact".
        if n > 1 { "s" } else { "" }
    ));
    out.line(&format!("Digest: {}", tree.digest));
    if n == 0 {
        return Ok(());
    }
    out.line("");
    let width = tree
        .referrers
        .iter()
        .map(|r| r.artifact_type.as_deref().unwrap_or("").len())
        .max()
        .unwrap_or(0)
        .max("Artifact Type".len());
    out.line(&format!("{:<width$}   Digest", "Artifact Type"));
    for r in &tree.referrers {
        out.line(&format!(
            "{:<width$}   {}",
            r.artifact_type.as_deref().unwrap_or(""),
            r.digest
        ));
        if verbose {
            let desc = Descriptor {
                media_type: r.media_type.clone(),
                digest: r.digest.clone(),
                size: r.size,
                urls: None,
                annotations: r.annotations.clone(),
                data: None,
                platform: None,
                artifact_type: r.artifact_type.clone(),
            };
            let pretty = crate::oci::to_go_json_pretty(&desc)?;
            out.line(String::from_utf8_lossy(&pretty).trim_end());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_are_quoted_as_yaml_does() {
        for (value, want) in [
            ("2024-01-01T10:32:55Z", "\"2024-01-01T10:32:55Z\""),
            ("linux/amd64", "linux/amd64"),
            ("true", "\"true\""),
            ("42", "\"42\""),
            ("", "\"\""),
            ("a: b", "'a: b'"),
            ("- x", "'- x'"),
            ("it's", "it's"),
        ] {
            assert_eq!(yaml_scalar(value), want, "{value}");
        }
    }
}
