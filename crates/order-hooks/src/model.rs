//! The typed inputs (validated before any SQL) and results of shop calls.

use std::fmt;

use crate::error::{Error, Result};
use crate::mask;

/// Shortest order number accepted.
pub const ORDER_NO_MIN: usize = 6;
/// Longest order number accepted (ECShop's `order_sn` is `varchar(20)`).
pub const ORDER_NO_MAX: usize = 20;

fn cut(raw: &str) -> String {
    let mut s: String = raw.chars().take(24).collect();
    if raw.chars().nth(24).is_some() {
        s.push('…');
    }
    s
}

/// An order number: ASCII digits only, [`ORDER_NO_MIN`]..=[`ORDER_NO_MAX`] long.
///
/// Built only through [`OrderNo::parse`], so a value of this type is safe to hand to the
/// database (it is still passed as a bound parameter, never spliced into SQL).
///
/// ```
/// use order_hooks::OrderNo;
/// assert_eq!(OrderNo::parse(" 2024061512345 ").unwrap().as_str(), "2024061512345");
/// assert!(OrderNo::parse("12;DROP TABLE").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNo(String);

impl OrderNo {
    /// Validates an order number typed by a caller (surrounding spaces are ignored).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the value if it has a non-digit or a bad length.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let bad = |problem| Error::InvalidInput {
            field: "order number",
            value: cut(s),
            problem,
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("only the digits 0-9 are allowed"));
        }
        if s.len() < ORDER_NO_MIN {
            return Err(bad("too short (at least 6 digits)"));
        }
        if s.len() > ORDER_NO_MAX {
            return Err(bad("too long (at most 20 digits)"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of number a [`Phone`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// A mainland mobile number, 11 digits starting with 1.
    Mobile,
    /// A fixed line with its area code (`0` + 2 or 3 digits) and a 7 or 8 digit local number.
    Fixed,
    /// A 400/800 service number (10 digits).
    Service,
    /// A local fixed number without area code (7 or 8 digits), as some trunks send it.
    Local,
}

/// A phone number normalised to its national form: digits only, no country code, area
/// codes with their leading `0`, mobiles without a trunk `0`.
///
/// `+86 138-1234-5678`, `0086 13812345678`, `013812345678` and `138 1234 5678` all become
/// `13812345678`; `+86 21 1234 5678` and `(021) 1234-5678` become `02112345678`.
///
/// ```
/// use order_hooks::Phone;
/// assert_eq!(Phone::parse("+86 138-1234-5678").unwrap().as_str(), "13812345678");
/// assert_eq!(Phone::parse("+86 21 1234 5678").unwrap().as_str(), "02112345678");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    digits: String,
    kind: PhoneKind,
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", mask::phone(&self.digits))
    }
}

impl fmt::Display for Phone {
    /// Masked, so a `Phone` can go into a log line as it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask::phone(&self.digits))
    }
}

fn area_code_len(national: &str) -> usize {
    // 010 and 02x are the big cities with two-digit codes; every other code has three.
    if national.starts_with("01") || national.starts_with("02") {
        3
    } else {
        4
    }
}

impl Phone {
    /// Normalises a phone number from a caller ID, a keypad or a database column.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (with the value masked) if it has characters other than
    /// digits, spaces, `-`, `.`, `(`, `)` and a leading `+`, or is not a plausible Chinese
    /// number after normalisation.
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |problem| Error::InvalidInput {
            field: "phone number",
            value: mask::phone(raw),
            problem,
        };
        let s = raw.trim();
        if s.len() > 32 {
            return Err(bad("too long"));
        }
        let mut digits = String::with_capacity(16);
        for (i, c) in s.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                '+' if i == 0 => {}
                _ => {
                    return Err(bad(
                        "only digits, spaces, '-', '(' , ')' and a leading '+' are allowed",
                    ));
                }
            }
        }
        let intl = s.starts_with('+');
        let mut national: &str = &digits;
        let mut had_country_code = false;
        if let Some(rest) = national.strip_prefix("0086") {
            national = rest;
            had_country_code = true;
        } else if intl {
            match national.strip_prefix("86") {
                Some(rest) => {
                    national = rest;
                    had_country_code = true;
                }
                None => return Err(bad("only Chinese (+86) numbers are supported")),
            }
        } else if national.len() == 13 && national.starts_with("861") {
            national = &national[2..];
            had_country_code = true;
        }
        let mut out = String::with_capacity(12);
        let is_mobile = |n: &str| n.len() == 11 && n.starts_with('1') && !n.starts_with("10");
        if had_country_code
            && !national.starts_with('0')
            && !is_mobile(national)
            && !national.starts_with("400")
            && !national.starts_with("800")
        {
            // +86 21 12345678, +86 10 …: the area code loses its 0 after the country code.
            out.push('0');
        }
        // A trunk prefix 0 in front of a mobile (013812345678).
        if national.len() == 12 && national.starts_with("01") && !national.starts_with("010") {
            national = &national[1..];
        }
        out.push_str(national);
        let b = out.as_bytes();
        let kind = if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            PhoneKind::Mobile
        } else if b.len() == 10 && (out.starts_with("400") || out.starts_with("800")) {
            PhoneKind::Service
        } else if b.first() == Some(&b'0') {
            let local = b.len().saturating_sub(area_code_len(&out));
            if !(7..=8).contains(&local) || b.get(1) == Some(&b'0') {
                return Err(bad(
                    "not a valid fixed-line number (area code + 7 or 8 digits)",
                ));
            }
            PhoneKind::Fixed
        } else if (7..=8).contains(&b.len()) && b[0] != b'1' {
            PhoneKind::Local
        } else {
            return Err(bad("not a valid mobile (11 digits) or fixed-line number"));
        };
        Ok(Self { digits: out, kind })
    }

    /// The normalised national digits (personal data: don't log it, use `Display`).
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// Mobile, fixed line, service or local number.
    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// The usual ways this number is written in shop databases, for matching a free-text
    /// column with an index: national digits, `+86…`, dashed (`138-1234-5678`,
    /// `021-12345678`) and spaced (`138 1234 5678`, `021 12345678`).
    pub fn spellings(&self) -> PhoneSpellings {
        let d = &self.digits;
        let (dashed, spaced, intl) = match self.kind {
            PhoneKind::Mobile => (
                format!("{}-{}-{}", &d[..3], &d[3..7], &d[7..]),
                format!("{} {} {}", &d[..3], &d[3..7], &d[7..]),
                format!("+86{d}"),
            ),
            PhoneKind::Fixed => {
                let a = area_code_len(d);
                (
                    format!("{}-{}", &d[..a], &d[a..]),
                    format!("{} {}", &d[..a], &d[a..]),
                    format!("+86{}", &d[1..]),
                )
            }
            PhoneKind::Service => (
                format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]),
                format!("{} {} {}", &d[..3], &d[3..6], &d[6..]),
                format!("+86{d}"),
            ),
            PhoneKind::Local => (d.clone(), d.clone(), d.clone()),
        };
        PhoneSpellings {
            national: d.clone(),
            intl,
            dashed,
            spaced,
        }
    }
}

/// The spellings of one number, see [`Phone::spellings`]; bound to the SQL parameters
/// `:phone`, `:phone_intl`, `:phone_dashed` and `:phone_spaced`.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneSpellings {
    /// `13812345678`
    pub national: String,
    /// `+8613812345678`
    pub intl: String,
    /// `138-1234-5678`
    pub dashed: String,
    /// `138 1234 5678`
    pub spaced: String,
}

impl fmt::Debug for PhoneSpellings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneSpellings({})", mask::phone(&self.national))
    }
}

/// Money in fen (分, 1/100 yuan). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(pub i64);

impl Fen {
    /// Parses a yuan decimal as databases print it (`"128.50"`, `"128.5"`, `"128"`,
    /// `"-3.10"`) exactly, without going through a float.
    ///
    /// ```
    /// use order_hooks::Fen;
    /// assert_eq!(Fen::from_yuan_str("128.5"), Some(Fen(12850)));
    /// assert_eq!(Fen::from_yuan_str("0.07"), Some(Fen(7)));
    /// assert_eq!(Fen::from_yuan_str("1.234"), None);
    /// ```
    pub fn from_yuan_str(s: &str) -> Option<Self> {
        let s = s.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let yuan: i64 = int.parse().ok()?;
        let mut fen: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            fen += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let v = yuan.checked_mul(100)?.checked_add(fen)?;
        Some(Self(if neg { -v } else { v }))
    }

    /// Whole yuan (元).
    pub fn yuan(self) -> i64 {
        self.0 / 100
    }

    /// The jiao (角) digit.
    pub fn jiao(self) -> i64 {
        (self.0 % 100) / 10
    }

    /// The fen (分) digit.
    pub fn fen(self) -> i64 {
        self.0 % 10
    }
}

impl fmt::Display for Fen {
    /// `128.50` (yuan with two decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// Seconds since 1970-01-01 00:00:00 UTC (databases such as ECShop store exactly this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),* }
        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$v),*];
            /// The stable snake_case name used in databases and config files.
            pub fn name(self) -> &'static str { match self { $(Self::$v => $s),* } }
            /// Parses [`name`](Self::name) (ASCII case-insensitive, `-` or space for `_`).
            pub fn from_name(s: &str) -> Option<Self> {
                let norm: String = s.trim().chars()
                    .map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_lowercase() })
                    .collect();
                match norm.as_str() { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.name()) }
        }
    };
}

named_enum! {
    /// Where an order is in its life.
    OrderStatus {
        /// Placed, not yet paid or confirmed.
        Placed = "placed",
        /// Waiting for an online payment.
        AwaitingPayment = "awaiting_payment",
        /// Paid, not yet confirmed by the shop.
        Paid = "paid",
        /// Confirmed by the shop, waiting to be picked.
        Confirmed = "confirmed",
        /// Being picked and packed in the warehouse.
        Picking = "picking",
        /// Handed to the carrier.
        Shipped = "shipped",
        /// On its way (the carrier has scanned it in transit).
        InTransit = "in_transit",
        /// Delivered to the consignee.
        Delivered = "delivered",
        /// Cancelled (or made invalid) before shipping.
        Cancelled = "cancelled",
        /// Sent back by the customer.
        Returned = "returned",
        /// Money given back.
        Refunded = "refunded",
    }
}

named_enum! {
    /// How the customer pays.
    PaymentMethod {
        /// Cash on delivery (货到付款).
        CashOnDelivery = "cash_on_delivery",
        /// Alipay (支付宝).
        Alipay = "alipay",
        /// WeChat Pay (微信支付).
        WechatPay = "wechat_pay",
        /// UnionPay card (银联).
        UnionPay = "union_pay",
        /// Bank transfer (银行汇款).
        BankTransfer = "bank_transfer",
        /// Postal remittance (邮局汇款).
        PostalRemittance = "postal_remittance",
        /// The customer's shop balance (余额支付).
        Balance = "balance",
        /// Anything else.
        Other = "other",
    }
}

named_enum! {
    /// Where the payment is.
    PaymentStatus {
        /// Not paid.
        Unpaid = "unpaid",
        /// Payment started, not confirmed by the payment provider.
        Paying = "paying",
        /// Paid.
        Paid = "paid",
        /// Paid back.
        Refunded = "refunded",
    }
}

named_enum! {
    /// The kind of after-sales request.
    AfterSalesKind {
        /// Return the goods for a refund (退货).
        Return = "return",
        /// Exchange the goods (换货).
        Exchange = "exchange",
        /// A complaint (投诉).
        Complaint = "complaint",
    }
}

impl PaymentMethod {
    /// Recognises a payment method from a code or name as shops store it (`cod`, `alipay`,
    /// `wxpay`, `货到付款`, `支付宝`, `微信支付` …). Unknown values give [`Self::Other`].
    pub fn recognise(s: &str) -> Self {
        if let Some(m) = Self::from_name(s) {
            return m;
        }
        let l = s.trim().to_ascii_lowercase();
        let has = |k: &str| l.contains(k);
        if l == "cod" || has("货到付款") || has("cash") {
            Self::CashOnDelivery
        } else if has("alipay") || has("支付宝") {
            Self::Alipay
        } else if has("wx") || has("wechat") || has("weixin") || has("微信") {
            Self::WechatPay
        } else if has("union") || has("银联") || has("chinapay") {
            Self::UnionPay
        } else if l == "bank" || has("银行") {
            Self::BankTransfer
        } else if l == "post" || has("邮局") {
            Self::PostalRemittance
        } else if l == "balance" || has("余额") {
            Self::Balance
        } else {
            Self::Other
        }
    }
}

/// A parcel carrier. Known carriers have their own variant so the IVR can say their name
/// from a prompt; others keep the name the shop stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// SF Express (顺丰速运).
    Sf,
    /// YTO Express (圆通速递).
    Yto,
    /// ZTO Express (中通快递).
    Zto,
    /// STO Express (申通快递).
    Sto,
    /// Yunda Express (韵达快递).
    Yunda,
    /// China Post EMS.
    Ems,
    /// JD Logistics (京东物流).
    Jd,
    /// Best Express (百世快递).
    Best,
    /// Another carrier, by the name the shop stores.
    Other(String),
}

impl Carrier {
    /// Recognises a carrier from a code or name (`SF`, `sf_express`, `顺丰速运`, `yto`,
    /// `圆通`, `中通` …).
    pub fn recognise(s: &str) -> Self {
        let l = s.trim().to_ascii_lowercase();
        let has = |k: &str| l.contains(k);
        if l == "sf" || l.starts_with("sf_") || l.starts_with("sf ") || has("顺丰") {
            Self::Sf
        } else if l == "yto" || l.starts_with("yto") || has("圆通") {
            Self::Yto
        } else if l == "zto" || l.starts_with("zto") || has("中通") {
            Self::Zto
        } else if l == "sto" || l.starts_with("sto_") || l.starts_with("sto ") || has("申通") {
            Self::Sto
        } else if has("yunda") || has("韵达") {
            Self::Yunda
        } else if has("ems") || has("邮政") {
            Self::Ems
        } else if l == "jd" || has("jd_") || has("京东") {
            Self::Jd
        } else if has("best") || has("百世") || has("汇通") {
            Self::Best
        } else {
            Self::Other(s.trim().to_owned())
        }
    }

    /// A short stable code (`sf`, `yto` …) or the stored name for [`Carrier::Other`].
    pub fn code(&self) -> &str {
        match self {
            Self::Sf => "sf",
            Self::Yto => "yto",
            Self::Zto => "zto",
            Self::Sto => "sto",
            Self::Yunda => "yunda",
            Self::Ems => "ems",
            Self::Jd => "jd",
            Self::Best => "best",
            Self::Other(s) => s,
        }
    }
}

/// One order as the IVR needs it. Personal data is masked when the value is built: the
/// consignee's name is never held in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order number.
    pub number: OrderNo,
    /// Where the order is.
    pub status: OrderStatus,
    /// How it is paid.
    pub payment_method: PaymentMethod,
    /// Where the payment is.
    pub payment_status: PaymentStatus,
    /// The amount the customer pays, in fen.
    pub amount: Fen,
    /// The carrier, once known.
    pub carrier: Option<Carrier>,
    /// The carrier's tracking number (运单号), once shipped.
    pub tracking_no: Option<String>,
    /// When the order was placed.
    pub placed_at: UnixTime,
    /// When it was shipped.
    pub shipped_at: Option<UnixTime>,
    /// How many items (sum of quantities).
    pub item_count: u32,
    /// The consignee's name, masked (`张*`).
    pub consignee_masked: String,
}

/// Text a caller or agent gave with a request (a reason, a note): 1..=200 characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

/// Longest [`Note`] accepted, in characters.
pub const NOTE_MAX: usize = 200;

impl Note {
    /// Validates the text.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if it is empty, too long or has control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim();
        let bad = |problem| Error::InvalidInput {
            field,
            value: cut(s),
            problem,
        };
        if s.is_empty() {
            return Err(bad("must not be empty"));
        }
        if s.chars().count() > NOTE_MAX {
            return Err(bad("too long (at most 200 characters)"));
        }
        if s.chars().any(char::is_control) {
            return Err(bad("control characters are not allowed"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A return, exchange or complaint for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterSalesRequest {
    /// The order it is about.
    pub order: OrderNo,
    /// Return, exchange or complaint.
    pub kind: AfterSalesKind,
    /// Why (often the label of the IVR menu choice, e.g. "商品破损").
    pub reason: Note,
    /// The caller's number, if known.
    pub phone: Option<Phone>,
    /// When the caller asked (the daemon's clock).
    pub requested_at: UnixTime,
}

/// A request that an agent calls the customer back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRequest {
    /// The number to call.
    pub phone: Phone,
    /// The order it is about, if any.
    pub order: Option<OrderNo>,
    /// What about, if the flow collected it.
    pub note: Option<Note>,
    /// When the caller asked (the daemon's clock).
    pub requested_at: UnixTime,
}

/// The shop's id for a created request (the row id), to read back to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub i64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_digits_of_sane_length() {
        assert!(OrderNo::parse("123456").is_ok());
        assert!(OrderNo::parse("12345678901234567890").is_ok());
        let e = OrderNo::parse("123456789012345678901").unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        let e = OrderNo::parse("12345").unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
        let e = OrderNo::parse("1234' OR '1'='1").unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidInput {
                field: "order number",
                ..
            }
        ));
        assert!(e.to_string().contains("1234' OR"), "names the value: {e}");
        assert!(OrderNo::parse("１２３４５６").is_err(), "full-width digits");
        assert!(OrderNo::parse("").is_err());
    }

    #[test]
    fn phones_normalise() {
        let n = |s: &str| Phone::parse(s).map(|p| p.as_str().to_owned());
        for s in [
            "13812345678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "0086 13812345678",
            "8613812345678",
            "013812345678",
            "138-1234-5678",
            " 138.1234.5678 ",
        ] {
            assert_eq!(n(s).unwrap(), "13812345678", "{s}");
        }
        for s in [
            "021-12345678",
            "(021) 1234 5678",
            "+86 21 12345678",
            "02112345678",
            "+862112345678",
        ] {
            assert_eq!(n(s).unwrap(), "02112345678", "{s}");
        }
        assert_eq!(n("0755-8765432").unwrap(), "07558765432");
        assert_eq!(n("010-87654321").unwrap(), "01087654321");
        assert_eq!(n("4008123123").unwrap(), "4008123123");
        assert_eq!(
            Phone::parse("4008123123").unwrap().kind(),
            PhoneKind::Service
        );
        assert_eq!(Phone::parse("87654321").unwrap().kind(), PhoneKind::Local);
        assert_eq!(
            Phone::parse("13812345678").unwrap().kind(),
            PhoneKind::Mobile
        );
        assert_eq!(
            Phone::parse("021-12345678").unwrap().kind(),
            PhoneKind::Fixed
        );
    }

    #[test]
    fn bad_phones_are_rejected_and_masked() {
        for s in [
            "1381234567",
            "12812345678",
            "abc",
            "138123456789",
            "+1 415 555 0100",
            "021-123",
            "13812345678;--",
        ] {
            let e = Phone::parse(s).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        field: "phone number",
                        ..
                    }
                ),
                "{s}: {e}"
            );
        }
        let e = Phone::parse("13812345678x").unwrap_err();
        assert!(!e.to_string().contains("13812345678"), "masked: {e}");
        assert!(e.to_string().contains("138****5678"), "{e}");
    }

    #[test]
    fn spellings_cover_common_formats() {
        let s = Phone::parse("13812345678").unwrap().spellings();
        assert_eq!(s.intl, "+8613812345678");
        assert_eq!(s.dashed, "138-1234-5678");
        assert_eq!(s.spaced, "138 1234 5678");
        let s = Phone::parse("0755-88776655").unwrap().spellings();
        assert_eq!(s.dashed, "0755-88776655");
        assert_eq!(s.intl, "+8675588776655");
        let s = Phone::parse("01012345678").unwrap().spellings();
        assert_eq!(s.dashed, "010-12345678");
        assert_eq!(
            format!("{:?}", Phone::parse("13812345678").unwrap()),
            "Phone(138****5678)"
        );
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(Fen::from_yuan_str("128.50"), Some(Fen(12850)));
        assert_eq!(Fen::from_yuan_str("128"), Some(Fen(12800)));
        assert_eq!(Fen::from_yuan_str("-3.1"), Some(Fen(-310)));
        assert_eq!(Fen::from_yuan_str("0.1"), Some(Fen(10)));
        assert_eq!(Fen::from_yuan_str("1.230"), Some(Fen(123)));
        assert_eq!(Fen::from_yuan_str("abc"), None);
        assert_eq!(Fen::from_yuan_str(".5"), None);
        assert_eq!(Fen(12850).to_string(), "128.50");
        assert_eq!(
            (Fen(12856).yuan(), Fen(12856).jiao(), Fen(12856).fen()),
            (128, 5, 6)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::from_name(s.name()), Some(*s));
        }
        assert_eq!(
            OrderStatus::from_name("In Transit"),
            Some(OrderStatus::InTransit)
        );
        assert_eq!(
            PaymentMethod::recognise("货到付款"),
            PaymentMethod::CashOnDelivery
        );
        assert_eq!(
            PaymentMethod::recognise("cod"),
            PaymentMethod::CashOnDelivery
        );
        assert_eq!(PaymentMethod::recognise("wxpay"), PaymentMethod::WechatPay);
        assert_eq!(
            PaymentMethod::recognise("银行汇款/转帐"),
            PaymentMethod::BankTransfer
        );
        assert_eq!(Carrier::recognise("顺丰速运"), Carrier::Sf);
        assert_eq!(Carrier::recognise("sf_express"), Carrier::Sf);
        assert_eq!(Carrier::recognise("圆通速递"), Carrier::Yto);
        assert_eq!(Carrier::recognise("ZTO"), Carrier::Zto);
        assert_eq!(Carrier::recognise("sto_express"), Carrier::Sto);
        assert_eq!(Carrier::recognise("德邦"), Carrier::Other("德邦".into()));
    }

    #[test]
    fn notes_are_bounded() {
        assert!(Note::parse("reason", "商品破损").is_ok());
        assert!(Note::parse("reason", "").is_err());
        assert!(Note::parse("reason", &"长".repeat(201)).is_err());
        assert!(Note::parse("reason", "a\u{0}b").is_err());
    }
}
