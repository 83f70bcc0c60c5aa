//! The PostgreSQL driver (the synchronous `postgres` client, no TLS).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};

use super::mapping::Rows;
use super::pool::{Canceller, Conn, Connector, DbError};
use super::stmt::{Stmt, Value};

/// Opens connections from a `postgres://user[:password]@host:port/db` URL.
#[derive(Debug, Clone)]
pub struct PgConnector {
    config: Config,
    describe: String,
}

impl PgConnector {
    /// Parses the URL.
    ///
    /// # Errors
    /// A message saying what is wrong with it (without the password).
    pub fn new(url: &str) -> Result<Self, String> {
        let config = Config::from_str(url).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(s) => s.clone(),
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let describe = format!(
            "postgres://{host}:{port}/{}",
            config.get_dbname().unwrap_or("")
        );
        Ok(Self { config, describe })
    }
}

struct PgConn {
    client: Client,
    stmts: HashMap<String, Statement>,
}

fn map_err(e: &postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        // 57014 query_canceled (our cancel request or statement_timeout), 55P03 lock_not_available.
        let code = db.code().code();
        if code == "57014" || code == "55P03" {
            return DbError::Timeout;
        }
        if code.starts_with("08") || code.starts_with("57P") {
            return DbError::Lost(db.message().to_owned());
        }
        return DbError::Query(format!("{} ({code})", db.message()));
    }
    if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
        return DbError::Lost(e.to_string());
    }
    DbError::Query(e.to_string())
}

impl Connector for PgConnector {
    fn connect(&self, deadline: Instant) -> Result<Box<dyn Conn>, DbError> {
        let left = deadline.saturating_duration_since(Instant::now());
        let client = self
            .config
            .clone()
            .connect_timeout(left.clamp(Duration::from_millis(100), Duration::from_secs(10)))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .connect(NoTls)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Box::new(PgConn {
            client,
            stmts: HashMap::new(),
        }))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

type Param = Box<dyn ToSql + Sync>;

fn to_param(v: &Value, ty: &Type) -> Result<Param, DbError> {
    let bad = |what: &str| DbError::Query(format!("cannot bind {what} to a {ty} parameter"));
    Ok(match (v, ty) {
        (Value::Null, t) if *t == Type::INT2 => Box::new(None::<i16>),
        (Value::Null, t) if *t == Type::INT4 => Box::new(None::<i32>),
        (Value::Null, t) if *t == Type::INT8 => Box::new(None::<i64>),
        (Value::Null, _) => Box::new(None::<String>),
        (Value::Int(i), t) if *t == Type::INT2 => {
            Box::new(i16::try_from(*i).map_err(|_| bad("a large integer"))?)
        }
        (Value::Int(i), t) if *t == Type::INT4 => {
            Box::new(i32::try_from(*i).map_err(|_| bad("a large integer"))?)
        }
        (Value::Int(i), t) if *t == Type::INT8 => Box::new(*i),
        (Value::Int(i), t) if *t == Type::FLOAT8 => Box::new(*i as f64),
        (Value::Int(i), _) => Box::new(i.to_string()),
        (Value::Float(f), _) => Box::new(*f),
        (Value::Text(s), t) if *t == Type::INT2 || *t == Type::INT4 || *t == Type::INT8 => {
            let i: i64 = s.parse().map_err(|_| bad("text"))?;
            return to_param(&Value::Int(i), ty);
        }
        (Value::Text(s), _) => Box::new(s.clone()),
    })
}

fn get(row: &postgres::Row, i: usize) -> Result<Value, DbError> {
    let ty = row.columns()[i].type_();
    let e = |e: postgres::Error| DbError::Query(e.to_string());
    Ok(if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)
            .map_err(e)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)
            .map_err(e)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Int)
    } else if *ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)
            .map_err(e)?
            .map_or(Value::Null, |v| Value::Float(v.into()))
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Float)
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)
            .map_err(e)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::BPCHAR || *ty == Type::NAME
    {
        row.try_get::<_, Option<String>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::Text)
    } else {
        return Err(DbError::Query(format!(
            "column {} has type {ty}: cast it in the query (e.g. CAST(x AS TEXT) for NUMERIC)",
            row.columns()[i].name()
        )));
    })
}

impl PgConn {
    fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(|e| map_err(&e))?;
        if self.stmts.len() > 64 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn bind(st: &Statement, params: &[Value]) -> Result<Vec<Param>, DbError> {
        st.params()
            .iter()
            .zip(params)
            .map(|(t, v)| to_param(v, t))
            .collect()
    }
}

fn refs(p: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
}

impl Conn for PgConn {
    fn query(
        &mut self,
        stmt: &Stmt,
        params: &[Value],
        _deadline: Instant,
    ) -> Result<Rows, DbError> {
        let st = self.prepare(&stmt.text)?;
        let p = Self::bind(&st, params)?;
        let rows = self.client.query(&st, &refs(&p)).map_err(|e| map_err(&e))?;
        let columns = st.columns().iter().map(|c| c.name().to_owned()).collect();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(
                (0..r.len())
                    .map(|i| get(r, i))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(Rows { columns, rows: out })
    }

    fn insert(
        &mut self,
        stmt: &Stmt,
        params: &[Value],
        _deadline: Instant,
    ) -> Result<i64, DbError> {
        let st = self.prepare(&stmt.text)?;
        if st.columns().is_empty() {
            return Err(DbError::Query(
                "a PostgreSQL INSERT must end in RETURNING id".into(),
            ));
        }
        let p = Self::bind(&st, params)?;
        let row = self
            .client
            .query_one(&st, &refs(&p))
            .map_err(|e| map_err(&e))?;
        match get(&row, 0)? {
            Value::Int(i) => Ok(i),
            other => Err(DbError::Query(format!(
                "RETURNING gave {other:?}, not an integer id"
            ))),
        }
    }

    fn exec_raw(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        if params.is_empty() {
            self.client.batch_execute(sql).map_err(|e| map_err(&e))?;
            return Ok(0);
        }
        let st = self.client.prepare(sql).map_err(|e| map_err(&e))?;
        let p = Self::bind(&st, params)?;
        self.client.execute(&st, &refs(&p)).map_err(|e| map_err(&e))
    }

    fn canceller(&self) -> Option<Canceller> {
        let token = self.client.cancel_token();
        Some(Arc::new(move || {
            if let Err(e) = token.cancel_query(NoTls) {
                log::warn!("order-hooks: PostgreSQL cancel request failed: {e}");
            }
        }))
    }
}
