//! Presets and custom SQL: which queries a backend runs and how their rows become
//! [`Order`]s.

use std::collections::HashMap;

use super::stmt::{Dialect, Param, Stmt, Value};
use crate::error::{Error, Result};
use crate::mask;
use crate::model::{
    Carrier, Fen, Order, OrderNo, OrderStatus, PaymentMethod, PaymentStatus, UnixTime,
};

/// Parameters the order lookup may use.
pub const ORDER_PARAMS: &[Param] = &[Param::OrderNo];
/// Parameters the recent-orders query may use.
pub const PHONE_PARAMS: &[Param] = &[
    Param::Phone,
    Param::PhoneIntl,
    Param::PhoneDashed,
    Param::PhoneSpaced,
    Param::Limit,
];
/// Parameters the after-sales insert may use.
pub const AFTER_SALES_PARAMS: &[Param] = &[
    Param::OrderNo,
    Param::Kind,
    Param::Reason,
    Param::Phone,
    Param::CreatedAt,
];
/// Parameters the callback insert may use.
pub const CALLBACK_PARAMS: &[Param] =
    &[Param::Phone, Param::OrderNo, Param::Note, Param::CreatedAt];

/// How status, payment and money columns are coded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vocabulary {
    /// ECShop's numeric `order_status`/`shipping_status`/`pay_status` codes (and
    /// `pay_code`/`is_cod` from `ecs_payment`) instead of names.
    pub ecshop_codes: bool,
    /// The shop's own values for `status` → ours (text form of the value as key).
    pub status: HashMap<String, OrderStatus>,
    /// The shop's own values for `pay_method` → ours.
    pub pay_method: HashMap<String, PaymentMethod>,
    /// The shop's own values for `pay_status` → ours.
    pub pay_status: HashMap<String, PaymentStatus>,
}

/// The four queries of a shop, compiled for one dialect, and how to read their rows.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The dialect the statements are compiled for.
    pub dialect: Dialect,
    /// `order_by_no`: one order by `:order_no`.
    pub order_by_no: Stmt,
    /// `recent_by_phone`: newest orders by `:phone` (and its spellings), `LIMIT :limit`.
    pub recent_by_phone: Stmt,
    /// `create_after_sales`: an INSERT (with `RETURNING id` on PostgreSQL).
    pub create_after_sales: Stmt,
    /// `request_callback`: an INSERT (with `RETURNING id` on PostgreSQL).
    pub request_callback: Stmt,
    /// How the columns are coded.
    pub vocabulary: Vocabulary,
    /// Where the mapping came from (`preset generic`, a file name), for messages.
    pub source: String,
}

/// The SQL text of the four queries, before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTexts {
    /// See [`Mapping::order_by_no`].
    pub order_by_no: String,
    /// See [`Mapping::recent_by_phone`].
    pub recent_by_phone: String,
    /// See [`Mapping::create_after_sales`].
    pub create_after_sales: String,
    /// See [`Mapping::request_callback`].
    pub request_callback: String,
}

impl Mapping {
    /// Compiles query texts (from a preset or a config file named `file`).
    ///
    /// # Errors
    /// [`Error::Config`] naming the query key for a bad parameter.
    pub fn compile(
        dialect: Dialect,
        q: &QueryTexts,
        vocabulary: Vocabulary,
        file: &str,
    ) -> Result<Self> {
        Ok(Self {
            dialect,
            order_by_no: Stmt::compile(
                &q.order_by_no,
                dialect,
                ORDER_PARAMS,
                file,
                "queries.order_by_no",
            )?,
            recent_by_phone: Stmt::compile(
                &q.recent_by_phone,
                dialect,
                PHONE_PARAMS,
                file,
                "queries.recent_by_phone",
            )?,
            create_after_sales: Stmt::compile(
                &q.create_after_sales,
                dialect,
                AFTER_SALES_PARAMS,
                file,
                "queries.create_after_sales",
            )?,
            request_callback: Stmt::compile(
                &q.request_callback,
                dialect,
                CALLBACK_PARAMS,
                file,
                "queries.request_callback",
            )?,
            vocabulary,
            source: file.to_owned(),
        })
    }

    /// The generic preset: this crate's own schema (`sql/generic.<dialect>.sql`).
    pub fn generic(dialect: Dialect) -> Self {
        Self::compile(
            dialect,
            &generic_queries(dialect),
            Vocabulary::default(),
            "preset generic",
        )
        .unwrap_or_else(|e| unreachable!("generic preset compiles: {e}"))
    }

    /// The ECShop preset: `<prefix>order_info` and friends (prefix usually `ecs_`).
    ///
    /// # Errors
    /// [`Error::Config`] if `prefix` is not a plain identifier prefix.
    pub fn ecshop(dialect: Dialect, prefix: &str) -> Result<Self> {
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || prefix.len() > 32
        {
            return Err(Error::Config {
                file: "preset ecshop".into(),
                key: "table_prefix".into(),
                problem: format!("{prefix:?} is not a table name prefix (letters, digits, '_')"),
            });
        }
        let v = Vocabulary {
            ecshop_codes: true,
            ..Vocabulary::default()
        };
        Self::compile(
            dialect,
            &ecshop_queries(dialect, prefix),
            v,
            "preset ecshop",
        )
    }
}

const GENERIC_COLS: &str = "order_no, status, pay_method, pay_status, amount_fen, carrier, tracking_no, \
     placed_at, shipped_at, item_count, consignee";

fn returning(dialect: Dialect) -> &'static str {
    if dialect == Dialect::Postgres {
        " RETURNING id"
    } else {
        ""
    }
}

/// The generic preset's queries.
pub fn generic_queries(dialect: Dialect) -> QueryTexts {
    QueryTexts {
        order_by_no: format!("SELECT {GENERIC_COLS} FROM shop_orders WHERE order_no = :order_no"),
        recent_by_phone: format!(
            "SELECT {GENERIC_COLS} FROM shop_orders WHERE phone = :phone ORDER BY placed_at DESC LIMIT :limit"
        ),
        create_after_sales: format!(
            "INSERT INTO shop_after_sales (order_no, kind, reason, phone, created_at) \
             VALUES (:order_no, :kind, :reason, :phone, :created_at){}",
            returning(dialect)
        ),
        request_callback: format!(
            "INSERT INTO shop_callbacks (phone, order_no, note, created_at) \
             VALUES (:phone, :order_no, :note, :created_at){}",
            returning(dialect)
        ),
    }
}

/// The ECShop preset's queries for table prefix `p`.
pub fn ecshop_queries(dialect: Dialect, p: &str) -> QueryTexts {
    // The order total as ECShop's admin computes it; decimals are read as text (exact)
    // except on SQLite, which has no decimal type (read as REAL and rounded to the fen).
    let total = "(o.goods_amount - o.discount + o.tax + o.shipping_fee + o.insure_fee + o.pay_fee + o.pack_fee + o.card_fee)";
    let amount = match dialect {
        Dialect::Postgres => format!("CAST({total} AS TEXT)"),
        Dialect::Mysql | Dialect::Sqlite => total.to_owned(),
    };
    let select = format!(
        "SELECT o.order_sn AS order_no, o.order_status, o.shipping_status, o.pay_status, \
         o.pay_name, p.pay_code, p.is_cod, {amount} AS amount_yuan, \
         o.shipping_name AS carrier, s.shipping_code AS carrier_code, o.invoice_no AS tracking_no, \
         o.add_time AS placed_at, o.shipping_time AS shipped_at, \
         (SELECT COALESCE(SUM(g.goods_number), 0) FROM {p}order_goods g WHERE g.order_id = o.order_id) AS item_count, \
         o.consignee \
         FROM {p}order_info o LEFT JOIN {p}payment p ON p.pay_id = o.pay_id \
         LEFT JOIN {p}shipping s ON s.shipping_id = o.shipping_id"
    );
    let spellings = ":phone, :phone_intl, :phone_dashed, :phone_spaced";
    QueryTexts {
        order_by_no: format!("{select} WHERE o.order_sn = :order_no"),
        recent_by_phone: format!(
            "{select} WHERE o.mobile IN ({spellings}) OR o.tel IN ({spellings}) \
             ORDER BY o.add_time DESC LIMIT :limit"
        ),
        create_after_sales: format!(
            "INSERT INTO {p}ivr_after_sales (order_sn, kind, reason, phone, add_time) \
             VALUES (:order_no, :kind, :reason, :phone, :created_at){}",
            returning(dialect)
        ),
        request_callback: format!(
            "INSERT INTO {p}ivr_callback (phone, order_sn, note, add_time) \
             VALUES (:phone, :order_no, :note, :created_at){}",
            returning(dialect)
        ),
    }
}

/// Rows as a driver returns them.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Column names (labels), as the query named them.
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<Value>>,
}

/// ECShop codes → our status (facts from ECShop's `includes/inc_constant.php`).
///
/// `order_status`: 0 unconfirmed, 1 confirmed, 2 cancelled, 3 invalid, 4 returned, 5 split,
/// 6 partly split. `shipping_status`: 0 unshipped, 1 shipped, 2 received, 3 preparing,
/// 4 partly shipped, 5 shipping in progress. `pay_status`: 0 unpaid, 1 paying, 2 paid.
///
/// # Errors
/// A message naming the unknown code.
pub fn ecshop_status(
    order_status: i64,
    shipping_status: i64,
    pay_status: i64,
    cod: bool,
) -> std::result::Result<OrderStatus, String> {
    let paid = pay_status == 2;
    Ok(match order_status {
        2 | 3 => OrderStatus::Cancelled,
        4 => OrderStatus::Returned,
        0 => match (paid, cod) {
            (true, _) => OrderStatus::Paid,
            (false, true) => OrderStatus::Placed,
            (false, false) => OrderStatus::AwaitingPayment,
        },
        1 | 5 | 6 => match shipping_status {
            2 => OrderStatus::Delivered,
            1 | 4 => OrderStatus::Shipped,
            3 | 5 => OrderStatus::Picking,
            0 if paid || cod => OrderStatus::Confirmed,
            0 => OrderStatus::AwaitingPayment,
            s => return Err(format!("unknown ECShop shipping_status {s}")),
        },
        s => return Err(format!("unknown ECShop order_status {s}")),
    })
}

fn ecshop_pay_status(code: i64) -> std::result::Result<PaymentStatus, String> {
    Ok(match code {
        0 => PaymentStatus::Unpaid,
        1 => PaymentStatus::Paying,
        2 => PaymentStatus::Paid,
        s => return Err(format!("unknown ECShop pay_status {s}")),
    })
}

struct Cols<'a> {
    idx: HashMap<String, usize>,
    row: &'a [Value],
    query: &'a str,
}

impl Cols<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.idx
            .get(name)
            .map(|&i| &self.row[i])
            .filter(|v| **v != Value::Null)
    }
    fn has(&self, name: &str) -> bool {
        self.idx.contains_key(name)
    }
    fn err(&self, what: String) -> Error {
        Error::Backend {
            detail: format!("{}: {what}", self.query),
        }
    }
    fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::Text(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null => None,
        }
    }
    fn req_text(&self, name: &str) -> Result<String> {
        self.text(name)
            .ok_or_else(|| self.err(format!("column {name} is missing or NULL")))
    }
    fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(Value::Text(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.err(format!("column {name}: {s:?} is not an integer"))),
            Some(Value::Float(f)) => Ok(Some(f.round() as i64)),
            Some(Value::Null) => Ok(None),
        }
    }
    fn req_int(&self, name: &str) -> Result<i64> {
        self.int(name)?
            .ok_or_else(|| self.err(format!("column {name} is missing or NULL")))
    }
}

/// Turns rows into orders.
///
/// # Errors
/// [`Error::Backend`] naming the query and column for anything it cannot read.
pub fn decode(rows: &Rows, v: &Vocabulary, query: &str) -> Result<Vec<Order>> {
    let idx: HashMap<String, usize> = rows
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_ascii_lowercase(), i))
        .collect();
    rows.rows
        .iter()
        .map(|row| {
            decode_row(
                &Cols {
                    idx: idx.clone(),
                    row,
                    query,
                },
                v,
            )
        })
        .collect()
}

fn decode_row(c: &Cols<'_>, v: &Vocabulary) -> Result<Order> {
    let no = c.req_text("order_no")?;
    let number = OrderNo::parse(&no)
        .map_err(|_| c.err(format!("order_no {:?} is not a valid order number", no)))?;
    let (status, payment_method, payment_status) = if v.ecshop_codes {
        let cod = c.int("is_cod")?.unwrap_or(0) != 0;
        let os = c.req_int("order_status")?;
        let ss = c.req_int("shipping_status")?;
        let ps = c.req_int("pay_status")?;
        let status =
            ecshop_status(os, ss, ps, cod).map_err(|e| c.err(format!("order {no}: {e}")))?;
        let pay_status = ecshop_pay_status(ps).map_err(|e| c.err(format!("order {no}: {e}")))?;
        let method = if cod {
            PaymentMethod::CashOnDelivery
        } else {
            match c.text("pay_code").filter(|s| !s.is_empty()) {
                Some(code) => PaymentMethod::recognise(&code),
                None => PaymentMethod::recognise(&c.text("pay_name").unwrap_or_default()),
            }
        };
        (status, method, pay_status)
    } else {
        let s = c.req_text("status")?;
        let status = v
            .status
            .get(&s)
            .copied()
            .or_else(|| OrderStatus::from_name(&s))
            .ok_or_else(|| {
                c.err(format!(
                    "order {no}: unknown status {s:?} (map it under [values.status])"
                ))
            })?;
        let m = c.text("pay_method").unwrap_or_default();
        let method = v
            .pay_method
            .get(&m)
            .copied()
            .unwrap_or_else(|| PaymentMethod::recognise(&m));
        let p = c.req_text("pay_status")?;
        let pay_status = v
            .pay_status
            .get(&p)
            .copied()
            .or_else(|| PaymentStatus::from_name(&p))
            .ok_or_else(|| {
                c.err(format!(
                    "order {no}: unknown pay_status {p:?} (map it under [values.pay_status])"
                ))
            })?;
        (status, method, pay_status)
    };
    let amount = if c.has("amount_fen") {
        Fen(c.req_int("amount_fen")?)
    } else {
        match c.get("amount_yuan") {
            Some(Value::Int(y)) => Fen(y * 100),
            Some(Value::Float(f)) => Fen((f * 100.0).round() as i64),
            Some(Value::Text(s)) => Fen::from_yuan_str(s).ok_or_else(|| {
                c.err(format!(
                    "order {no}: amount_yuan {s:?} is not a yuan amount"
                ))
            })?,
            _ => return Err(c.err("needs a column amount_fen or amount_yuan".into())),
        }
    };
    let carrier = c
        .text("carrier_code")
        .filter(|s| !s.trim().is_empty())
        .map(|s| Carrier::recognise(&s))
        .filter(|k| !matches!(k, Carrier::Other(_)))
        .or_else(|| {
            c.text("carrier")
                .filter(|s| !s.trim().is_empty())
                .map(|s| Carrier::recognise(&s))
        });
    let tracking_no = c
        .text("tracking_no")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let placed_at = UnixTime(c.req_int("placed_at")?);
    let shipped_at = c.int("shipped_at")?.filter(|t| *t > 0).map(UnixTime);
    let item_count = c.int("item_count")?.unwrap_or(0);
    let item_count = u32::try_from(item_count)
        .map_err(|_| c.err(format!("order {no}: item_count {item_count} out of range")))?;
    let consignee_masked = mask::name(&c.text("consignee").unwrap_or_default());
    Ok(Order {
        number,
        status,
        payment_method,
        payment_status,
        amount,
        carrier,
        tracking_no,
        placed_at,
        shipped_at,
        item_count,
        consignee_masked,
    })
}

/// The schema DDL for a preset, split into statements (for tests, the demo and the sample
/// shop). `preset` is `"generic"` or `"ecshop"`; ECShop tables get `prefix`.
pub fn schema(dialect: Dialect, preset: &str, prefix: &str) -> Vec<String> {
    let text = match (preset, dialect) {
        ("ecshop", Dialect::Sqlite) => include_str!("../../sql/ecshop.sqlite.sql"),
        ("ecshop", Dialect::Postgres) => include_str!("../../sql/ecshop.postgres.sql"),
        ("ecshop", Dialect::Mysql) => include_str!("../../sql/ecshop.mysql.sql"),
        (_, Dialect::Sqlite) => include_str!("../../sql/generic.sqlite.sql"),
        (_, Dialect::Postgres) => include_str!("../../sql/generic.postgres.sql"),
        (_, Dialect::Mysql) => include_str!("../../sql/generic.mysql.sql"),
    };
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = if preset == "ecshop" {
        text.replace("ecs_", prefix)
    } else {
        text
    };
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecshop_codes_map_to_statuses() {
        use OrderStatus::*;
        assert_eq!(ecshop_status(0, 0, 0, false), Ok(AwaitingPayment));
        assert_eq!(ecshop_status(0, 0, 0, true), Ok(Placed));
        assert_eq!(ecshop_status(0, 0, 2, false), Ok(Paid));
        assert_eq!(ecshop_status(1, 0, 2, false), Ok(Confirmed));
        assert_eq!(ecshop_status(1, 0, 0, true), Ok(Confirmed));
        assert_eq!(ecshop_status(1, 0, 1, false), Ok(AwaitingPayment));
        assert_eq!(ecshop_status(1, 3, 2, false), Ok(Picking));
        assert_eq!(ecshop_status(5, 5, 2, false), Ok(Picking));
        assert_eq!(ecshop_status(1, 1, 2, false), Ok(Shipped));
        assert_eq!(ecshop_status(5, 4, 2, false), Ok(Shipped));
        assert_eq!(ecshop_status(1, 2, 2, false), Ok(Delivered));
        assert_eq!(ecshop_status(2, 0, 0, false), Ok(Cancelled));
        assert_eq!(ecshop_status(3, 0, 0, false), Ok(Cancelled));
        assert_eq!(ecshop_status(4, 0, 0, false), Ok(Returned));
        assert!(
            ecshop_status(9, 0, 0, false)
                .unwrap_err()
                .contains("order_status 9")
        );
        assert!(
            ecshop_status(1, 9, 0, false)
                .unwrap_err()
                .contains("shipping_status 9")
        );
    }

    #[test]
    fn presets_compile_for_every_dialect() {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let g = Mapping::generic(d);
            assert_eq!(g.recent_by_phone.params, vec![Param::Phone, Param::Limit]);
            let e = Mapping::ecshop(d, "ecs_").unwrap();
            assert_eq!(e.recent_by_phone.params.len(), 9);
            assert!(e.order_by_no.text.contains("ecs_order_info"));
            assert!(!schema(d, "generic", "").is_empty());
            assert!(
                schema(d, "ecshop", "shop_")
                    .iter()
                    .any(|s| s.contains("shop_order_info"))
            );
        }
        assert!(Mapping::ecshop(Dialect::Mysql, "x; DROP").is_err());
    }

    fn rows(cols: &[&str], vals: Vec<Value>) -> Rows {
        Rows {
            columns: cols.iter().map(|s| (*s).to_owned()).collect(),
            rows: vec![vals],
        }
    }

    #[test]
    fn decodes_generic_and_custom_values() {
        use Value::*;
        let r = rows(
            &[
                "order_no",
                "status",
                "pay_method",
                "pay_status",
                "amount_fen",
                "carrier",
                "tracking_no",
                "placed_at",
                "shipped_at",
                "item_count",
                "consignee",
            ],
            vec![
                Text("2024000001".into()),
                Text("S3".into()),
                Text("cod".into()),
                Text("unpaid".into()),
                Int(12850),
                Text("顺丰速运".into()),
                Text("SF123".into()),
                Int(1_700_000_000),
                Null,
                Int(2),
                Text("张三".into()),
            ],
        );
        let e = decode(&r, &Vocabulary::default(), "q").unwrap_err();
        assert!(e.to_string().contains("unknown status \"S3\""), "{e}");
        let mut v = Vocabulary::default();
        v.status.insert("S3".into(), OrderStatus::Shipped);
        let o = decode(&r, &v, "q").unwrap().remove(0);
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!(o.payment_method, PaymentMethod::CashOnDelivery);
        assert_eq!(o.amount, Fen(12850));
        assert_eq!(o.carrier, Some(Carrier::Sf));
        assert_eq!(o.consignee_masked, "张*");
        assert_eq!(o.shipped_at, None);
    }
}
