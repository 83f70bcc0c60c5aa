//! Order lookups on a 1,000,000-order sample shop: p50/p99 of lookup by order number and of
//! recent orders by phone, through the public `Shop` API (connection thread hop included).
//!
//! ```sh
//! cargo bench -p benches --bench order_hooks                      # SQLite only
//! eval "$(bash crates/order-hooks/scripts/db-servers.sh start /tmp/oh-db)"
//! cargo bench -p benches --bench order_hooks                      # + PostgreSQL, MariaDB
//! bash crates/order-hooks/scripts/db-servers.sh stop /tmp/oh-db
//! ```
//!
//! `ORDER_HOOKS_BENCH_ORDERS` changes the shop size (default 1,000,000);
//! `ORDER_HOOKS_BENCH_ECSHOP=1` also measures the ECShop schema on the servers (SQLite's
//! ECShop schema is always measured). Goals (SQLite):
//! lookup p99 <= 5 ms, recent-by-phone p99 <= 20 ms.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use order_hooks::sample_shop;
use order_hooks::{OrderNo, Phone, Preset, Shop, ShopConfig, SqlShop};

const SEED: u64 = 1;

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

fn run(name: &str, url: &str, preset: Preset, orders: u64, probes: &[(String, String)]) {
    let shop = SqlShop::open(&ShopConfig::new(url, preset)).expect("open shop");
    let budget = Duration::from_secs(5);
    // Warm up the connection and caches.
    for (no, phone) in probes.iter().take(200) {
        shop.order(&OrderNo::parse(no).unwrap(), budget).unwrap();
        shop.recent_orders(&Phone::parse(phone).unwrap(), 5, budget)
            .unwrap();
    }
    let mut by_no = Vec::with_capacity(probes.len());
    let mut by_phone = Vec::with_capacity(probes.len());
    for (no, phone) in probes {
        let no = OrderNo::parse(no).unwrap();
        let t = Instant::now();
        shop.order(&no, budget).unwrap();
        by_no.push(t.elapsed());
        let phone = Phone::parse(phone).unwrap();
        let t = Instant::now();
        let v = shop.recent_orders(&phone, 5, budget).unwrap();
        by_phone.push(t.elapsed());
        assert!(!v.is_empty());
    }
    println!(
        "{name:<11} {orders} orders, {} probes: lookup by number p50 {:.3} ms p99 {:.3} ms; recent by phone p50 {:.3} ms p99 {:.3} ms",
        probes.len(),
        pct(&mut by_no, 0.50),
        pct(&mut by_no, 0.99),
        pct(&mut by_phone, 0.50),
        pct(&mut by_phone, 0.99),
    );
}

fn ecshop() -> Preset {
    Preset::Ecshop {
        prefix: "ecs_".into(),
    }
}

fn fresh_db(url: &str, db: &str) -> String {
    let base = &url[..url.rfind('/').unwrap()];
    sample_shop::exec_admin(
        url,
        &[
            format!("DROP DATABASE IF EXISTS {db}"),
            format!("CREATE DATABASE {db}"),
        ],
    )
    .expect("create the bench database");
    format!("{base}/{db}")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let orders: u64 = std::env::var("ORDER_HOOKS_BENCH_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let n_probes = 5000usize;
    let step = (orders as usize / n_probes).max(1);
    let probes: Vec<(String, String)> = sample_shop::orders(orders, SEED)
        .step_by(step)
        .map(|o| (o.order_no, o.phone))
        .collect();

    let dir = std::env::temp_dir().join(format!("order-hooks-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shop.db");
    let s = sample_shop::create_sqlite(&path, orders, SEED).unwrap();
    println!(
        "sqlite     generated {} orders in {:.1} s ({:.0} MB)",
        s.orders,
        s.seconds,
        std::fs::metadata(&path).unwrap().len() as f64 / 1e6
    );
    run(
        "sqlite",
        &format!("sqlite:{}", path.display()),
        Preset::Generic,
        orders,
        &probes,
    );
    std::fs::remove_file(&path).unwrap();
    let ecs = dir.join("ecshop.db");
    let s = sample_shop::create_sqlite_ecshop(&ecs, orders, SEED).unwrap();
    println!(
        "sqlite-ecs  generated {} ECShop orders in {:.1} s",
        s.orders, s.seconds
    );
    run(
        "sqlite-ecs",
        &format!("sqlite:{}", ecs.display()),
        ecshop(),
        orders,
        &probes,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let with_ecshop = std::env::var("ORDER_HOOKS_BENCH_ECSHOP").is_ok_and(|v| v == "1");

    for (name, var) in [
        ("postgres", "ORDER_HOOKS_PG_URL"),
        ("mariadb", "ORDER_HOOKS_MYSQL_URL"),
    ] {
        let Ok(url) = std::env::var(var) else {
            println!("{name:<10} skipped: {var} not set");
            continue;
        };
        let url = fresh_db(&url, "oh_bench");
        let s = sample_shop::load(&url, "generic", orders, SEED).unwrap();
        println!(
            "{name:<10} loaded {} orders in {:.1} s",
            s.orders, s.seconds
        );
        run(name, &url, Preset::Generic, orders, &probes);
        if with_ecshop {
            let url = fresh_db(&url, "oh_bench_ecs");
            let s = sample_shop::load(&url, "ecshop", orders, SEED).unwrap();
            println!(
                "{name:<10} loaded {} ECShop orders in {:.1} s",
                s.orders, s.seconds
            );
            run(&format!("{name}-ecs"), &url, ecshop(), orders, &probes);
        }
    }
}
