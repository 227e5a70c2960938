//! `WWW-Authenticate` challenges (Basic and Bearer) and the scopes a token is asked for
//! (distribution token spec, auth.md §3).

use std::collections::BTreeMap;

/// One challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-cased scheme: `basic` or `bearer`.
    pub scheme: String,
    /// Parameters with lower-cased names.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses every challenge in a header value: `Bearer realm="…",scope="a b", Basic realm="x"`.
/// Quoted values may contain commas and escaped quotes.
#[must_use]
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let bytes = header.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i] == b' ' || bytes[*i] == b'\t' || bytes[*i] == b',') {
            *i += 1;
        }
    };
    let token_end = |mut i: usize| {
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b',' | b'=') {
            i += 1;
        }
        i
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            break;
        }
        let end = token_end(i);
        let word = &header[i..end];
        let mut j = end;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'=' && !out.is_empty() {
            // `name=value` of the current challenge.
            j += 1;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                j += 1;
            }
            let (value, next) = if j < bytes.len() && bytes[j] == b'"' {
                let mut v = String::new();
                let mut k = j + 1;
                while k < bytes.len() && bytes[k] != b'"' {
                    if bytes[k] == b'\\' && k + 1 < bytes.len() {
                        k += 1;
                    }
                    let ch = header[k..].chars().next().unwrap_or(' ');
                    v.push(ch);
                    k += ch.len_utf8();
                }
                (v, (k + 1).min(bytes.len()))
            } else {
                let mut k = j;
                while k < bytes.len() && bytes[k] != b',' {
                    k += 1;
                }
                (header[j..k].trim().to_owned(), k)
            };
            if let Some(last) = out.last_mut() {
                last.params.insert(word.to_ascii_lowercase(), value);
            }
            i = next;
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            i = end;
        }
    }
    out
}

/// Merges scopes (`repository:name:pull,push`) so each resource appears once with the union of
/// its actions, sorted, as a stable cache key and a minimal token request.
#[must_use]
pub fn merge_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for scope in scopes.into_iter().flat_map(str::split_whitespace) {
        let Some((resource, actions)) = scope.rsplit_once(':') else {
            by_resource.entry(scope.to_owned()).or_default();
            continue;
        };
        let entry = by_resource.entry(resource.to_owned()).or_default();
        for a in actions.split(',').filter(|a| !a.is_empty()) {
            if !entry.iter().any(|x| x == a) {
                entry.push(a.to_owned());
            }
        }
    }
    by_resource
        .into_iter()
        .map(|(resource, mut actions)| {
            if actions.is_empty() {
                resource
            } else {
                actions.sort();
                format!("{resource}:{}", actions.join(","))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_quoted_commas() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.io/token",Service="registry.io",scope="repository:a/b:pull,push repository:c:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.io"));
        assert_eq!(
            c[0].param("scope"),
            Some("repository:a/b:pull,push repository:c:pull")
        );
    }

    #[test]
    fn parses_several_challenges() {
        let c = parse_challenges(
            r#"Basic realm="x y", Bearer realm="https://t/", error="invalid_token""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("realm"), Some("x y"));
        assert_eq!(c[1].param("error"), Some("invalid_token"));
        assert_eq!(parse_challenges("Basic").len(), 1);
        assert!(parse_challenges("").is_empty());
    }

    #[test]
    fn merges_scopes() {
        assert_eq!(
            merge_scopes([
                "repository:a:push",
                "repository:a:pull repository:b:pull",
                "registry:catalog:*"
            ]),
            vec![
                "registry:catalog:*",
                "repository:a:pull,push",
                "repository:b:pull"
            ]
        );
    }
}
