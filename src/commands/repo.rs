//! `oras repo ls` and `oras repo tags`.

use std::sync::Arc;

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Arity, begin, flag_credential, format_output, open_target, registry_client};
use crate::cli::{RepoLsArgs, RepoTagsArgs};
use crate::oci::Digest;
use crate::output::Format;
use crate::reference::Reference;

const LS_USAGE: &str = "oras repo ls [flags] <registry>[/<namespace>]";
const TAGS_USAGE: &str = "oras repo tags [flags] <name>";

#[derive(Serialize)]
struct LsJson<'a> {
    registry: &'a str,
    repositories: &'a [String],
}

#[derive(Serialize)]
struct TagsJson<'a> {
    tags: &'a [String],
}

pub async fn ls(args: RepoLsArgs) -> Result<()> {
    begin(
        &args.common,
        "repo ls",
        &args.args,
        Arity::Exactly(1),
        LS_USAGE,
        "the target registry to list repositories from",
    )?;
    let out = format_output(&args.format, true, args.common.debug, true)?;
    let raw = args.args[0].trim_end_matches('/');
    let (registry, namespace) = raw
        .split_once('/')
        .map_or((raw, None), |(r, n)| (r, Some(n)));
    // As oras-go's ParseRepoPath: the path must parse as a reference, without tag or digest.
    let namespace = match namespace {
        Some(_) => {
            let parsed = Reference::parse(raw)
                .map_err(|e| anyhow::anyhow!("could not parse repository path: {e}"))?;
            if parsed.selector.is_some() {
                bail!("could not parse repository path: tags or digests should not be provided");
            }
            Some(parsed.repository)
        }
        None => None,
    };
    let namespace = namespace.as_deref();
    Reference::parse(&format!("{registry}/x")).map_err(|e| super::invalid_reference(raw, e))?;
    let credential = flag_credential(&args.remote, &out)?;
    let host = if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    };
    let client = registry_client(registry, host, &args.remote, credential, args.common.debug)?;
    let all = crate::registry::catalog(&Arc::new(client), &args.last)
        .await
        .map_err(|e| {
            let what = namespace.map_or_else(String::new, |n| format!(" with prefix \"{n}/\""));
            anyhow::Error::new(e).context(format!(
                "could not list repositories for {registry:?}{what}"
            ))
        })?;
    // In the registry's order, as Go prints them (docker-registry lists `a/b` before `a-c`).
    let repos: Vec<String> = all
        .into_iter()
        .filter(|r| namespace.is_none_or(|n| r.starts_with(&format!("{n}/"))))
        .collect();
    if out.format != Format::Text {
        return out.json(&LsJson {
            registry,
            repositories: &repos,
        });
    }
    for r in &repos {
        let shown = namespace.map_or(r.as_str(), |n| {
            r.strip_prefix(&format!("{n}/")).unwrap_or(r)
        });
        out.line(shown);
    }
    Ok(())
}

pub async fn tags(args: RepoTagsArgs) -> Result<()> {
    begin(
        &args.common,
        "repo tags",
        &args.args,
        Arity::Exactly(1),
        TAGS_USAGE,
        "the target repository to list tags from",
    )?;
    let out = format_output(&args.format, true, args.common.debug, true)?;
    let raw = &args.args[0];
    let opened = open_target(raw, &args.target, false, args.common.debug, &out)?;
    let target = opened.target.as_ref();
    let mut tags = target.tags(&args.last).await?;
    if args.target.oci_layout_path.is_some() && opened.selector.is_none() {
        // A layout whose tags are whole references (`example.com/r:v1`, as `cp
        // --to-oci-layout-path` writes them): those of the repository given, by their tag.
        let prefix = format!("{raw}:");
        tags = tags
            .into_iter()
            .filter_map(|t| t.strip_prefix(&prefix).map(str::to_owned))
            .collect();
    }
    if args.exclude_digest_tags {
        tags.retain(|t| t.replacen('-', ":", 1).parse::<Digest>().is_err());
    }
    if !args.last.is_empty() {
        // Also here: docker-registry 2.x ignores `last` and lists every tag.
        tags.retain(|t| t.as_str() > args.last.as_str());
    }
    if let Some(selector) = &opened.selector {
        // Only the tags that point at the same manifest as the given tag or digest; the note
        // names the digest, resolved first (a tag that does not resolve fails before it).
        let want = match selector.parse::<Digest>() {
            Ok(digest) => digest,
            Err(_) => target.resolve(selector).await?.digest,
        };
        out.warn(&format!(
            "[Experimental] querying tags associated to {want}, it may take a while..."
        ));
        let mut same = Vec::new();
        for t in tags {
            if t == *selector || target.resolve(&t).await.is_ok_and(|d| d.digest == want) {
                same.push(t);
            }
        }
        tags = same;
    }
    if out.format != Format::Text {
        return out.json(&TagsJson { tags: &tags });
    }
    for t in &tags {
        out.line(t);
    }
    Ok(())
}
