//! The typed errors every [`Shop`](crate::Shop) call returns.

use std::fmt;
use std::time::Duration;

/// What went wrong with a shop call.
///
/// The IVR maps each variant to a branch of the call flow: `NotFound` says "no such order",
/// `InvalidInput` asks the caller to enter the number again, `Timeout` and `Unavailable` play
/// the fallback ("please hold for an agent"). Messages never contain unmasked personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No order (or no order for that phone number) exists.
    NotFound {
        /// What was looked up, masked if it is personal data (e.g. `order 2024061512345678`,
        /// `phone 138****5678`).
        what: String,
    },
    /// The caller's input was rejected before it reached the database.
    InvalidInput {
        /// Which input (`order number`, `phone number`, `reason` …).
        field: &'static str,
        /// The value, masked if it is personal data, cut to a sane length otherwise.
        value: String,
        /// Why it was rejected.
        problem: &'static str,
    },
    /// The call did not finish within its budget.
    Timeout {
        /// The operation (`order lookup`, `recent orders` …).
        op: &'static str,
        /// The budget it had.
        budget: Duration,
    },
    /// The shop cannot answer now: the database is down, unreachable, or the circuit
    /// breaker is open after repeated failures.
    Unavailable {
        /// Why, in words an operator can act on (no passwords, no personal data).
        reason: String,
    },
    /// The database answered, but with something this crate cannot use: an SQL error in a
    /// custom query, a status code the mapping does not know, a missing column.
    Backend {
        /// What went wrong, naming the query, column or value.
        detail: String,
    },
    /// The shop configuration (preset, custom SQL file, URL) is wrong.
    Config {
        /// The file (or `<inline>`) the setting came from.
        file: String,
        /// The key (e.g. `queries.order_by_no`).
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl Error {
    /// True for the failures that say "the database is not answering properly" and so
    /// count against the circuit breaker (`Timeout`, `Unavailable`).
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Unavailable { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { what } => write!(f, "not found: {what}"),
            Self::InvalidInput {
                field,
                value,
                problem,
            } => write!(f, "invalid {field} {value:?}: {problem}"),
            Self::Timeout { op, budget } => {
                write!(f, "{op} timed out after {} ms", budget.as_millis())
            }
            Self::Unavailable { reason } => write!(f, "shop database unavailable: {reason}"),
            Self::Backend { detail } => write!(f, "shop database error: {detail}"),
            Self::Config { file, key, problem } => write!(f, "{file}: {key}: {problem}"),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
