//! The trait an integrator's shop implements, and the clock the wrappers use.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::model::{AfterSalesRequest, CallbackRequest, Order, OrderNo, Phone, RequestId};

/// Most orders [`Shop::recent_orders`] may be asked for.
pub const RECENT_MAX: usize = 20;

/// The shop as the IVR sees it.
///
/// Called from the daemon's hook worker threads (blocking is fine there, never on the audio
/// path), so implementations are `Send + Sync` and take `&self`. Every call gets a `budget`:
/// an implementation returns [`Error::Timeout`](crate::Error::Timeout) when it cannot answer
/// within it, and must not make the caller wait much longer (the SQL backends in this crate
/// run the query on their own connection threads and stop waiting at the budget, whatever
/// the database does).
///
/// Inputs arrive validated ([`OrderNo`], [`Phone`] and the request types cannot hold bad
/// input), so an implementation only has to bind them as parameters.
pub trait Shop: Send + Sync {
    /// Looks an order up by its number.
    ///
    /// # Errors
    /// `NotFound` if there is no such order; `Timeout`, `Unavailable`, `Backend`.
    fn order(&self, number: &OrderNo, budget: Duration) -> Result<Order>;

    /// The most recent orders (newest first, at most `limit`, 1..=[`RECENT_MAX`]) whose
    /// consignee phone (mobile or fixed line) is `phone`.
    ///
    /// # Errors
    /// `NotFound` if the number has no orders; `InvalidInput` for a bad `limit`;
    /// `Timeout`, `Unavailable`, `Backend`.
    fn recent_orders(&self, phone: &Phone, limit: usize, budget: Duration) -> Result<Vec<Order>>;

    /// Records a return, exchange or complaint for an existing order.
    ///
    /// # Errors
    /// `NotFound` if the order does not exist; `Timeout`, `Unavailable`, `Backend`.
    fn create_after_sales(
        &self,
        request: &AfterSalesRequest,
        budget: Duration,
    ) -> Result<RequestId>;

    /// Records that the customer wants an agent to call back.
    ///
    /// # Errors
    /// `NotFound` if an order is given and does not exist; `Timeout`, `Unavailable`, `Backend`.
    fn request_callback(&self, request: &CallbackRequest, budget: Duration) -> Result<RequestId>;
}

/// Checks a `limit` for [`Shop::recent_orders`]; implementations call it first.
///
/// # Errors
/// `InvalidInput` outside 1..=[`RECENT_MAX`].
pub fn check_limit(limit: usize) -> Result<()> {
    if (1..=RECENT_MAX).contains(&limit) {
        Ok(())
    } else {
        Err(crate::Error::InvalidInput {
            field: "limit",
            value: limit.to_string(),
            problem: "must be 1..=20",
        })
    }
}

macro_rules! forward_shop {
    ($($t:ty),*) => {$(
        impl<S: Shop + ?Sized> Shop for $t {
            fn order(&self, n: &OrderNo, b: Duration) -> Result<Order> { (**self).order(n, b) }
            fn recent_orders(&self, p: &Phone, l: usize, b: Duration) -> Result<Vec<Order>> {
                (**self).recent_orders(p, l, b)
            }
            fn create_after_sales(&self, r: &AfterSalesRequest, b: Duration) -> Result<RequestId> {
                (**self).create_after_sales(r, b)
            }
            fn request_callback(&self, r: &CallbackRequest, b: Duration) -> Result<RequestId> {
                (**self).request_callback(r, b)
            }
        }
    )*};
}
forward_shop!(Arc<S>, Box<S>, &S);

/// A monotonic clock, injected so the circuit breaker and the cache run in virtual time in
/// tests.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Instant;
}

/// The OS monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to ([`ManualClock::advance`]); for tests.
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    offset_ns: AtomicU64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock standing at an arbitrary start instant.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset_ns: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_ns.fetch_add(ns, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + Duration::from_nanos(self.offset_ns.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}
