//! Registry errors, decoded from the distribution spec's JSON error envelope.

use std::fmt;

use serde::Deserialize;

/// One entry of `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

impl fmt::Display for ErrorEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.to_lowercase().replace('_', " ");
        match (code.is_empty(), self.message.is_empty()) {
            (false, false) => write!(f, "{code}: {}", self.message)?,
            (false, true) => f.write_str(&code)?,
            (true, _) => f.write_str(&self.message)?,
        }
        match &self.detail {
            None | Some(serde_json::Value::Null) => Ok(()),
            Some(serde_json::Value::String(s)) if s.is_empty() => Ok(()),
            Some(detail) => write!(f, ": {}", go_value(detail)),
        }
    }
}

/// A JSON value as Go's `%v` prints the `any` it decodes to, which is how the Go client shows
/// an error's detail: `map[name:x]` for objects (keys sorted), `[a b]` for arrays, strings
/// unquoted, `<nil>` for null.
fn go_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

/// Parses an error body; anything that is not the spec's envelope yields no entries.
#[must_use]
pub fn parse_error_body(body: &[u8]) -> Vec<ErrorEntry> {
    serde_json::from_slice::<Envelope>(body)
        .map(|e| e.errors)
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered with an error status. Displayed as the Go client does: the decoded
    /// errors when there are some, else the request line and status.
    #[error("{}", render_status(.method, .url, *.status, .errors))]
    Status {
        method: String,
        url: String,
        status: u16,
        errors: Vec<ErrorEntry>,
    },
    #[error("{0}: not found")]
    NotFound(String),
    /// Not found, with why: `<subject>: not found: <why>` (oras-go wraps `ErrNotFound` so).
    #[error("{subject}: not found: {why}")]
    NotFoundBecause { subject: String, why: String },
    #[error("basic credential not found")]
    BasicCredentialNotFound,
    #[error("failed to connect to {url}: {}", cause_text(.source))]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
        /// Whether the server's certificate was checked against `--ca-file` rather than the
        /// system's roots (the hint then says what is wrong instead of suggesting the flag).
        ca_file: bool,
    },
    #[error("{0}")]
    Protocol(String),
    /// The credential store failed when the registry asked for credentials.
    #[error(transparent)]
    Credential(crate::credentials::CredentialError),
    /// No bytes moved for too long; worth a fresh attempt.
    #[error("{0}")]
    Stalled(String),
    /// The content being uploaded could not be read (the source of a copy broke off, a file
    /// failed): not the registry's doing, and a fresh attempt reads it again.
    #[error("{0}")]
    ContentRead(String),
}

impl RegistryError {
    /// True for errors the registry itself reported, which the CLI prefixes with
    /// `Error response from registry:`.
    #[must_use]
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Self::Status { .. } | Self::NotFound(_) | Self::NotFoundBecause { .. }
        )
    }

    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::NotFound(_) | Self::NotFoundBecause { .. } => Some(404),
            _ => None,
        }
    }
}

/// The causes under a transport error, without reqwest's own "error sending request" wrapper.
fn cause_text(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p: &String| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    if parts.is_empty() {
        let s = e.to_string();
        return if e.is_timeout() {
            format!("{s} (timed out)")
        } else {
            s
        };
    }
    parts.join(": ")
}

fn render_status(method: &str, url: &str, status: u16, errors: &[ErrorEntry]) -> String {
    if errors.is_empty() {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        format!("{method} {url:?}: response status code {status}: {reason}")
    } else {
        let text = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        // The registry's words stay on the error's one line: a newline in a message would
        // print lines of the registry's choosing (`Error: …`) under it.
        if text.contains(['\n', '\r']) {
            text.replace('\n', "\\n").replace('\r', "\\r")
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"r","Action":"pull"}]},{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#;
        let e = RegistryError::Status {
            method: "GET".into(),
            url: "http://x/v2/".into(),
            status: 401,
            errors: parse_error_body(body),
        };
        assert_eq!(
            e.to_string(),
            "unauthorized: authentication required: [map[Action:pull Name:r Type:repository]]; name unknown: repository name not known to registry"
        );
        let detail = |json: &str| ErrorEntry {
            code: "X".into(),
            message: "m".into(),
            detail: Some(serde_json::from_str(json).unwrap()),
        };
        for (json, shown) in [
            (r#"{"name":"a/b","tag":"v1"}"#, "x: m: map[name:a/b tag:v1]"),
            (r#"[1,2.5,true,null,"s"]"#, "x: m: [1 2.5 true <nil> s]"),
            (r#"{"b":{"c":[]},"a":""}"#, "x: m: map[a: b:map[c:[]]]"),
            (r#""""#, "x: m"),
        ] {
            assert_eq!(detail(json).to_string(), shown, "{json}");
        }
        let e = RegistryError::Status {
            method: "GET".into(),
            url: "http://x/v2/".into(),
            status: 401,
            errors: parse_error_body(b"not json"),
        };
        assert_eq!(
            e.to_string(),
            r#"GET "http://x/v2/": response status code 401: Unauthorized"#
        );
    }
}
