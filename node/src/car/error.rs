//! The error type of CAR reading and writing.

use crate::ipld::BlockError;

/// What went wrong reading or writing a CAR stream.
#[derive(Debug, thiserror::Error)]
pub enum CarError {
    /// The underlying reader or writer failed.
    #[error("CAR I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The stream ended in the middle of a header, length prefix or section.
    #[error("truncated CAR: {0}")]
    Truncated(String),
    /// The header is not a valid CAR header.
    #[error("invalid CAR header: {0}")]
    BadHeader(String),
    /// The header declares a version other than 1 (or 2, as a CARv2 pragma).
    #[error("unsupported CAR version {0}")]
    UnsupportedVersion(u64),
    /// The header length prefix exceeds [`super::MAX_HEADER_LEN`].
    #[error("CAR header of {len} bytes exceeds the {max}-byte limit")]
    HeaderTooLarge {
        /// Declared length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A section length prefix exceeds [`super::MAX_SECTION_LEN`].
    #[error("CAR section of {len} bytes exceeds the {max}-byte limit")]
    SectionTooLarge {
        /// Declared length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A section or length prefix is malformed (bad varint, bad CID, empty section).
    #[error("invalid CAR section: {0}")]
    BadSection(String),
    /// A block's bytes do not match its CID.
    #[error("CAR block failed verification: {0}")]
    Block(Box<BlockError>),
    /// A CARv2 wrapper is inconsistent.
    #[error("invalid CARv2: {0}")]
    BadV2(String),
    /// A block too large for a CAR section was passed to the writer.
    #[error("cannot write block {cid}: section of {len} bytes exceeds the {max}-byte limit")]
    BlockTooLarge {
        /// The block's CID, as a string.
        cid: String,
        /// The section length it would need.
        len: u64,
        /// The limit.
        max: u64,
    },
}

impl From<BlockError> for CarError {
    fn from(e: BlockError) -> Self {
        CarError::Block(Box::new(e))
    }
}
