//! Registries that have the referrers API (distribution spec 1.1): the Debian registry does not,
//! so a small in-process front adds it, proxying everything else to the real registry. A
//! manifest pushed with a `subject` is answered with `OCI-Subject` and remembered; `GET
//! /v2/<repo>/referrers/<digest>` answers with the image index of those remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tiny_http::{Header, Response, Server};

use crate::cmd_manifest::seed_image;
use crate::harness::{Sandbox, registry};
use crate::servers::forward;

/// Referrers known to the front: subject digest -> referrer descriptors.
type Known = Arc<Mutex<HashMap<String, Vec<Value>>>>;

struct ReferrersFront {
    port: u16,
    /// Request lines (`METHOD path`) the front received.
    seen: Arc<Mutex<Vec<String>>>,
}

impl ReferrersFront {
    fn start(registry_port: u16) -> ReferrersFront {
        let server = Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let known: Known = Arc::new(Mutex::new(HashMap::new()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let url = req.url().to_owned();
                let method = req.method().to_string();
                log.lock().unwrap().push(format!("{method} {url}"));
                if method == "GET"
                    && let Some((_, rest)) = url.split_once("/referrers/")
                {
                    let subject = rest.split('?').next().unwrap_or(rest);
                    let manifests = known
                        .lock()
                        .unwrap()
                        .get(subject)
                        .cloned()
                        .unwrap_or_default();
                    let body = json!({
                        "schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": manifests,
                    });
                    let resp = Response::from_data(body.to_string().into_bytes()).with_header(
                        Header::from_bytes(
                            "Content-Type",
                            "application/vnd.oci.image.index.v1+json",
                        )
                        .unwrap(),
                    );
                    let _ = req.respond(resp);
                    continue;
                }
                let mut body = Vec::new();
                let _ = req.as_reader().read_to_end(&mut body);
                let mut subject_header = None;
                if method == "PUT" && url.contains("/manifests/") {
                    let content_type = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Content-Type"))
                        .map(|h| h.value.as_str().to_owned())
                        .unwrap_or_default();
                    if let Ok(m) = serde_json::from_slice::<Value>(&body)
                        && let Some(subject) = m["subject"]["digest"].as_str()
                    {
                        let digest = format!("sha256:{}", crate::harness::sha256_hex(&body));
                        let artifact_type = m["artifactType"]
                            .as_str()
                            .or(m["config"]["mediaType"].as_str())
                            .unwrap_or_default();
                        let mut desc = json!({
                            "mediaType": content_type,
                            "digest": digest,
                            "size": body.len(),
                            "artifactType": artifact_type,
                        });
                        if m["annotations"].is_object() {
                            desc["annotations"] = m["annotations"].clone();
                        }
                        let mut all = known.lock().unwrap();
                        let list = all.entry(subject.to_owned()).or_default();
                        if !list.iter().any(|d| d["digest"] == desc["digest"]) {
                            list.push(desc);
                        }
                        subject_header = Some(subject.to_owned());
                    }
                }
                let mut resp = forward(&agent, registry_port, port, &req, body);
                if let Some(s) = &subject_header {
                    resp.add_header(Header::from_bytes("OCI-Subject", s.as_bytes()).unwrap());
                }
                let _ = req.respond(resp);
            }
        });
        ReferrersFront { port, seen }
    }

    fn reference(&self, repo_and_tag: &str) -> String {
        format!("localhost:{}/{repo_and_tag}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn a_registry_with_the_referrers_api_gets_no_tag_schema_index() {
    let registry = registry();
    let sandbox = Sandbox::new();
    let seeded = seed_image(registry, &sandbox, "referrers-api/app:v1");
    let front = ReferrersFront::start(registry.port());
    sandbox.write("sbom.json", "{}\n");

    let subject = front.reference("referrers-api/app:v1");
    let out = sandbox
        .oras()
        .args([
            "attach",
            "--artifact-type",
            "sbom/example",
            &subject,
            "sbom.json",
        ])
        .success();
    let referrer = format!("sha256:{}", out.digest_line());
    // The registry indexed it (OCI-Subject): no sha256-<hex> tag was written.
    let tags = sandbox
        .oras()
        .args(["repo", "tags", &registry.reference("referrers-api/app")])
        .success();
    assert_eq!(tags.stdout.trim(), "v1", "{tags}");
    assert!(
        !front
            .seen()
            .iter()
            .any(|l| l.contains("/manifests/sha256-")),
        "no tag-schema request expected: {:?}",
        front.seen()
    );

    // discover asks the referrers API, also when told to.
    for extra in [&[][..], &["--distribution-spec", "v1.1-referrers-api"][..]] {
        let out = sandbox
            .oras()
            .args(["discover", "--format", "json"])
            .args(extra)
            .arg(&subject)
            .success();
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["referrers"][0]["digest"], referrer.as_str(), "{out}");
        assert_eq!(v["referrers"][0]["artifactType"], "sbom/example", "{out}");
    }
    assert!(
        front
            .seen()
            .iter()
            .any(|l| l == &format!("GET /v2/referrers-api/app/referrers/{}", seeded.digest)),
        "{:?}",
        front.seen()
    );

    // cp -r from the API registry into the open registry (no API): the destination gets the
    // tag-schema index, which the open registry serves.
    let dst = registry.reference("referrers-api/copy:v1");
    sandbox.oras().args(["cp", "-r", &subject, &dst]).success();
    let out = sandbox
        .oras()
        .args([
            "discover",
            "--format",
            "go-template={{range .referrers}}{{println .digest}}{{end}}",
            &dst,
        ])
        .success();
    assert_eq!(out.stdout.trim(), referrer, "{out}");
    let tags = sandbox
        .oras()
        .args(["repo", "tags", &registry.reference("referrers-api/copy")])
        .success();
    assert!(
        tags.has_line(&seeded.digest.replacen(':', "-", 1)),
        "{tags}"
    );
}
