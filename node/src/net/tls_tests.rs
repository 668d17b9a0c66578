//! Handshakes over loopback TCP between our upgrade, itself and `libp2p-tls`.

use super::*;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

type Socket = Compat<TcpStream>;

async fn sockets() -> (Socket, Socket) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap().compat(), server.unwrap().0.compat())
}

/// Runs a handshake with `client` dialing `server`, exchanges a message both ways over the
/// encrypted stream and returns what each side authenticated plus the negotiated suite.
async fn handshake<U, S, T>(client: TlsUpgrade, server: S) -> (PeerId, PeerId, &'static str)
where
    S: InboundConnectionUpgrade<Socket, Info = U, Output = (PeerId, T)> + UpgradeInfo<Info = U>,
    T: futures::AsyncRead + futures::AsyncWrite + Unpin,
    S::Error: std::fmt::Debug,
    U: Clone,
{
    let (c, s) = sockets().await;
    let info = server.protocol_info().into_iter().next().unwrap();
    let (out, inb) = tokio::join!(
        client.upgrade_outbound(c, "/tls/1.0.0"),
        server.upgrade_inbound(s, info)
    );
    let (server_id, mut c) = out.expect("client side of the handshake");
    let (client_id, mut s) = inb.expect("server side of the handshake");
    c.write_all(b"ping").await.unwrap();
    c.flush().await.unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    s.write_all(b"pong").await.unwrap();
    s.flush().await.unwrap();
    c.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
    let suite = c
        .get_ref()
        .get_ref()
        .1
        .negotiated_cipher_suite()
        .expect("a suite was negotiated")
        .suite()
        .as_str()
        .unwrap_or("?");
    (server_id, client_id, suite)
}

#[tokio::test]
async fn peers_authenticate_each_other_and_the_client_order_picks_the_cipher() {
    let a = Keypair::generate_ed25519();
    let b = Keypair::generate_ed25519();
    for (order, suite) in [
        (CipherOrder::AesFirst, "TLS13_AES_128_GCM_SHA256"),
        (CipherOrder::ChaChaFirst, "TLS13_CHACHA20_POLY1305_SHA256"),
    ] {
        // the server prefers the other order: the client's wins
        let other = match order {
            CipherOrder::AesFirst => CipherOrder::ChaChaFirst,
            CipherOrder::ChaChaFirst => CipherOrder::AesFirst,
        };
        let client = TlsUpgrade::with_order(&a, order).unwrap();
        let server = TlsUpgrade::with_order(&b, other).unwrap();
        let (server_id, client_id, got) = handshake(client, server).await;
        assert_eq!(server_id, b.public().to_peer_id());
        assert_eq!(client_id, a.public().to_peer_id());
        assert_eq!(got, suite, "client order {order:?}");
    }
}

#[tokio::test]
async fn interoperates_with_libp2p_tls_and_rsa_keys() {
    // libp2p-tls offers ChaCha20 first; we follow it as a server, and it follows us as one.
    let ours = Keypair::generate_ed25519();
    let rsa_der = include_bytes!("../../tests/data/rsa-2048.pk8");
    let mut der = rsa_der.to_vec();
    let theirs = Keypair::rsa_from_pkcs8(&mut der).unwrap();
    let upstream = libp2p::tls::Config::new(&theirs).unwrap();
    let client = TlsUpgrade::with_order(&ours, CipherOrder::AesFirst).unwrap();
    let (server_id, client_id, suite) = handshake(client, upstream).await;
    assert_eq!(server_id, theirs.public().to_peer_id());
    assert_eq!(client_id, ours.public().to_peer_id());
    assert_eq!(suite, "TLS13_AES_128_GCM_SHA256");

    let (c, s) = sockets().await;
    let server = TlsUpgrade::with_order(&ours, CipherOrder::AesFirst).unwrap();
    let (out, inb) = tokio::join!(
        libp2p::tls::Config::new(&theirs)
            .unwrap()
            .upgrade_outbound(c, "/tls/1.0.0"),
        server.upgrade_inbound(s, "/tls/1.0.0")
    );
    assert_eq!(out.unwrap().0, ours.public().to_peer_id());
    let (client_id, stream) = inb.unwrap();
    assert_eq!(client_id, theirs.public().to_peer_id());
    let suite = stream
        .get_ref()
        .get_ref()
        .1
        .negotiated_cipher_suite()
        .unwrap()
        .suite();
    assert_eq!(suite, rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
}

/// A rustls client config that trusts any libp2p certificate, up to its own certificate.
fn client_builder() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>
{
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(Libp2pVerifier))
}

/// Dials our server with a hand-made `client` config; returns the rustls error the server's
/// side of the handshake failed with (futures-rustls wraps it in an io::Error).
async fn server_refusal(mut client: rustls::ClientConfig, why: &str) -> rustls::Error {
    client.alpn_protocols = vec![ALPN.to_vec()];
    let (c, s) = sockets().await;
    let server = TlsUpgrade::new(&Keypair::generate_ed25519()).unwrap();
    let name = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::UNSPECIFIED).into());
    let (_client, inb) = tokio::join!(
        futures_rustls::TlsConnector::from(Arc::new(client)).connect(name, c),
        server.upgrade_inbound(s, "/tls/1.0.0")
    );
    match inb.expect_err(why) {
        TlsError::Handshake(io) => io
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .unwrap_or_else(|| panic!("{why}: not a rustls error: {io}"))
            .clone(),
        other => panic!("{why}: {other}"),
    }
}

#[tokio::test]
async fn a_client_that_is_not_libp2p_is_refused() {
    // a plain TLS client without a libp2p certificate: the handshake must fail on our side
    let err = server_refusal(
        client_builder().with_no_client_auth(),
        "the server refuses a client without a certificate",
    )
    .await;
    assert_eq!(err, rustls::Error::NoCertificatesPresented);
}

#[tokio::test]
async fn a_peer_with_someone_elses_certificate_cannot_pass_as_them() {
    // The victim's certificate is public; its private (TLS) key is not. A client presenting it
    // with another key fails the handshake signature check.
    let victim = Keypair::generate_ed25519();
    let (victim_cert, _) = certificate::generate(&victim).unwrap();
    let (_, attacker_key) = certificate::generate(&Keypair::generate_ed25519()).unwrap();
    let forged = Arc::new(OwnCertificate(Arc::new(rustls::sign::CertifiedKey::new(
        vec![victim_cert],
        rustls::crypto::aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(attacker_key)
            .unwrap(),
    ))));
    let err = server_refusal(
        client_builder().with_client_cert_resolver(forged),
        "a forged identity is refused",
    )
    .await;
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::BadSignature)
    );
}

#[test]
fn this_cpu_gets_the_order_its_instructions_favour() {
    assert_eq!(
        CipherOrder::for_this_cpu() == CipherOrder::AesFirst,
        aes_hardware()
    );
    assert_eq!(CipherOrder::AesFirst.suites()[0], TLS13_AES_128_GCM_SHA256);
    assert_eq!(
        CipherOrder::ChaChaFirst.suites()[0],
        TLS13_CHACHA20_POLY1305_SHA256
    );
}
