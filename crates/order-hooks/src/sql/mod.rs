//! The SQL backends: one [`SqlShop`] type, a driver per database behind a cargo feature,
//! and a [`Mapping`] that says which SQL to run (a preset or the integrator's own).

pub mod config;
pub mod mapping;
#[cfg(feature = "mysql")]
pub mod mysql;
pub(crate) mod pool;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod stmt;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::{Preset, ShopConfig};
pub use mapping::{Mapping, QueryTexts, Rows, Vocabulary};
pub use pool::{Canceller, Conn, Connector, DbError};
pub use stmt::{Dialect, Param, Stmt, Value};

use crate::error::{Error, Result};
use crate::mask;
use crate::model::{AfterSalesRequest, CallbackRequest, Order, OrderNo, Phone, RequestId};
use crate::shop::{Shop, check_limit};
use pool::Pool;

/// Values for the named parameters of one call.
#[derive(Debug, Default)]
struct Bindings<'a> {
    order_no: Option<&'a str>,
    phone: Option<&'a Phone>,
    limit: Option<i64>,
    kind: Option<&'a str>,
    reason: Option<&'a str>,
    note: Option<&'a str>,
    created_at: Option<i64>,
}

fn bind(stmt: &Stmt, b: &Bindings<'_>) -> Vec<Value> {
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_owned()));
    let spellings = b.phone.map(Phone::spellings);
    stmt.params
        .iter()
        .map(|p| match p {
            Param::OrderNo => text(b.order_no),
            Param::Phone => text(b.phone.map(Phone::as_str)),
            Param::PhoneIntl => text(spellings.as_ref().map(|s| s.intl.as_str())),
            Param::PhoneDashed => text(spellings.as_ref().map(|s| s.dashed.as_str())),
            Param::PhoneSpaced => text(spellings.as_ref().map(|s| s.spaced.as_str())),
            Param::Limit => b.limit.map_or(Value::Null, Value::Int),
            Param::Kind => text(b.kind),
            Param::Reason => text(b.reason),
            Param::Note => text(b.note),
            Param::CreatedAt => b.created_at.map_or(Value::Null, Value::Int),
        })
        .collect()
}

/// A [`Shop`] on an SQL database: SQLite, PostgreSQL or MySQL/MariaDB.
///
/// Holds a fixed pool of connection threads (see the crate docs for the timeout design).
/// Cheap to share: wrap it in an `Arc`, or in a [`Guarded`](crate::Guarded) for a circuit
/// breaker and cache.
pub struct SqlShop {
    pool: Pool,
    mapping: Arc<Mapping>,
    describe: String,
}

impl fmt::Debug for SqlShop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlShop")
            .field("db", &self.describe)
            .field("mapping", &self.mapping.source)
            .finish()
    }
}

impl SqlShop {
    /// A shop over `connector` with `mapping` and `pool_size` connections.
    pub fn new(connector: Arc<dyn Connector>, mapping: Mapping, pool_size: usize) -> Self {
        let describe = connector.describe();
        Self {
            pool: Pool::new(connector, pool_size),
            mapping: Arc::new(mapping),
            describe,
        }
    }

    /// Opens the shop a [`ShopConfig`] describes (the URL picks the driver).
    ///
    /// # Errors
    /// [`Error::Config`] for a bad URL, a driver not compiled in, or bad custom SQL.
    /// Connecting happens on first use, so a database that is down now is not an error here.
    pub fn open(config: &ShopConfig) -> Result<Self> {
        let (dialect, connector) = config::connector_for(config)?;
        let mapping = config.mapping(dialect)?;
        Ok(Self::new(connector, mapping, config.pool_size))
    }

    /// The mapping in use.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn query_orders(
        &self,
        op: &'static str,
        which: Which,
        params: Vec<Value>,
        budget: Duration,
    ) -> Result<Vec<Order>> {
        let mapping = self.mapping.clone();
        let rows = self.pool.call(op, budget, move |slot, deadline: Instant| {
            let stmt = which.stmt(&mapping);
            slot.run(deadline, true, |c| c.query(stmt, &params, deadline))
        })?;
        mapping::decode(&rows, &self.mapping.vocabulary, which.key())
    }

    fn insert(
        &self,
        op: &'static str,
        which: Which,
        params: Vec<Value>,
        budget: Duration,
    ) -> Result<RequestId> {
        let mapping = self.mapping.clone();
        let id = self.pool.call(op, budget, move |slot, deadline: Instant| {
            let stmt = which.stmt(&mapping);
            slot.run(deadline, false, |c| c.insert(stmt, &params, deadline))
        })?;
        Ok(RequestId(id))
    }
}

#[derive(Debug, Clone, Copy)]
enum Which {
    OrderByNo,
    RecentByPhone,
    AfterSales,
    Callback,
}

impl Which {
    fn stmt(self, m: &Mapping) -> &Stmt {
        match self {
            Self::OrderByNo => &m.order_by_no,
            Self::RecentByPhone => &m.recent_by_phone,
            Self::AfterSales => &m.create_after_sales,
            Self::Callback => &m.request_callback,
        }
    }
    fn key(self) -> &'static str {
        match self {
            Self::OrderByNo => "queries.order_by_no",
            Self::RecentByPhone => "queries.recent_by_phone",
            Self::AfterSales => "queries.create_after_sales",
            Self::Callback => "queries.request_callback",
        }
    }
}

fn remaining(start: Instant, budget: Duration) -> Duration {
    budget.saturating_sub(start.elapsed())
}

impl Shop for SqlShop {
    fn order(&self, number: &OrderNo, budget: Duration) -> Result<Order> {
        let b = Bindings {
            order_no: Some(number.as_str()),
            ..Bindings::default()
        };
        let params = bind(&self.mapping.order_by_no, &b);
        let mut v = self.query_orders("order lookup", Which::OrderByNo, params, budget)?;
        if v.is_empty() {
            log::debug!("order-hooks: order {number} not found");
            return Err(Error::NotFound {
                what: format!("order {number}"),
            });
        }
        Ok(v.swap_remove(0))
    }

    fn recent_orders(&self, phone: &Phone, limit: usize, budget: Duration) -> Result<Vec<Order>> {
        check_limit(limit)?;
        let b = Bindings {
            phone: Some(phone),
            limit: Some(limit as i64),
            ..Bindings::default()
        };
        let params = bind(&self.mapping.recent_by_phone, &b);
        let mut v = self.query_orders("recent orders", Which::RecentByPhone, params, budget)?;
        if v.is_empty() {
            log::debug!("order-hooks: no orders for phone {phone}");
            return Err(Error::NotFound {
                what: format!("orders for phone {}", mask::phone(phone.as_str())),
            });
        }
        v.truncate(limit);
        Ok(v)
    }

    fn create_after_sales(&self, r: &AfterSalesRequest, budget: Duration) -> Result<RequestId> {
        let start = Instant::now();
        self.order(&r.order, budget)?;
        let b = Bindings {
            order_no: Some(r.order.as_str()),
            phone: r.phone.as_ref(),
            kind: Some(r.kind.name()),
            reason: Some(r.reason.as_str()),
            created_at: Some(r.requested_at.0),
            ..Bindings::default()
        };
        let params = bind(&self.mapping.create_after_sales, &b);
        let id = self.insert(
            "after-sales request",
            Which::AfterSales,
            params,
            remaining(start, budget),
        )?;
        log::info!("order-hooks: {} request {id} for order {}", r.kind, r.order);
        Ok(id)
    }

    fn request_callback(&self, r: &CallbackRequest, budget: Duration) -> Result<RequestId> {
        let start = Instant::now();
        if let Some(o) = &r.order {
            self.order(o, budget)?;
        }
        let b = Bindings {
            order_no: r.order.as_ref().map(OrderNo::as_str),
            phone: Some(&r.phone),
            note: r.note.as_ref().map(crate::model::Note::as_str),
            created_at: Some(r.requested_at.0),
            ..Bindings::default()
        };
        let params = bind(&self.mapping.request_callback, &b);
        let id = self.insert(
            "callback request",
            Which::Callback,
            params,
            remaining(start, budget),
        )?;
        log::info!("order-hooks: callback request {id} for {}", r.phone);
        Ok(id)
    }
}
