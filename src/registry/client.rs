//! The OCI Distribution API client: one per registry host, with the auth state (challenge,
//! Basic header or Bearer tokens per scope set) shared by all requests to that host.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use tokio::sync::Mutex;
use url::Url;

use super::auth::{Challenge, merge_scopes, parse_challenges, realm_refusal};
use super::error::{ErrorEntry, RegistryError, parse_error_body};
use super::retry;
use crate::credentials::{Credential, Lookup, Secret};

/// Caps what is read into memory from a registry for non-blob bodies (errors, tokens).
const MAX_SMALL_BODY: usize = 64 * 1024;

/// A response body (a manifest, a list, a token, an error) that sends nothing for this long
/// has stalled, as a blob download that does (`transfer::STALL_TIMEOUT`).
const BODY_STALL: Duration = crate::transfer::STALL_TIMEOUT;

/// How long a request without a streamed body waits for the response to begin. Streamed
/// uploads have none: a registry may take long to commit a large blob.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub plain_http: bool,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// Known up front, or asked of a credential helper on the first challenge.
    pub credential: Lookup,
    /// Extra request headers, sent to the registry's origin only.
    pub headers: Vec<(String, String)>,
    /// PEM bundle that replaces the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key for mutual TLS.
    pub identity_pem: Option<Vec<u8>>,
    /// `(host, address)` overrides of name resolution.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Print each request and response on stderr, secrets as `*****`.
    pub debug: bool,
    /// The registry's `host[:port]` as the reference names it, when `--resolve` sends its
    /// connections to another port: it is what `Host` says, and URLs the registry builds from it
    /// (upload locations, redirects) are taken back to the port connected to, as Go's dialer
    /// would.
    pub public_host: Option<String>,
}

pub struct Client {
    /// Speaks to the registry in its own scheme. For a plain-HTTP registry it is built without
    /// the system's TLS roots: reading and parsing them costs a few milliseconds at every start.
    http: reqwest::Client,
    /// For https URLs on other origins (a token realm, a blob redirect) when `http` cannot
    /// serve them: built on first use, with the system roots and without the client
    /// certificate. See [`needs_foreign_client`].
    foreign: std::sync::OnceLock<reqwest::Client>,
    options: ClientOptions,
    base: Url,
    /// `base` under the name the reference gives (see [`ClientOptions::public_host`]).
    public: Option<Url>,
    credential: Lookup,
    /// The credential once a challenge needed it.
    resolved: tokio::sync::OnceCell<Option<Credential>>,
    auth: Mutex<AuthState>,
    headers: HeaderMap,
    debug: bool,
}

/// Request numbers in `--debug` traces, unique in the process.
static REQUEST_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const MAX_REDIRECTS: usize = 10;

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    /// Bearer tokens by merged scope list.
    tokens: HashMap<String, String>,
}

/// A request whose body can be sent again after an auth challenge.
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Scopes this request needs beyond what the challenge names (`repository:r:pull,push`).
    pub scopes: Vec<String>,
}

impl Request {
    #[must_use]
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            scopes: Vec::new(),
        }
    }

    #[must_use]
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    #[must_use]
    pub fn scope(mut self, scope: String) -> Self {
        self.scopes.push(scope);
        self
    }
}

/// The User-Agent of every request (reqwest adds it as the request is sent).
const USER_AGENT: &str = concat!("oras/", env!("CARGO_PKG_VERSION"), " (oras-rs)");

/// An HTTP client with the TLS settings of `options`; `system_roots` adds the system's root
/// certificates unless `--ca-file` replaced them.
fn build_http(
    options: &ClientOptions,
    system_roots: bool,
) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(30))
        .danger_accept_invalid_certs(options.insecure)
        .tls_built_in_root_certs(system_roots && options.ca_pem.is_none())
        // Redirects are followed by hand so credentials never reach another origin.
        .redirect(reqwest::redirect::Policy::none())
        // Proxies as Go reads them (not reqwest's own reading, which also proxies loopback).
        .no_proxy();
    for proxy in super::proxy::from_env(|name| std::env::var(name).ok())? {
        builder = builder.proxy(proxy);
    }
    // With --ca-file (and verification on), our own rustls configuration: its verifier also
    // accepts a self-signed CA certificate given in the file (see `tls`).
    let preconfigured = match &options.ca_pem {
        Some(pem) if !options.insecure => {
            super::tls::client_config(pem, options.identity_pem.as_deref())?
        }
        _ => None,
    };
    if let Some(config) = preconfigured {
        // It carries the roots and the client certificate.
        builder = builder.use_preconfigured_tls(config);
    } else {
        if let Some(pem) = &options.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                RegistryError::Protocol(format!("failed to load CA certificates: {e}"))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(pem) = &options.identity_pem {
            let identity = reqwest::Identity::from_pem(pem).map_err(|e| {
                RegistryError::Protocol(format!("failed to load the client certificate: {e}"))
            })?;
            builder = builder.identity(identity);
        }
    }
    for (host, addr) in &options.resolve {
        builder = builder.resolve(host, *addr);
    }
    builder
        .build()
        .map_err(|e| RegistryError::Protocol(format!("failed to set up HTTP client: {e}")))
}

/// Whether `url` needs another client than the registry's: an https URL on another origin,
/// when the registry's client was built without the system roots (a plain-HTTP registry) or
/// carries a client certificate, which only the registry's origin is shown (transfer.md §1.8,
/// GHSA-h3wm-jjqf-8jm2). Plain-HTTP URLs involve no certificate either way.
fn needs_foreign_client(url: &Url, registry: &Url, plain_http: bool, identity: bool) -> bool {
    url.scheme() == "https" && url.origin() != registry.origin() && (plain_http || identity)
}

/// URLs in messages never carry userinfo.
pub(super) fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A failure to build a request or read a body: no TLS handshake happens there.
fn transport(url: &Url, source: reqwest::Error) -> RegistryError {
    RegistryError::Transport {
        url: display_url(url),
        source,
        ca_file: false,
    }
}

impl Client {
    pub fn new(registry_host: &str, options: &ClientOptions) -> Result<Self, RegistryError> {
        let scheme = if options.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{registry_host}")).map_err(|e| {
            RegistryError::Protocol(format!("invalid registry {registry_host:?}: {e}"))
        })?;
        let mut headers = HeaderMap::new();
        for (name, value) in &options.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| RegistryError::Protocol(format!("invalid header: {name:?}")))?;
            // Named, not shown: a header value often is a credential (Go's net/http words).
            let value = HeaderValue::from_str(value).map_err(|_| {
                RegistryError::Protocol(format!("invalid header field value for {name:?}"))
            })?;
            headers.append(header, value);
        }
        let http = build_http(options, !options.plain_http)?;
        let public =
            match &options.public_host {
                Some(host) => Some(Url::parse(&format!("{scheme}://{host}")).map_err(|e| {
                    RegistryError::Protocol(format!("invalid registry {host:?}: {e}"))
                })?),
                None => None,
            };
        Ok(Self {
            http,
            foreign: std::sync::OnceLock::new(),
            options: options.clone(),
            base,
            public,
            credential: options.credential.clone(),
            resolved: tokio::sync::OnceCell::new(),
            auth: Mutex::new(AuthState::default()),
            headers,
            debug: options.debug,
        })
    }

    /// The client for `url`: the registry's own (its connections are reused), or the one for
    /// other origins.
    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, RegistryError> {
        let identity = self.options.identity_pem.is_some();
        if !needs_foreign_client(url, &self.base, self.options.plain_http, identity) {
            return Ok(&self.http);
        }
        if let Some(client) = self.foreign.get() {
            return Ok(client);
        }
        let options = ClientOptions {
            identity_pem: None,
            ..self.options.clone()
        };
        let client = build_http(&options, true)?;
        Ok(self.foreign.get_or_init(|| client))
    }

    /// `url` with the registry's public name (as the reference gives it) taken back to the
    /// address connected to; any other URL as it is.
    #[must_use]
    pub fn to_connected(&self, mut url: Url) -> Url {
        if let Some(public) = &self.public
            && url.origin() == public.origin()
        {
            let _ = url.set_host(self.base.host_str());
            let _ = url.set_port(self.base.port());
        }
        url
    }

    /// The `Host` value for requests to the registry, when it differs from the address
    /// connected to.
    fn host_header(&self) -> Option<HeaderValue> {
        let public = self.public.as_ref()?;
        let host = public.host_str()?;
        let value = match public.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        HeaderValue::from_str(&value).ok()
    }

    /// Whether `ip` is an address the registry itself is reached at: a loopback address for
    /// `localhost`, or the address `--resolve` gives the registry's name. A realm there
    /// reaches no machine the registry does not already run on, so [`realm_refusal`] (which
    /// compares host names, as oras-go does) lets it through.
    fn is_own_address(&self, ip: std::net::IpAddr) -> bool {
        let name = self.base.host_str().unwrap_or_default();
        (name == "localhost" && ip.is_loopback())
            || self
                .options
                .resolve
                .iter()
                .any(|(host, addr)| host == name && addr.ip() == ip)
    }

    /// `<scheme>://<host><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> Url {
        let mut u = self.base.clone();
        u.set_path(path);
        u
    }

    /// The credential to answer a challenge with. A credential helper is a process to wait
    /// for, so it runs off the async threads, once per client.
    async fn credential(&self) -> Result<Option<Credential>, RegistryError> {
        if let Some(known) = self.credential.ready() {
            return Ok(known.cloned());
        }
        self.resolved
            .get_or_try_init(|| async {
                let lookup = self.credential.clone();
                tokio::task::spawn_blocking(move || lookup.resolve())
                    .await
                    .map_err(|e| RegistryError::Protocol(format!("credential lookup: {e}")))?
                    .map_err(RegistryError::Credential)
            })
            .await
            .cloned()
    }

    /// The Authorization value to attach for `scopes`, if the challenge is known.
    async fn authorization(&self, scopes: &[String]) -> Result<Option<String>, RegistryError> {
        let mut state = self.auth.lock().await;
        let Some(challenge) = state.challenge.clone() else {
            return Ok(None);
        };
        match challenge.scheme.as_str() {
            "basic" => match self
                .credential()
                .await?
                .as_ref()
                .and_then(Credential::basic)
            {
                Some((username, password)) => {
                    let raw = format!("{username}:{}", password.expose());
                    Ok(Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    )))
                }
                _ => Err(RegistryError::BasicCredentialNotFound),
            },
            "bearer" => {
                let all = merge_scopes(
                    challenge
                        .param("scope")
                        .into_iter()
                        .chain(scopes.iter().map(String::as_str)),
                );
                // config.json's `registrytoken` is the bearer token itself.
                if let Some(Credential::RegistryToken(token)) = self.credential().await? {
                    return Ok(Some(format!("Bearer {}", token.expose())));
                }
                let key = all.join(" ");
                if let Some(t) = state.tokens.get(&key) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let token = self.fetch_token(&challenge, &all).await?;
                state.tokens.insert(key, token.clone());
                Ok(Some(format!("Bearer {token}")))
            }
            other => Err(RegistryError::Protocol(format!(
                "unsupported authentication scheme {other:?}"
            ))),
        }
    }

    async fn fetch_token(
        &self,
        challenge: &Challenge,
        scopes: &[String],
    ) -> Result<String, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: String,
            #[serde(default)]
            access_token: String,
        }
        let realm = challenge
            .param("realm")
            .ok_or_else(|| RegistryError::Protocol("bearer challenge without realm".into()))?;
        let mut url = Url::parse(realm)
            .map_err(|e| RegistryError::Protocol(format!("invalid token realm {realm:?}: {e}")))?;
        // Checked before the credential is looked up: a refused realm gets nothing.
        if let Some(why) = realm_refusal(&url, &self.base, |ip| self.is_own_address(ip)) {
            return Err(RegistryError::Protocol(format!(
                "refusing token realm {:?}: {why}",
                display_url(&url)
            )));
        }
        let service = challenge.param("service").unwrap_or_default();
        let credential = self.credential().await?;
        // A refresh grant is POSTed (oras-go's form: `service` and `scope` only when there
        // are some; login has none); anything else is a GET with Basic credentials, if any.
        let form = if let Some(Credential::IdentityToken { token, .. }) = &credential {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", token.expose());
            if !service.is_empty() {
                form.append_pair("service", service);
            }
            form.append_pair("client_id", "oras-rs");
            if !scopes.is_empty() {
                form.append_pair("scope", &scopes.join(" "));
            }
            Some(form.finish())
        } else {
            let mut q = url.query_pairs_mut();
            if !service.is_empty() {
                q.append_pair("service", service);
            }
            for s in scopes {
                q.append_pair("scope", s);
            }
            None
        };
        let basic = match &credential {
            Some(Credential::Basic { username, password }) => Some((username.as_str(), password)),
            _ => None,
        };
        let method = if form.is_some() { "POST" } else { "GET" };
        let (resp, url) = self.token_request(url, form, basic).await?;
        let status = resp.status();
        let body = read_small(resp).await;
        if !status.is_success() {
            let mut u = url.clone();
            u.set_query(None);
            return Err(RegistryError::Status {
                method: method.into(),
                url: display_url(&u),
                status: status.as_u16(),
                errors: parse_error_body(&body),
            });
        }
        let t: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Protocol(format!("invalid token response: {e}")))?;
        let token = if t.access_token.is_empty() {
            t.token
        } else {
            t.access_token
        };
        if token.is_empty() {
            return Err(RegistryError::Protocol(
                "token server returned no token".into(),
            ));
        }
        Ok(token)
    }

    /// Sends a token request (a POST of `form`, or a GET with `basic` credentials) and follows
    /// redirects as Go's client does (the POST only on 307/308, which keep the body), each
    /// target checked as a realm: Basic credentials stay on the realm's origin, and the refresh
    /// token, which travels in the body, never leaves it. Returns the answer and its URL.
    async fn token_request(
        &self,
        mut url: Url,
        form: Option<String>,
        mut basic: Option<(&str, &Secret)>,
    ) -> Result<(Response, Url), RegistryError> {
        let mut redirects = 0;
        loop {
            let req = match &form {
                Some(form) => self
                    .http
                    .post(url.clone())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.clone()),
                None => match basic {
                    Some((username, password)) => self
                        .http
                        .get(url.clone())
                        .basic_auth(username, Some(password.expose())),
                    None => self.http.get(url.clone()),
                },
            };
            let request = req.build().map_err(|e| transport(&url, e))?;
            let resp = self.run(request).await?;
            let code = resp.status().as_u16();
            let follow = if form.is_some() {
                matches!(code, 307 | 308)
            } else {
                matches!(code, 301 | 302 | 303 | 307 | 308)
            };
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (follow, location) else {
                return Ok((resp, url));
            };
            redirects += 1;
            let next = url.join(location).map_err(|e| {
                RegistryError::Protocol(format!("invalid redirect location {location:?}: {e}"))
            })?;
            let refusal = if redirects > MAX_REDIRECTS {
                Some("too many redirects")
            } else if url.scheme() == "https" && next.scheme() != "https" {
                Some("it leaves https for http")
            } else if form.is_some() && next.origin() != url.origin() {
                Some("the refresh token would go to another origin")
            } else {
                realm_refusal(&next, &self.base, |ip| self.is_own_address(ip))
            };
            if let Some(why) = refusal {
                return Err(RegistryError::Protocol(format!(
                    "refusing the token server's redirect from {} to {}: {why}",
                    display_url(&url),
                    display_url(&next)
                )));
            }
            if next.origin() != url.origin() {
                basic = None;
            }
            url = next;
        }
    }

    /// Sends `req`, answering one auth challenge by retrying with credentials (auth.md §3.9).
    pub async fn send(&self, req: Request) -> Result<Response, RegistryError> {
        let (first, sent) = self.send_retrying(&req).await?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        if first.url().origin() != self.base.origin() {
            // A challenge from another origin (a storage host behind a redirect) is never
            // answered: its realm would get the user's credentials (§3.9 step 4).
            let mut at = first.url().clone();
            at.set_query(None);
            return Err(status_error(&req.method, &at, first).await);
        }
        let challenges = first
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_challenges)
            .collect::<Vec<_>>();
        let chosen = challenges
            .iter()
            .find(|c| c.scheme == "bearer")
            .or_else(|| challenges.iter().find(|c| c.scheme == "basic"))
            .cloned();
        let Some(challenge) = chosen else {
            return Err(status_error(&req.method, &req.url, first).await);
        };
        {
            let mut state = self.auth.lock().await;
            if state.challenge.as_ref() != Some(&challenge) {
                state.challenge = Some(challenge);
            }
            if let Some(sent) = sent {
                // The token was refused (expired, revoked, short of a scope): drop it so the
                // retry fetches a fresh one, unless a concurrent request already replaced it.
                state
                    .tokens
                    .retain(|_, token| format!("Bearer {token}") != sent);
            }
        }
        Ok(self.send_retrying(&req).await?.0)
    }

    /// `send_once`, repeated while the registry answers with a retryable status or the
    /// connection fails (every `Request` has a replayable body and is safe to repeat).
    /// Also returns the `Authorization` value sent, if any.
    async fn send_retrying(
        &self,
        req: &Request,
    ) -> Result<(Response, Option<String>), RegistryError> {
        let mut attempt = 1;
        loop {
            let what = format!("{} {}", req.method, display_url(&req.url));
            let (wait, why) = match self.send_once(req).await {
                Ok((resp, sent)) if retry::is_retryable_status(resp.status().as_u16()) => {
                    match retry::delay(attempt, retry::retry_after(resp.headers())) {
                        Some(wait) => (wait, resp.status().to_string()),
                        None => return Ok((resp, sent)),
                    }
                }
                Err(e) if retry::is_retryable(&e) => match retry::delay(attempt, None) {
                    Some(wait) => (wait, e.to_string()),
                    None => return Err(e),
                },
                other => return other,
            };
            retry::report(&what, &why, wait, attempt);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn send_once(&self, req: &Request) -> Result<(Response, Option<String>), RegistryError> {
        let mut headers = req.headers.clone();
        let auth = self.authorization(&req.scopes).await?;
        if let Some(auth) = &auth
            && let Ok(v) = HeaderValue::from_str(auth)
        {
            headers.insert(header::AUTHORIZATION, v);
        }
        let resp = self
            .execute(
                req.method.clone(),
                req.url.clone(),
                headers,
                req.body.clone(),
            )
            .await?;
        Ok((resp, auth))
    }

    /// Sends one request and follows redirects (any for GET and HEAD; 307 and 308 for the
    /// others). When a redirect leaves the registry's origin, `Authorization` and custom headers
    /// are dropped; https → http is refused.
    async fn execute(
        &self,
        method: Method,
        mut url: Url,
        mut headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, RegistryError> {
        let mut same_origin = url.origin() == self.base.origin();
        for _ in 0..=MAX_REDIRECTS {
            let mut all = headers.clone();
            if same_origin {
                for (name, value) in &self.headers {
                    all.append(name, value.clone());
                }
                if let Some(host) = self.host_header() {
                    all.insert(header::HOST, host);
                }
            }
            let mut builder = self.http.request(method.clone(), url.clone()).headers(all);
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let request = builder.build().map_err(|e| transport(&url, e))?;
            let resp = self.run(request).await?;
            // Reads follow every redirect; a request with a body (held whole here, so it can
            // be sent again) follows the two that keep method and body, as Go's net/http.
            let code = resp.status().as_u16();
            let follow = if matches!(method, Method::GET | Method::HEAD) {
                matches!(code, 301 | 302 | 303 | 307 | 308)
            } else {
                matches!(code, 307 | 308)
            };
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (follow, location) else {
                return Ok(resp);
            };
            let next = self.to_connected(url.join(location).map_err(|e| {
                RegistryError::Protocol(format!("invalid redirect location {location:?}: {e}"))
            })?);
            if url.scheme() == "https" && next.scheme() != "https" {
                return Err(RegistryError::Protocol(format!(
                    "refusing redirect from {} to {} (https to http)",
                    display_url(&url),
                    display_url(&next)
                )));
            }
            if next.origin() != url.origin() {
                headers.remove(header::AUTHORIZATION);
                same_origin = false;
            }
            url = next;
        }
        Err(RegistryError::Protocol(format!(
            "stopped after {MAX_REDIRECTS} redirects at {}",
            display_url(&url)
        )))
    }

    /// Executes a built request (its response must begin within `RESPONSE_TIMEOUT`), tracing
    /// it with `--debug`.
    async fn run(&self, request: reqwest::Request) -> Result<Response, RegistryError> {
        let url = request.url().clone();
        tokio::time::timeout(RESPONSE_TIMEOUT, self.run_untimed(request))
            .await
            .unwrap_or_else(|_| {
                Err(RegistryError::Protocol(format!(
                    "{}: no response within {} s",
                    display_url(&url),
                    RESPONSE_TIMEOUT.as_secs()
                )))
            })
    }

    /// `run` without a time limit, for requests streaming a body.
    async fn run_untimed(&self, request: reqwest::Request) -> Result<Response, RegistryError> {
        let url = request.url().clone();
        let id = self
            .debug
            .then(|| REQUEST_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        if let Some(id) = id {
            trace_request(id, &request, &self.base, &self.headers);
        }
        let resp = self
            .client_for(&url)?
            .execute(request)
            .await
            .map_err(|source| RegistryError::Transport {
                url: display_url(&url),
                source,
                ca_file: self.options.ca_pem.is_some(),
            })?;
        if let Some(id) = id {
            trace_response(id, &resp, &self.base);
        }
        Ok(resp)
    }

    /// Sends a request with a streaming body, which cannot be replayed: auth must already be
    /// settled by an earlier request (the upload POST).
    pub async fn send_stream(
        &self,
        method: Method,
        url: Url,
        mut headers: HeaderMap,
        scopes: &[String],
        body: reqwest::Body,
    ) -> Result<Response, RegistryError> {
        if let Some(auth) = self.authorization(scopes).await?
            && let Ok(v) = HeaderValue::from_str(&auth)
        {
            headers.insert(header::AUTHORIZATION, v);
        }
        if url.origin() == self.base.origin() {
            for (name, value) in &self.headers {
                headers.append(name, value.clone());
            }
            if let Some(host) = self.host_header() {
                headers.insert(header::HOST, host);
            }
        }
        let request = self
            .http
            .request(method, url.clone())
            .headers(headers)
            .body(body)
            .build()
            .map_err(|e| transport(&url, e))?;
        self.run_untimed(request).await
    }

    /// A request with no auth retry that returns the raw response (for pings).
    pub async fn get(&self, url: Url) -> Result<Response, RegistryError> {
        self.send(Request::new(Method::GET, url)).await
    }
}

/// Header values never printed in traces.
fn is_secret_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    )
}

/// A URL as `--debug` prints it: no userinfo, and on another origin than the registry's (a
/// storage host behind a redirect, the token realm) every query value but `service` and
/// `scope` as `*****`: pre-signed URLs carry their signature there (GHSA-5jhf-2qmf-m8c5).
fn trace_url(url: &Url, registry: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.origin() != registry.origin() && u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if matches!(k.as_ref(), "service" | "scope") {
                    v.into_owned()
                } else {
                    "*****".to_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// Header lines of a trace. `location` resolves a `Location` header against the request URL
/// and the registry's base, so a redirect to another origin is printed like [`trace_url`].
fn trace_headers(prefix: &str, headers: &HeaderMap, location: Option<(&Url, &Url)>) -> String {
    let mut out = format!("{prefix} headers:\n");
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                let text = v.to_str().unwrap_or("<binary>");
                if is_secret_header(name) {
                    "*****".to_owned()
                } else if let (&header::LOCATION, Some((request_url, registry))) = (name, location)
                    && let Ok(target) = request_url.join(text)
                    && target.origin() != registry.origin()
                {
                    trace_url(&target, registry)
                } else {
                    text.to_owned()
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "   {:?}: {:?}",
            canonical_name(name.as_str()),
            values.join(", ")
        );
    }
    out
}

/// `content-type` → `Content-Type`, as Go prints header names.
fn canonical_name(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[allow(clippy::print_stderr)]
/// `custom` are the `-H` headers: their values may be credentials, so they print as `*****`
/// (as the Go client's main branch does).
fn trace_request(id: u64, request: &reqwest::Request, registry: &Url, custom: &HeaderMap) {
    let mut headers = request.headers().clone();
    // Go's trace sees the User-Agent its client sets on each request; reqwest adds ours later.
    headers
        .entry(header::USER_AGENT)
        .or_insert(header::HeaderValue::from_static(USER_AGENT));
    for name in custom.keys() {
        if headers.contains_key(name) {
            headers.insert(name, header::HeaderValue::from_static("*****"));
        }
    }
    eprintln!(
        "--> Request #{id}\n> Request URL: {:?}\n> Request method: {:?}\n{}",
        trace_url(request.url(), registry),
        request.method().as_str(),
        trace_headers("> Request", &headers, None)
    );
}

#[allow(clippy::print_stderr)]
fn trace_response(id: u64, resp: &Response, registry: &Url) {
    eprintln!(
        "<-- Response #{id}\n< Response Status: {:?}\n{}",
        resp.status().to_string(),
        trace_headers("< Response", resp.headers(), Some((resp.url(), registry)))
    );
}

/// Builds the error for an unexpected status, decoding the spec's error body. A Bearer
/// challenge with `error="insufficient_scope"` adds an entry naming the scope that was refused:
/// distribution's body alone (`unauthorized: authentication required`) reads as if no
/// credentials had been sent.
pub async fn status_error(method: &Method, url: &Url, resp: Response) -> RegistryError {
    let status = resp.status().as_u16();
    let scope_entry = insufficient_scope(resp.headers());
    let body = read_small(resp).await;
    let mut errors = parse_error_body(&body);
    if matches!(status, 401 | 403) {
        errors.extend(scope_entry);
    }
    RegistryError::Status {
        method: method.to_string(),
        url: display_url(url),
        status,
        errors,
    }
}

/// The `insufficient_scope` error of a Bearer challenge in `headers`, as an error entry.
fn insufficient_scope(headers: &HeaderMap) -> Option<ErrorEntry> {
    let challenge = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .find(|c| c.scheme == "bearer" && c.param("error") == Some("insufficient_scope"))?;
    let message = match challenge.param("scope").filter(|s| !s.is_empty()) {
        Some(scope) => {
            format!("the registry requires {scope}, which the token server did not grant")
        }
        None => "the token server did not grant the access the registry requires".to_owned(),
    };
    Some(ErrorEntry {
        code: "INSUFFICIENT_SCOPE".to_owned(),
        message,
        detail: None,
    })
}

/// The next chunk of a body, failing when none comes within `BODY_STALL`.
async fn next_chunk(resp: &mut Response) -> Result<Option<Bytes>, RegistryError> {
    let url = resp.url().clone();
    match tokio::time::timeout(BODY_STALL, resp.chunk()).await {
        Ok(chunk) => chunk.map_err(|e| transport(&url, e)),
        Err(_) => Err(RegistryError::Protocol(format!(
            "{}: no data for {} s: the response stalled",
            display_url(&url),
            BODY_STALL.as_secs()
        ))),
    }
}

/// Reads at most `MAX_SMALL_BODY` bytes of a response (what arrived, if it stalls or breaks).
async fn read_small(mut resp: Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = next_chunk(&mut resp).await {
        let room = MAX_SMALL_BODY.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_SMALL_BODY {
            break;
        }
    }
    out
}

/// Reads a whole body up to `limit` bytes, failing beyond it.
pub(super) async fn read_limited(
    mut resp: Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, RegistryError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(RegistryError::Protocol(format!(
            "{what} size {} exceeds the limit of {limit} bytes (raise it with --max-manifest-size)",
            resp.content_length().unwrap_or_default()
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = next_chunk(&mut resp).await? {
        out.extend_from_slice(&chunk);
        if out.len() as u64 > limit {
            return Err(RegistryError::Protocol(format!(
                "{what} exceeds the limit of {limit} bytes (raise it with --max-manifest-size)"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_hide_query_values_of_other_origins() {
        let registry = Url::parse("https://r.io").unwrap();
        let cases = [
            // The registry's own queries (upload state, digest) are kept.
            (
                "https://r.io/v2/a/blobs/uploads/u?_state=s&digest=sha256:1",
                "https://r.io/v2/a/blobs/uploads/u?_state=s&digest=sha256:1",
            ),
            (
                "https://s3.example/b/sha256:1?X-Amz-Expires=300&X-Amz-Signature=sig",
                "https://s3.example/b/sha256:1?X-Amz-Expires=*****&X-Amz-Signature=*****",
            ),
            (
                "https://auth.r.io/token?service=r.io&scope=repository:a:pull",
                "https://auth.r.io/token?service=r.io&scope=repository%3Aa%3Apull",
            ),
            ("https://user:pw@cdn.example/x", "https://cdn.example/x"),
        ];
        for (url, want) in cases {
            assert_eq!(trace_url(&Url::parse(url).unwrap(), &registry), want);
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::LOCATION,
            HeaderValue::from_static("https://s3.example/b?sig=secret"),
        );
        let request_url = Url::parse("https://r.io/v2/a/blobs/sha256:1").unwrap();
        let trace = trace_headers("<", &headers, Some((&request_url, &registry)));
        assert!(trace.contains("https://s3.example/b?sig=*****"), "{trace}");
        assert!(!trace.contains("secret"), "{trace}");
        headers.insert(
            header::LOCATION,
            HeaderValue::from_static("/v2/a/u?_state=s"),
        );
        let trace = trace_headers("<", &headers, Some((&request_url, &registry)));
        assert!(trace.contains("/v2/a/u?_state=s"), "{trace}");
    }

    #[test]
    fn the_client_certificate_is_shown_to_the_registry_origin_only() {
        let registry = Url::parse("https://r.io:5000").unwrap();
        let cases = [
            // (url, plain_http, identity, foreign client)
            ("https://r.io:5000/v2/a/blobs/sha256:1", false, true, false),
            ("https://s3.example/b/sha256:1", false, true, true),
            ("https://r.io:5001/token", false, true, true),
            ("https://auth.r.io/token", false, false, false),
            ("http://auth.r.io/token", false, true, false),
        ];
        for (url, plain_http, identity, want) in cases {
            let url = Url::parse(url).unwrap();
            assert_eq!(
                needs_foreign_client(&url, &registry, plain_http, identity),
                want,
                "{url}"
            );
        }
        let plain = Url::parse("http://r.io:5000").unwrap();
        let s3 = Url::parse("https://s3.example/b").unwrap();
        assert!(needs_foreign_client(&s3, &plain, true, false));
        let token = Url::parse("http://r.io:5001/token").unwrap();
        assert!(!needs_foreign_client(&token, &plain, true, true));
    }

    #[test]
    fn names_the_refused_scope() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer realm="http://t/token",service="s",scope="repository:a/b:pull,push",error="insufficient_scope""#,
            ),
        );
        let entry = insufficient_scope(&headers).expect("an entry");
        assert_eq!(
            entry.to_string(),
            "insufficient scope: the registry requires repository:a/b:pull,push, which the token server did not grant"
        );
        for other in [
            r#"Bearer realm="http://t/token",service="s",error="invalid_token""#,
            r#"Basic realm="x""#,
        ] {
            let mut headers = HeaderMap::new();
            headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static(other));
            assert_eq!(insufficient_scope(&headers), None, "{other}");
        }
    }
}
