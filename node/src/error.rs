//! The node's error type: every failure a user can cause has its own variant and a clear message.

use cid::Cid;
use std::path::PathBuf;

/// Errors returned by the node's storage, repo and UnixFS layers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repo directory has not been initialised (no config).
    #[error("no WANDA repo at {0} (run `wanda init` first)")]
    NotInitialized(PathBuf),
    /// `init` was asked for a directory that already holds a repo.
    #[error("a WANDA repo already exists at {0}")]
    AlreadyInitialized(PathBuf),
    /// Another process holds the repo lock.
    #[error("repo {path} is locked by pid {pid} (is a `wanda daemon` running?)")]
    Locked {
        /// Repo directory.
        path: PathBuf,
        /// Process id written in the lock file by its holder (0 if unknown).
        pid: u32,
    },
    /// A configuration key does not exist.
    #[error("unknown config key `{0}`")]
    UnknownConfigKey(String),
    /// A configuration value was refused.
    #[error("bad value for config key `{key}`: {reason}")]
    BadConfigValue {
        /// The dotted key.
        key: String,
        /// Why the value was refused.
        reason: String,
    },
    /// A string could not be parsed as a CID.
    #[error("invalid CID `{input}`: {reason}")]
    InvalidCid {
        /// What the user gave.
        input: String,
        /// Parser message.
        reason: String,
    },
    /// A block the operation needs is not in the blockstore.
    #[error("block {0} not found locally")]
    BlockNotFound(Cid),
    /// Bytes do not hash to the CID they were given with.
    #[error("block {cid} does not match its hash: {reason}")]
    HashMismatch {
        /// The CID the block claimed.
        cid: String,
        /// Details.
        reason: String,
    },
    /// A path segment does not exist under a directory.
    #[error("no link named `{name}` under {cid}")]
    NoSuchLink {
        /// Directory CID.
        cid: String,
        /// The missing name.
        name: String,
    },
    /// The node is not the kind the operation needs (e.g. `cat` of a directory).
    #[error("{cid} is {found}, expected {expected}")]
    WrongNodeType {
        /// Node CID.
        cid: String,
        /// What it is.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A DAG node could not be decoded.
    #[error("cannot decode block {cid}: {reason}")]
    Decode {
        /// Node CID.
        cid: String,
        /// Decoder message.
        reason: String,
    },
    /// A block could not be fetched from the network in time.
    #[error("timed out fetching {0} from the network")]
    FetchTimeout(String),
    /// A pin operation was refused.
    #[error("{0}")]
    Pin(String),
    /// Invalid user input that is not covered by a more specific variant.
    #[error("{0}")]
    InvalidInput(String),
    /// A CAR file could not be read or written.
    #[error("CAR: {0}")]
    Car(String),
    /// Filesystem error with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Filesystem or stream error without a path.
    #[error(transparent)]
    IoBare(#[from] std::io::Error),
    /// The embedded database failed.
    #[error("datastore: {0}")]
    Store(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerned.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

macro_rules! store_err {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Store(e.to_string())
            }
        }
    )*};
}
store_err!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError,
    redb::CompactionError
);

/// Result alias for node operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Parses a CID from user input with a clear error.
pub fn parse_cid(input: &str) -> Result<Cid> {
    let trimmed = input.trim();
    let trimmed = trimmed.strip_prefix("/ipfs/").unwrap_or(trimmed);
    Cid::try_from(trimmed).map_err(|e| Error::InvalidCid {
        input: input.to_string(),
        reason: e.to_string(),
    })
}
