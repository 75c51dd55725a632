//! https for the local image server: a certificate made at its start (rcgen), written whole
//! into the folder it was given for the client to trust, and a listener that does each
//! connection's TLS handshake (rustls) before axum sees it.

use contract::local_server::CERTIFICATE_FILE;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

/// How long a client may take over its handshake before its connection is dropped: the
/// handshakes are done one after another, so a silent client must not hold up the others.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// Makes a self-signed certificate for `127.0.0.1` and `localhost`, writes it (PEM) whole to
/// `folder/ca.pem` (under another name first, then renamed, so that a reader never finds half
/// of it), and returns the TLS configuration that serves it.
pub fn certificate_in(folder: &Path) -> Result<Arc<ServerConfig>, String> {
    let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    let path = folder.join(CERTIFICATE_FILE);
    let partial = folder.join(format!(".{CERTIFICATE_FILE}.part"));
    std::fs::write(&partial, made.cert.pem())
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    let chain = vec![CertificateDer::from(made.cert.der().to_vec())];
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(key))
        .map_err(|e| format!("cannot serve the certificate: {e}"))?;
    Ok(Arc::new(config))
}

/// A TCP listener whose connections come out of their TLS handshake.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // A failed accept (out of descriptors) or handshake (a client that does not
            // trust the certificate hangs up) costs that connection only.
            let Ok((stream, address)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let handshake = tokio::time::timeout(HANDSHAKE_LIMIT, self.acceptor.accept(stream));
            if let Ok(Ok(tls)) = handshake.await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
