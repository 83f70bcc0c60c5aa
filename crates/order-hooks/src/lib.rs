//! `order-hooks`: what an integrator links to connect the IVR to the shop.
//!
//! It knows nothing about the IVR. The daemon calls a [`Shop`] from its hook worker threads
//! with a per-call time budget; this crate provides the trait, typed inputs that are
//! validated before they can reach a database ([`OrderNo`], [`Phone`], [`Note`]), typed
//! results ([`Order`]) and errors ([`Error`]), and SQL backends for SQLite (bundled, the
//! default feature), PostgreSQL (`postgres` feature) and MySQL/MariaDB (`mysql` feature),
//! each pointed at a schema by a preset (generic, ECShop) or the integrator's own SQL.
//!
//! # Contract
//!
//! - **Threads**: every `Shop` is `Send + Sync` and takes `&self`; calls block, so make them
//!   from worker threads, never from the audio path. [`SqlShop`] runs statements on its own
//!   pool of connection threads (one connection each, reopened after it breaks).
//! - **Time**: a call returns within its `budget` (plus scheduling noise) whatever the
//!   database does: the caller waits on a channel with that deadline and the stuck statement
//!   is cancelled behind it (SQLite interrupt, PostgreSQL cancel request, MySQL
//!   `KILL QUERY`). [`Guarded`] adds a circuit breaker, so a dead database answers
//!   `Unavailable` at once, and an optional cache; both read time from an injected [`Clock`].
//! - **Input**: queries are always parameterised; caller input is validated (digits only,
//!   lengths) before any SQL. **Personal data** (phone, name, address) is masked in logs,
//!   in error messages, in `Debug` output and in [`Order`] itself ([`mask`]).
//! - **Allocation**: ordinary heap use; nothing here is real-time.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use order_hooks::{sample_shop, Guarded, GuardConfig, OrderNo, Phone, Shop, SqlShop, ShopConfig, Preset};
//!
//! let dir = std::env::temp_dir().join(format!("order-hooks-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("shop.db");
//! let _ = std::fs::remove_file(&path);
//! let summary = sample_shop::create_sqlite(&path, 200, 7)?;
//!
//! let url = format!("sqlite:{}", path.display());
//! let shop = Guarded::new(SqlShop::open(&ShopConfig::new(&url, Preset::Generic))?, GuardConfig::default());
//! let budget = Duration::from_millis(500);
//! let order = shop.order(&OrderNo::parse(&summary.sample_order_no)?, budget)?;
//! println!("{} is {} ({} yuan)", order.number, order.status, order.amount);
//! let recent = shop.recent_orders(&Phone::parse(&summary.sample_phone)?, 3, budget)?;
//! assert!(!recent.is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod guard;
pub mod mask;
pub mod model;
pub mod sample_shop;
pub mod shop;
pub mod sql;

/// The integrator guide (`docs/integrator-guide.md`), included here so that its examples
/// are compiled and run as doc tests.
#[doc = include_str!("../../../docs/integrator-guide.md")]
pub mod integrator_guide {}

pub use error::{Error, Result};
pub use guard::{Breaker, BreakerState, GuardConfig, Guarded};
pub use model::{
    AfterSalesKind, AfterSalesRequest, CallbackRequest, Carrier, Fen, Note, Order, OrderNo,
    OrderStatus, PaymentMethod, PaymentStatus, Phone, PhoneKind, RequestId, UnixTime,
};
pub use shop::{Clock, ManualClock, RECENT_MAX, Shop, SystemClock};
pub use sql::{Dialect, Mapping, Preset, ShopConfig, SqlShop};
