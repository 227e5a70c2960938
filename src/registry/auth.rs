//! `WWW-Authenticate` challenges (Basic and Bearer) and the scopes a token is asked for
//! (distribution token spec, auth.md §3).

use std::collections::BTreeMap;
use std::net::IpAddr;

use url::{Host, Url};

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

/// Why a token realm must not be asked for a token, if it must not (oras-go `validateRealm`,
/// GHSA-28r5-37g7-p6mp, auth.md §6.2): a scheme other than http(s); http when the registry
/// was reached over https; an IP literal in a loopback, private, link-local or unspecified
/// range, unless it is the registry's own host or an address `own_address` says the registry
/// is reached at (a token server beside a local registry). Public realms on other hosts stay
/// allowed (Docker Hub's `auth.docker.io`).
#[must_use]
pub fn realm_refusal(
    realm: &Url,
    registry: &Url,
    own_address: impl Fn(IpAddr) -> bool,
) -> Option<&'static str> {
    match (realm.scheme(), registry.scheme()) {
        ("https", _) | ("http", "http") => {}
        ("http", _) => return Some("it is http while the registry was reached over https"),
        _ => return Some("the scheme must be http or https"),
    }
    let ip = match realm.host()? {
        Host::Domain(_) => return None,
        Host::Ipv4(ip) => IpAddr::V4(ip),
        Host::Ipv6(ip) => ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4),
    };
    if !is_internal(ip) || realm.host_str() == registry.host_str() || own_address(ip) {
        return None;
    }
    Some("its host is a loopback, private or link-local address other than the registry's")
}

/// Loopback, private, link-local or unspecified, as Go's `net.IP` methods classify them.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                // fc00::/7 (unique local, Go's IsPrivate) and fe80::/10 (link-local).
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
        }
    }
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

    #[test]
    fn refuses_realms_that_could_reach_internal_services() {
        let cases = [
            // (registry, realm, refused)
            ("https://r.io", "https://auth.docker.io/token", false),
            ("https://r.io", "http://auth.r.io/token", true),
            (
                "http://localhost:5000",
                "http://localhost:5001/token",
                false,
            ),
            ("https://r.io", "ftp://auth.r.io/token", true),
            ("https://r.io", "file:///etc/passwd", true),
            // IP literals: internal ranges only on the registry's own host, any port.
            (
                "http://127.0.0.1:5000",
                "http://127.0.0.1:5001/token",
                false,
            ),
            ("http://127.0.0.1:5000", "http://127.0.0.2:5001/token", true),
            ("http://localhost:5000", "http://127.0.0.1:5001/token", true),
            ("https://r.io", "https://10.1.2.3/token", true),
            ("https://r.io", "https://172.16.0.1/token", true),
            ("https://r.io", "https://192.168.1.1/token", true),
            ("https://r.io", "https://169.254.169.254/latest", true),
            ("https://r.io", "https://0.0.0.0/token", true),
            ("https://r.io", "https://[::1]/token", true),
            ("https://r.io", "https://[::ffff:127.0.0.1]/token", true),
            ("https://r.io", "https://[fd00::1]/token", true),
            ("https://r.io", "https://[fe80::1]/token", true),
            (
                "https://[fd00::1]:5000",
                "https://[fd00::1]:5001/token",
                false,
            ),
            ("https://r.io", "https://8.8.8.8/token", false),
            ("https://r.io", "https://[2001:db8::1]/token", false),
        ];
        for (registry, realm, refused) in cases {
            let registry = Url::parse(registry).unwrap();
            let realm = Url::parse(realm).unwrap();
            assert_eq!(
                realm_refusal(&realm, &registry, |_| false).is_some(),
                refused,
                "{realm} for {registry}"
            );
        }
    }
}
