//! The OCI Distribution API: HTTP client with auth, the repository verbs, and the spec's error
//! envelope.

pub mod auth;
mod client;
mod error;
mod proxy;
mod repository;
pub mod retry;
mod tls;

pub use client::{Client, ClientOptions, Request, status_error as status_error_of};
pub use error::{ErrorEntry, RegistryError, parse_error_body};
pub use proxy::used_for as proxy_used_for;
pub use repository::{Repository, catalog};
pub use tls::{CertificateProblem, certificate_problem, has_certificates};
