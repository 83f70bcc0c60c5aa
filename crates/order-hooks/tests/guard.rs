//! The circuit breaker and the cache, in virtual time (a `ManualClock`, no sleeps), around
//! a scripted shop.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use order_hooks::{
    AfterSalesRequest, BreakerState, CallbackRequest, Error, Fen, GuardConfig, Guarded,
    ManualClock, Order, OrderNo, OrderStatus, PaymentMethod, PaymentStatus, Phone, RequestId,
    Result, Shop, UnixTime,
};

/// Answers from a script: each call pops the next outcome (or repeats the last).
#[derive(Default)]
struct Scripted {
    script: Mutex<Vec<Outcome>>,
    calls: AtomicUsize,
}

#[derive(Clone, Copy, Debug)]
enum Outcome {
    Ok,
    Timeout,
    Down,
    NotFound,
}

fn order(no: &OrderNo) -> Order {
    Order {
        number: no.clone(),
        status: OrderStatus::Shipped,
        payment_method: PaymentMethod::Alipay,
        payment_status: PaymentStatus::Paid,
        amount: Fen(12850),
        carrier: None,
        tracking_no: None,
        placed_at: UnixTime(0),
        shipped_at: None,
        item_count: 1,
        consignee_masked: "张*".into(),
    }
}

impl Scripted {
    fn new(script: &[Outcome]) -> Self {
        Self {
            script: Mutex::new(script.iter().rev().copied().collect()),
            calls: AtomicUsize::new(0),
        }
    }
    fn next(&self) -> Outcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut s = self.script.lock().unwrap();
        if s.len() > 1 { s.pop().unwrap() } else { s[0] }
    }
    fn answer<T>(&self, ok: impl FnOnce() -> T) -> Result<T> {
        match self.next() {
            Outcome::Ok => Ok(ok()),
            Outcome::Timeout => Err(Error::Timeout {
                op: "order lookup",
                budget: Duration::from_millis(100),
            }),
            Outcome::Down => Err(Error::Unavailable {
                reason: "connection refused".into(),
            }),
            Outcome::NotFound => Err(Error::NotFound {
                what: "order".into(),
            }),
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Shop for Scripted {
    fn order(&self, n: &OrderNo, _: Duration) -> Result<Order> {
        self.answer(|| order(n))
    }
    fn recent_orders(&self, _: &Phone, _: usize, _: Duration) -> Result<Vec<Order>> {
        self.answer(|| vec![order(&OrderNo::parse("123456").unwrap())])
    }
    fn create_after_sales(&self, _: &AfterSalesRequest, _: Duration) -> Result<RequestId> {
        self.answer(|| RequestId(1))
    }
    fn request_callback(&self, _: &CallbackRequest, _: Duration) -> Result<RequestId> {
        self.answer(|| RequestId(2))
    }
}

const B: Duration = Duration::from_millis(100);

fn no() -> OrderNo {
    OrderNo::parse("2025010100000001").unwrap()
}

type Setup = (
    Guarded<Arc<Scripted>, Arc<ManualClock>>,
    Arc<Scripted>,
    Arc<ManualClock>,
);

fn guarded(script: &[Outcome], cfg: GuardConfig) -> Setup {
    let inner = Arc::new(Scripted::new(script));
    let clock = Arc::new(ManualClock::new());
    (
        Guarded::with_clock(inner.clone(), cfg, clock.clone()),
        inner,
        clock,
    )
}

#[test]
fn breaker_opens_after_threshold_and_refuses_without_calling_the_shop() {
    use Outcome::*;
    let cfg = GuardConfig {
        failure_threshold: 3,
        open_for: Duration::from_secs(10),
        ..GuardConfig::default()
    };
    let (g, inner, clock) = guarded(&[Timeout, Down, Timeout, Ok], cfg);
    for _ in 0..3 {
        assert!(g.order(&no(), B).unwrap_err().is_outage());
    }
    assert!(matches!(g.breaker_state(), BreakerState::Open { .. }));
    for _ in 0..50 {
        let e = g.order(&no(), B).unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e}");
        assert!(e.to_string().contains("retry in"), "{e}");
    }
    assert_eq!(inner.calls(), 3, "an open breaker does not touch the shop");
    clock.advance(Duration::from_millis(9_999));
    assert!(g.order(&no(), B).is_err());
    assert_eq!(inner.calls(), 3);
    clock.advance(Duration::from_millis(1));
    // Half-open: one probe, which succeeds and closes the breaker.
    g.order(&no(), B).unwrap();
    assert_eq!(g.breaker_state(), BreakerState::Closed { failures: 0 });
    assert_eq!(inner.calls(), 4);
}

#[test]
fn failed_probe_reopens_and_answers_that_prove_the_database_works_reset_the_count() {
    use Outcome::*;
    let cfg = GuardConfig {
        failure_threshold: 2,
        open_for: Duration::from_secs(5),
        ..GuardConfig::default()
    };
    let (g, inner, clock) = guarded(&[Timeout, NotFound, Timeout, Timeout, Timeout, Ok], cfg);
    assert!(g.order(&no(), B).is_err());
    assert!(
        matches!(g.order(&no(), B), Err(Error::NotFound { .. })),
        "NotFound passes through"
    );
    assert_eq!(
        g.breaker_state(),
        BreakerState::Closed { failures: 0 },
        "NotFound counts as success"
    );
    assert!(g.order(&no(), B).is_err());
    assert!(g.order(&no(), B).is_err());
    assert!(matches!(g.breaker_state(), BreakerState::Open { .. }));
    clock.advance(Duration::from_secs(5));
    assert!(
        matches!(g.order(&no(), B), Err(Error::Timeout { .. })),
        "the probe reaches the shop"
    );
    assert!(
        matches!(g.breaker_state(), BreakerState::Open { .. }),
        "a failed probe reopens"
    );
    assert_eq!(inner.calls(), 5);
    clock.advance(Duration::from_secs(5));
    g.order(&no(), B).unwrap();
    // Writes go through the same breaker.
    g.create_after_sales(
        &AfterSalesRequest {
            order: no(),
            kind: order_hooks::AfterSalesKind::Return,
            reason: order_hooks::Note::parse("reason", "x").unwrap(),
            phone: None,
            requested_at: UnixTime(0),
        },
        B,
    )
    .unwrap();
}

#[test]
fn cache_serves_within_ttl_and_expires() {
    use Outcome::*;
    let cfg = GuardConfig {
        cache_ttl: Some(Duration::from_secs(30)),
        ..GuardConfig::default()
    };
    let (g, inner, clock) = guarded(&[Ok], cfg);
    let a = g.order(&no(), B).unwrap();
    clock.advance(Duration::from_secs(29));
    assert_eq!(g.order(&no(), B).unwrap(), a);
    assert_eq!(inner.calls(), 1, "served from the cache");
    let p = Phone::parse("13812345678").unwrap();
    g.recent_orders(&p, 3, B).unwrap();
    g.recent_orders(&p, 3, B).unwrap();
    assert_eq!(inner.calls(), 2);
    g.recent_orders(&p, 4, B).unwrap();
    assert_eq!(inner.calls(), 3, "a different limit is a different answer");
    clock.advance(Duration::from_secs(2));
    g.order(&no(), B).unwrap();
    assert_eq!(inner.calls(), 4, "expired after the TTL");
    assert!(
        g.recent_orders(&p, 0, B).is_err(),
        "limit is checked before the cache"
    );
}

#[test]
fn no_cache_by_default() {
    let (g, inner, _) = guarded(&[Outcome::Ok], GuardConfig::default());
    g.order(&no(), B).unwrap();
    g.order(&no(), B).unwrap();
    assert_eq!(inner.calls(), 2);
}
