//! The SQLite driver (bundled SQLite, no system library).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{ErrorCode, OpenFlags};

use super::mapping::Rows;
use super::pool::{Canceller, Conn, Connector, DbError};
use super::stmt::{Stmt, Value};

/// Opens connections to one SQLite file (which must exist: a missing shop database is an
/// error, not a new empty one).
#[derive(Debug, Clone)]
pub struct SqliteConnector {
    path: PathBuf,
}

impl SqliteConnector {
    /// For the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

struct SqliteConn {
    conn: rusqlite::Connection,
}

fn map_err(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::OperationInterrupted => DbError::Timeout,
            ErrorCode::CannotOpen | ErrorCode::NotADatabase | ErrorCode::PermissionDenied => {
                DbError::Connect(e.to_string())
            }
            ErrorCode::SystemIoFailure | ErrorCode::DatabaseCorrupt => DbError::Lost(e.to_string()),
            _ => DbError::Query(e.to_string()),
        },
        _ => DbError::Query(e.to_string()),
    }
}

impl Connector for SqliteConnector {
    fn connect(&self, _deadline: Instant) -> Result<Box<dyn Conn>, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags)
            .map_err(|e| DbError::Connect(format!("{}: {e}", self.path.display())))?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(Box::new(SqliteConn { conn }))
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

fn to_sql(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Float(f) => rusqlite::types::Value::Real(*f),
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

impl SqliteConn {
    fn arm(&self, deadline: Instant) -> Result<(), DbError> {
        // Wait for locks only as long as the caller waits.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DbError::Timeout);
        }
        self.conn
            .busy_timeout(left.max(Duration::from_millis(1)))
            .map_err(map_err)
    }
}

impl Conn for SqliteConn {
    fn query(&mut self, stmt: &Stmt, params: &[Value], deadline: Instant) -> Result<Rows, DbError> {
        self.arm(deadline)?;
        let mut st = self.conn.prepare_cached(&stmt.text).map_err(map_err)?;
        let columns: Vec<String> = st.column_names().map(str::to_owned).collect();
        let n = columns.len();
        let vals: Vec<rusqlite::types::Value> = params.iter().map(to_sql).collect();
        let mut rows = st
            .query(rusqlite::params_from_iter(vals.iter()))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(map_err)? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Float(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(row);
        }
        Ok(Rows { columns, rows: out })
    }

    fn insert(&mut self, stmt: &Stmt, params: &[Value], deadline: Instant) -> Result<i64, DbError> {
        self.arm(deadline)?;
        let mut st = self.conn.prepare_cached(&stmt.text).map_err(map_err)?;
        let vals: Vec<rusqlite::types::Value> = params.iter().map(to_sql).collect();
        if st.column_count() > 0 {
            st.query_row(rusqlite::params_from_iter(vals.iter()), |r| {
                r.get::<_, i64>(0)
            })
            .map_err(map_err)
        } else {
            st.execute(rusqlite::params_from_iter(vals.iter()))
                .map_err(map_err)?;
            Ok(self.conn.last_insert_rowid())
        }
    }

    fn exec_raw(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        if params.is_empty() {
            self.conn.execute_batch(sql).map_err(map_err)?;
            return Ok(0);
        }
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        let vals: Vec<rusqlite::types::Value> = params.iter().map(to_sql).collect();
        st.execute(rusqlite::params_from_iter(vals.iter()))
            .map(|n| n as u64)
            .map_err(map_err)
    }

    fn canceller(&self) -> Option<Canceller> {
        let h = self.conn.get_interrupt_handle();
        Some(Arc::new(move || h.interrupt()))
    }
}
