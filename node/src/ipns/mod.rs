//! IPNS records and names, per <https://specs.ipfs.tech/ipns/ipns-record/>.
//!
//! - [`create_record`] signs a V1+V2 record (Kubo/boxo-compatible bytes).
//! - [`validate()`] verifies a serialized record against its [`IpnsName`].
//! - [`better`]/[`compare`] choose between records for DHT selection.
//! - [`check_dht_record`] is the DHT validator for `/ipns/` keys (inbound puts, lookups).
//! - [`LocalRecords`] keeps this node's own last records in the datastore.
//! - [`IpnsName`] parses `k51…`, `bafz…`, `12D3Koo…` and `Qm…` names and
//!   prints Kubo's base36 form; [`IpnsName::routing_key`] gives the DHT key.

mod cbor;
mod create;
mod dht;
mod error;
mod local;
mod name;
mod protobuf;
mod record;
mod time;
mod validate;

pub use cbor::{RecordData, VALIDITY_EOL};
pub use create::create_record;
pub use dht::{DhtRecordError, check_dht_record};
pub use error::{IpnsError, Result};
pub use local::LocalRecords;
pub use name::{IPNS_PREFIX, IpnsName, LIBP2P_KEY_CODEC};
pub use protobuf::IpnsEntry;
pub use record::{IpnsRecord, SIGNATURE_V2_PREFIX};
pub use time::{format_rfc3339, parse_rfc3339};
pub use validate::{ValidatedRecord, better, compare, extract_public_key, validate};

/// Largest serialized record accepted or produced: 10 KiB.
pub const MAX_RECORD_SIZE: usize = 10 * 1024;

#[cfg(test)]
mod tests;
