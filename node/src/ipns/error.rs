//! Errors raised while encoding, decoding, creating or validating IPNS records.

/// Why an IPNS record or name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpnsError {
    /// The serialized record is larger than [`super::MAX_RECORD_SIZE`].
    #[error("IPNS record is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Size of the offending record in bytes.
        size: usize,
        /// The limit it broke.
        max: usize,
    },
    /// The protobuf envelope could not be parsed.
    #[error("malformed IPNS protobuf: {0}")]
    Protobuf(String),
    /// The DAG-CBOR `data` document is missing a field or is not valid DAG-CBOR.
    #[error("malformed IPNS data document: {0}")]
    Data(String),
    /// The record carries no `data` field (e.g. a legacy V1-only record).
    #[error("IPNS record has no data field (V1-only records are not accepted)")]
    MissingData,
    /// The record carries no `signatureV2`.
    #[error("IPNS record has no signatureV2")]
    MissingSignatureV2,
    /// `signatureV2` does not verify against the record's public key.
    #[error("IPNS record signatureV2 does not verify")]
    BadSignature,
    /// A legacy top-level protobuf field disagrees with the signed `data` document.
    #[error("IPNS field {0} differs between protobuf and signed data")]
    FieldMismatch(&'static str),
    /// No public key could be found: no `pubKey` field and the name does not inline one.
    #[error("IPNS record has no public key and the name does not inline one")]
    PublicKeyNotFound,
    /// The public key bytes could not be decoded.
    #[error("invalid public key in IPNS record: {0}")]
    InvalidPublicKey(String),
    /// The record's public key belongs to another name.
    #[error("IPNS record public key does not match the name")]
    PublicKeyMismatch,
    /// The validity type is not EOL (0), the only one defined.
    #[error("unsupported IPNS validity type {0}")]
    UnsupportedValidityType(u64),
    /// The validity timestamp is not an RFC 3339 date-time.
    #[error("invalid IPNS validity timestamp: {0}")]
    InvalidValidity(String),
    /// The record's EOL lies in the past.
    #[error("IPNS record expired")]
    Expired,
    /// The record's value is not a UTF-8 content path.
    #[error("IPNS record value is not a UTF-8 path")]
    InvalidValue,
    /// A number or duration does not fit the wire format Kubo uses (int64).
    #[error("IPNS {0} is too large to encode")]
    OutOfRange(&'static str),
    /// Signing with the private key failed.
    #[error("signing IPNS record failed: {0}")]
    Signing(String),
    /// A string or routing key is not a valid IPNS name.
    #[error("invalid IPNS name: {0}")]
    InvalidName(String),
}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, IpnsError>;
