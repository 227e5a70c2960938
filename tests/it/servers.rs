//! Small in-process HTTP servers on 127.0.0.1 for the auth tests: a token server that signs
//! JWTs the registry verifies (distribution token spec), and a front that answers blob GETs
//! with a redirect to a separate "storage" host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use tiny_http::{Header, Response, Server};

use super::pki::SigningKey;

pub const SERVICE: &str = "oras-test-registry";
pub const ISSUER: &str = "oras-test-issuer";

/// Users of the token server: name, password, actions granted on every repository.
pub const USERS: [(&str, &str, &[&str]); 2] = [
    ("hello", "oras-test", &["pull", "push", "delete"]),
    ("reader", "reader-pass", &["pull"]),
];
/// The refresh (identity) token that stands for user `hello`.
pub const REFRESH_TOKEN: &str = "refresh-token-for-hello";

/// One request the token server answered.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub method: String,
    pub grant_type: Option<String>,
    pub user: Option<String>,
    pub scopes: Vec<String>,
    /// The raw `refresh_token` form field, if any.
    pub refresh_token: Option<String>,
    /// How many `scope` fields were sent empty (oras-go sends none then).
    pub empty_scopes: usize,
}

pub struct TokenServer {
    pub port: u16,
    pub key: Arc<SigningKey>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenServer {
    pub fn start() -> TokenServer {
        let server = Server::http("127.0.0.1:0").expect("token server bind");
        let port = server.server_addr().to_ip().expect("ip").port();
        let key = Arc::new(SigningKey::generate());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (k, r) = (Arc::clone(&key), Arc::clone(&requests));
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                if let Some(rest) = req.url().strip_prefix("/moved") {
                    // The realm has moved: a 307 keeps the method and the body.
                    let resp = Response::empty(307).with_header(
                        Header::from_bytes("Location", format!("/token{rest}")).unwrap(),
                    );
                    let _ = req.respond(resp);
                    continue;
                }
                if let Some(rest) = req.url().strip_prefix("/away") {
                    // Moved to another origin: the same server under its IP address.
                    let resp = Response::empty(307).with_header(
                        Header::from_bytes(
                            "Location",
                            format!("http://127.0.0.1:{port}/token{rest}"),
                        )
                        .unwrap(),
                    );
                    let _ = req.respond(resp);
                    continue;
                }
                let (status, body) = handle_token(&mut req, &k, &r);
                let resp = Response::from_data(body)
                    .with_status_code(status)
                    .with_header(Header::from_bytes("Content-Type", "application/json").unwrap());
                let _ = req.respond(resp);
            }
        });
        TokenServer {
            port,
            key,
            requests,
        }
    }

    /// The realm the registry names in its challenges. `localhost` rather than an IP literal:
    /// clients may refuse loopback IP realms on another host than the registry (auth.md §6.2).
    pub fn realm(&self) -> String {
        format!("http://localhost:{}/token", self.port)
    }

    /// A realm the server answers with a 307 to [`Self::realm`] (same origin).
    pub fn moved_realm(&self) -> String {
        format!("http://localhost:{}/moved", self.port)
    }

    /// A token for `user` with `actions` on `repository`, as the server would grant it, without
    /// a request (what config.json's `registrytoken` holds).
    pub fn mint(&self, user: &str, repository: &str, actions: &[&str]) -> String {
        let access =
            serde_json::json!({"type": "repository", "name": repository, "actions": actions});
        sign_jwt(&self.key, user, &[access])
    }

    /// Requests seen so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests that asked for a scope on `repository` (tests run in parallel, so each test
    /// looks only at its own repositories).
    pub fn requests_for(&self, repository: &str) -> Vec<TokenRequest> {
        let prefix = format!("repository:{repository}:");
        self.requests()
            .into_iter()
            .filter(|r| r.scopes.iter().any(|s| s.starts_with(&prefix)))
            .collect()
    }
}

fn query_pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::json!({"errors": [{"code": code, "message": message}]})
        .to_string()
        .into_bytes()
}

fn handle_token(
    req: &mut tiny_http::Request,
    key: &SigningKey,
    log: &Mutex<Vec<TokenRequest>>,
) -> (u16, Vec<u8>) {
    let method = req.method().to_string();
    let query = req
        .url()
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let mut params = query_pairs(&query);
    if method == "POST" {
        let mut body = String::new();
        let _ = req.as_reader().read_to_string(&mut body);
        params.extend(query_pairs(&body));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let grant_type = param("grant_type");
    let basic = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .and_then(|h| h.value.as_str().strip_prefix("Basic ").map(str::to_owned))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let user: Result<Option<&str>, ()> = match grant_type.as_deref() {
        Some("refresh_token") => match param("refresh_token").as_deref() {
            Some(REFRESH_TOKEN) => Ok(Some("hello")),
            _ => Err(()),
        },
        Some("password") => {
            let (u, p) = (
                param("username").unwrap_or_default(),
                param("password").unwrap_or_default(),
            );
            USERS
                .iter()
                .find(|(n, pw, _)| *n == u && *pw == p)
                .map(|(n, _, _)| Some(*n))
                .ok_or(())
        }
        _ => match basic {
            None => Ok(None),
            Some(pair) => {
                let (u, p) = pair.split_once(':').unwrap_or((&pair, ""));
                USERS
                    .iter()
                    .find(|(n, pw, _)| *n == u && *pw == p)
                    .map(|(n, _, _)| Some(*n))
                    .ok_or(())
            }
        },
    };
    log.lock().unwrap().push(TokenRequest {
        method,
        grant_type: grant_type.clone(),
        user: user.ok().flatten().map(str::to_owned),
        scopes: scopes.clone(),
        refresh_token: param("refresh_token"),
        empty_scopes: params
            .iter()
            .filter(|(k, v)| k == "scope" && v.is_empty())
            .count(),
    });
    let Ok(user) = user else {
        return (
            401,
            error_body("UNAUTHORIZED", "invalid username, password or token"),
        );
    };
    let granted: &[&str] = user
        .and_then(|u| USERS.iter().find(|(n, _, _)| *n == u))
        .map_or(&[], |(_, _, actions)| *actions);
    let mut access = Vec::new();
    for scope in &scopes {
        let mut parts = scope.splitn(2, ':');
        let (Some(kind), Some(rest)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        let allowed: Vec<&str> = actions
            .split(',')
            .filter(|a| granted.contains(a) || (*a == "pull" && name.starts_with("public/")))
            .collect();
        access.push(serde_json::json!({"type": kind, "name": name, "actions": allowed}));
    }
    let token = sign_jwt(key, user.unwrap_or(""), &access);
    let mut body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300});
    if grant_type.as_deref() == Some("refresh_token") {
        body["refresh_token"] = REFRESH_TOKEN.into();
    }
    (200, body.to_string().into_bytes())
}

/// An ES256 JWT carrying the signing certificate in `x5c`, as distribution verifies it.
fn sign_jwt(key: &SigningKey, subject: &str, access: &[serde_json::Value]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header =
        serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [STANDARD.encode(&key.cert_der)]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": subject, "aud": SERVICE,
        "exp": now + 600, "nbf": now - 60, "iat": now,
        "jti": format!("{now}-{}", rand_suffix()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let rng = SystemRandom::new();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8, &rng).unwrap();
    let sig = pair.sign(&rng, signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The signature in the query of the storage URLs [`RedirectFront`] redirects to.
pub const STORAGE_SIGNATURE: &str = "storage-signature-secret";

/// Headers a storage host received, one entry per request.
pub type SeenHeaders = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// A front for a registry: blob GETs are answered with a 307 to a storage host on another
/// origin (127.0.0.1 instead of localhost, another port); everything else is proxied.
pub struct RedirectFront {
    pub port: u16,
    /// Headers of every request the front received.
    pub front_seen: SeenHeaders,
    /// Headers of every request the storage host received.
    pub storage_seen: SeenHeaders,
}

impl RedirectFront {
    /// `registry_port` is the registry proxied to; `storage_basic` the `user:pass` the storage
    /// host uses to read blobs from it.
    pub fn start(registry_port: u16, storage_basic: Option<&str>) -> RedirectFront {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let storage_seen: SeenHeaders = Arc::new(Mutex::new(Vec::new()));
        let front_seen: SeenHeaders = Arc::new(Mutex::new(Vec::new()));
        let storage = Server::http("127.0.0.1:0").unwrap();
        let storage_port = storage.server_addr().to_ip().unwrap().port();
        let (seen, storage_agent) = (Arc::clone(&storage_seen), agent.clone());
        let basic = storage_basic.map(|b| format!("Basic {}", STANDARD.encode(b)));
        std::thread::spawn(move || {
            for req in storage.incoming_requests() {
                seen.lock().unwrap().push(header_map(&req));
                // /storage/<repo path>/blobs/<digest>?<signature>
                let path = req.url().trim_start_matches("/storage");
                let path = path.split('?').next().unwrap_or(path);
                let mut upstream =
                    storage_agent.get(format!("http://127.0.0.1:{registry_port}/v2{path}"));
                if let Some(b) = &basic {
                    upstream = upstream.header("Authorization", b);
                }
                let resp = match upstream.call() {
                    Ok(mut r) if r.status().as_u16() == 200 => {
                        let body = r
                            .body_mut()
                            .with_config()
                            .limit(1 << 30)
                            .read_to_vec()
                            .unwrap_or_default();
                        Response::from_data(body).with_status_code(200)
                    }
                    _ => Response::from_data(Vec::new()).with_status_code(502),
                };
                let _ = req.respond(resp);
            }
        });
        let front = Server::http("127.0.0.1:0").unwrap();
        let port = front.server_addr().to_ip().unwrap().port();
        let seen = Arc::clone(&front_seen);
        std::thread::spawn(move || {
            for mut req in front.incoming_requests() {
                seen.lock().unwrap().push(header_map(&req));
                let url = req.url().to_owned();
                let is_blob = url.contains("/blobs/sha256:") && !url.contains("/uploads/");
                let method = req.method().to_string();
                if is_blob && method == "GET" {
                    // Signed like an S3 pre-signed URL: the query is a credential.
                    let location = format!(
                        "http://127.0.0.1:{storage_port}/storage{}?X-Amz-Expires=300&X-Amz-Signature={STORAGE_SIGNATURE}",
                        url.trim_start_matches("/v2")
                    );
                    let resp = Response::from_data(Vec::new())
                        .with_status_code(307)
                        .with_header(Header::from_bytes("Location", location.as_bytes()).unwrap());
                    let _ = req.respond(resp);
                    continue;
                }
                let mut body = Vec::new();
                let _ = req.as_reader().read_to_end(&mut body);
                let resp = forward(&agent, registry_port, port, &req, body);
                let _ = req.respond(resp);
            }
        });
        RedirectFront {
            port,
            front_seen,
            storage_seen,
        }
    }
}

/// Sends `req` (with `body`) on to the registry at `registry_port` and returns its answer for
/// a front listening on `front_port`: upload locations naming the registry point at the
/// front, and a HEAD answer keeps the registry's Content-Length.
pub fn forward(
    agent: &ureq::Agent,
    registry_port: u16,
    front_port: u16,
    req: &tiny_http::Request,
    body: Vec<u8>,
) -> tiny_http::ResponseBox {
    let method = req.method().to_string();
    let mut builder = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(format!("http://127.0.0.1:{registry_port}{}", req.url()));
    for h in req.headers() {
        let name = h.field.as_str().as_str();
        if ["authorization", "accept", "content-type"].contains(&name.to_ascii_lowercase().as_str())
        {
            builder = builder.header(name, h.value.as_str());
        }
    }
    let Ok(mut r) = agent.run(builder.body(body).unwrap()) else {
        return Response::from_data(Vec::new())
            .with_status_code(502)
            .boxed();
    };
    let status = r.status().as_u16();
    let headers: Vec<Header> = r
        .headers()
        .iter()
        .filter(|(n, _)| {
            !["content-length", "transfer-encoding", "connection"].contains(&n.as_str())
        })
        .filter_map(|(n, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).replace(
                &format!("http://127.0.0.1:{registry_port}"),
                &format!("http://localhost:{front_port}"),
            );
            Header::from_bytes(n.as_str().as_bytes(), v.as_bytes()).ok()
        })
        .collect();
    let head_length = (method == "HEAD")
        .then(|| r.headers().get("content-length"))
        .flatten()
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if let Some(len) = head_length {
        return Response::new(
            tiny_http::StatusCode(status),
            headers,
            std::io::empty(),
            Some(len),
            None,
        )
        .boxed();
    }
    let data = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap_or_default();
    let mut resp = Response::from_data(data).with_status_code(status);
    for h in headers {
        resp.add_header(h);
    }
    resp.boxed()
}

/// A request's headers with lower-cased names.
fn header_map(req: &tiny_http::Request) -> HashMap<String, String> {
    req.headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect()
}

/// One request a [`Recorder`] received: its path and lower-cased headers.
pub type Recorded = (String, HashMap<String, String>);

/// A plain-HTTP server on `ip` (a loopback address) that records every request and gives each
/// the same answer: a trap for credentials that must not reach it.
pub struct Recorder {
    pub port: u16,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// `answer` makes the status, headers and body of every response from the port.
    pub fn start(
        ip: &str,
        answer: impl FnOnce(u16) -> (u16, Vec<(String, String)>, String),
    ) -> Recorder {
        let server = Server::http(format!("{ip}:0")).expect("recorder bind");
        let port = server.server_addr().to_ip().expect("ip").port();
        let (status, headers, body) = answer(port);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                log.lock()
                    .unwrap()
                    .push((req.url().to_owned(), header_map(&req)));
                let mut resp = Response::from_data(body.clone()).with_status_code(status);
                for (name, value) in &headers {
                    resp.add_header(Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
                }
                let _ = req.respond(resp);
            }
        });
        Recorder { port, seen }
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}
