//! A circuit breaker and a short-lived cache around any [`Shop`].
//!
//! [`Guarded`] counts consecutive outages (`Timeout`, `Unavailable`); after
//! [`GuardConfig::failure_threshold`] of them it *opens* and answers `Unavailable` at once,
//! without touching the shop, for [`GuardConfig::open_for`]. Then it lets exactly one probe
//! call through (*half-open*): success closes it, another outage opens it again. Answers
//! that prove the database works (an order, `NotFound`, `InvalidInput`) count as success.
//!
//! Optionally, order lookups and recent-orders answers are cached for
//! [`GuardConfig::cache_ttl`]. Time comes from an injected [`Clock`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::model::{AfterSalesRequest, CallbackRequest, Order, OrderNo, Phone, RequestId};
use crate::shop::{Clock, Shop, SystemClock};

/// Settings of [`Guarded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// Consecutive outages that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before it lets one probe through.
    pub open_for: Duration,
    /// How long answers are cached (`None`: no cache).
    pub cache_ttl: Option<Duration>,
    /// Most cached answers kept.
    pub cache_capacity: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
            cache_ttl: None,
            cache_capacity: 10_000,
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive outages so far.
    Closed {
        /// Consecutive outages.
        failures: u32,
    },
    /// Calls are refused until `until`.
    Open {
        /// When a probe is allowed.
        until: Instant,
    },
    /// One probe call is in flight since `since`; others are refused. (If the probe never
    /// reports back, e.g. a custom shop panicked, another probe is allowed after
    /// `open_for`.)
    HalfOpen {
        /// When the probe was let through.
        since: Instant,
    },
}

/// The circuit breaker on its own (sans-IO: time is an argument).
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: BreakerState,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// May a call go through at `now`? `Err(until)` if not (`until` = when to retry).
    pub fn admit(&mut self, now: Instant) -> std::result::Result<(), Option<Instant>> {
        match self.state {
            BreakerState::Closed { .. } => Ok(()),
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen { since: now };
                Ok(())
            }
            BreakerState::Open { until } => Err(Some(until)),
            BreakerState::HalfOpen { since } if now >= since + self.open_for => {
                self.state = BreakerState::HalfOpen { since: now };
                Ok(())
            }
            BreakerState::HalfOpen { .. } => Err(None),
        }
    }

    /// Records the outcome of an admitted call: `outage` for `Timeout`/`Unavailable`.
    pub fn record(&mut self, now: Instant, outage: bool) {
        self.state = match (self.state, outage) {
            (_, false) => BreakerState::Closed { failures: 0 },
            (BreakerState::Closed { failures }, true) if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            (_, true) => BreakerState::Open {
                until: now + self.open_for,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_allows_one_probe_and_recovers_from_a_lost_probe() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut b = Breaker::new(2, s);
        assert_eq!(b.admit(t0), Ok(()));
        b.record(t0, true);
        assert_eq!(b.state(), BreakerState::Closed { failures: 1 });
        b.record(t0, true);
        assert_eq!(b.admit(t0), Err(Some(t0 + s)));
        assert_eq!(b.admit(t0 + s), Ok(()), "probe");
        assert_eq!(b.admit(t0 + s), Err(None), "only one probe");
        // The probe never reports (its caller panicked): another probe after open_for.
        assert_eq!(b.admit(t0 + s * 2), Ok(()));
        b.record(t0 + s * 2, false);
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert_eq!(Breaker::new(0, s).threshold, 1, "a zero threshold means 1");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Order(String),
    Recent(String, usize),
}

#[derive(Debug, Clone)]
enum Cached {
    Order(Order),
    Recent(Vec<Order>),
}

/// A [`Shop`] with a circuit breaker and an optional cache in front.
#[derive(Debug)]
pub struct Guarded<S, C = SystemClock> {
    inner: S,
    clock: C,
    config: GuardConfig,
    breaker: Mutex<Breaker>,
    cache: Mutex<HashMap<Key, (Instant, Cached)>>,
}

impl<S: Shop> Guarded<S, SystemClock> {
    /// Wraps `inner` with the OS clock.
    pub fn new(inner: S, config: GuardConfig) -> Self {
        Self::with_clock(inner, config, SystemClock)
    }
}

impl<S: Shop, C: Clock> Guarded<S, C> {
    /// Wraps `inner` with an injected clock.
    pub fn with_clock(inner: S, config: GuardConfig, clock: C) -> Self {
        Self {
            breaker: Mutex::new(Breaker::new(config.failure_threshold, config.open_for)),
            inner,
            clock,
            config,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        lock(&self.breaker).state()
    }

    /// The wrapped shop.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn guarded<T>(&self, op: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let now = self.clock.now();
        if let Err(until) = lock(&self.breaker).admit(now) {
            let reason = match until {
                Some(u) => format!(
                    "circuit breaker open after repeated failures ({op} refused, retry in {} ms)",
                    u.saturating_duration_since(now).as_millis()
                ),
                None => format!("circuit breaker half-open, probe in flight ({op} refused)"),
            };
            return Err(Error::Unavailable { reason });
        }
        let r = f();
        let outage = matches!(&r, Err(e) if e.is_outage());
        let now = self.clock.now();
        let mut b = lock(&self.breaker);
        let before = b.state();
        b.record(now, outage);
        if let (
            BreakerState::Closed { .. } | BreakerState::HalfOpen { .. },
            BreakerState::Open { .. },
        ) = (before, b.state())
        {
            log::warn!(
                "order-hooks: circuit breaker opened after {op} failed: {}",
                r.as_ref()
                    .err()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
        }
        r
    }

    fn cache_get(&self, key: &Key) -> Option<Cached> {
        self.config.cache_ttl?;
        let now = self.clock.now();
        let mut c = lock(&self.cache);
        match c.get(key) {
            Some((exp, v)) if *exp > now => Some(v.clone()),
            Some(_) => {
                c.remove(key);
                None
            }
            None => None,
        }
    }

    fn cache_put(&self, key: Key, v: Cached) {
        let Some(ttl) = self.config.cache_ttl else {
            return;
        };
        let now = self.clock.now();
        let mut c = lock(&self.cache);
        if c.len() >= self.config.cache_capacity {
            c.retain(|_, (exp, _)| *exp > now);
            if c.len() >= self.config.cache_capacity {
                c.clear();
            }
        }
        c.insert(key, (now + ttl, v));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: Shop, C: Clock> Shop for Guarded<S, C> {
    fn order(&self, number: &OrderNo, budget: Duration) -> Result<Order> {
        let key = Key::Order(number.as_str().to_owned());
        if let Some(Cached::Order(o)) = self.cache_get(&key) {
            return Ok(o);
        }
        let o = self.guarded("order lookup", || self.inner.order(number, budget))?;
        self.cache_put(key, Cached::Order(o.clone()));
        Ok(o)
    }

    fn recent_orders(&self, phone: &Phone, limit: usize, budget: Duration) -> Result<Vec<Order>> {
        crate::shop::check_limit(limit)?;
        let key = Key::Recent(phone.as_str().to_owned(), limit);
        if let Some(Cached::Recent(v)) = self.cache_get(&key) {
            return Ok(v);
        }
        let v = self.guarded("recent orders", || {
            self.inner.recent_orders(phone, limit, budget)
        })?;
        self.cache_put(key, Cached::Recent(v.clone()));
        Ok(v)
    }

    fn create_after_sales(
        &self,
        request: &AfterSalesRequest,
        budget: Duration,
    ) -> Result<RequestId> {
        self.guarded("after-sales request", || {
            self.inner.create_after_sales(request, budget)
        })
    }

    fn request_callback(&self, request: &CallbackRequest, budget: Duration) -> Result<RequestId> {
        self.guarded("callback request", || {
            self.inner.request_callback(request, budget)
        })
    }
}
