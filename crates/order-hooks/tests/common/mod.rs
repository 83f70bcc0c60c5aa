//! Shared by the integration tests: the conformance suite and server helpers.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use order_hooks::sample_shop::{self, SampleOrder};
use order_hooks::{
    AfterSalesKind, AfterSalesRequest, CallbackRequest, Carrier, Error, Fen, Note, OrderNo, Phone,
    Shop, UnixTime,
};

pub const ORDERS: u64 = 3000;
pub const SEED: u64 = 20_240_615;
pub const BUDGET: Duration = Duration::from_secs(5);

/// The URL of a real server from the environment. Missing: a skip message, or a failure
/// under CI=true (so CI cannot silently skip).
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            let msg = format!(
                "{var} is not set: start the servers with `eval \"$(bash crates/order-hooks/scripts/db-servers.sh start /tmp/oh-db)\"`"
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg} (CI=true: refusing to skip)");
            }
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// A fresh database on the server at `url`, named after the test; returns its URL.
pub fn fresh_database(url: &str, name: &str) -> String {
    let db = format!("oh_{name}_{}", std::process::id());
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    } else {
        use mysql::prelude::Queryable;
        let mut c =
            mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).expect("connect to MariaDB");
        c.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        c.query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4"))
            .unwrap();
    }
    let base = &url[..url.rfind('/').unwrap()];
    format!("{base}/{db}")
}

/// A database path in a fresh temporary directory, removed when dropped.
pub struct TempDb(std::path::PathBuf);

impl std::ops::Deref for TempDb {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn temp_path(name: &str) -> TempDb {
    let dir = std::env::temp_dir().join(format!("order-hooks-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDb(dir.join("shop.db"))
}

pub fn expected() -> Vec<SampleOrder> {
    sample_shop::orders(ORDERS, SEED).collect()
}

fn now() -> UnixTime {
    UnixTime(sample_shop::SAMPLE_NOW)
}

/// The conformance suite: every backend must pass it on the sample shop.
pub fn conformance(shop: &dyn Shop, ecshop_view: bool) {
    let all = expected();
    // 1. Lookups by number return exactly what the shop holds.
    for o in all.iter().step_by(37) {
        let got = shop
            .order(&OrderNo::parse(&o.order_no).unwrap(), BUDGET)
            .unwrap_or_else(|e| panic!("{}: {e}", o.order_no));
        let status = if ecshop_view {
            o.ecshop_status()
        } else {
            o.status
        };
        let pay_status = if ecshop_view {
            o.ecshop_pay_status()
        } else {
            o.pay_status
        };
        assert_eq!(got.number.as_str(), o.order_no);
        assert_eq!(got.status, status, "{}", o.order_no);
        assert_eq!(got.payment_method, o.pay_method, "{}", o.order_no);
        assert_eq!(got.payment_status, pay_status, "{}", o.order_no);
        assert_eq!(got.amount, Fen(o.amount_fen), "{}", o.order_no);
        assert_eq!(got.carrier, o.carrier, "{}", o.order_no);
        assert_eq!(got.tracking_no, o.tracking_no, "{}", o.order_no);
        assert_eq!(got.placed_at, UnixTime(o.placed_at));
        assert_eq!(got.shipped_at, o.shipped_at.map(UnixTime));
        assert_eq!(got.item_count, o.item_count);
        assert_eq!(got.consignee_masked, order_hooks::mask::name(&o.consignee));
        assert_ne!(got.consignee_masked, o.consignee, "the name is masked");
    }
    assert!(all.iter().any(|o| o.carrier == Some(Carrier::Sf)));

    // 2. A valid number that does not exist.
    let e = shop
        .order(&OrderNo::parse("99990101000001").unwrap(), BUDGET)
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert_eq!(e.to_string(), "not found: order 99990101000001");

    // 3. Recent orders by phone, in every spelling, newest first.
    let mut by_phone: HashMap<&str, Vec<&SampleOrder>> = HashMap::new();
    for o in &all {
        by_phone.entry(o.phone.as_str()).or_default().push(o);
    }
    let mut checked = 0;
    for (phone, orders) in by_phone.iter().filter(|(_, v)| v.len() >= 3).take(25) {
        let mut want: Vec<&str> = orders.iter().map(|o| o.order_no.as_str()).collect();
        want.sort_by_key(|n| {
            std::cmp::Reverse(all.iter().find(|o| o.order_no == *n).unwrap().placed_at)
        });
        let p = Phone::parse(phone).unwrap();
        let sp = p.spellings();
        for spelling in [
            phone.to_string(),
            sp.intl.clone(),
            sp.dashed.clone(),
            format!("0086 {}", sp.spaced),
        ] {
            let got = shop
                .recent_orders(&Phone::parse(&spelling).unwrap(), 2, BUDGET)
                .unwrap();
            let got: Vec<&str> = got.iter().map(|o| o.number.as_str()).collect();
            assert_eq!(
                got,
                want[..2].to_vec(),
                "phone {}",
                order_hooks::mask::phone(phone)
            );
        }
        let got = shop.recent_orders(&p, 20, BUDGET).unwrap();
        assert_eq!(got.len(), want.len().min(20));
        checked += 1;
    }
    assert!(
        checked >= 10,
        "the sample has customers with several orders"
    );
    let fixed = by_phone.keys().find(|p| p.starts_with('0')).unwrap();
    assert!(
        !shop
            .recent_orders(&Phone::parse(fixed).unwrap(), 5, BUDGET)
            .unwrap()
            .is_empty(),
        "fixed lines match too"
    );
    let e = shop
        .recent_orders(&Phone::parse("19999999999").unwrap(), 5, BUDGET)
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("199****9999"), "masked: {e}");
    let e = shop
        .recent_orders(&Phone::parse(fixed).unwrap(), 0, BUDGET)
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { field: "limit", .. }),
        "{e}"
    );

    // 4. After-sales and callback requests.
    let o = &all[10];
    let req = |kind| AfterSalesRequest {
        order: OrderNo::parse(&o.order_no).unwrap(),
        kind,
        reason: Note::parse("reason", "商品破损 (damaged); it's \"broken\"").unwrap(),
        phone: Some(Phone::parse(&o.phone).unwrap()),
        requested_at: now(),
    };
    let a = shop
        .create_after_sales(&req(AfterSalesKind::Return), BUDGET)
        .unwrap();
    let b = shop
        .create_after_sales(&req(AfterSalesKind::Complaint), BUDGET)
        .unwrap();
    assert_ne!(a, b, "each request gets its own id");
    let mut missing = req(AfterSalesKind::Exchange);
    missing.order = OrderNo::parse("99990101000001").unwrap();
    assert!(matches!(
        shop.create_after_sales(&missing, BUDGET),
        Err(Error::NotFound { .. })
    ));
    let cb = CallbackRequest {
        phone: Phone::parse(&o.phone).unwrap(),
        order: Some(OrderNo::parse(&o.order_no).unwrap()),
        note: None,
        requested_at: now(),
    };
    let c1 = shop.request_callback(&cb, BUDGET).unwrap();
    let c2 = shop
        .request_callback(
            &CallbackRequest {
                order: None,
                note: Some(Note::parse("note", "请尽快回电").unwrap()),
                ..cb.clone()
            },
            BUDGET,
        )
        .unwrap();
    assert_ne!(c1, c2);
    let bad = CallbackRequest {
        order: Some(OrderNo::parse("99990101000001").unwrap()),
        ..cb
    };
    assert!(matches!(
        shop.request_callback(&bad, BUDGET),
        Err(Error::NotFound { .. })
    ));
}

/// Asserts `f` returns `Timeout` within `budget` plus a small margin.
pub fn assert_times_out<T: std::fmt::Debug>(
    budget: Duration,
    f: impl FnOnce(Duration) -> order_hooks::Result<T>,
) {
    let t = Instant::now();
    let r = f(budget);
    let took = t.elapsed();
    assert!(
        matches!(r, Err(Error::Timeout { .. })),
        "expected Timeout, got {r:?}"
    );
    assert!(
        took < budget + Duration::from_millis(250),
        "returned after {took:?} with a budget of {budget:?}"
    );
    assert!(
        took >= budget - Duration::from_millis(5),
        "returned early after {took:?}"
    );
}

/// A TCP server that accepts connections and never answers (a hung database).
pub fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            match s {
                Ok(s) => held.push(s),
                Err(_) => return,
            }
            if held.len() > 64 {
                return;
            }
        }
    });
    (addr, h)
}
