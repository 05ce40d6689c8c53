//! TLS between peers and the rendezvous server (rustls): configurations, and the blocking stream
//! type the client side uses for rendezvous and relay connections.

use crate::config::TlsClientConfig;
use crate::error::{Error, ErrorKind, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
#[cfg(feature = "tls")]
use std::sync::Arc;

/// A connection to the rendezvous server (or through its relay): plain TCP or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// The TCP socket underneath (for timeouts, addresses and poll).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::Tls(t) => &t.sock,
        }
    }

    /// Wraps `tcp` in TLS when `tls` is given (the handshake runs on first use).
    pub fn connect(tcp: TcpStream, tls: Option<&TlsClient>) -> Result<Stream> {
        match tls {
            None => Ok(Stream::Plain(tcp)),
            #[cfg(feature = "tls")]
            Some(t) => {
                let conn = rustls::ClientConnection::new(t.config.clone(), t.name.clone())
                    .map_err(|e| Error::channel(format!("TLS: {e}")))?;
                Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
            }
            #[cfg(not(feature = "tls"))]
            Some(t) => match t.never {},
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => t.flush(),
        }
    }
}

/// What a client needs to open TLS connections to the rendezvous server.
#[derive(Clone)]
pub struct TlsClient {
    #[cfg(feature = "tls")]
    config: Arc<rustls::ClientConfig>,
    #[cfg(feature = "tls")]
    name: rustls::pki_types::ServerName<'static>,
    #[cfg(not(feature = "tls"))]
    never: std::convert::Infallible,
}

impl TlsClient {
    /// Trusts the PEM certificates in `cfg.ca_file` and expects `cfg.server_name`.
    #[cfg(feature = "tls")]
    pub fn new(cfg: &TlsClientConfig) -> Result<Self> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let bad = |e: String| {
            Error::config(format!(
                "backends.Direct.tls_ca {}: {e}",
                cfg.ca_file.display()
            ))
        };
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&cfg.ca_file).map_err(|e| bad(e.to_string()))?;
        for c in certs {
            roots
                .add(c.map_err(|e| bad(e.to_string()))?)
                .map_err(|e| bad(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(bad("no certificate found".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name =
            rustls::pki_types::ServerName::try_from(cfg.server_name.clone()).map_err(|e| {
                Error::config(format!(
                    "backends.Direct.tls_server_name {:?}: {e}",
                    cfg.server_name
                ))
            })?;
        Ok(TlsClient {
            config: Arc::new(config),
            name,
        })
    }

    #[cfg(not(feature = "tls"))]
    pub fn new(_cfg: &TlsClientConfig) -> Result<Self> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "backends.Direct.tls: this libfmi was built without the `tls` feature",
        ))
    }
}

/// The server's TLS configuration from a PEM certificate chain and a PEM private key.
#[cfg(feature = "tls")]
pub fn server_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(&e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(&e))?;
    Ok(Arc::new(config))
}
