//! The conformance suite on SQLite (generic, ECShop and custom-SQL schemas), and timeouts
//! on a locked database.

mod common;

use std::time::Duration;

use common::*;
use order_hooks::sample_shop;
use order_hooks::{
    AfterSalesKind, AfterSalesRequest, Error, Note, OrderNo, Phone, Preset, Shop, ShopConfig,
    SqlShop, UnixTime,
};

#[test]
fn sqlite_generic_conforms() {
    let path = temp_path("generic");
    let s = sample_shop::create_sqlite(&path, ORDERS, SEED).unwrap();
    assert_eq!(s.orders, ORDERS);
    let shop = SqlShop::open(&ShopConfig::new(
        &format!("sqlite:{}", path.display()),
        Preset::Generic,
    ))
    .unwrap();
    conformance(&shop, false);
    let e = sample_shop::create_sqlite(&path, 10, 1).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
}

#[test]
fn sqlite_ecshop_conforms() {
    let path = temp_path("ecshop");
    sample_shop::create_sqlite_ecshop(&path, ORDERS, SEED).unwrap();
    let cfg = ShopConfig::from_toml(
        &format!("url = \"sqlite:{}\"\npreset = \"ecshop\"\n", path.display()),
        "ecshop.toml",
    )
    .unwrap();
    conformance(&SqlShop::open(&cfg).unwrap(), true);
}

#[test]
fn sqlite_custom_sql_conforms() {
    // An integrator's own SQL over the generic tables, with renamed columns and codes
    // mapped back through [values.*].
    let path = temp_path("custom");
    sample_shop::create_sqlite(&path, ORDERS, SEED).unwrap();
    let toml = format!(
        r#"
url = "sqlite:{}"
preset = "custom"

[queries]
order_by_no = """
  SELECT order_no, upper(status) AS status, pay_method, pay_status, amount_fen, carrier,
         tracking_no, placed_at, shipped_at, item_count, consignee
  FROM shop_orders WHERE order_no = :order_no"""
recent_by_phone = """
  SELECT order_no, upper(status) AS status, pay_method, pay_status, amount_fen, carrier,
         tracking_no, placed_at, shipped_at, item_count, consignee
  FROM shop_orders WHERE phone = :phone ORDER BY placed_at DESC LIMIT :limit"""
create_after_sales = "INSERT INTO shop_after_sales (order_no, kind, reason, phone, created_at) VALUES (:order_no, :kind, :reason, :phone, :created_at)"
request_callback = "INSERT INTO shop_callbacks (phone, order_no, note, created_at) VALUES (:phone, :order_no, :note, :created_at)"

[values.status]
PLACED = "placed"
AWAITING_PAYMENT = "awaiting_payment"
PAID = "paid"
CONFIRMED = "confirmed"
PICKING = "picking"
SHIPPED = "shipped"
IN_TRANSIT = "in_transit"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURNED = "returned"
REFUNDED = "refunded"
"#,
        path.display()
    );
    let cfg = ShopConfig::from_toml(&toml, "custom.toml").unwrap();
    conformance(&SqlShop::open(&cfg).unwrap(), false);
}

#[test]
fn sqlite_locked_database_times_out_within_budget_and_recovers() {
    let path = temp_path("locked");
    let s = sample_shop::create_sqlite(&path, 200, SEED).unwrap();
    let url = format!("sqlite:{}", path.display());
    let shop = SqlShop::open(&ShopConfig::new(&url, Preset::Generic)).unwrap();
    let no = OrderNo::parse(&s.sample_order_no).unwrap();
    let req = AfterSalesRequest {
        order: no.clone(),
        kind: AfterSalesKind::Return,
        reason: Note::parse("reason", "破损").unwrap(),
        phone: None,
        requested_at: UnixTime(0),
    };
    shop.create_after_sales(&req, BUDGET).unwrap();
    // Another writer holds the database: the insert waits only as long as the budget.
    let locker = rusqlite::Connection::open(&*path).unwrap();
    locker
        .execute_batch(
            "BEGIN EXCLUSIVE; UPDATE shop_orders SET item_count = item_count WHERE id = 1;",
        )
        .unwrap();
    for _ in 0..3 {
        assert_times_out(Duration::from_millis(300), |b| {
            shop.create_after_sales(&req, b)
        });
    }
    locker.execute_batch("COMMIT").unwrap();
    shop.create_after_sales(&req, BUDGET).unwrap();
}

#[test]
fn sqlite_endless_query_is_interrupted_at_the_budget() {
    // A query that never ends (like SELECT sleep()): the caller gets Timeout at the budget,
    // the statement is interrupted, and the connection serves the next call.
    let path = temp_path("endless");
    let s = sample_shop::create_sqlite(&path, 200, SEED).unwrap();
    let cols = "order_no, status, pay_method, pay_status, amount_fen, carrier, tracking_no, placed_at, shipped_at, item_count, consignee";
    let toml = format!(
        r#"url = "sqlite:{}"
pool_size = 1
[queries]
order_by_no = "SELECT {cols} FROM shop_orders WHERE order_no = :order_no AND (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c) > 0"
recent_by_phone = "SELECT {cols} FROM shop_orders WHERE phone = :phone ORDER BY placed_at DESC LIMIT :limit"
create_after_sales = "INSERT INTO shop_after_sales (order_no, kind, reason, created_at) VALUES (:order_no, :kind, :reason, :created_at)"
request_callback = "INSERT INTO shop_callbacks (phone, created_at) VALUES (:phone, :created_at)"
"#,
        path.display()
    );
    let shop = SqlShop::open(&ShopConfig::from_toml(&toml, "endless.toml").unwrap()).unwrap();
    let no = OrderNo::parse(&s.sample_order_no).unwrap();
    let phone = Phone::parse(&s.sample_phone).unwrap();
    for _ in 0..2 {
        assert_times_out(Duration::from_millis(300), |b| shop.order(&no, b));
        // The only connection thread is free again: the next query answers.
        shop.recent_orders(&phone, 3, Duration::from_secs(2))
            .unwrap();
    }
}

#[test]
fn a_missing_database_file_is_unavailable_not_created() {
    let path = temp_path("missing");
    let shop = SqlShop::open(&ShopConfig::new(
        &format!("sqlite:{}", path.display()),
        Preset::Generic,
    ))
    .unwrap();
    let e = shop
        .order(&OrderNo::parse("2025010100000001").unwrap(), BUDGET)
        .unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    assert!(!path.exists());
}
