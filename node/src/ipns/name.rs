//! IPNS names: the multihash of a libp2p public key (a peer ID).

use std::fmt;
use std::str::FromStr;

use cid::Cid;
use cid::multibase::Base;
use libp2p_identity::{PeerId, PublicKey};

use super::error::{IpnsError, Result};

/// Multicodec `libp2p-key`, the CID codec of IPNS names.
pub const LIBP2P_KEY_CODEC: u64 = 0x72;
/// Prefix of IPNS routing keys and paths.
pub const IPNS_PREFIX: &str = "/ipns/";
const IDENTITY_MULTIHASH: u64 = 0x00;

/// An IPNS name, i.e. the peer ID of the key that signs its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpnsName(PeerId);

impl IpnsName {
    /// The name of records signed by `peer`'s key.
    pub fn from_peer_id(peer: PeerId) -> Self {
        IpnsName(peer)
    }

    /// The name of records signed by `key`.
    pub fn from_public_key(key: &PublicKey) -> Self {
        IpnsName(key.to_peer_id())
    }

    /// The peer ID behind this name.
    pub fn peer_id(&self) -> PeerId {
        self.0
    }

    /// Raw multihash bytes of the peer ID.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// The name as a CIDv1 with the `libp2p-key` codec.
    pub fn to_cid(&self) -> Cid {
        Cid::new_v1(LIBP2P_KEY_CODEC, *self.0.as_ref())
    }

    /// DHT routing key: `b"/ipns/"` followed by the peer ID's multihash bytes.
    pub fn routing_key(&self) -> Vec<u8> {
        let mut key = IPNS_PREFIX.as_bytes().to_vec();
        key.extend_from_slice(&self.0.to_bytes());
        key
    }

    /// Parses a DHT routing key produced by [`IpnsName::routing_key`].
    pub fn from_routing_key(key: &[u8]) -> Result<Self> {
        let rest = key
            .strip_prefix(IPNS_PREFIX.as_bytes())
            .ok_or_else(|| IpnsError::InvalidName("routing key lacks /ipns/ prefix".into()))?;
        PeerId::from_bytes(rest)
            .map(IpnsName)
            .map_err(|e| IpnsError::InvalidName(e.to_string()))
    }

    /// The public key inlined in the name (identity multihash), if any.
    ///
    /// Ed25519 and secp256k1 names inline their key; RSA names are hashes.
    pub fn inline_public_key(&self) -> Result<Option<PublicKey>> {
        let mh = self.0.as_ref();
        if mh.code() != IDENTITY_MULTIHASH {
            return Ok(None);
        }
        PublicKey::try_decode_protobuf(mh.digest())
            .map(Some)
            .map_err(|e| IpnsError::InvalidPublicKey(e.to_string()))
    }

    fn from_cid(cid: &Cid) -> Result<Self> {
        if cid.codec() != LIBP2P_KEY_CODEC {
            return Err(IpnsError::InvalidName(format!(
                "CID codec 0x{:x} is not libp2p-key (0x72)",
                cid.codec()
            )));
        }
        PeerId::from_multihash(*cid.hash())
            .map(IpnsName)
            .map_err(|mh| {
                IpnsError::InvalidName(format!("multihash 0x{:x} is not a peer ID", mh.code()))
            })
    }
}

impl From<PeerId> for IpnsName {
    fn from(peer: PeerId) -> Self {
        IpnsName(peer)
    }
}

impl FromStr for IpnsName {
    type Err = IpnsError;

    /// Parses `k51…` (base36), `bafz…` (base32) or any other multibase CIDv1
    /// with the `libp2p-key` codec, or a base58 peer ID (`12D3Koo…`, `Qm…`).
    /// A leading `/ipns/` is ignored.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.strip_prefix(IPNS_PREFIX).unwrap_or(s);
        // libp2p peer-id spec: a leading `1` or `Qm` means bare base58btc multihash,
        // anything else is a multibase-encoded CID.
        if s.starts_with('1') || s.starts_with("Qm") {
            return PeerId::from_str(s)
                .map(IpnsName)
                .map_err(|e| IpnsError::InvalidName(e.to_string()));
        }
        let cid = Cid::try_from(s).map_err(|e| IpnsError::InvalidName(e.to_string()))?;
        IpnsName::from_cid(&cid)
    }
}

impl fmt::Display for IpnsName {
    /// Kubo's canonical form: CIDv1, `libp2p-key`, base36 lowercase (`k51…`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_cid().to_string_of_base(Base::Base36Lower) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p_identity::Keypair;

    const K51: &str = "k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe";

    #[test]
    fn k51_round_trip() {
        let name: IpnsName = K51.parse().unwrap();
        assert_eq!(name.to_string(), K51);
        let b58 = name.peer_id().to_base58();
        assert!(b58.starts_with("12D3Koo"), "{b58}");
        assert_eq!(b58.parse::<IpnsName>().unwrap(), name);
        let b32 = name.to_cid().to_string_of_base(Base::Base32Lower).unwrap();
        assert!(b32.starts_with("bafzaa"), "{b32}");
        assert_eq!(b32.parse::<IpnsName>().unwrap(), name);
        assert_eq!(format!("/ipns/{K51}").parse::<IpnsName>().unwrap(), name);
    }

    #[test]
    fn routing_key_round_trip() {
        let name = IpnsName::from_public_key(&Keypair::generate_ed25519().public());
        let key = name.routing_key();
        assert!(key.starts_with(b"/ipns/\x00\x24\x08\x01\x12\x20"));
        assert_eq!(IpnsName::from_routing_key(&key).unwrap(), name);
        assert!(IpnsName::from_routing_key(b"/pk/abc").is_err());
        assert!(IpnsName::from_routing_key(b"/ipns/\xff").is_err());
    }

    #[test]
    fn inline_key_only_for_identity_hashes() {
        let kp = Keypair::generate_ed25519();
        let name = IpnsName::from_public_key(&kp.public());
        assert_eq!(name.inline_public_key().unwrap(), Some(kp.public()));
        let rsa: IpnsName = "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3"
            .parse()
            .unwrap();
        assert_eq!(rsa.inline_public_key().unwrap(), None);
        assert!(rsa.to_string().starts_with('k'));
    }

    #[test]
    fn rejects_non_names() {
        for s in [
            "",
            "hello",
            "/ipns/",
            "bafkqaaa",
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "12D3KooWinvalid0",
            "Qm",
        ] {
            assert!(s.parse::<IpnsName>().is_err(), "{s}");
        }
    }
}
