//! The conformance suite on a real MariaDB/MySQL server (ORDER_HOOKS_MYSQL_URL), generic and
//! ECShop schemas; a locked table and a killed connection.

mod common;

use std::time::Duration;

use common::*;
use mysql::prelude::Queryable;
use order_hooks::sample_shop;
use order_hooks::{OrderNo, Preset, Shop, ShopConfig, SqlShop};

#[test]
fn mysql_generic_conforms() {
    let Some(url) = server_url("ORDER_HOOKS_MYSQL_URL") else {
        return;
    };
    let url = fresh_database(&url, "my_generic");
    sample_shop::load(&url, "generic", ORDERS, SEED).unwrap();
    conformance(
        &SqlShop::open(&ShopConfig::new(&url, Preset::Generic)).unwrap(),
        false,
    );
}

#[test]
fn mysql_ecshop_conforms() {
    let Some(url) = server_url("ORDER_HOOKS_MYSQL_URL") else {
        return;
    };
    let url = fresh_database(&url, "my_ecshop");
    sample_shop::load(&url, "ecshop", ORDERS, SEED).unwrap();
    let cfg = ShopConfig::from_toml(
        &format!("url = \"{url}\"\npreset = \"ecshop\"\ntable_prefix = \"ecs_\"\n"),
        "ecshop.toml",
    )
    .unwrap();
    conformance(&SqlShop::open(&cfg).unwrap(), true);
}

#[test]
fn mysql_locked_table_times_out_and_killed_connections_reconnect() {
    let Some(url) = server_url("ORDER_HOOKS_MYSQL_URL") else {
        return;
    };
    let url = fresh_database(&url, "my_lock");
    let s = sample_shop::load(&url, "generic", 300, SEED).unwrap();
    let mut cfg = ShopConfig::new(&url, Preset::Generic);
    cfg.pool_size = 2;
    let shop = SqlShop::open(&cfg).unwrap();
    let no = OrderNo::parse(&s.sample_order_no).unwrap();
    shop.order(&no, BUDGET).unwrap();

    let mut locker = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    locker.query_drop("LOCK TABLES shop_orders WRITE").unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(300), |b| shop.order(&no, b));
    }
    locker.query_drop("UNLOCK TABLES").unwrap();
    shop.order(&no, Duration::from_secs(2)).unwrap();

    let db = url.rsplit('/').next().unwrap();
    let ids: Vec<u64> = locker
        .exec(
            "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
            (db,),
        )
        .unwrap();
    assert!(!ids.is_empty());
    for id in ids {
        let _ = locker.query_drop(format!("KILL {id}"));
    }
    for _ in 0..4 {
        shop.order(&no, BUDGET).unwrap();
    }
}
