//! The conformance suite on a real PostgreSQL server (ORDER_HOOKS_PG_URL), generic and
//! ECShop schemas; a locked table and a killed connection.

mod common;

use std::time::Duration;

use common::*;
use order_hooks::sample_shop;
use order_hooks::{OrderNo, Preset, Shop, ShopConfig, SqlShop};

#[test]
fn postgres_generic_conforms() {
    let Some(url) = server_url("ORDER_HOOKS_PG_URL") else {
        return;
    };
    let url = fresh_database(&url, "pg_generic");
    sample_shop::load(&url, "generic", ORDERS, SEED).unwrap();
    conformance(
        &SqlShop::open(&ShopConfig::new(&url, Preset::Generic)).unwrap(),
        false,
    );
}

#[test]
fn postgres_ecshop_conforms() {
    let Some(url) = server_url("ORDER_HOOKS_PG_URL") else {
        return;
    };
    let url = fresh_database(&url, "pg_ecshop");
    sample_shop::load(&url, "ecshop", ORDERS, SEED).unwrap();
    let shop = SqlShop::open(&ShopConfig::new(
        &url,
        Preset::Ecshop {
            prefix: "ecs_".into(),
        },
    ))
    .unwrap();
    conformance(&shop, true);
}

#[test]
fn postgres_locked_table_times_out_and_killed_connections_reconnect() {
    let Some(url) = server_url("ORDER_HOOKS_PG_URL") else {
        return;
    };
    let url = fresh_database(&url, "pg_lock");
    let s = sample_shop::load(&url, "generic", 300, SEED).unwrap();
    let mut cfg = ShopConfig::new(&url, Preset::Generic);
    cfg.pool_size = 2;
    let shop = SqlShop::open(&cfg).unwrap();
    let no = OrderNo::parse(&s.sample_order_no).unwrap();
    shop.order(&no, BUDGET).unwrap();

    let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE shop_orders IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(300), |b| shop.order(&no, b));
    }
    tx.commit().unwrap();
    // The stuck statements were cancelled: the pool answers again at once.
    shop.order(&no, Duration::from_secs(2)).unwrap();

    // The server drops every connection (restart, admin kill): the next call reconnects.
    let db = url.rsplit('/').next().unwrap();
    locker
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
    for _ in 0..4 {
        shop.order(&no, BUDGET).unwrap();
    }
}
