//! The repository verbs of the distribution spec: blobs (HEAD, GET, upload), manifests
//! (GET, PUT) and tags.

use std::sync::Arc;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::client::{Client, Request, read_limited, status_error};
use super::error::RegistryError;
use super::retry;
use crate::oci::{Descriptor, Digest, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES};

pub struct Repository {
    client: Arc<Client>,
    /// `<registry>/<repository>` as the user typed it, for messages.
    display: String,
    name: String,
    /// Scope hints so one token covers every request of a command (pull or pull+push).
    scope: String,
    /// Manifests (and tag lists) larger than this are refused.
    max_manifest: u64,
    /// The manifest media types asked for (`Accept`); every known type unless narrowed.
    manifest_accept: String,
    /// Upload sessions opened and not yet completed or cancelled, by path, with their latest
    /// location: what `cancel_open_uploads` ends when a command gives up part-way.
    open_uploads: std::sync::Mutex<std::collections::HashMap<String, Url>>,
}

impl Repository {
    #[must_use]
    pub fn new(client: Arc<Client>, registry: &str, name: &str, push: bool) -> Self {
        let actions = if push { "pull,push" } else { "pull" };
        Self {
            client,
            display: format!("{registry}/{name}"),
            name: name.to_owned(),
            scope: format!("repository:{name}:{actions}"),
            max_manifest: MAX_MANIFEST_BYTES,
            manifest_accept: MANIFEST_ACCEPT.join(", "),
            open_uploads: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Records where an upload session now continues (`None`: it ended).
    fn track_upload(&self, previous: Option<&Url>, now: Option<&Url>) {
        let mut open = self
            .open_uploads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(previous) = previous {
            open.remove(previous.path());
        }
        if let Some(now) = now {
            open.insert(now.path().to_owned(), now.clone());
        }
    }

    /// Cancels every upload session still open: those of uploads that were dropped half-way
    /// because another one failed (each failed upload cancels its own).
    pub async fn cancel_open_uploads(&self) {
        let open: Vec<Url> = self
            .open_uploads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain()
            .map(|(_, location)| location)
            .collect();
        futures_util::future::join_all(open.iter().map(|location| self.cancel_upload(location)))
            .await;
    }

    /// Asks for manifests of these media types only (`manifest fetch --media-type`): the
    /// registry chooses among them, or answers that it has none of them.
    pub fn set_manifest_accept(&mut self, types: &[String]) {
        if !types.is_empty() {
            self.manifest_accept = types.join(", ");
        }
    }

    /// Accepts manifests up to `bytes` instead of the default 4 MiB.
    #[must_use]
    pub fn with_max_manifest(mut self, bytes: u64) -> Self {
        self.max_manifest = bytes;
        self
    }

    #[must_use]
    pub fn display(&self) -> &str {
        &self.display
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registry as the reference named it.
    #[must_use]
    pub fn registry(&self) -> &str {
        self.display
            .strip_suffix(&self.name)
            .and_then(|r| r.strip_suffix('/'))
            .unwrap_or(&self.display)
    }

    fn url(&self, tail: &str) -> Url {
        self.client.url(&format!("/v2/{}/{tail}", self.name))
    }

    /// `/v2/<name>/manifests/<reference>`, for a reference that is a digest or a tag. A tag
    /// can come from a backup, a layout or a registry's tag list; anything else (`..`, `/`,
    /// `?`) would land the request elsewhere once the URL is normalised, such as a PUT into
    /// another repository with the user's credentials.
    fn manifest_url(&self, reference: &str) -> Result<Url, RegistryError> {
        if reference.parse::<Digest>().is_err() && !crate::reference::is_valid_tag(reference) {
            return Err(RegistryError::Protocol(format!(
                "{}: invalid tag {reference:?}: a tag is 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'",
                self.display
            )));
        }
        Ok(self.url(&format!("manifests/{reference}")))
    }

    fn request(&self, method: Method, url: Url) -> Request {
        Request::new(method, url).scope(self.scope.clone())
    }

    /// `HEAD /v2/<name>/blobs/<digest>`: true when the registry has the blob.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self
            .client
            .send(self.request(Method::HEAD, url.clone()))
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&Method::HEAD, &url, resp).await),
        }
    }

    /// `HEAD /v2/<name>/blobs/<digest>`: the blob's descriptor (size from `Content-Length`),
    /// or `None` when the registry does not have it.
    pub async fn stat_blob(&self, digest: &Digest) -> Result<Option<Descriptor>, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self
            .client
            .send(self.request(Method::HEAD, url.clone()))
            .await?;
        match resp.status() {
            s if s.is_success() => {
                let size = resp
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Ok(Some(Descriptor::new(
                    "application/octet-stream",
                    digest.clone(),
                    size,
                )))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(status_error(&Method::HEAD, &url, resp).await),
        }
    }

    /// `DELETE /v2/<name>/{manifests|blobs}/<digest>`.
    pub async fn delete(&self, kind: &str, digest: &Digest) -> Result<(), RegistryError> {
        let url = self.url(&format!("{kind}/{digest}"));
        let req = self
            .request(Method::DELETE, url.clone())
            .scope(format!("repository:{}:delete", self.name));
        let resp = self.client.send(req).await?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(RegistryError::NotFound(format!(
                "{}@{digest}",
                self.display
            ))),
            _ => Err(status_error(&Method::DELETE, &url, resp).await),
        }
    }

    /// Cross-repository mount (`POST ?mount=<digest>&from=<repo>`): true when the registry
    /// linked the blob without any upload.
    pub async fn mount_blob(&self, digest: &Digest, from: &str) -> Result<bool, RegistryError> {
        let mut url = self.url("blobs/uploads/");
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let req = self
            .request(Method::POST, url.clone())
            .scope(format!("repository:{from}:pull"));
        let resp = self.client.send(req).await?;
        if resp.status() == StatusCode::ACCEPTED {
            // The registry opened an ordinary upload instead; the caller uploads afresh.
            if let Ok(location) =
                upload_location(&url, resp.headers(), |u| self.client.to_connected(u))
            {
                self.cancel_upload(&location).await;
            }
        }
        Ok(resp.status() == StatusCode::CREATED)
    }

    /// `GET /v2/<name>/blobs/<digest>`, following redirects (without credentials to other
    /// hosts), from byte `offset` on (a `Range` request answered with 206). The body is
    /// returned as a stream; the caller verifies it.
    pub async fn fetch_blob(
        &self,
        desc: &Descriptor,
        offset: u64,
    ) -> Result<reqwest::Response, RegistryError> {
        let url = self.url(&format!("blobs/{}", desc.digest));
        let mut req = self.request(Method::GET, url.clone());
        if offset > 0 {
            req = req.header(header::RANGE, &format!("bytes={offset}-"));
        }
        let resp = self.client.send(req).await?;
        match resp.status() {
            StatusCode::OK if offset == 0 => {}
            StatusCode::PARTIAL_CONTENT if offset > 0 => {
                let start = resp
                    .headers()
                    .get(header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(offset) {
                    return Err(RegistryError::Protocol(format!(
                        "{}: resumed download answered from the wrong offset",
                        desc.digest
                    )));
                }
                return Ok(resp);
            }
            StatusCode::OK => {
                // Appending a full body to the prefix already written would corrupt the blob.
                return Err(RegistryError::Protocol(format!(
                    "{}: the registry ignored the Range request; cannot resume",
                    desc.digest
                )));
            }
            StatusCode::NOT_FOUND => {
                return Err(RegistryError::NotFound(format!(
                    "{}@{}",
                    self.display, desc.digest
                )));
            }
            _ => return Err(status_error(&Method::GET, &url, resp).await),
        }
        if let Some(len) = resp.content_length()
            && len != desc.size
        {
            return Err(RegistryError::Protocol(format!(
                "{}: mismatch Content-Length: expected {}, got {len}",
                desc.digest, desc.size
            )));
        }
        if let Some(d) = resp.headers().get("docker-content-digest")
            && d.to_str().ok() != Some(desc.digest.to_string().as_str())
        {
            return Err(RegistryError::Protocol(format!(
                "{}: mismatched Docker-Content-Digest header {:?}",
                desc.digest, d
            )));
        }
        Ok(resp)
    }

    /// Opens an upload session (`POST`): its location and the registry's minimum chunk size
    /// (`OCI-Chunk-Min-Length`), if it names one.
    pub async fn start_upload(&self) -> Result<(Url, Option<u64>), RegistryError> {
        let start = self.url("blobs/uploads/");
        let resp = self
            .client
            .send(self.request(Method::POST, start.clone()))
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&Method::POST, &start, resp).await);
        }
        let min_chunk = resp
            .headers()
            .get("oci-chunk-min-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let location = upload_location(&start, resp.headers(), |u| self.client.to_connected(u))?;
        self.track_upload(None, Some(&location));
        Ok((location, min_chunk))
    }

    /// Uploads a blob monolithically: `POST` opens a session, one streaming `PUT ?digest=`
    /// completes it.
    pub async fn push_blob(
        &self,
        desc: &Descriptor,
        body: reqwest::Body,
    ) -> Result<(), RegistryError> {
        let (location, _) = self.start_upload().await?;
        let result = self.finish_upload(location.clone(), desc, Some(body)).await;
        if result.is_err() {
            self.cancel_upload(&location).await;
        }
        result
    }

    /// Abandons an upload session (`DELETE` on its location), so the registry can free it at
    /// once (distribution spec: clients SHOULD). Best effort, and brief: the upload's own error
    /// is what gets reported.
    pub async fn cancel_upload(&self, location: &Url) {
        let request = self
            .client
            .send(self.request(Method::DELETE, location.clone()));
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), request).await;
        // Only now: a cancel dropped half-way (its push gave up on a sibling's error first)
        // leaves the session to `cancel_open_uploads`.
        self.track_upload(Some(location), None);
    }

    /// Sends one chunk (`PATCH` with `Content-Range: <start>-<end>`) and returns the location
    /// for the next request.
    pub async fn upload_chunk(
        &self,
        location: &Url,
        start: u64,
        len: u64,
        body: reqwest::Body,
    ) -> Result<Url, RegistryError> {
        self.patch(
            location,
            len,
            Some(format!("{start}-{}", start + len - 1)),
            body,
        )
        .await
    }

    /// Streams a whole blob into an upload session with one `PATCH` (no `Content-Range`: the
    /// spec's streamed upload), before its digest is known; returns the next location.
    pub async fn upload_stream(
        &self,
        location: &Url,
        len: u64,
        body: reqwest::Body,
    ) -> Result<Url, RegistryError> {
        self.patch(location, len, None, body).await
    }

    async fn patch(
        &self,
        location: &Url,
        len: u64,
        range: Option<String>,
        body: reqwest::Body,
    ) -> Result<Url, RegistryError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if let Some(range) = range {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&range)
                    .map_err(|e| RegistryError::Protocol(e.to_string()))?,
            );
        }
        let resp = self
            .client
            .send_stream(
                Method::PATCH,
                location.clone(),
                headers,
                std::slice::from_ref(&self.scope),
                body,
            )
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&Method::PATCH, location, resp).await);
        }
        let next = upload_location(location, resp.headers(), |u| self.client.to_connected(u))?;
        self.track_upload(Some(location), Some(&next));
        Ok(next)
    }

    /// Completes an upload with `PUT ?digest=`, carrying the remaining bytes if any.
    pub async fn finish_upload(
        &self,
        mut location: Url,
        desc: &Descriptor,
        body: Option<reqwest::Body>,
    ) -> Result<(), RegistryError> {
        location
            .query_pairs_mut()
            .append_pair("digest", &desc.digest.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let (length, body) =
            body.map_or_else(|| (0, reqwest::Body::from(Vec::new())), |b| (desc.size, b));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        let resp = self
            .client
            .send_stream(
                Method::PUT,
                location.clone(),
                headers,
                std::slice::from_ref(&self.scope),
                body,
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, &location, resp).await);
        }
        self.track_upload(Some(&location), None);
        Ok(())
    }

    /// `GET /v2/<name>/manifests/<reference>` with every manifest type accepted. Returns the
    /// descriptor (digest computed from the bytes, and checked against a digest reference and
    /// the registry's `Docker-Content-Digest`) and the bytes.
    pub async fn fetch_manifest(
        &self,
        reference: &str,
    ) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        // The request itself is retried by the client; a body cut short is retried here.
        let mut attempt = 1;
        loop {
            match self.fetch_manifest_once(reference).await {
                Err(e @ RegistryError::Transport { .. }) if retry::is_retryable_exchange(&e) => {
                    let Some(wait) = retry::delay(attempt, None) else {
                        return Err(e);
                    };
                    retry::report(
                        &format!("GET manifest {reference}"),
                        &e.to_string(),
                        wait,
                        attempt,
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// `HEAD /v2/<name>/manifests/<reference>`: a manifest's descriptor without its body, as
    /// the Go client resolves (registries that meter pulls, such as Docker Hub, count GETs
    /// only). Falls back to `fetch_manifest` when a header it needs is missing, or when the
    /// digest sent does not match a digest reference.
    pub async fn resolve_manifest(&self, reference: &str) -> Result<Descriptor, RegistryError> {
        let resp = self.manifest_request(Method::HEAD, reference).await?;
        let headers = resp.headers();
        let digest = headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok())
            .filter(|d| reference.parse::<Digest>().is_err() || reference == d.to_string());
        let size = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match (digest, manifest_content_type(&resp), size) {
            (Some(digest), Some(media_type), Some(size)) => {
                Ok(Descriptor::new(media_type, digest, size))
            }
            _ => Ok(self.fetch_manifest(reference).await?.0),
        }
    }

    /// A manifest `GET` or `HEAD` answered 200; 404 becomes `NotFound`, others a status error.
    async fn manifest_request(
        &self,
        method: Method,
        reference: &str,
    ) -> Result<reqwest::Response, RegistryError> {
        let url = self.manifest_url(reference)?;
        let req = self
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, &self.manifest_accept);
        let resp = self.client.send(req).await?;
        match resp.status() {
            StatusCode::OK => Ok(resp),
            StatusCode::NOT_FOUND => {
                let sep = if reference.contains(':') { "@" } else { ":" };
                Err(RegistryError::NotFound(format!(
                    "{}{sep}{reference}",
                    self.display
                )))
            }
            _ => Err(status_error(&method, &url, resp).await),
        }
    }

    async fn fetch_manifest_once(
        &self,
        reference: &str,
    ) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let resp = self.manifest_request(Method::GET, reference).await?;
        let content_type = manifest_content_type(&resp);
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_limited(resp, self.max_manifest, "manifest").await?;
        let digest = Digest::of(&bytes);
        if let Ok(want) = reference.parse::<Digest>()
            && want != digest
        {
            return Err(RegistryError::Protocol(format!(
                "{}@{want}: mismatched digest: the manifest received has digest {digest}",
                self.display
            )));
        }
        if let Some(h) = header_digest
            && h.parse::<Digest>().is_ok_and(|h| h != digest)
            && reference.parse::<Digest>().is_ok()
        {
            return Err(RegistryError::Protocol(format!(
                "{}: Docker-Content-Digest {h} does not match the content {digest}",
                self.display
            )));
        }
        let media_type = content_type
            .or_else(|| media_type_field(&bytes))
            .unwrap_or_default();
        let desc = Descriptor::new(media_type, digest, bytes.len() as u64);
        Ok((desc, bytes))
    }

    /// `PUT /v2/<name>/manifests/<reference>` (a tag, or the digest to push untagged). True
    /// when the registry answered with `OCI-Subject`: it indexes referrers itself.
    pub async fn push_manifest(
        &self,
        desc: &Descriptor,
        bytes: &[u8],
        reference: &str,
    ) -> Result<bool, RegistryError> {
        let url = self.manifest_url(reference)?;
        let req = self
            .request(Method::PUT, url.clone())
            .header(header::CONTENT_TYPE, &desc.media_type)
            .body(bytes.to_vec());
        let resp = self.client.send(req).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, &url, resp).await);
        }
        if let Some(h) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            && h.parse::<Digest>().is_ok_and(|h| h != desc.digest)
        {
            return Err(RegistryError::Protocol(format!(
                "{}: registry computed digest {h} for manifest {}",
                self.display, desc.digest
            )));
        }
        Ok(resp.headers().contains_key("oci-subject"))
    }

    /// `GET /v2/<name>/referrers/<digest>`: the referrers listed, over every page of the
    /// referrers index (`Link` pagination, as for tags), or `None` when the registry has no
    /// referrers API (it answers 404, as Distribution 2.8 does).
    pub async fn referrers(
        &self,
        subject: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, RegistryError> {
        let mut pages = Pages::new(
            self.url(&format!("referrers/{subject}")),
            self.max_manifest,
            "referrers index",
        );
        let mut all = Vec::new();
        let mut first = true;
        while let Some(url) = pages.next_url()? {
            let req = self
                .request(Method::GET, url.clone())
                .header(header::ACCEPT, crate::oci::MEDIA_TYPE_INDEX);
            let resp = self.client.send(req).await?;
            match resp.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND if first => return Ok(None),
                _ => return Err(status_error(&Method::GET, &url, resp).await),
            }
            first = false;
            let body = pages.read(resp, |u| self.client.to_connected(u)).await?;
            let index = crate::oci::parse_index(&body).map_err(|e| {
                RegistryError::Protocol(format!(
                    "{}: invalid referrers index for {subject}: {e}",
                    self.display
                ))
            })?;
            all.extend(index.manifests);
        }
        Ok(Some(all))
    }

    /// `GET /v2/<name>/tags/list`, following `Link` pagination on the same origin; `last` (when
    /// not empty) asks for the tags after it, as the Go client passes `--last` on.
    pub async fn tags(&self, last: &str) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut first = self.url("tags/list");
        if !last.is_empty() {
            first.query_pairs_mut().append_pair("last", last);
        }
        let mut pages = Pages::new(first, self.max_manifest, "tag list");
        let mut all = Vec::new();
        while let Some(url) = pages.next_url()? {
            let resp = self
                .client
                .send(self.request(Method::GET, url.clone()))
                .await?;
            if !resp.status().is_success() {
                return Err(status_error(&Method::GET, &url, resp).await);
            }
            let body = pages.read(resp, |u| self.client.to_connected(u)).await?;
            let list: TagList = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Protocol(format!("invalid tag list: {e}")))?;
            all.extend(list.tags.unwrap_or_default());
        }
        Ok(all)
    }
}

/// `GET /v2/_catalog`, every page (`Link` pagination on the same origin), in the registry's
/// order; `last` (when not empty) asks for the names after it, as the Go client passes
/// `--last` on.
pub async fn catalog(client: &Client, last: &str) -> Result<Vec<String>, RegistryError> {
    #[derive(serde::Deserialize)]
    struct Catalog {
        #[serde(default)]
        repositories: Option<Vec<String>>,
    }
    let mut first = client.url("/v2/_catalog");
    if !last.is_empty() {
        first.query_pairs_mut().append_pair("last", last);
    }
    let mut pages = Pages::new(first, MAX_MANIFEST_BYTES, "repository list");
    let mut all = Vec::new();
    while let Some(url) = pages.next_url()? {
        let req = Request::new(Method::GET, url.clone()).scope("registry:catalog:*".to_owned());
        let resp = client.send(req).await?;
        if !resp.status().is_success() {
            return Err(status_error(&Method::GET, &url, resp).await);
        }
        let body = pages.read(resp, |u| client.to_connected(u)).await?;
        let list: Catalog = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Protocol(format!("invalid repository list: {e}")))?;
        all.extend(list.repositories.unwrap_or_default());
    }
    Ok(all)
}

/// How many times the page limit all the pages of one list may take together: a registry
/// with a million tags fits, one that paginates forever does not.
const PAGES_BUDGET: u64 = 16;

/// Pages one list may span: 65 536 pages of a hundred tags each is more than any registry
/// holds, and a registry answering endless tiny pages is stopped.
const MAX_PAGES: usize = 65_536;

/// `Link` pagination (distribution spec, "Listing Tags"): the next page's URL comes from the
/// registry, so it is checked before it is asked for. It must stay on the registry's origin
/// (GHSA-h7vf-4x9w-h99v: a page pointing at another host would have the client send requests,
/// and credentials, wherever the registry says); a URL already asked for is a loop, and all the
/// pages together are bounded, so that a registry cannot keep the client reading forever.
struct Pages {
    next: Option<Url>,
    first: Url,
    seen: std::collections::HashSet<Url>,
    /// Bytes each page, and (times `PAGES_BUDGET`) all the pages, may have.
    limit: u64,
    read: u64,
    what: &'static str,
}

impl Pages {
    fn new(first: Url, limit: u64, what: &'static str) -> Self {
        Self {
            next: Some(first.clone()),
            first,
            seen: std::collections::HashSet::new(),
            limit,
            read: 0,
            what,
        }
    }

    /// The next page to ask for, if any.
    fn next_url(&mut self) -> Result<Option<Url>, RegistryError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if self.seen.contains(&url) {
            return Err(RegistryError::Protocol(format!(
                "the registry's {} pagination loops: the next page is {url} again",
                self.what
            )));
        }
        if self.seen.len() >= MAX_PAGES {
            return Err(RegistryError::Protocol(format!(
                "the registry's {} goes on for more than {MAX_PAGES} pages",
                self.what
            )));
        }
        self.seen.insert(url.clone());
        Ok(Some(url))
    }

    /// Reads one page, within the limits, and takes note of its `Link` to the next one.
    /// `connected` takes a URL on the registry's public name back to the address connected to
    /// (`--resolve` with another port), as for upload locations.
    async fn read(
        &mut self,
        resp: reqwest::Response,
        connected: impl Fn(Url) -> Url,
    ) -> Result<Vec<u8>, RegistryError> {
        let current = resp.url().clone();
        let next = next_link(resp.headers())
            .map(|raw| {
                current.join(&raw).map(&connected).map_err(|e| {
                    RegistryError::Protocol(format!(
                        "invalid next-page Link {raw:?} in the {}: {e}",
                        self.what
                    ))
                })
            })
            .transpose()?;
        let body = read_limited(resp, self.limit, self.what).await?;
        self.read += body.len() as u64;
        if self.read > self.limit.saturating_mul(PAGES_BUDGET) {
            return Err(RegistryError::Protocol(format!(
                "{} exceeds the limit of {} bytes over {} pages (raise it with --max-manifest-size)",
                self.what,
                self.limit.saturating_mul(PAGES_BUDGET),
                self.seen.len()
            )));
        }
        if let Some(next) = &next
            && next.origin() != self.first.origin()
        {
            return Err(RegistryError::Protocol(format!(
                "refusing the {} page at {} on another origin than {}",
                self.what,
                super::client::display_url(next),
                self.first.origin().ascii_serialization()
            )));
        }
        self.next = next;
        Ok(body)
    }
}

/// The target of the `Link: <url>; rel="next"` entry, if the header has one. Other relations
/// (`prev`, `first`, `last`) are not followed; an entry without any `rel`, as the Go client
/// reads the header, is taken for the next page.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let mut parts = link.split(';');
            let target = parts.next()?.trim().strip_prefix('<')?.strip_suffix('>')?;
            let rels: Vec<&str> = parts
                .filter_map(|p| p.trim().strip_prefix("rel="))
                .flat_map(|rel| rel.trim_matches('"').split_ascii_whitespace())
                .collect();
            (rels.is_empty() || rels.iter().any(|r| r.eq_ignore_ascii_case("next")))
                .then(|| target.to_owned())
        })
}

/// Resolves an upload `Location` against the request URL and refuses one that moves to another
/// host or from https to http (GHSA-jxpm-75mh-9fp7).
/// `connected` takes a URL on the registry's public name back to the address connected to
/// (`--resolve` with another port).
fn upload_location(
    request: &Url,
    headers: &HeaderMap,
    connected: impl Fn(Url) -> Url,
) -> Result<Url, RegistryError> {
    let raw = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            RegistryError::Protocol("upload session without a Location header".into())
        })?;
    let location =
        connected(request.join(raw).map_err(|e| {
            RegistryError::Protocol(format!("invalid upload Location {raw:?}: {e}"))
        })?);
    if location.host_str() != request.host_str()
        || location.port_or_known_default() != request.port_or_known_default()
        || (request.scheme() == "https" && location.scheme() != "https")
    {
        return Err(RegistryError::Protocol(format!(
            "refusing upload location {location} on another host than {}",
            request.host_str().unwrap_or_default()
        )));
    }
    Ok(location)
}

/// A manifest response's media type from `Content-Type`, unless it is missing or generic (some
/// registries answer `application/json`; the manifest's own `mediaType` then says more).
fn manifest_content_type(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
        .filter(|t| !t.is_empty() && t != "application/json" && t != "text/plain")
}

fn media_type_field(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).ok()?.media_type
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_location_and_refuses_other_hosts() {
        let req = Url::parse("http://localhost:5000/v2/r/blobs/uploads/").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("/v2/r/blobs/uploads/abc?_state=x"),
        );
        assert_eq!(
            upload_location(&req, &h, |u| u).unwrap().as_str(),
            "http://localhost:5000/v2/r/blobs/uploads/abc?_state=x"
        );
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("http://evil:5000/v2/r/blobs/uploads/abc"),
        );
        assert!(upload_location(&req, &h, |u| u).is_err());
        let req = Url::parse("https://r.io/v2/r/blobs/uploads/").unwrap();
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("http://r.io/v2/r/blobs/uploads/abc"),
        );
        assert!(upload_location(&req, &h, |u| u).is_err());
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("https://r.io:443/up"),
        );
        assert!(upload_location(&req, &h, |u| u).is_ok());
    }

    #[test]
    fn follows_only_the_next_relation_of_a_link_header() {
        let cases: [(&str, Option<&str>); 6] = [
            (
                r#"</v2/r/tags/list?last=b>; rel="next""#,
                Some("/v2/r/tags/list?last=b"),
            ),
            (
                r"</v2/r/tags/list?last=b>; rel=next",
                Some("/v2/r/tags/list?last=b"),
            ),
            (r#"</p>; rel="prev", </n>; rel="next""#, Some("/n")),
            (r#"</p>; rel="prev""#, None),
            // As the Go client reads it: one link without a relation is the next page.
            (r"</n>", Some("/n")),
            (r#"/n; rel="next""#, None),
        ];
        for (value, want) in cases {
            let mut h = HeaderMap::new();
            h.insert(header::LINK, HeaderValue::from_str(value).unwrap());
            assert_eq!(next_link(&h).as_deref(), want, "{value}");
        }
    }
}
