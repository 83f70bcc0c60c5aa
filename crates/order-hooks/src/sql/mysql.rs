//! The MySQL / MariaDB driver (the synchronous `mysql` client, no TLS).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, Params};

use super::mapping::Rows;
use super::pool::{Canceller, Conn, Connector, DbError};
use super::stmt::{Stmt, Value};

/// How long a socket read may block before the connection is dropped; the caller has
/// long given up by then (it waits only for its budget), this only frees the thread.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens connections from a `mysql://user:password@host:port/db` URL (`mariadb://` works too).
#[derive(Debug, Clone)]
pub struct MysqlConnector {
    opts: Opts,
    describe: String,
}

impl MysqlConnector {
    /// Parses the URL.
    ///
    /// # Errors
    /// A message saying what is wrong with it (without the password).
    pub fn new(url: &str) -> Result<Self, String> {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let opts = Opts::from_url(&url).map_err(|e| format!("not a MySQL URL: {e}"))?;
        let describe = format!(
            "mysql://{}:{}/{}",
            opts.get_ip_or_hostname(),
            opts.get_tcp_port(),
            opts.get_db_name().unwrap_or("")
        );
        let opts = OptsBuilder::from_opts(opts)
            .read_timeout(Some(SOCKET_TIMEOUT))
            .write_timeout(Some(SOCKET_TIMEOUT))
            .stmt_cache_size(Some(32))
            .into();
        Ok(Self { opts, describe })
    }
}

struct MyConn {
    conn: mysql::Conn,
    opts: Opts,
}

fn map_err(e: &mysql::Error) -> DbError {
    match e {
        // 1317 query interrupted (KILL QUERY), 3024 / 1969 max_statement_time, 1205 lock wait timeout.
        mysql::Error::MySqlError(m) if matches!(m.code, 1317 | 3024 | 1969 | 1205) => {
            DbError::Timeout
        }
        mysql::Error::MySqlError(m) => DbError::Query(format!("{} ({})", m.message, m.code)),
        mysql::Error::IoError(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            DbError::Timeout
        }
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) | mysql::Error::CodecError(_) => {
            DbError::Lost(e.to_string())
        }
        _ => DbError::Query(e.to_string()),
    }
}

impl Connector for MysqlConnector {
    fn connect(&self, deadline: Instant) -> Result<Box<dyn Conn>, DbError> {
        let left = deadline.saturating_duration_since(Instant::now());
        let opts: Opts = OptsBuilder::from_opts(self.opts.clone())
            .tcp_connect_timeout(Some(
                left.clamp(Duration::from_millis(100), Duration::from_secs(10)),
            ))
            .into();
        let conn = mysql::Conn::new(opts).map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Box::new(MyConn {
            conn,
            opts: self.opts.clone(),
        }))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

fn to_my(v: &Value) -> mysql::Value {
    match v {
        Value::Null => mysql::Value::NULL,
        Value::Int(i) => mysql::Value::Int(*i),
        Value::Float(f) => mysql::Value::Double(*f),
        Value::Text(s) => mysql::Value::Bytes(s.clone().into_bytes()),
    }
}

fn from_my(v: mysql::Value) -> Value {
    match v {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Bytes(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
        mysql::Value::Int(i) => Value::Int(i),
        mysql::Value::UInt(u) => Value::Int(i64::try_from(u).unwrap_or(i64::MAX)),
        mysql::Value::Float(f) => Value::Float(f.into()),
        mysql::Value::Double(f) => Value::Float(f),
        other => Value::Text(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}

fn params(p: &[Value]) -> Params {
    if p.is_empty() {
        Params::Empty
    } else {
        Params::Positional(p.iter().map(to_my).collect())
    }
}

impl Conn for MyConn {
    fn query(&mut self, stmt: &Stmt, p: &[Value], _deadline: Instant) -> Result<Rows, DbError> {
        let mut result = self
            .conn
            .exec_iter(&stmt.text, params(p))
            .map_err(|e| map_err(&e))?;
        let columns: Vec<String> = result
            .columns()
            .as_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        let mut rows = Vec::new();
        for r in result.by_ref() {
            let r = r.map_err(|e| map_err(&e))?;
            rows.push(r.unwrap().into_iter().map(from_my).collect());
        }
        Ok(Rows { columns, rows })
    }

    fn insert(&mut self, stmt: &Stmt, p: &[Value], _deadline: Instant) -> Result<i64, DbError> {
        let mut result = self
            .conn
            .exec_iter(&stmt.text, params(p))
            .map_err(|e| map_err(&e))?;
        let mut returned = None;
        for r in result.by_ref() {
            let r = r.map_err(|e| map_err(&e))?;
            if returned.is_none() {
                returned = r.unwrap().into_iter().next().map(from_my);
            }
        }
        drop(result);
        let last = Some(self.conn.last_insert_id()).filter(|id| *id != 0);
        match (returned, last) {
            (Some(Value::Int(i)), _) => Ok(i),
            (_, Some(id)) => {
                i64::try_from(id).map_err(|_| DbError::Query("insert id out of range".into()))
            }
            _ => Err(DbError::Query(
                "the INSERT gave no id (no AUTO_INCREMENT column?)".into(),
            )),
        }
    }

    fn exec_raw(&mut self, sql: &str, p: &[Value]) -> Result<u64, DbError> {
        if p.is_empty() {
            self.conn.query_drop(sql).map_err(|e| map_err(&e))?;
        } else {
            self.conn
                .exec_drop(sql, params(p))
                .map_err(|e| map_err(&e))?;
        }
        Ok(self.conn.affected_rows())
    }

    fn canceller(&self) -> Option<Canceller> {
        let id = self.conn.connection_id();
        let opts = self.opts.clone();
        Some(Arc::new(move || {
            let opts: Opts = OptsBuilder::from_opts(opts.clone())
                .tcp_connect_timeout(Some(Duration::from_secs(2)))
                .read_timeout(Some(Duration::from_secs(2)))
                .into();
            match mysql::Conn::new(opts) {
                Ok(mut c) => {
                    if let Err(e) = c.query_drop(format!("KILL QUERY {id}")) {
                        log::warn!("order-hooks: MySQL KILL QUERY {id} failed: {e}");
                    }
                }
                Err(e) => log::warn!("order-hooks: cannot connect to cancel MySQL query {id}: {e}"),
            }
        }))
    }
}
