//! TLS with `--ca-file`: a rustls configuration that trusts the file's certificates only, and
//! also accepts a server presenting one of those very certificates when it is marked as a CA.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::RegistryError;

/// The client configuration for `--ca-file` (`ca_pem`), with the client certificate and key of
/// `identity_pem` for mutual TLS. `None` when the file holds no certificate: there is nothing
/// to trust, and reqwest's own configuration (with no roots) refuses every server alike.
/// Whether `pem` holds at least one certificate, all of them readable (Go's `--ca-file`
/// check).
#[must_use]
pub fn has_certificates(pem: &[u8]) -> bool {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .is_ok_and(|certs| !certs.is_empty())
}

pub(super) fn client_config(
    ca_pem: &[u8],
    identity_pem: Option<&[u8]>,
) -> Result<Option<rustls::ClientConfig>, RegistryError> {
    let ca_error = |e: &dyn std::fmt::Display| {
        RegistryError::Protocol(format!("failed to load CA certificates: {e}"))
    };
    let trusted = CertificateDer::pem_slice_iter(ca_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ca_error(&"invalid certificate encoding"))?;
    if trusted.is_empty() {
        return Ok(None);
    }
    // As reqwest does: a process-wide provider if one was installed, else ring.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = TrustedCertificates::new(trusted, &provider).map_err(|e| ca_error(&e))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| RegistryError::Protocol(format!("failed to set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity_pem {
        Some(pem) => {
            let (chain, key) = parse_identity(pem).map_err(|e| {
                RegistryError::Protocol(format!("failed to load the client certificate: {e}"))
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                RegistryError::Protocol(format!("failed to load the client certificate: {e}"))
            })?
        }
        None => builder.with_no_client_auth(),
    };
    // What reqwest offers itself: it is built without its `http2` feature.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(config))
}

/// The certificate chain and private key of a PEM bundle (`--cert-file` then `--key-file`).
fn parse_identity(
    pem: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no certificate found".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| e.to_string())?;
    Ok((chain, key))
}

/// Web PKI verification against the `--ca-file` roots, with one exception: a server
/// certificate byte-identical to one in the file is accepted although it is a CA certificate
/// (as `openssl req -x509` makes them), since the user listed that very certificate. Go's
/// crypto/x509 and curl accept it too; webpki refuses a CA as an end entity.
#[derive(Debug)]
struct TrustedCertificates {
    inner: Arc<WebPkiServerVerifier>,
    trusted: Vec<CertificateDer<'static>>,
}

impl TrustedCertificates {
    fn new(
        trusted: Vec<CertificateDer<'static>>,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in &trusted {
            roots.add(cert.clone())?;
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        Ok(Self { inner, trusted })
    }
}

impl ServerCertVerifier for TrustedCertificates {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(e))
                if is_ca_used_as_end_entity(&e)
                    && self
                        .trusted
                        .iter()
                        .any(|t| t.as_ref() == end_entity.as_ref()) =>
            {
                // webpki checks the validity period before the CA flag, so reaching this error
                // means the certificate is valid now (a unit test pins that order). What it
                // did not check yet is the name.
                let cert = ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&cert, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// webpki's refusal of a CA certificate as the server's own, which rustls passes on as an
/// `Other` certificate error.
fn is_ca_used_as_end_entity(e: &CertificateError) -> bool {
    matches!(e, CertificateError::Other(other)
        if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity)))
}

/// Why a server certificate was refused, for the hint under a connection error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Not issued for the host name or address connected to.
    WrongName,
    /// Expired, or not valid yet.
    OutsideValidity,
    /// Not signed by a trusted CA.
    UnknownIssuer,
    /// A CA certificate served as the server's own, not among the trusted certificates.
    CaAsServerCertificate,
    /// Any other reason.
    Other,
}

/// The certificate problem behind a failed request, if a server certificate was refused.
#[must_use]
pub fn certificate_problem(e: &reqwest::Error) -> Option<CertificateProblem> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = cur {
        if let Some(rustls::Error::InvalidCertificate(e)) = cause.downcast_ref::<rustls::Error>() {
            return Some(match e {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => CertificateProblem::WrongName,
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => {
                    CertificateProblem::OutsideValidity
                }
                CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer,
                e if is_ca_used_as_end_entity(e) => CertificateProblem::CaAsServerCertificate,
                _ => CertificateProblem::Other,
            });
        }
        // An io::Error's `source()` skips the error it wraps (rustls's, in nested io::Errors
        // from the connector): step into it instead.
        cur = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => cause.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};

    use super::*;

    /// 2025-01-01, inside the 2020–2030 validity of the test certificates.
    const NOW: u64 = 1_735_689_600;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    /// A CA certificate for 127.0.0.1 and `localhost` valid 2020–2030, as `openssl req -x509`
    /// makes them; signed by `issuer`, or by itself.
    fn ca_cert(
        issuer: Option<&Issuer<'_, KeyPair>>,
    ) -> (CertificateDer<'static>, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2030, 1, 1);
        let cert = match issuer {
            Some(issuer) => params.signed_by(&key, issuer).unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        (cert.der().clone(), Issuer::new(params, key))
    }

    /// Verifies `served` for `name` at `now` against the file holding `trusted` alone.
    fn verify(
        trusted: &CertificateDer<'static>,
        served: &CertificateDer<'_>,
        name: &str,
        now: u64,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = TrustedCertificates::new(vec![trusted.clone()], &provider).unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier.verify_server_cert(served, &[], &name, &[], at(now))
    }

    fn certificate_error(result: Result<ServerCertVerified, rustls::Error>) -> CertificateError {
        match result {
            Err(rustls::Error::InvalidCertificate(e)) => e,
            other => panic!("expected a certificate error, got {other:?}"),
        }
    }

    #[test]
    fn a_trusted_self_signed_ca_certificate_is_accepted_for_its_names() {
        let (cert, _) = ca_cert(None);
        for name in ["127.0.0.1", "localhost"] {
            verify(&cert, &cert, name, NOW).unwrap();
        }
    }

    #[test]
    fn a_trusted_self_signed_ca_certificate_is_refused_for_another_name() {
        let (cert, _) = ca_cert(None);
        let e = certificate_error(verify(&cert, &cert, "other.test", NOW));
        assert!(
            matches!(e, CertificateError::NotValidForNameContext { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn a_trusted_self_signed_ca_certificate_is_refused_outside_its_validity() {
        // Pins webpki checking the validity period before the CA flag, which the exception
        // relies on.
        let (cert, _) = ca_cert(None);
        let e = certificate_error(verify(&cert, &cert, "127.0.0.1", 1_924_992_000));
        assert!(
            matches!(e, CertificateError::ExpiredContext { .. }),
            "{e:?}"
        );
        let e = certificate_error(verify(&cert, &cert, "127.0.0.1", 1_546_300_800));
        assert!(
            matches!(e, CertificateError::NotValidYetContext { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn a_ca_certificate_not_itself_in_the_file_is_refused() {
        let (root, issuer) = ca_cert(None);
        let (sub_ca, _) = ca_cert(Some(&issuer));
        let e = certificate_error(verify(&root, &sub_ca, "127.0.0.1", NOW));
        assert!(is_ca_used_as_end_entity(&e), "{e:?}");
        let (other, _) = ca_cert(None);
        let e = certificate_error(verify(&other, &sub_ca, "127.0.0.1", NOW));
        assert!(is_ca_used_as_end_entity(&e), "{e:?}");
    }

    #[test]
    fn ca_files_without_certificates_or_with_bad_ones() {
        assert!(client_config(b"", None).unwrap().is_none());
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        let e = client_config(bad, None).unwrap_err();
        assert!(
            e.to_string().starts_with("failed to load CA certificates"),
            "{e}"
        );
    }
}
