//! The library's error type. Callers need to tell *their* mistakes (bad input, unknown ids: fix and
//! retry, exit code 2, HTTP 4xx) apart from *our* faults (I/O, SQLite, tantivy, model: exit code 1,
//! HTTP 5xx), so every layer's error converts into [`Error`], whose variants make that split explicit.

use std::fmt;

use crate::domain::Violation;

/// One problem found in one input record: where it is and which rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordProblem {
    /// The file (or request) the record came from.
    pub source: String,
    /// 1-based line number inside the file, when the input is a file.
    pub line: Option<usize>,
    /// The record id, when it could be read.
    pub id: Option<String>,
    /// The violated rule.
    pub violation: Violation,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(id) = &self.id {
            write!(f, ": id {id:?}")?;
        }
        write!(f, ": {}", self.violation)
    }
}

/// A mistake in what the user asked for or supplied. Safe to show to the user verbatim.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Input records broke the data-format rules; nothing was written.
    #[error("{} invalid record problem(s); nothing was imported", .0.len())]
    InvalidRecords(Vec<RecordProblem>),
    /// A referenced id does not exist.
    #[error("unknown {kind} id {id:?}")]
    NotFound {
        /// What kind of record.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// An input file could not be opened.
    #[error("cannot read {path}: {reason}")]
    UnreadableInput {
        /// The path given.
        path: String,
        /// What the OS said.
        reason: String,
    },
    /// A record with this id exists already (creating, not replacing).
    #[error("a {kind} with id {id:?} already exists")]
    Conflict {
        /// What kind of record.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A request argument is out of range or malformed.
    #[error("{field}: {message}")]
    BadArgument {
        /// The argument or field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Another process holds the data dir for writing; only one may write it at a time.
    #[error(
        "the data dir {data_dir} is in use by another pitchmatch process, such as a running `pitchmatch serve`; \
         stop it first, or make this change through the HTTP API"
    )]
    DataDirInUse {
        /// The data dir.
        data_dir: String,
    },
    /// A command that only reads found no store in the data dir.
    #[error("the data dir {data_dir} holds no data yet; `pitchmatch import` fills it")]
    NoData {
        /// The data dir.
        data_dir: String,
    },
}

impl UserError {
    /// The record of kind `kind` with id `id` does not exist.
    pub fn not_found(kind: &'static str, id: &str) -> UserError {
        UserError::NotFound { kind, id: id.to_string() }
    }
}

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's mistake (exit code 2, HTTP 4xx).
    #[error(transparent)]
    User(#[from] UserError),
    /// The SQLite store failed.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The tantivy index failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The embedding model failed.
    #[error("embedder: {0}")]
    Embed(String),
    /// File-system failure on our side (data dir, model files).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// An invariant of ours broke; a bug.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// True when the caller, not the system, is at fault.
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::User(_))
    }
}

impl From<tantivy::query::QueryParserError> for Error {
    fn from(e: tantivy::query::QueryParserError) -> Self {
        Error::Internal(format!("query construction: {e}"))
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Error::Index(e.into())
    }
}

impl From<crate::select::SelectError> for Error {
    fn from(e: crate::select::SelectError) -> Self {
        if e.is_user_error() {
            Error::User(UserError::BadArgument { field: "selection".into(), message: e.to_string() })
        } else {
            Error::Internal(e.to_string())
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
