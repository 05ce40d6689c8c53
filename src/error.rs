//! Error type of the safe Rust API: a status kind plus a human-readable message.

use std::fmt;

/// What went wrong, as one of the status codes the C API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    NullArg,
    InvalidArg,
    Config,
    Timeout,
    SizeMismatch,
    Channel,
    PeerLost,
    Auth,
    Unsupported,
    Internal,
    /// Peers disagree on a setting that must be equal everywhere (configuration digest at init,
    /// hint, pinned channel).
    Mismatch,
}

impl ErrorKind {
    /// Static text for the kind (what `fmi_strerror` prints).
    pub fn describe(self) -> &'static str {
        match self {
            ErrorKind::NullArg => "a required pointer argument was NULL",
            ErrorKind::InvalidArg => "invalid argument",
            ErrorKind::Config => "invalid or unreadable configuration",
            ErrorKind::Timeout => "operation timed out",
            ErrorKind::SizeMismatch => "message size does not match the receive buffer",
            ErrorKind::Channel => "communication channel error",
            ErrorKind::PeerLost => "connection to a peer was lost",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Unsupported => "operation or feature not supported",
            ErrorKind::Internal => "internal error in libfmi",
            ErrorKind::Mismatch => "peers disagree on a setting that must be equal on every peer",
        }
    }
}

/// An error with its kind and a message naming the operation, peer and channel where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Prefixes the message with context (e.g. the operation name), keeping the kind.
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArg, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }
    pub fn channel(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Channel, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.describe())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
