//! The ORAS reference grammar `<registry>/<repository>[:<tag>][@<digest>]` (oras-cli.md §4):
//! a registry is always required, with no docker.io short names and no `library/` insertion.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::oci::Digest;

static REPOSITORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$",
    )
    .expect("static regex")
});

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference: missing registry or repository")]
    Missing,
    #[error("invalid reference: invalid registry {0:?}")]
    Registry(String),
    #[error("invalid reference: invalid repository {0:?}")]
    Repository(String),
    #[error("invalid reference: invalid tag {0:?}")]
    Tag(String),
    #[error("invalid reference: invalid digest {0:?}: {1}")]
    Digest(String, crate::oci::DigestError),
}

/// What a reference points at inside a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Tag(String),
    Digest(Digest),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(t) => f.write_str(t),
            Self::Digest(d) => fmt::Display::fmt(d, f),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub selector: Option<Selector>,
}

impl Reference {
    /// Parses `<registry>/<repository>[:<tag>|@<digest>]` as oras-go does: the registry and the
    /// repository are checked first, and an empty tag or digest (`repo:`, `repo@`) means none.
    pub fn parse(raw: &str) -> Result<Self, ReferenceError> {
        let (registry, path) = raw.split_once('/').ok_or(ReferenceError::Missing)?;
        let (repository, digest, tag) = if let Some((repo, digest)) = path.split_once('@') {
            // A tag beside a digest is ignored, as the Go client does.
            let repo = repo.split_once(':').map_or(repo, |(r, _)| r);
            (repo, digest, "")
        } else if let Some((repo, tag)) = path.split_once(':') {
            (repo, "", tag)
        } else {
            (path, "", "")
        };
        if !is_valid_registry(registry) {
            return Err(ReferenceError::Registry(registry.to_owned()));
        }
        if !REPOSITORY.is_match(repository) {
            return Err(ReferenceError::Repository(repository.to_owned()));
        }
        let selector = if !digest.is_empty() {
            let d = digest
                .parse::<Digest>()
                .map_err(|e| ReferenceError::Digest(digest.to_owned(), e))?;
            Some(Selector::Digest(d))
        } else if !tag.is_empty() {
            if !is_valid_tag(tag) {
                return Err(ReferenceError::Tag(tag.to_owned()));
            }
            Some(Selector::Tag(tag.to_owned()))
        } else {
            None
        };
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            selector,
        })
    }

    /// `<registry>/<repository>`, the prefix of every reference printed for this repository.
    #[must_use]
    pub fn repo_path(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the HTTP requests go to (`docker.io` is served by `registry-1.docker.io`).
    #[must_use]
    pub fn host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        match &self.selector {
            Some(Selector::Tag(t)) => write!(f, ":{t}"),
            Some(Selector::Digest(d)) => write!(f, "@{d}"),
            None => Ok(()),
        }
    }
}

/// Whether `tag` is a valid tag by the distribution grammar, `[\w][\w.-]{0,127}` with Go's
/// ASCII-only `\w`. Checked by hand: the same regex with Unicode classes accepted non-ASCII
/// tags and took about 25 ms to compile at every start.
#[must_use]
pub fn is_valid_tag(tag: &str) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    match tag.as_bytes() {
        [first, rest @ ..] if rest.len() < 128 => {
            word(first) && rest.iter().all(|c| word(c) || matches!(c, b'.' | b'-'))
        }
        _ => false,
    }
}

/// A registry is a host with an optional port; IPv6 literals in brackets.
fn is_valid_registry(registry: &str) -> bool {
    if registry.is_empty() || registry.contains(['/', '@', '?', '#', ' ']) {
        return false;
    }
    url::Url::parse(&format!("dummy://{registry}")).is_ok_and(|u| {
        let host = match u.host() {
            Some(url::Host::Ipv6(a)) => format!("[{a}]"),
            Some(h) => h.to_string(),
            None => return false,
        };
        let rebuilt = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        rebuilt.eq_ignore_ascii_case(registry) && u.username().is_empty()
    })
}

/// `localhost` and `localhost:<port>` are spoken to over plain HTTP unless told otherwise.
#[must_use]
pub fn is_localhost(registry: &str) -> bool {
    registry == "localhost"
        || registry
            .strip_prefix("localhost:")
            .is_some_and(|p| p.parse::<u16>().is_ok())
}

/// Splits `repo:t1,t2,t3` into the full first reference and the extra bare tags.
#[must_use]
pub fn split_tags(raw: &str) -> (&str, Vec<&str>) {
    let mut parts = raw.split(',');
    let first = parts.next().unwrap_or_default();
    (first, parts.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_references() {
        let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let cases: [(&str, &str, &str, Option<&str>); 6] = [
            ("localhost:5000/hello", "localhost:5000", "hello", None),
            (
                "localhost:5000/hello:v1",
                "localhost:5000",
                "hello",
                Some("v1"),
            ),
            ("a.io/x/y/z:latest", "a.io", "x/y/z", Some("latest")),
            ("[::1]:5000/r:t", "[::1]:5000", "r", Some("t")),
            (
                "127.0.0.1:5000/a_b.c-d:v1.0",
                "127.0.0.1:5000",
                "a_b.c-d",
                Some("v1.0"),
            ),
            (
                "myregistry.azurecr.io/samples/artifact:1.0",
                "myregistry.azurecr.io",
                "samples/artifact",
                Some("1.0"),
            ),
        ];
        for (raw, reg, repo, tag) in cases {
            let r = Reference::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(r.registry, reg);
            assert_eq!(r.repository, repo);
            assert_eq!(r.selector, tag.map(|t| Selector::Tag(t.into())));
            assert_eq!(r.to_string(), raw);
        }
        let r = Reference::parse(&format!("a.io/r:ignored@{d}")).unwrap();
        assert_eq!(r.selector, Some(Selector::Digest(d.parse().unwrap())));
        assert_eq!(r.repository, "r");
        // An empty tag or digest means none, so commands say `no tag or digest specified`.
        for raw in ["a.io/r:", "a.io/r@", "a.io/r:t@"] {
            let r = Reference::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!((r.repository.as_str(), r.selector), ("r", None), "{raw}");
        }
    }

    #[test]
    fn rejects_invalid_references() {
        let cases = [
            ("hello", "invalid reference: missing registry or repository"),
            ("/oras", "invalid reference: invalid registry \"\""),
            (
                "a.io/UPPER",
                "invalid reference: invalid repository \"UPPER\"",
            ),
            ("a.io/r:-bad", "invalid reference: invalid tag \"-bad\""),
            (
                "a.io/r@sha256:abc",
                "invalid reference: invalid digest \"sha256:abc\": invalid checksum digest length",
            ),
            ("a b/r", "invalid reference: invalid registry \"a b\""),
            ("a.io/", "invalid reference: invalid repository \"\""),
            // The repository is checked before the tag, as in oras-go.
            (
                "a.io/UP:-bad",
                "invalid reference: invalid repository \"UP\"",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(
                Reference::parse(raw).unwrap_err().to_string(),
                want,
                "{raw}"
            );
        }
    }

    #[test]
    fn localhost_and_tags() {
        assert!(is_localhost("localhost"));
        assert!(is_localhost("localhost:5000"));
        assert!(!is_localhost("127.0.0.1:5000"));
        assert!(!is_localhost("localhost.example.com"));
        assert_eq!(split_tags("r/x:a,b,c"), ("r/x:a", vec!["b", "c"]));
        assert_eq!(split_tags("r/x"), ("r/x", vec![]));
    }

    #[test]
    fn tags_follow_the_ascii_grammar() {
        let longest = "a".repeat(128);
        for good in ["v1", "_x", "1.0-rc.1", "A_b.c-d", longest.as_str()] {
            assert!(is_valid_tag(good), "{good}");
        }
        let too_long = "a".repeat(129);
        for bad in [
            "",
            ".v1",
            "-v1",
            "v 1",
            "v1+x",
            "é",
            "vé",
            too_long.as_str(),
        ] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }
}
