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
            Some(serde_json::Value::String(s)) => write!(f, ": {s}"),
            Some(other) => write!(f, ": {other}"),
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
    /// No bytes moved for too long; worth a fresh attempt.
    #[error("{0}")]
    Stalled(String),
}

impl RegistryError {
    /// True for errors the registry itself reported, which the CLI prefixes with
    /// `Error response from registry:`.
    #[must_use]
    pub fn is_response(&self) -> bool {
        matches!(self, Self::Status { .. } | Self::NotFound(_))
    }

    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::NotFound(_) => Some(404),
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
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
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
            r#"unauthorized: authentication required: [{"Action":"pull","Name":"r","Type":"repository"}]; name unknown: repository name not known to registry"#
        );
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
