//! IPNS in the DHT: the record validator every inbound `PutRecord` and every lookup answer goes
//! through, and `publish_name`/`resolve_name` on in-process nodes.

use std::time::{Duration, SystemTime};

use libp2p_identity::Keypair;
use wanda_node::ipns::{
    DhtRecordError, IpnsEntry, IpnsName, IpnsRecord, check_dht_record, create_record,
};
use wanda_node::net::{NetConfig, start};
use wanda_node::store::Blockstore;

const CID: &str = "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

fn record(key: &Keypair, value: &str, seq: u64, eol: SystemTime) -> Vec<u8> {
    create_record(key, value, seq, eol, Duration::from_secs(60))
        .unwrap()
        .to_bytes()
}

fn day() -> SystemTime {
    SystemTime::now() + Duration::from_secs(86_400)
}

fn key_of(k: &Keypair) -> Vec<u8> {
    IpnsName::from_public_key(&k.public()).routing_key()
}

#[test]
fn valid_record_is_accepted() {
    let k = Keypair::generate_ed25519();
    let rec = record(&k, CID, 3, day());
    let ok = check_dht_record(&key_of(&k), &rec, None, SystemTime::now()).unwrap();
    assert_eq!(ok.value, CID);
    assert_eq!(ok.sequence, 3);
}

#[test]
fn record_signed_by_another_key_is_rejected() {
    let owner = Keypair::generate_ed25519();
    let forger = Keypair::generate_ed25519();
    let forged = record(&forger, CID, 99, day());
    let err = check_dht_record(&key_of(&owner), &forged, None, SystemTime::now()).unwrap_err();
    assert!(matches!(err, DhtRecordError::Invalid(_)), "{err}");
}

#[test]
fn tampered_value_is_rejected() {
    let k = Keypair::generate_ed25519();
    let mut entry = IpnsRecord::from_bytes(&record(&k, CID, 1, day()))
        .unwrap()
        .entry()
        .clone();
    // change the signed data document's value: V2 signature no longer verifies
    let data = entry.data.take().unwrap();
    let pos = data.windows(4).position(|w| w == b"bafk").unwrap();
    let mut data = data;
    data[pos + 10] ^= 1;
    entry.data = Some(data);
    let err = check_dht_record(&key_of(&k), &entry.encode(), None, SystemTime::now()).unwrap_err();
    assert!(matches!(err, DhtRecordError::Invalid(_)), "{err}");
}

#[test]
fn bad_v1_signature_is_rejected_when_present() {
    let k = Keypair::generate_ed25519();
    let mut entry: IpnsEntry = IpnsRecord::from_bytes(&record(&k, CID, 1, day()))
        .unwrap()
        .entry()
        .clone();
    let mut sig = entry.signature_v1.take().unwrap();
    sig[0] ^= 0xff;
    entry.signature_v1 = Some(sig);
    let err = check_dht_record(&key_of(&k), &entry.encode(), None, SystemTime::now()).unwrap_err();
    assert_eq!(err, DhtRecordError::BadSignatureV1);
}

#[test]
fn older_sequence_loses_to_the_stored_record() {
    let k = Keypair::generate_ed25519();
    let (old, new) = (record(&k, CID, 4, day()), record(&k, CID, 5, day()));
    let key = key_of(&k);
    let now = SystemTime::now();
    let err = check_dht_record(&key, &old, Some(&new), now).unwrap_err();
    assert_eq!(
        err,
        DhtRecordError::Older {
            offered: 4,
            stored: 5
        }
    );
    // the newer one replaces the older; the same record again is fine
    assert_eq!(
        check_dht_record(&key, &new, Some(&old), now)
            .unwrap()
            .sequence,
        5
    );
    assert!(check_dht_record(&key, &new, Some(&new), now).is_ok());
    // a stored record that expired does not block anything
    let expired = record(&k, CID, 9, now + Duration::from_secs(1));
    assert!(check_dht_record(&key, &old, Some(&expired), now + Duration::from_secs(5)).is_ok());
}

#[test]
fn expired_record_is_rejected() {
    let k = Keypair::generate_ed25519();
    let now = SystemTime::now();
    let rec = record(&k, CID, 1, now + Duration::from_secs(1));
    let err = check_dht_record(&key_of(&k), &rec, None, now + Duration::from_secs(2)).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn keys_without_a_validator_are_rejected() {
    let k = Keypair::generate_ed25519();
    let rec = record(&k, CID, 1, day());
    let mut pk = b"/pk/".to_vec();
    pk.extend_from_slice(&k.public().to_peer_id().to_bytes());
    let err = check_dht_record(&pk, &rec, None, SystemTime::now()).unwrap_err();
    assert_eq!(err, DhtRecordError::NoValidator("/pk/".into()));
    let err = check_dht_record(b"whatever", b"x", None, SystemTime::now()).unwrap_err();
    assert!(matches!(err, DhtRecordError::NoValidator(_)), "{err}");
}

#[tokio::test]
async fn sequence_survives_restart_and_own_names_resolve_offline() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let node_key = Keypair::generate_ed25519();
    let name_key = Keypair::generate_ed25519();
    let life = Duration::from_secs(3600);
    let ttl = Duration::from_secs(30);

    let (node, task) = start(node_key.clone(), NetConfig::loopback(), store.clone())
        .await
        .unwrap();
    let name = node
        .publish_name(name_key.clone(), CID.into(), life, ttl)
        .await
        .unwrap();
    assert_eq!(name, IpnsName::from_public_key(&name_key.public()));
    let r = node.resolve_name(&name).await.unwrap();
    assert_eq!((r.value.as_str(), r.ttl), (CID, ttl));
    assert_eq!(IpnsRecord::from_bytes(&r.record).unwrap().sequence(), 0);
    assert!(
        node.publish_name(name_key.clone(), "ipfs/x".into(), life, ttl)
            .await
            .is_err()
    );
    node.shutdown().await.unwrap();
    task.await.unwrap();

    let (node, task) = start(node_key, NetConfig::loopback(), store).await.unwrap();
    let other = "/ipfs/bafkqaaa";
    node.publish_name(name_key, other.into(), life, ttl)
        .await
        .unwrap();
    let r = node.resolve_name(&name).await.unwrap();
    assert_eq!(r.value, other);
    assert_eq!(IpnsRecord::from_bytes(&r.record).unwrap().sequence(), 1);
    // a name nobody published: a clear error, not a hang (no peers: the lookup ends at once)
    let stranger = IpnsName::from_public_key(&Keypair::generate_ed25519().public());
    let err = node.resolve_name(&stranger).await.unwrap_err();
    assert!(err.to_string().contains("could not resolve name"), "{err}");
    node.shutdown().await.unwrap();
    task.await.unwrap();
}

/// The republisher signs every published name again (same value and TTL, next sequence number,
/// fresh validity) and leaves names never published alone; its timer really fires.
#[tokio::test]
async fn republisher_renews_published_names() {
    use wanda_node::net::Republisher;
    use wanda_node::repo::{identity, keystore};
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let ks = keystore::dir(dir.path());
    std::fs::create_dir_all(&ks).unwrap();
    let node_key = Keypair::generate_ed25519();
    identity::write_key(&ks, identity::SELF_KEY, &node_key).unwrap();
    let named = keystore::generate(&ks, "telescope", "ed25519").unwrap();
    let (node, task) = start(node_key, NetConfig::loopback(), store).await.unwrap();
    let ttl = Duration::from_secs(30);
    let name = node
        .publish_name(named, CID.into(), Duration::from_secs(3600), ttl)
        .await
        .unwrap();
    let lifetime = Duration::from_secs(48 * 3600);
    let republisher = Republisher {
        keystore: ks,
        period: Duration::from_millis(300),
        lifetime,
    };
    // one round: only `telescope` has a record (`self` never published)
    assert_eq!(republisher.round(&node).await.unwrap(), 1);
    let r = node.resolve_name(&name).await.unwrap();
    let rec = IpnsRecord::from_bytes(&r.record).unwrap();
    assert_eq!((r.value.as_str(), r.ttl, rec.sequence()), (CID, ttl, 1));
    let left = rec
        .validity()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(left > lifetime - Duration::from_secs(60), "{left:?}");
    // the timer: rounds keep coming
    let running = republisher.spawn(node.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = node.resolve_name(&name).await.unwrap();
        if IpnsRecord::from_bytes(&r.record).unwrap().sequence() >= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no republish rounds");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.abort();
    node.shutdown().await.unwrap();
    task.await.unwrap();
}
