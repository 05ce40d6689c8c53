//! TLS of the store clients (the S3 SDK, the redis crate): the check of a configured CA file,
//! and recognizing a TLS failure in a client's error (an untrusted certificate, a certificate
//! for another name, a server that does not speak TLS). Waiting does not cure these, so the
//! channels report them at once as configuration errors instead of retrying them as
//! unreachable servers.

/// The PEM file of certificates to trust (the config key `key`), checked as the clients will
/// read it (the S3 SDK panics on a certificate it cannot parse): at least one certificate, each
/// usable as a root.
pub(crate) fn trusted_pem(path: &std::path::Path, key: &str) -> crate::Result<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let bad = |why: String| crate::Error::config(format!("{key} {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(&pem) {
        let der = der.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        roots
            .add(der)
            .map_err(|e| bad(format!("unusable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate found".into()));
    }
    Ok(pem)
}

/// The rustls error among the causes of `e`, if any, looking inside `io::Error`s (whose
/// `source` skips the error they wrap) and shared errors (`Arc<dyn Error>`, as the redis crate
/// keeps its causes: the `Arc` is the source, and its own `source` skips what it holds).
pub(crate) fn rustls_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
        if let Some(shared) = err.downcast_ref::<Shared>() {
            cur = Some(&**shared as &(dyn std::error::Error + 'static));
            continue;
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The configuration error for a TLS failure with the server at `endpoint`; `hint` names the
/// keys to check.
pub(crate) fn error(endpoint: &str, cause: &rustls::Error, hint: &str) -> crate::Error {
    crate::Error::config(format!("TLS with {endpoint} failed: {cause} ({hint})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rustls_inside_io_errors_and_chains() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone());
        assert_eq!(rustls_cause(&io), Some(&tls));
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(rustls_cause(&Outer(io)), Some(&tls));
        let shared: std::sync::Arc<dyn std::error::Error + Send + Sync> = std::sync::Arc::new(
            std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone()),
        );
        #[derive(Debug)]
        struct Holder(std::sync::Arc<dyn std::error::Error + Send + Sync>);
        impl std::fmt::Display for Holder {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("io error")
            }
        }
        impl std::error::Error for Holder {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(rustls_cause(&Holder(shared)), Some(&tls));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(rustls_cause(&plain), None);
        let msg = error("https://h:1", &tls, "check it").to_string();
        assert!(
            msg.contains("https://h:1") && msg.contains("UnknownIssuer"),
            "{msg}"
        );
    }
}
