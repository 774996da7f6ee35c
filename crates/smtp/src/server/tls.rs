//! The certificate behind STARTTLS (RFC 3207): rustls with the `ring` provider, a
//! certificate and key from PEM files, or a self-signed pair generated once and kept.
//!
//! A gateway in front of a mail server mostly talks to MTAs that encrypt opportunistically
//! and do not check certificates (RFC 7435), so a self-signed certificate made at first
//! start is a useful default: the channel is encrypted, and an operator who wants a real
//! certificate sets `tls_cert`/`tls_key`. The pair is kept in the data dir and reused, so
//! it does not change on every restart (which would break clients that pin it, e.g. DANE).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Installs rustls' process-wide crypto provider (`ring`) unless one is installed already.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // A concurrent caller may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// What went wrong loading or making the certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file has no usable PEM item of the kind wanted.
    #[error("no PEM {what} in {path}: {message}")]
    Pem {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The PEM parser's complaint.
        message: String,
    },
    /// rustls refuses the certificate and key (a key that does not match, say).
    #[error("unusable certificate {cert} with key {key}")]
    Config {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// The self-signed certificate could not be generated.
    #[error("cannot generate a self-signed certificate for {hostname}")]
    Generate {
        /// The name it was for.
        hostname: String,
        /// Why.
        #[source]
        source: rcgen::Error,
    },
    /// The self-signed certificate or its key could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The server side of STARTTLS: a rustls configuration, cheap to clone.
#[derive(Clone)]
pub struct TlsAcceptor {
    inner: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

impl TlsAcceptor {
    /// Loads a certificate chain and its private key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
        let read = |path: &Path| {
            fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let (cert_pem, key_pem) = (read(cert)?, read(key)?);
        let pem_error = |what, path: &Path, e: rustls::pki_types::pem::Error| TlsError::Pem {
            what,
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("certificate", cert, e))?;
        if chain.is_empty() {
            let e = rustls::pki_types::pem::Error::NoItemsFound;
            return Err(pem_error("certificate", cert, e));
        }
        let private = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| pem_error("private key", key, e))?;
        install_crypto_provider();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|source| TlsError::Config {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
                source,
            })?;
        Ok(TlsAcceptor {
            inner: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Loads `dir/cert.pem` and `dir/key.pem`, first generating a self-signed pair for
    /// `hostname` there when either is missing (the key is written with mode 0600).
    pub fn self_signed(dir: &Path, hostname: &str) -> Result<TlsAcceptor, TlsError> {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        if !(cert.is_file() && key.is_file()) {
            generate(dir, hostname, &cert, &key)?;
        }
        TlsAcceptor::from_pem_files(&cert, &key)
    }

    /// Runs the server side of the handshake on `tcp`.
    pub(crate) async fn accept(&self, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        self.inner.accept(tcp).await
    }
}

/// Writes a new self-signed certificate and key; each file appears whole or not at all.
fn generate(dir: &Path, hostname: &str, cert: &Path, key: &Path) -> Result<(), TlsError> {
    let made =
        rcgen::generate_simple_self_signed(vec![hostname.to_string()]).map_err(|source| {
            TlsError::Generate {
                hostname: hostname.to_string(),
                source,
            }
        })?;
    fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Key first: a crash in between leaves no certificate, so the next start makes both.
    write_private(key, made.signing_key.serialize_pem().as_bytes(), 0o600)?;
    write_private(cert, made.cert.pem().as_bytes(), 0o644)?;
    Ok(())
}

/// Writes `path` through a temporary file created with `mode`, fsync'd, then renamed.
fn write_private(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let tmp = path.with_extension("pem.tmp");
    let wrap = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(wrap)?;
    file.write_all(bytes).map_err(wrap)?;
    file.sync_all().map_err(wrap)?;
    fs::rename(&tmp, path).map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pair_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        TlsAcceptor::self_signed(&tls, "mx.example.org").unwrap();
        let first = fs::read(tls.join("cert.pem")).unwrap();
        assert!(first.starts_with(b"-----BEGIN CERTIFICATE-----"));
        TlsAcceptor::self_signed(&tls, "mx.example.org").unwrap();
        assert_eq!(fs::read(tls.join("cert.pem")).unwrap(), first, "reused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(tls.join("key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn missing_and_empty_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let err = TlsAcceptor::from_pem_files(&cert, &key).unwrap_err();
        assert!(err.to_string().starts_with("cannot read "), "{err}");
        fs::write(&cert, "not pem").unwrap();
        fs::write(&key, "not pem").unwrap();
        let err = TlsAcceptor::from_pem_files(&cert, &key).unwrap_err();
        assert!(
            err.to_string().starts_with("no PEM certificate in "),
            "{err}"
        );
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        TlsAcceptor::self_signed(&dir.path().join("a"), "a.example.org").unwrap();
        TlsAcceptor::self_signed(&dir.path().join("b"), "b.example.org").unwrap();
        let err = TlsAcceptor::from_pem_files(
            &dir.path().join("a/cert.pem"),
            &dir.path().join("b/key.pem"),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("unusable certificate"), "{err}");
    }
}
