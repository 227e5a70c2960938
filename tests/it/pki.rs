//! Certificates for the TLS and token-auth registries, made with rcgen: a CA, a server
//! certificate for `localhost`/127.0.0.1 signed by it, a client certificate for mutual TLS, a
//! self-signed server certificate, and the token server's signing key with its self-signed
//! certificate. Everything is PEM in
//! memory; registries and tests write the files they need into their own directories.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A test CA with one server and one client certificate, as PEM.
pub struct Pki {
    pub ca_cert: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
    /// A lone self-signed server certificate for `localhost`/127.0.0.1, marked as a CA as
    /// `openssl req -x509 … -addext subjectAltName=…` makes it (basicConstraints CA:TRUE).
    pub self_signed_cert: String,
    pub self_signed_key: String,
}

impl Pki {
    pub fn generate() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "oras-rs test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        server_params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "oras-client");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

        let self_signed_key = KeyPair::generate().unwrap();
        let mut self_signed_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        self_signed_params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        self_signed_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        self_signed_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let self_signed_cert = self_signed_params.self_signed(&self_signed_key).unwrap();

        Pki {
            ca_cert: ca_cert.pem(),
            server_cert: server_cert.pem(),
            server_key: server_key.serialize_pem(),
            client_cert: client_cert.pem(),
            client_key: client_key.serialize_pem(),
            self_signed_cert: self_signed_cert.pem(),
            self_signed_key: self_signed_key.serialize_pem(),
        }
    }
}

/// Writes `pem` to `dir/name` and returns the path.
pub fn write_pem(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// The token server's ES256 signing key and its self-signed certificate (the registry's
/// `rootcertbundle`).
pub struct SigningKey {
    pub pkcs8: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "oras-rs test token issuer");
        let cert = params.self_signed(&key).unwrap();
        SigningKey {
            pkcs8: key.serialize_der(),
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }
}
