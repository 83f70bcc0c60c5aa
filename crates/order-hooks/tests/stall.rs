//! A database that accepts the TCP connection and never answers: every backend must return
//! `Timeout` within the budget, and the circuit breaker must then answer `Unavailable` at
//! once. A refused connection is `Unavailable`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use order_hooks::{
    BreakerState, Error, GuardConfig, Guarded, ManualClock, OrderNo, Phone, Preset, Shop,
    ShopConfig, SqlShop,
};

fn hung(url: &str) -> SqlShop {
    let mut cfg = ShopConfig::new(url, Preset::Generic);
    cfg.pool_size = 2;
    SqlShop::open(&cfg).unwrap()
}

#[test]
fn postgres_that_never_answers_times_out() {
    let (addr, _srv) = silent_server();
    let shop = hung(&format!("postgres://ivr@{addr}/shop"));
    let no = OrderNo::parse("2025010100000001").unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(250), |b| shop.order(&no, b));
    }
}

#[test]
fn mysql_that_never_answers_times_out() {
    let (addr, _srv) = silent_server();
    let shop = hung(&format!("mysql://ivr:ivr@{addr}/shop"));
    let p = Phone::parse("13812345678").unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(250), |b| shop.recent_orders(&p, 3, b));
    }
}

#[test]
fn breaker_answers_unavailable_at_once_after_repeated_timeouts() {
    let (addr, _srv) = silent_server();
    let clock = Arc::new(ManualClock::new());
    let cfg = GuardConfig {
        failure_threshold: 3,
        open_for: Duration::from_secs(30),
        ..GuardConfig::default()
    };
    let shop = Guarded::with_clock(
        hung(&format!("postgres://ivr@{addr}/shop")),
        cfg,
        clock.clone(),
    );
    let no = OrderNo::parse("2025010100000001").unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(200), |b| shop.order(&no, b));
    }
    assert!(matches!(shop.breaker_state(), BreakerState::Open { .. }));
    let all = Instant::now();
    for _ in 0..100 {
        let t = Instant::now();
        let e = shop.order(&no, Duration::from_secs(2)).unwrap_err();
        // Far below the 2 s budget (the margin only absorbs scheduling on a busy machine).
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "open breaker answers at once"
        );
        assert!(matches!(e, Error::Unavailable { .. }), "{e}");
        assert!(e.to_string().contains("circuit breaker open"), "{e}");
    }
    assert!(
        all.elapsed() < Duration::from_secs(1),
        "100 refusals took {:?}",
        all.elapsed()
    );
    clock.advance(Duration::from_secs(31));
    // The probe goes to the database, times out, and the breaker opens again.
    assert_times_out(Duration::from_millis(200), |b| shop.order(&no, b));
    assert!(matches!(shop.breaker_state(), BreakerState::Open { .. }));
}

#[test]
fn refused_connections_are_unavailable() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let no = OrderNo::parse("2025010100000001").unwrap();
    for url in [
        format!("postgres://ivr@{addr}/shop"),
        format!("mysql://ivr:ivr@{addr}/shop"),
    ] {
        let e = hung(&url).order(&no, Duration::from_secs(2)).unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{url}: {e}");
        assert!(
            !e.to_string().contains("ivr:ivr"),
            "no password in messages: {e}"
        );
    }
}

#[test]
fn callers_get_unavailable_at_once_when_every_connection_is_stuck() {
    // One connection thread, stuck on a server that never answers; four calls may wait
    // behind it (the bounded queue), every further caller is refused at once.
    let (addr, _srv) = silent_server();
    let mut cfg = ShopConfig::new(&format!("mysql://ivr:ivr@{addr}/shop"), Preset::Generic);
    cfg.pool_size = 1;
    let shop = Arc::new(SqlShop::open(&cfg).unwrap());
    let no = OrderNo::parse("2025010100000001").unwrap();
    let budget = Duration::from_secs(1);
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (shop, no) = (shop.clone(), no.clone());
            std::thread::spawn(move || {
                let t = Instant::now();
                let r = shop.order(&no, budget);
                (r, t.elapsed())
            })
        })
        .collect();
    let (mut timeouts, mut refused) = (0, 0);
    for c in callers {
        match c.join().unwrap() {
            (Err(Error::Timeout { .. }), took) => {
                assert!(
                    took >= budget - Duration::from_millis(5)
                        && took < budget + Duration::from_millis(250),
                    "{took:?}"
                );
                timeouts += 1;
            }
            (Err(e @ Error::Unavailable { .. }), took) => {
                assert!(e.to_string().contains("busy"), "{e}");
                assert!(
                    took < Duration::from_millis(200),
                    "refused at once, took {took:?}"
                );
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Four wait in the queue, plus the one the thread has taken if it took it before the
    // others arrived; everyone else is refused.
    assert!(
        matches!((timeouts, refused), (4, 4) | (5, 3)),
        "{timeouts} timed out, {refused} refused"
    );
}
