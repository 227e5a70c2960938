//! HTTP proxies from the environment, read the way Go's `net/http` (`ProxyFromEnvironment`)
//! reads them for the Go client: `HTTP_PROXY` for http URLs, `HTTPS_PROXY` for https ones
//! (upper case first, then lower case), `NO_PROXY` for the hosts that go direct, and never a
//! proxy for `localhost` or a loopback address. `ALL_PROXY` is not read, and `HTTP_PROXY` is
//! ignored under CGI (`REQUEST_METHOD` set, the httpoxy rule).

use super::error::RegistryError;

/// Hosts that never go through a proxy, whatever `NO_PROXY` says (Go's `useProxy`).
const ALWAYS_DIRECT: &str = "localhost,127.0.0.0/8,::1";

/// The first of `names` (the upper-case spelling, then the lower-case one) that `var` has
/// set to something, with its value.
fn first_set(
    var: &impl Fn(&str) -> Option<String>,
    names: [&'static str; 2],
) -> Option<(&'static str, String)> {
    names
        .into_iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()).map(|v| (name, v)))
}

/// The proxies `var` (an environment lookup) configures, for `reqwest`.
pub(super) fn from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Vec<reqwest::Proxy>, RegistryError> {
    let first = |names| first_set(&var, names).map(|(_, value)| value);
    let no_proxy = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let direct = reqwest::NoProxy::from_string(&format!("{no_proxy},{ALWAYS_DIRECT}"));
    let cgi = var("REQUEST_METHOD").is_some_and(|v| !v.is_empty());
    let mut proxies = Vec::new();
    if let Some(address) = first(["HTTP_PROXY", "http_proxy"]).filter(|_| !cgi) {
        proxies.push(reqwest::Proxy::http(url_of(&address)?).map_err(|e| invalid(&address, &e))?);
    }
    if let Some(address) = first(["HTTPS_PROXY", "https_proxy"]) {
        proxies.push(reqwest::Proxy::https(url_of(&address)?).map_err(|e| invalid(&address, &e))?);
    }
    Ok(proxies
        .into_iter()
        .map(|p| p.no_proxy(direct.clone()))
        .collect())
}

/// The proxy a request to `url` was sent through, as `(variable, address)` with any password
/// in the address hidden: for error messages, so a proxy that refused the connection is not
/// taken for the registry. `None` when the request went direct, or may have (a `NO_PROXY`
/// entry this simple reading cannot rule out, such as an address range).
pub fn used_for(url: &url::Url, var: impl Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let first = |names| first_set(&var, names);
    let (name, address) = match url.scheme() {
        "http" if var("REQUEST_METHOD").is_none_or(|v| v.is_empty()) => {
            first(["HTTP_PROXY", "http_proxy"])?
        }
        "https" => first(["HTTPS_PROXY", "https_proxy"])?,
        _ => return None,
    };
    let host = match url.host()? {
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => return None,
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) if ip.is_loopback() => return None,
        url::Host::Ipv6(ip) if ip.is_loopback() => return None,
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let no_proxy = first(["NO_PROXY", "no_proxy"])
        .map(|(_, v)| v)
        .unwrap_or_default();
    let maybe_direct = no_proxy.split(',').map(str::trim).any(|entry| {
        let domain = entry.trim_start_matches('.').to_ascii_lowercase();
        entry == "*"
            || (entry.contains('/')
                && url
                    .host()
                    .is_some_and(|h| !matches!(h, url::Host::Domain(_))))
            || host == domain
            || host.ends_with(&format!(".{domain}"))
            || host.trim_start_matches('[').trim_end_matches(']') == domain
    });
    if maybe_direct {
        return None;
    }
    let shown = url_of(&address).map_or(address, |mut u| {
        if u.password().is_some() {
            let _ = u.set_password(Some("*****"));
        }
        u.to_string()
    });
    Some((name.to_owned(), shown))
}

/// A proxy address as a URL: one without a scheme (`proxy:3128`) is an http one, as in Go.
fn url_of(address: &str) -> Result<url::Url, RegistryError> {
    let full = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let url = url::Url::parse(&full).map_err(|e| invalid(address, &e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(
            address,
            &"it is not an http or https URL with a host",
        ));
    }
    Ok(url)
}

fn invalid(address: &str, why: &dyn std::fmt::Display) -> RegistryError {
    let mut shown = address.to_owned();
    // The address may carry the proxy's password: shown without it.
    if let Ok(mut url) = url::Url::parse(address)
        && url.password().is_some()
    {
        let _ = url.set_password(Some("*****"));
        shown = url.to_string();
    }
    RegistryError::Protocol(format!("invalid proxy address {shown:?}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn reads_http_and_https_but_not_all_proxy() {
        assert_eq!(
            from_env(env(&[("ALL_PROXY", "http://p:1")])).unwrap().len(),
            0
        );
        let both = [("http_proxy", "p:1"), ("HTTPS_PROXY", "https://p:2")];
        assert_eq!(from_env(env(&both)).unwrap().len(), 2);
    }

    #[test]
    fn names_the_proxy_a_request_went_through() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let vars = env(&[
            ("HTTPS_PROXY", "http://u:secret@proxy:3128"),
            ("no_proxy", "internal.example, .corp, 10.0.0.0/8"),
        ]);
        assert_eq!(
            used_for(&url("https://ghcr.io/v2/"), &vars),
            Some((
                "HTTPS_PROXY".to_owned(),
                "http://u:*****@proxy:3128/".to_owned()
            ))
        );
        for direct in [
            "http://ghcr.io/v2/",
            "https://localhost:5000/v2/",
            "https://127.0.0.1/v2/",
            "https://[::1]:5000/v2/",
            "https://internal.example/v2/",
            "https://reg.corp/v2/",
            "https://10.1.2.3/v2/",
        ] {
            assert_eq!(used_for(&url(direct), &vars), None, "{direct}");
        }
    }

    #[test]
    fn cgi_ignores_http_proxy() {
        let cgi = [("HTTP_PROXY", "p:1"), ("REQUEST_METHOD", "GET")];
        assert_eq!(from_env(env(&cgi)).unwrap().len(), 0);
    }

    #[test]
    fn a_bad_address_is_named_without_its_password() {
        let err = from_env(env(&[("HTTPS_PROXY", "ftp://u:secret@p:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid proxy address"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
