//! Where `/ipns/` names come from: a small async trait returning raw record bytes.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use wanda_node::ipns::IpnsName;

/// Why a name could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// No record is known for the name.
    NotFound,
    /// The lookup (e.g. a DHT query) did not finish in time.
    Timeout,
    /// Anything else (the message is shown to the client with a 502).
    Other(String),
}

/// The future a [`NameSource`] returns.
pub type NameFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, NameError>> + Send + 'a>>;

/// Returns the serialized IPNS record (protobuf `IpnsEntry` bytes) for a name. The gateway
/// validates it with `wanda_node::ipns::validate` before using its value and TTL, so a source
/// may return any record it has.
pub trait NameSource: Send + Sync {
    /// Looks up the record of `name`.
    fn record<'a>(&'a self, name: &'a IpnsName) -> NameFuture<'a>;

    /// Looks up the record of `name` without the network (caches, own records): for requests
    /// answered from the local store only ([`super::LocalOnly`]). By default the same as
    /// [`Self::record`], for sources that never use the network.
    fn local_record<'a>(&'a self, name: &'a IpnsName) -> NameFuture<'a> {
        self.record(name)
    }
}

/// A source that knows no names (every lookup is [`NameError::NotFound`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl NameSource for NoNames {
    fn record<'a>(&'a self, _name: &'a IpnsName) -> NameFuture<'a> {
        Box::pin(async { Err(NameError::NotFound) })
    }
}

/// A fixed map of names to record bytes (tests, fixtures, pre-seeded records).
#[derive(Debug, Clone, Default)]
pub struct StaticNames {
    records: HashMap<IpnsName, Vec<u8>>,
}

impl StaticNames {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the record of `name`.
    pub fn insert(&mut self, name: IpnsName, record: Vec<u8>) {
        self.records.insert(name, record);
    }

    /// Loads every `*.ipns-record` file in `dir`: the name is the file name up to the first
    /// `_` or `.` (the conformance fixtures' `k51…[_suffix].ipns-record` convention).
    /// Returns how many were loaded.
    pub fn load_dir(&mut self, dir: &Path) -> std::io::Result<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            if !file.ends_with(".ipns-record") {
                continue;
            }
            let stem = file.split(['_', '.']).next().unwrap_or_default();
            let Ok(name) = stem.parse::<IpnsName>() else {
                continue;
            };
            self.insert(name, std::fs::read(&path)?);
            n += 1;
        }
        Ok(n)
    }

    /// Number of names held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl NameSource for StaticNames {
    fn record<'a>(&'a self, name: &'a IpnsName) -> NameFuture<'a> {
        let found = self.records.get(name).cloned();
        Box::pin(async move { found.ok_or(NameError::NotFound) })
    }
}
