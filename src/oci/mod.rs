//! OCI image-spec types (descriptors, manifests, indexes), media types and digests, serialised
//! exactly as the Go client does so that digests agree.

mod digest;
mod json;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub use digest::{Digest, DigestError, Hasher, HashingWriter};
pub use json::{indent_json, to_go_json, to_go_json_pretty};

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_TYPE_DOCKER_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_TYPE_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_UNKNOWN_CONFIG: &str = "application/vnd.unknown.config.v1+json";
pub const MEDIA_TYPE_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_UNKNOWN_ARTIFACT: &str = "application/vnd.unknown.artifact.v1";

pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const ANNOTATION_CONTENT_DIGEST: &str = "io.deis.oras.content.digest";
pub const ANNOTATION_UNPACK: &str = "io.deis.oras.content.unpack";

/// Every manifest type a pull accepts, in the Go client's `Accept` order.
pub const MANIFEST_ACCEPT: [&str; 5] = [
    MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_MANIFEST,
    MEDIA_TYPE_INDEX,
    MEDIA_TYPE_ARTIFACT_MANIFEST,
];

/// Manifests larger than this are refused (the Go client's limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// The two bytes `{}` that stand for "no config" and "no layer".
pub const EMPTY_JSON: &[u8] = b"{}";

pub type Annotations = BTreeMap<String, String>;

#[must_use]
pub fn is_manifest_type(media_type: &str) -> bool {
    MANIFEST_ACCEPT.contains(&media_type)
}

#[must_use]
pub fn is_index_type(media_type: &str) -> bool {
    media_type == MEDIA_TYPE_INDEX || media_type == MEDIA_TYPE_DOCKER_LIST
}

/// A media type as RFC 6838 restricts it (`type/subtype`), the check the Go client applies.
#[must_use]
pub fn is_valid_media_type(media_type: &str) -> bool {
    fn part(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.len() <= 127
            && chars.all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    }
    media_type
        .split_once('/')
        .is_some_and(|(t, s)| part(t) && part(s))
}

/// Field order follows the Go struct so serialised bytes match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    #[must_use]
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest,
            size,
            urls: None,
            annotations: None,
            data: None,
            platform: None,
            artifact_type: None,
        }
    }

    /// Describes `bytes` held in memory (manifests, small configs).
    #[must_use]
    pub fn for_bytes(media_type: impl Into<String>, bytes: &[u8]) -> Self {
        Self::new(media_type, Digest::of(bytes), bytes.len() as u64)
    }

    /// The image-spec v1.1 empty descriptor, with its bytes inlined as `data`.
    #[must_use]
    pub fn empty() -> Self {
        let mut d = Self::for_bytes(MEDIA_TYPE_EMPTY, EMPTY_JSON);
        d.data = Some(base64::engine::general_purpose::STANDARD.encode(EMPTY_JSON));
        d
    }

    #[must_use]
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    #[must_use]
    pub fn title(&self) -> Option<&str> {
        self.annotation(ANNOTATION_TITLE).filter(|t| !t.is_empty())
    }

    /// The name a status line shows: the title, else the media type.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.title().unwrap_or(&self.media_type)
    }

    /// True for the `{}` blob that only fills the config or layer slot.
    #[must_use]
    pub fn is_empty_json(&self) -> bool {
        self.media_type == MEDIA_TYPE_EMPTY
            && self.size == 2
            && self.digest == Digest::of(EMPTY_JSON)
    }

    /// The same descriptor without the fields a plain reference to content carries.
    #[must_use]
    pub fn plain(&self) -> Self {
        Self::new(self.media_type.clone(), self.digest.clone(), self.size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    // Go serialises a nil slice as `null`, but its packer always sets layers, so `[]` is right.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

/// Parses a manifest body, failing with a message that names what is wrong.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
    serde_json::from_slice(bytes)
}

pub fn parse_index(bytes: &[u8]) -> Result<Index, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// The tag under which a registry without the referrers API keeps the referrers of `subject`
/// (distribution spec "referrers tag schema"): `<algorithm>-<hex>`.
#[must_use]
pub fn referrers_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// What a manifest says about itself when it refers to another one: its `subject`, and the
/// descriptor that lists it among the subject's referrers (artifact type, falling back to the
/// config media type, and the manifest's annotations).
#[must_use]
pub fn referrer_of(desc: &Descriptor, bytes: &[u8]) -> Option<(Descriptor, Descriptor)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        artifact_type: Option<String>,
        config: Option<ConfigProbe>,
        subject: Option<Descriptor>,
        annotations: Option<Annotations>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ConfigProbe {
        media_type: Option<String>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    let subject = probe.subject?;
    let artifact_type = probe
        .artifact_type
        .filter(|t| !t.is_empty())
        .or_else(|| probe.config.and_then(|c| c.media_type));
    let mut referrer = desc.plain();
    referrer.artifact_type = artifact_type;
    referrer.annotations = probe.annotations.filter(|a| !a.is_empty());
    Some((subject, referrer))
}

/// An image index holding `manifests`, as the Go client writes one.
#[must_use]
pub fn index_of(manifests: Vec<Descriptor>) -> Index {
    Index {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.to_owned()),
        artifact_type: None,
        manifests,
        subject: None,
        annotations: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_descriptor_takes_the_artifact_type_or_the_config_type() {
        let subject = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;
        let with_type = format!(
            r#"{{"schemaVersion":2,"artifactType":"sbom/x","config":{{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[],"subject":{subject},"annotations":{{"k":"v"}}}}"#
        );
        let desc = Descriptor::for_bytes(MEDIA_TYPE_MANIFEST, with_type.as_bytes());
        let (s, r) = referrer_of(&desc, with_type.as_bytes()).unwrap();
        assert_eq!(s.size, 2);
        assert_eq!(r.artifact_type.as_deref(), Some("sbom/x"));
        assert_eq!(r.annotation("k"), Some("v"));
        let untyped = with_type.replace(r#""artifactType":"sbom/x","#, "");
        let (_, r) = referrer_of(&desc, untyped.as_bytes()).unwrap();
        assert_eq!(r.artifact_type.as_deref(), Some("a/b"));
        assert!(referrer_of(&desc, br#"{"schemaVersion":2}"#).is_none());
        assert_eq!(
            referrers_tag(&s.digest),
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn media_type_validation() {
        for ok in [
            "a/b",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "test/artifact+json",
        ] {
            assert!(is_valid_media_type(ok), "{ok}");
        }
        for bad in ["bad", "", "/x", "x/", "a/b/c", "a b/c", "-a/b"] {
            assert!(!is_valid_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn empty_descriptor_matches_go() {
        let bytes = to_go_json(&Descriptor::empty()).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}"#
        );
    }
}
