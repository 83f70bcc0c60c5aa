//! A generator for a realistic sample shop: Chinese names and cities, mobile and fixed
//! numbers, a mix of order states, carriers such as SF, YTO and ZTO, of any size,
//! deterministic from a seed. Used by the demo, the tests and the benchmark; it writes the
//! generic schema or the ECShop schema into any of the three databases.
//!
//! ```
//! let a: Vec<_> = order_hooks::sample_shop::orders(50, 1).collect();
//! let b: Vec<_> = order_hooks::sample_shop::orders(50, 1).collect();
//! assert_eq!(a, b);
//! ```

use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::{Carrier, OrderStatus, PaymentMethod, PaymentStatus, Phone};
use crate::sql::config::{Preset, ShopConfig, connector_for};
use crate::sql::mapping::schema;
use crate::sql::{Conn, DbError, Dialect, Value};

/// The sample shop's "now": all orders were placed in the year before (2026-09-21 UTC).
pub const SAMPLE_NOW: i64 = 1_790_000_000;

/// Most orders a sample shop can have (order numbers are unique up to this).
pub const MAX_ORDERS: u64 = 9_999_999;

/// One generated order, with everything both schemas need (personal data in clear: this is
/// the shop's side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOrder {
    /// Order number.
    pub order_no: String,
    /// Status (in the generic schema's vocabulary).
    pub status: OrderStatus,
    /// Payment method.
    pub pay_method: PaymentMethod,
    /// Payment status.
    pub pay_status: PaymentStatus,
    /// Total in fen.
    pub amount_fen: i64,
    /// Shipping fee in fen (part of the total).
    pub shipping_fee_fen: i64,
    /// Carrier, once shipped or picking.
    pub carrier: Option<Carrier>,
    /// Tracking number, once shipped.
    pub tracking_no: Option<String>,
    /// Placed (unix seconds).
    pub placed_at: i64,
    /// Shipped (unix seconds).
    pub shipped_at: Option<i64>,
    /// Sum of quantities.
    pub item_count: u32,
    /// Consignee name.
    pub consignee: String,
    /// Normalised phone (national digits).
    pub phone: String,
    /// The phone as the customer typed it into the shop (for the ECShop schema).
    pub phone_as_typed: String,
    /// City.
    pub city: String,
    /// Street address.
    pub address: String,
}

impl SampleOrder {
    /// The status as the ECShop schema can express it (ECShop has no "in transit" and no
    /// "refunded": they read back as shipped and returned).
    pub fn ecshop_status(&self) -> OrderStatus {
        match self.status {
            OrderStatus::InTransit => OrderStatus::Shipped,
            OrderStatus::Refunded => OrderStatus::Returned,
            s => s,
        }
    }

    /// The payment status as the ECShop schema can express it.
    pub fn ecshop_pay_status(&self) -> PaymentStatus {
        match self.pay_status {
            PaymentStatus::Refunded => PaymentStatus::Unpaid,
            p => p,
        }
    }
}

/// A small deterministic PRNG (SplitMix64).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (v, w) in xs {
            if r < *w {
                return *v;
            }
            r -= w;
        }
        xs[0].0
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "晓东", "海燕", "志强",
    "婷婷", "子涵", "浩然", "欣怡", "宇轩", "雨桐",
];
/// (city, province, area code)
const CITIES: &[(&str, &str, &str)] = &[
    ("北京", "北京市", "010"),
    ("上海", "上海市", "021"),
    ("广州", "广东省", "020"),
    ("深圳", "广东省", "0755"),
    ("天津", "天津市", "022"),
    ("重庆", "重庆市", "023"),
    ("成都", "四川省", "028"),
    ("武汉", "湖北省", "027"),
    ("南京", "江苏省", "025"),
    ("西安", "陕西省", "029"),
    ("杭州", "浙江省", "0571"),
    ("苏州", "江苏省", "0512"),
    ("郑州", "河南省", "0371"),
    ("长沙", "湖南省", "0731"),
    ("沈阳", "辽宁省", "024"),
    ("青岛", "山东省", "0532"),
    ("厦门", "福建省", "0592"),
    ("昆明", "云南省", "0871"),
    ("哈尔滨", "黑龙江省", "0451"),
    ("合肥", "安徽省", "0551"),
];
const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "科技园路",
    "光明街",
    "文化路",
];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "170", "173", "175", "176", "177", "180", "181", "182",
    "185", "186", "187", "188", "189", "191", "198", "199",
];

struct Customer {
    name: String,
    phone: String,
    typed: String,
    city: usize,
    address: String,
}

fn customer(rng: &mut Rng) -> Customer {
    let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
    let city = rng.below(CITIES.len() as u64) as usize;
    let (cname, province, area) = CITIES[city];
    let (phone, typed) = if rng.below(100) < 82 {
        let p = format!("{}{}", rng.pick(MOBILE_PREFIXES), rng.digits(8));
        let typed = match rng.below(10) {
            0 => format!("{}-{}-{}", &p[..3], &p[3..7], &p[7..]),
            1 => format!("{} {} {}", &p[..3], &p[3..7], &p[7..]),
            2 => format!("+86{p}"),
            _ => p.clone(),
        };
        (p, typed)
    } else {
        let local_len = if area.len() == 3 {
            8
        } else {
            7 + rng.below(2) as usize
        };
        let local = format!("{}{}", 2 + rng.below(8), rng.digits(local_len - 1));
        let p = format!("{area}{local}");
        let typed = match rng.below(3) {
            0 => format!("{area}-{local}"),
            1 => format!("{area} {local}"),
            _ => p.clone(),
        };
        (p, typed)
    };
    let address = format!(
        "{province}{cname}市{}区{}{}号{}室",
        rng.pick(&[
            "东城", "西城", "朝阳", "海淀", "南山", "福田", "江北", "高新"
        ]),
        rng.pick(STREETS),
        1 + rng.below(300),
        100 + rng.below(2000)
    );
    Customer {
        name,
        phone,
        typed,
        city,
        address,
    }
}

const CARRIERS: &[(Carrier, u32)] = &[
    (Carrier::Sf, 24),
    (Carrier::Yto, 20),
    (Carrier::Zto, 22),
    (Carrier::Sto, 10),
    (Carrier::Yunda, 12),
    (Carrier::Ems, 5),
    (Carrier::Jd, 7),
];

const CARRIER_WEIGHTS: [(usize, u32); 7] =
    [(0, 24), (1, 20), (2, 22), (3, 10), (4, 12), (5, 5), (6, 7)];

fn tracking(rng: &mut Rng, c: &Carrier) -> String {
    match c {
        Carrier::Sf => format!("SF{}", rng.digits(13)),
        Carrier::Yto => format!("YT{}", rng.digits(13)),
        Carrier::Zto => format!("7{}", rng.digits(13)),
        Carrier::Sto => format!("77{}", rng.digits(11)),
        Carrier::Yunda => format!("43{}", rng.digits(11)),
        Carrier::Ems => format!("E{}CN", rng.digits(9)),
        Carrier::Jd => format!("JD{}", rng.digits(13)),
        _ => rng.digits(12),
    }
}

/// The carrier's name as shops store it.
pub fn carrier_name(c: &Carrier) -> &str {
    match c {
        Carrier::Sf => "顺丰速运",
        Carrier::Yto => "圆通速递",
        Carrier::Zto => "中通快递",
        Carrier::Sto => "申通快递",
        Carrier::Yunda => "韵达快递",
        Carrier::Ems => "EMS",
        Carrier::Jd => "京东物流",
        Carrier::Best => "百世快递",
        Carrier::Other(s) => s,
    }
}

fn civil_date(t: i64) -> (i64, i64, i64) {
    // Days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The orders of a shop of `count` orders (at most [`MAX_ORDERS`]) from `seed`, in order
/// number order. About three orders per customer, so lookups by phone find several.
pub fn orders(count: u64, seed: u64) -> impl Iterator<Item = SampleOrder> {
    let count = count.min(MAX_ORDERS);
    let customers = (count / 3).max(1);
    let mut rng = Rng(seed ^ 0x005E_ED0F_5A0F);
    (0..count).map(move |i| {
        // Customer i % customers, regenerated from its own seed (no table in memory).
        let c = customer(&mut Rng(seed
            .wrapping_mul(31)
            .wrapping_add(i % customers)
            .wrapping_add(1)));
        let placed_at = SAMPLE_NOW - 365 * 86_400
            + (i as i64 * 365 * 86_400) / count as i64
            + rng.below(3600) as i64;
        let (y, m, d) = civil_date(placed_at + 8 * 3600);
        let order_no = format!("{y:04}{m:02}{d:02}{i:07}");
        let age_days = (SAMPLE_NOW - placed_at) / 86_400;
        use OrderStatus::*;
        let status = if age_days < 5 {
            rng.weighted(&[
                (Placed, 6),
                (AwaitingPayment, 10),
                (Paid, 10),
                (Confirmed, 12),
                (Picking, 12),
                (Shipped, 20),
                (InTransit, 20),
                (Delivered, 5),
                (Cancelled, 5),
            ])
        } else if age_days < 14 {
            rng.weighted(&[
                (AwaitingPayment, 2),
                (Confirmed, 3),
                (Picking, 3),
                (Shipped, 8),
                (InTransit, 20),
                (Delivered, 50),
                (Cancelled, 6),
                (Returned, 4),
                (Refunded, 4),
            ])
        } else {
            rng.weighted(&[
                (AwaitingPayment, 1),
                (Delivered, 78),
                (Cancelled, 9),
                (Returned, 6),
                (Refunded, 6),
            ])
        };
        use PaymentMethod::*;
        let mut pay_method = rng.weighted(&[
            (Alipay, 40),
            (WechatPay, 34),
            (CashOnDelivery, 12),
            (UnionPay, 6),
            (BankTransfer, 3),
            (Balance, 5),
        ]);
        if matches!(status, AwaitingPayment | Paid) && pay_method == CashOnDelivery {
            pay_method = Alipay;
        }
        if status == Placed {
            pay_method = CashOnDelivery;
        }
        let pay_status = match status {
            Placed | AwaitingPayment => PaymentStatus::Unpaid,
            Refunded => PaymentStatus::Refunded,
            Cancelled if pay_method == CashOnDelivery => PaymentStatus::Unpaid,
            Cancelled => PaymentStatus::Paid,
            Delivered | Returned => PaymentStatus::Paid,
            _ if pay_method == CashOnDelivery => PaymentStatus::Unpaid,
            _ => PaymentStatus::Paid,
        };
        let shipped = matches!(
            status,
            Shipped | InTransit | Delivered | Returned | Refunded
        );
        let carrier = (shipped || status == Picking).then(|| {
            let i = rng.weighted(&CARRIER_WEIGHTS);
            CARRIERS[i].0.clone()
        });
        let tracking_no = if shipped {
            carrier.as_ref().map(|c| tracking(&mut rng, c))
        } else {
            None
        };
        let shipped_at = shipped.then(|| placed_at + 3600 + rng.below(72 * 3600) as i64);
        // 9.90 .. ~3000 yuan, most under 300.
        let goods = 990 + (rng.below(1000) * rng.below(1000) * rng.below(300)) as i64 / 1000;
        let shipping_fee_fen = if goods > 9900 {
            0
        } else {
            *rng.pick(&[0, 600, 800, 1000])
        };
        SampleOrder {
            order_no,
            status,
            pay_method,
            pay_status,
            amount_fen: goods + shipping_fee_fen,
            shipping_fee_fen,
            carrier,
            tracking_no,
            placed_at,
            shipped_at,
            item_count: 1 + rng.weighted(&[(0u32, 55), (1, 25), (2, 10), (3, 6), (4, 4)]),
            consignee: c.name,
            phone: c.phone,
            phone_as_typed: c.typed,
            city: CITIES[c.city].0.to_owned(),
            address: c.address,
        }
    })
}

/// What a generated shop holds, with a known order and phone to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Orders written.
    pub orders: u64,
    /// An order number that exists.
    pub sample_order_no: String,
    /// A phone number with at least one order.
    pub sample_phone: String,
    /// Seconds it took.
    pub seconds: f64,
}

fn gen_err(e: DbError) -> Error {
    Error::Backend {
        detail: format!("sample shop: {e:?}"),
    }
}

/// Creates a generic-schema SQLite shop of `orders` orders at `path` (the demo's database).
/// The file must not exist yet.
///
/// # Errors
/// `Config` if the file exists, `Backend` if SQLite fails.
#[cfg(feature = "sqlite")]
pub fn create_sqlite(path: &Path, orders: u64, seed: u64) -> Result<Summary> {
    create_sqlite_with(path, "generic", orders, seed)
}

/// Like [`create_sqlite`], with the ECShop schema (`ecs_` tables).
///
/// # Errors
/// As [`create_sqlite`].
#[cfg(feature = "sqlite")]
pub fn create_sqlite_ecshop(path: &Path, orders: u64, seed: u64) -> Result<Summary> {
    create_sqlite_with(path, "ecshop", orders, seed)
}

#[cfg(feature = "sqlite")]
fn create_sqlite_with(path: &Path, preset: &str, orders: u64, seed: u64) -> Result<Summary> {
    if path.exists() {
        return Err(Error::Config {
            file: path.display().to_string(),
            key: "sample shop".into(),
            problem: "already exists; the sample shop is only created into a new file".into(),
        });
    }
    let c = rusqlite::Connection::open(path).map_err(|e| Error::Backend {
        detail: format!("sample shop: {}: {e}", path.display()),
    })?;
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .map_err(|e| Error::Backend {
            detail: e.to_string(),
        })?;
    drop(c);
    load(&format!("sqlite:{}", path.display()), preset, orders, seed)
}

/// Writes a sample shop into the (empty) database at `url` (any backend compiled in):
/// creates the schema of `preset` (`"generic"` or `"ecshop"`) and inserts `count` orders.
///
/// # Errors
/// `Config` for a bad URL or preset, `Unavailable`/`Backend` if the database fails.
pub fn load(url: &str, preset: &str, count: u64, seed: u64) -> Result<Summary> {
    let start = Instant::now();
    if !matches!(preset, "generic" | "ecshop") {
        return Err(Error::Config {
            file: "<sample shop>".into(),
            key: "preset".into(),
            problem: format!("{preset:?}: the sample shop is written as \"generic\" or \"ecshop\""),
        });
    }
    let cfg = ShopConfig::new(url, Preset::Generic);
    let (dialect, connector) = connector_for(&cfg)?;
    let mut conn = connector
        .connect(Instant::now() + std::time::Duration::from_secs(30))
        .map_err(|e| Error::Unavailable {
            reason: format!("{}: {e:?}", connector.describe()),
        })?;
    for ddl in schema(dialect, preset, "ecs_") {
        conn.exec_raw(&ddl, &[]).map_err(gen_err)?;
    }
    let conn = &mut *conn;
    if dialect == Dialect::Sqlite {
        conn.exec_raw("BEGIN", &[]).map_err(gen_err)?;
    }
    let mut first = None;
    if preset == "ecshop" {
        write_ecshop_lookups(conn, dialect)?;
    }
    let batch = 500;
    let mut buf: Vec<SampleOrder> = Vec::with_capacity(batch);
    let mut written = 0u64;
    for o in orders(count, seed) {
        if first.is_none() {
            first = Some((o.order_no.clone(), o.phone.clone()));
        }
        buf.push(o);
        if buf.len() == batch {
            written += write_batch(conn, dialect, preset, &buf, written)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        written += write_batch(conn, dialect, preset, &buf, written)?;
    }
    if dialect == Dialect::Sqlite {
        conn.exec_raw("COMMIT", &[]).map_err(gen_err)?;
        conn.exec_raw("ANALYZE", &[]).map_err(gen_err)?;
    } else if dialect == Dialect::Postgres {
        // Vacuum now rather than have autovacuum do it under the first callers.
        conn.exec_raw("VACUUM ANALYZE", &[]).map_err(gen_err)?;
    }
    let (sample_order_no, sample_phone) = first.unwrap_or_default();
    Ok(Summary {
        orders: written,
        sample_order_no,
        sample_phone,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// `(…),(…)` with `rows` groups of `cols` placeholders; the columns in `decimal` get a
/// text parameter cast to NUMERIC on PostgreSQL (its client cannot bind decimals).
/// Runs administrative statements (e.g. `CREATE DATABASE`) on the database at `url`, one
/// by one, outside any transaction. For tests and benchmarks that need a fresh database.
///
/// # Errors
/// `Config` for a bad URL, `Unavailable`/`Backend` if the database fails.
pub fn exec_admin(url: &str, statements: &[String]) -> Result<()> {
    let cfg = ShopConfig::new(url, Preset::Generic);
    let (_, connector) = connector_for(&cfg)?;
    let mut conn = connector
        .connect(Instant::now() + std::time::Duration::from_secs(30))
        .map_err(|e| Error::Unavailable {
            reason: format!("{}: {e:?}", connector.describe()),
        })?;
    for s in statements {
        conn.exec_raw(s, &[]).map_err(gen_err)?;
    }
    Ok(())
}

fn placeholders(dialect: Dialect, rows: usize, cols: usize) -> String {
    placeholders_with(dialect, rows, cols, &[])
}

fn placeholders_with(dialect: Dialect, rows: usize, cols: usize, decimal: &[usize]) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            n += 1;
            match dialect {
                Dialect::Postgres if decimal.contains(&c) => {
                    s.push_str(&format!("${n}::text::numeric"))
                }
                Dialect::Postgres => s.push_str(&format!("${n}")),
                Dialect::Sqlite => s.push_str(&format!("?{n}")),
                Dialect::Mysql => s.push('?'),
            }
        }
        s.push(')');
    }
    s
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn write_batch(
    conn: &mut dyn Conn,
    dialect: Dialect,
    preset: &str,
    b: &[SampleOrder],
    before: u64,
) -> Result<u64> {
    if preset == "generic" {
        let cols = 14;
        let sql = format!(
            "INSERT INTO shop_orders (order_no, status, pay_method, pay_status, amount_fen, carrier, tracking_no, \
             placed_at, shipped_at, item_count, consignee, phone, city, address) VALUES {}",
            placeholders(dialect, b.len(), cols)
        );
        let mut p = Vec::with_capacity(b.len() * cols);
        for o in b {
            p.extend([
                text(&o.order_no),
                text(o.status.name()),
                text(o.pay_method.name()),
                text(o.pay_status.name()),
                Value::Int(o.amount_fen),
                o.carrier
                    .as_ref()
                    .map_or(Value::Null, |c| text(carrier_name(c))),
                o.tracking_no.as_deref().map_or(Value::Null, text),
                Value::Int(o.placed_at),
                o.shipped_at.map_or(Value::Null, Value::Int),
                Value::Int(i64::from(o.item_count)),
                text(&o.consignee),
                text(&o.phone),
                text(&o.city),
                text(&o.address),
            ]);
        }
        conn.exec_raw(&sql, &p).map_err(gen_err)?;
        return Ok(b.len() as u64);
    }
    // ECShop: order_info rows with explicit ids, and one order_goods row per order.
    let cols = 24;
    let sql = format!(
        "INSERT INTO ecs_order_info (order_id, order_sn, user_id, order_status, shipping_status, pay_status, \
         consignee, address, tel, mobile, shipping_id, shipping_name, pay_id, pay_name, goods_amount, \
         shipping_fee, money_paid, order_amount, add_time, confirm_time, pay_time, shipping_time, invoice_no, \
         tax) VALUES {}",
        placeholders_with(dialect, b.len(), cols, &[14, 15, 16, 17, 23])
    );
    let yuan = |fen: i64| Value::Text(crate::model::Fen(fen).to_string());
    let mut p = Vec::with_capacity(b.len() * cols);
    let mut g = Vec::with_capacity(b.len() * 4);
    for (k, o) in b.iter().enumerate() {
        let id = (before + k as u64 + 1) as i64;
        let (os, ss, ps) = ecshop_codes(o);
        let mobile_kind =
            Phone::parse(&o.phone).map(|p| p.kind()) == Ok(crate::model::PhoneKind::Mobile);
        let (tel, mobile) = if mobile_kind {
            ("", o.phone_as_typed.as_str())
        } else {
            (o.phone_as_typed.as_str(), "")
        };
        let (ship_id, ship_name) = match &o.carrier {
            Some(c) => (ecshop_shipping_id(c), carrier_name(c)),
            None => (0, ""),
        };
        let (pay_id, pay_name) = ecshop_payment(o.pay_method);
        let paid = ps == 2;
        p.extend([
            Value::Int(id),
            text(&o.order_no),
            Value::Int(1 + id % 100_000),
            Value::Int(os),
            Value::Int(ss),
            Value::Int(ps),
            text(&o.consignee),
            text(&o.address),
            text(tel),
            text(mobile),
            Value::Int(ship_id),
            text(ship_name),
            Value::Int(pay_id),
            text(pay_name),
            yuan(o.amount_fen - o.shipping_fee_fen),
            yuan(o.shipping_fee_fen),
            yuan(if paid { o.amount_fen } else { 0 }),
            yuan(if paid { 0 } else { o.amount_fen }),
            Value::Int(o.placed_at),
            Value::Int(if os == 0 { 0 } else { o.placed_at + 600 }),
            Value::Int(if paid { o.placed_at + 60 } else { 0 }),
            Value::Int(o.shipped_at.unwrap_or(0)),
            text(o.tracking_no.as_deref().unwrap_or("")),
            text("0.00"),
        ]);
        g.extend([
            Value::Int(id),
            Value::Int(1 + id % 500),
            text("示例商品"),
            Value::Int(i64::from(o.item_count)),
        ]);
    }
    conn.exec_raw(&sql, &p).map_err(gen_err)?;
    let sql = format!(
        "INSERT INTO ecs_order_goods (order_id, goods_id, goods_name, goods_number) VALUES {}",
        placeholders(dialect, b.len(), 4)
    );
    conn.exec_raw(&sql, &g).map_err(gen_err)?;
    Ok(b.len() as u64)
}

/// ECShop `(order_status, shipping_status, pay_status)` for a sample order.
fn ecshop_codes(o: &SampleOrder) -> (i64, i64, i64) {
    use OrderStatus::*;
    let ps = match o.ecshop_pay_status() {
        PaymentStatus::Unpaid | PaymentStatus::Refunded => 0,
        PaymentStatus::Paying => 1,
        PaymentStatus::Paid => 2,
    };
    match o.status {
        Placed | AwaitingPayment | Paid => (0, 0, ps),
        Confirmed => (1, 0, ps),
        Picking => (1, 3, ps),
        Shipped | InTransit => (5, 1, ps),
        Delivered => (1, 2, ps),
        Cancelled => (2, 0, ps),
        Returned | Refunded => (4, 0, ps),
    }
}

const ECS_SHIPPING: &[(i64, &str, Carrier)] = &[
    (1, "sf_express", Carrier::Sf),
    (2, "yto", Carrier::Yto),
    (3, "zto", Carrier::Zto),
    (4, "sto_express", Carrier::Sto),
    (5, "yunda", Carrier::Yunda),
    (6, "ems", Carrier::Ems),
    (7, "jd", Carrier::Jd),
];

fn ecshop_shipping_id(c: &Carrier) -> i64 {
    ECS_SHIPPING.iter().find(|s| &s.2 == c).map_or(0, |s| s.0)
}

const ECS_PAYMENT: &[(i64, &str, &str, i64, PaymentMethod)] = &[
    (1, "cod", "货到付款", 1, PaymentMethod::CashOnDelivery),
    (2, "alipay", "支付宝", 0, PaymentMethod::Alipay),
    (3, "wxpay", "微信支付", 0, PaymentMethod::WechatPay),
    (4, "chinapay", "银联在线支付", 0, PaymentMethod::UnionPay),
    (5, "bank", "银行汇款/转帐", 0, PaymentMethod::BankTransfer),
    (6, "balance", "余额支付", 0, PaymentMethod::Balance),
];

fn ecshop_payment(m: PaymentMethod) -> (i64, &'static str) {
    ECS_PAYMENT
        .iter()
        .find(|p| p.4 == m)
        .map_or((0, ""), |p| (p.0, p.2))
}

fn write_ecshop_lookups(conn: &mut dyn Conn, dialect: Dialect) -> Result<()> {
    let sql = format!(
        "INSERT INTO ecs_payment (pay_id, pay_code, pay_name, is_cod) VALUES {}",
        placeholders(dialect, ECS_PAYMENT.len(), 4)
    );
    let p: Vec<Value> = ECS_PAYMENT
        .iter()
        .flat_map(|r| [Value::Int(r.0), text(r.1), text(r.2), Value::Int(r.3)])
        .collect();
    conn.exec_raw(&sql, &p).map_err(gen_err)?;
    let sql = format!(
        "INSERT INTO ecs_shipping (shipping_id, shipping_code, shipping_name) VALUES {}",
        placeholders(dialect, ECS_SHIPPING.len(), 3)
    );
    let p: Vec<Value> = ECS_SHIPPING
        .iter()
        .flat_map(|r| [Value::Int(r.0), text(r.1), text(carrier_name(&r.2))])
        .collect();
    conn.exec_raw(&sql, &p).map_err(gen_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let a: Vec<_> = orders(10_000, 42).collect();
        assert_eq!(a, orders(10_000, 42).collect::<Vec<_>>());
        assert_ne!(a, orders(10_000, 43).collect::<Vec<_>>());
        let mut nos: Vec<_> = a.iter().map(|o| o.order_no.clone()).collect();
        nos.sort();
        nos.dedup();
        assert_eq!(nos.len(), 10_000, "order numbers are unique");
        for s in OrderStatus::ALL {
            assert!(a.iter().any(|o| o.status == *s), "has {s}");
        }
        assert!(
            a.iter()
                .any(|o| o.pay_method == PaymentMethod::CashOnDelivery)
        );
        for c in [Carrier::Sf, Carrier::Yto, Carrier::Zto] {
            assert!(a.iter().any(|o| o.carrier.as_ref() == Some(&c)));
        }
        let fixed = a.iter().filter(|o| o.phone.starts_with('0')).count();
        assert!(
            fixed > 1000 && fixed < 3000,
            "mobile and fixed numbers: {fixed}"
        );
        for o in &a {
            assert_eq!(Phone::parse(&o.phone).unwrap().as_str(), o.phone);
            assert_eq!(
                Phone::parse(&o.phone_as_typed).unwrap().as_str(),
                o.phone,
                "{}",
                o.phone_as_typed
            );
            crate::OrderNo::parse(&o.order_no).unwrap();
            assert!(o.amount_fen >= 990);
        }
        assert_eq!(&a[0].order_no[..8], "20250921");
    }

    #[test]
    fn ecshop_codes_read_back_as_the_ecshop_view() {
        for o in orders(2000, 5) {
            let (os, ss, ps) = ecshop_codes(&o);
            let cod = o.pay_method == PaymentMethod::CashOnDelivery;
            assert_eq!(
                crate::sql::mapping::ecshop_status(os, ss, ps, cod),
                Ok(o.ecshop_status()),
                "{o:?}"
            );
        }
    }
}
