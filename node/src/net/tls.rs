//! libp2p's TLS 1.3 handshake (`/tls/1.0.0`) with a cipher order chosen for this CPU.
//!
//! Same wire protocol and certificates as `libp2p-tls` (built with
//! [`libp2p::tls::certificate`]): one self-signed certificate carrying the libp2p public key
//! extension, ALPN `libp2p`, no SNI, TLS 1.3 only, both sides authenticated. The one difference
//! is the order of the cipher suites we offer. `libp2p-tls` always puts ChaCha20-Poly1305 first;
//! on a CPU with AES and carry-less multiply instructions (x86-64 AES-NI + PCLMULQDQ, ARMv8
//! AES + PMULL: most PCs, the Raspberry Pi 5) AES-GCM is several times faster (measured here:
//! 8.5–9.4 GB/s against 1.15 GB/s), and ChaCha20 was the largest cost of a Bitswap transfer.
//! Without those instructions (Raspberry Pi 4) ChaCha20 stays first, where it is the faster.
//! As a server we follow the client's order, as Go's and rustls's servers do, so a client
//! without AES hardware still gets ChaCha20.

use super::coalesce::Coalesced;
use futures::future::BoxFuture;
use futures::io::BufReader;
use futures::{AsyncRead, AsyncWrite, FutureExt};
use libp2p::PeerId;
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::identity::Keypair;
use libp2p::tls::certificate;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::cipher_suite::{
    TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, CommonState, DigitallySignedStruct, DistinguishedName, SignatureScheme,
};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The stream a TLS upgrade yields: rustls' stream under a write buffer that turns each of the
/// muxer's frames into one write (see [`super::coalesce`]), over a read buffer on the socket
/// (see [`READ_BUFFER`]).
pub type TlsStream<C> = Coalesced<futures_rustls::TlsStream<BufReader<C>>>;

/// Bytes read from the socket at once. rustls asks its transport for 4 KiB at a time, so a
/// 16 KiB record took four or more `recv` syscalls; through this buffer a busy connection
/// makes one per 64 KiB.
pub const READ_BUFFER: usize = 64 << 10;

/// ALPN protocol id the libp2p TLS spec requires.
const ALPN: &[u8] = b"libp2p";

/// Which cipher suite we offer first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherOrder {
    /// AES-128-GCM, AES-256-GCM, then ChaCha20-Poly1305 (CPUs with AES instructions).
    AesFirst,
    /// ChaCha20-Poly1305, then AES-128-GCM and AES-256-GCM (CPUs without them).
    ChaChaFirst,
}

impl CipherOrder {
    /// The faster order on the CPU this process runs on.
    pub fn for_this_cpu() -> Self {
        if aes_hardware() {
            CipherOrder::AesFirst
        } else {
            CipherOrder::ChaChaFirst
        }
    }

    fn suites(self) -> Vec<rustls::SupportedCipherSuite> {
        match self {
            CipherOrder::AesFirst => vec![
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS13_CHACHA20_POLY1305_SHA256,
            ],
            CipherOrder::ChaChaFirst => vec![
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
            ],
        }
    }
}

/// Whether the CPU has the instructions that make AES-GCM fast (AES rounds and carry-less
/// multiplication for GHASH).
fn aes_hardware() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Why a TLS upgrade could not be built or failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate for our key could not be generated.
    #[error("cannot generate the TLS certificate: {0}")]
    Certificate(#[from] certificate::GenError),
    /// rustls refused the configuration (a bug: the suites and key are fixed).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// The handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    /// The remote's certificate is not a valid libp2p certificate.
    #[error("remote TLS certificate: {0}")]
    BadCertificate(#[from] certificate::ParseError),
}

/// The `/tls/1.0.0` security upgrade (see the module docs).
#[derive(Clone)]
pub struct TlsUpgrade {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

impl TlsUpgrade {
    /// The upgrade for `keypair` with the cipher order that is fastest on this CPU. Same
    /// signature as `libp2p::tls::Config::new`, so the swarm builder takes it in its place.
    pub fn new(keypair: &Keypair) -> Result<Self, TlsError> {
        Self::with_order(keypair, CipherOrder::for_this_cpu())
    }

    /// The upgrade for `keypair` offering cipher suites in `order`.
    pub fn with_order(keypair: &Keypair, order: CipherOrder) -> Result<Self, TlsError> {
        let provider = Arc::new(CryptoProvider {
            cipher_suites: order.suites(),
            ..rustls::crypto::aws_lc_rs::default_provider()
        });
        let verifier = Arc::new(Libp2pVerifier);
        let (cert, key) = certificate::generate(keypair)?;
        // Not `with_single_cert`: rustls would check the certificate with webpki, which
        // refuses the libp2p extension (it is marked critical).
        let own = Arc::new(OwnCertificate(Arc::new(rustls::sign::CertifiedKey::new(
            vec![cert],
            provider.key_provider.load_private_key(key)?,
        ))));
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier.clone())
            .with_cert_resolver(own.clone());
        server.alpn_protocols = vec![ALPN.to_vec()];
        // Every dial names the server 0.0.0.0 (no SNI), so a ticket from one peer would be
        // offered to the next: no resumption (libp2p connections are long-lived anyway).
        server.send_tls13_tickets = 0;
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(own);
        client.alpn_protocols = vec![ALPN.to_vec()];
        client.resumption = rustls::client::Resumption::disabled();
        Ok(TlsUpgrade {
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }
}

impl UpgradeInfo for TlsUpgrade {
    type Info = &'static str;
    type InfoIter = std::iter::Once<Self::Info>;

    fn protocol_info(&self) -> Self::InfoIter {
        std::iter::once("/tls/1.0.0")
    }
}

impl<C> InboundConnectionUpgrade<C> for TlsUpgrade
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, TlsStream<C>);
    type Error = TlsError;
    type Future = BoxFuture<'static, Result<Self::Output, TlsError>>;

    fn upgrade_inbound(self, socket: C, _: Self::Info) -> Self::Future {
        async move {
            let stream = futures_rustls::TlsAcceptor::from(self.server)
                .accept(BufReader::with_capacity(READ_BUFFER, socket))
                .await
                .map_err(TlsError::Handshake)?;
            let peer = remote_peer(stream.get_ref().1)?;
            Ok((peer, Coalesced::new(stream.into())))
        }
        .boxed()
    }
}

impl<C> OutboundConnectionUpgrade<C> for TlsUpgrade
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, TlsStream<C>);
    type Error = TlsError;
    type Future = BoxFuture<'static, Result<Self::Output, TlsError>>;

    fn upgrade_outbound(self, socket: C, _: Self::Info) -> Self::Future {
        async move {
            // The spec forbids SNI; rustls sends none for an IP address.
            let name = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::UNSPECIFIED).into());
            let stream = futures_rustls::TlsConnector::from(self.client)
                .connect(name, BufReader::with_capacity(READ_BUFFER, socket))
                .await
                .map_err(TlsError::Handshake)?;
            let peer = remote_peer(stream.get_ref().1)?;
            Ok((peer, Coalesced::new(stream.into())))
        }
        .boxed()
    }
}

/// The peer id in the (already verified) certificate the remote presented.
fn remote_peer(state: &CommonState) -> Result<PeerId, TlsError> {
    match state.peer_certificates() {
        Some([cert]) => Ok(certificate::parse(cert)?.peer_id()),
        _ => Err(TlsError::Handshake(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the remote must present exactly one certificate",
        ))),
    }
}

/// Presents our certificate to every peer, as client and as server.
#[derive(Debug)]
struct OwnCertificate(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for OwnCertificate {
    fn resolve(
        &self,
        _root_hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl rustls::server::ResolvesServerCert for OwnCertificate {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Accepts exactly one self-signed libp2p certificate (its signature over the host key and
/// the libp2p extension are checked by [`certificate::parse`]) and checks handshake
/// signatures with the certificate's key. Which peer it belongs to is the swarm's business
/// (it compares the dialed `/p2p/` id with the authenticated one).
#[derive(Debug)]
struct Libp2pVerifier;

impl Libp2pVerifier {
    fn check_chain(
        end_entity: &CertificateDer,
        intermediates: &[CertificateDer],
    ) -> Result<(), rustls::Error> {
        if !intermediates.is_empty() {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        certificate::parse(end_entity)?;
        Ok(())
    }

    fn check_signature(
        message: &[u8],
        cert: &CertificateDer,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        certificate::parse(cert)?.verify_signature(dss.scheme, message, dss.signature())?;
        Ok(HandshakeSignatureValid::assertion())
    }

    fn schemes() -> Vec<SignatureScheme> {
        vec![
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ED25519,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA256,
        ]
    }

    fn no_tls12() -> rustls::Error {
        rustls::Error::General("libp2p TLS is TLS 1.3 only".into())
    }
}

impl ServerCertVerifier for Libp2pVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer,
        intermediates: &[CertificateDer],
        _server_name: &ServerName,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Self::check_chain(end_entity, intermediates)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(Self::no_tls12())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Self::check_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        Self::schemes()
    }
}

impl ClientCertVerifier for Libp2pVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer,
        intermediates: &[CertificateDer],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Self::check_chain(end_entity, intermediates)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(Self::no_tls12())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Self::check_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        Self::schemes()
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
