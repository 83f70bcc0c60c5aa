//! Say-back: numbers, digit strings, money, dates, times and order codes as lists of
//! prompt fragments, in Mandarin (zh-CN) and English (en).
//!
//! Mandarin rules: 零 stands once for a run of zeros inside a number and is not said at the
//! end (一千零一, 一万零一百, 一亿零一万); 两 replaces 二 before 百, 千, 万, 亿 and as a lone
//! 2 before 元/角/分 or 点 (两百, 两千, 两万, 两元, 两点) while 二十, 十二 and dates (二月二日)
//! keep 二; numbers from 10 to 19 at the start drop the 一 (十五, but 一百一十五); digit
//! strings such as order and phone numbers read 1 as 幺; numbers group by 万 and 亿.
//!
//! ```
//! use ivr::say::{say, text};
//! use ivr::SayKind;
//! let f = say("zh-CN", SayKind::Number, "20010").unwrap();
//! assert_eq!(text("zh-CN", &f), "两万零一十");
//! let f = say("zh-CN", SayKind::Money, "128.05").unwrap();
//! assert_eq!(text("zh-CN", &f), "一百二十八元零五分");
//! let f = say("en", SayKind::Money, "128.50").unwrap();
//! assert_eq!(text("en", &f), "one hundred twenty eight yuan fifty fen");
//! ```

use crate::program::SayKind;

/// Languages with say-back rules.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// Why a value cannot be said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SayError {
    /// What was asked for.
    pub kind: SayKind,
    /// The value (cut to 40 characters).
    pub value: String,
}

impl core::fmt::Display for SayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let want = match self.kind {
            SayKind::Digits => "up to 64 digits",
            SayKind::Number => "a whole number below 10^12",
            SayKind::Money => "an amount such as 128.50",
            SayKind::Date => "a date such as 2026-11-22",
            SayKind::Time => "a time such as 14:05",
            _ => "a code",
        };
        write!(
            f,
            "cannot say \"{}\" as {}: expected {want}",
            self.value,
            self.kind.keyword()
        )
    }
}

impl std::error::Error for SayError {}

const NUM: [&str; 20] = [
    "num/0", "num/1", "num/2", "num/3", "num/4", "num/5", "num/6", "num/7", "num/8", "num/9",
    "num/10", "num/11", "num/12", "num/13", "num/14", "num/15", "num/16", "num/17", "num/18",
    "num/19",
];
const TENS: [&str; 10] = [
    "", "", "num/20", "num/30", "num/40", "num/50", "num/60", "num/70", "num/80", "num/90",
];
const ZH_PLACE: [&str; 4] = ["", "num/10", "num/100", "num/1000"];
const ZH_GROUP: [&str; 3] = ["", "num/10000", "num/100000000"];
const MONTH: [&str; 12] = [
    "month/1", "month/2", "month/3", "month/4", "month/5", "month/6", "month/7", "month/8",
    "month/9", "month/10", "month/11", "month/12",
];
const ORD: [&str; 31] = [
    "ord/1", "ord/2", "ord/3", "ord/4", "ord/5", "ord/6", "ord/7", "ord/8", "ord/9", "ord/10",
    "ord/11", "ord/12", "ord/13", "ord/14", "ord/15", "ord/16", "ord/17", "ord/18", "ord/19",
    "ord/20", "ord/21", "ord/22", "ord/23", "ord/24", "ord/25", "ord/26", "ord/27", "ord/28",
    "ord/29", "ord/30", "ord/31",
];

/// Order status codes (the order hooks' names, plus synonyms shops use) and their fragments.
const STATUS: &[(&str, &str)] = &[
    ("placed", "status/placed"),
    ("awaiting_payment", "status/awaiting_payment"),
    ("pending_payment", "status/awaiting_payment"),
    ("paid", "status/paid"),
    ("confirmed", "status/confirmed"),
    ("processing", "status/processing"),
    ("picking", "status/processing"),
    ("shipped", "status/shipped"),
    ("in_transit", "status/in_transit"),
    ("out_for_delivery", "status/out_for_delivery"),
    ("delivered", "status/delivered"),
    ("cancelled", "status/cancelled"),
    ("refunding", "status/refunding"),
    ("refunded", "status/refunded"),
    ("returned", "status/returned"),
    ("unknown", "status/unknown"),
];
/// Payment status codes and their fragments.
const PAYMENT: &[(&str, &str)] = &[
    ("unpaid", "payment/unpaid"),
    ("paying", "payment/paying"),
    ("paid", "payment/paid"),
    ("cod", "payment/cod"),
    ("cash_on_delivery", "payment/cod"),
    ("refunded", "payment/refunded"),
    ("partially_refunded", "payment/partially_refunded"),
    ("unknown", "payment/unknown"),
];
/// Carrier codes and their fragments.
const CARRIER: &[(&str, &str)] = &[
    ("sf", "carrier/sf"),
    ("zto", "carrier/zto"),
    ("yto", "carrier/yto"),
    ("sto", "carrier/sto"),
    ("yunda", "carrier/yunda"),
    ("jd", "carrier/jd"),
    ("ems", "carrier/ems"),
    ("best", "carrier/best"),
    ("unknown", "carrier/unknown"),
];

fn table(kind: SayKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        SayKind::Status => STATUS,
        SayKind::Payment => PAYMENT,
        _ => CARRIER,
    }
}

/// The codes `say status|payment|carrier` knows (others are said as `unknown`).
pub fn codes(kind: SayKind) -> impl Iterator<Item = &'static str> {
    table(kind).iter().map(|(c, _)| *c)
}

fn code_fragment(kind: SayKind, code: &str) -> &'static str {
    let t = table(kind);
    let norm: String = code
        .trim()
        .chars()
        .map(|c| {
            if c == '-' || c == ' ' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    t.iter()
        .find(|(c, _)| *c == norm)
        .map_or(t[t.len() - 1].1, |(_, f)| *f)
}

/// Every fragment `say` can produce for `kind` in `lang` (the prompt files a pack needs).
pub fn fragments(lang: &str, kind: SayKind) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    let zh = lang != "en";
    match kind {
        SayKind::Status | SayKind::Payment | SayKind::Carrier => {
            for (_, f) in table(kind) {
                if !v.contains(f) {
                    v.push(f);
                }
            }
        }
        SayKind::Digits => {
            v.extend(&NUM[..10]);
            if zh {
                v.push("num/yao");
            }
        }
        _ if zh => {
            v.extend(&NUM[..11]);
            v.extend([
                "num/100",
                "num/1000",
                "num/10000",
                "num/100000000",
                "num/liang",
            ]);
            match kind {
                SayKind::Money => v.extend(["money/yuan", "money/jiao", "money/fen"]),
                SayKind::Date => v.extend(["date/year", "date/month", "date/day"]),
                SayKind::Time => v.extend(["time/hour", "time/minute"]),
                _ => {}
            }
        }
        _ => {
            v.extend(&NUM);
            v.extend(&TENS[2..]);
            v.extend(["num/100", "num/1000", "num/1000000", "num/1000000000"]);
            match kind {
                SayKind::Money => v.extend(["money/yuan", "money/fen"]),
                SayKind::Date => {
                    v.extend(&MONTH);
                    v.extend(&ORD);
                    v.push("num/oh");
                }
                SayKind::Time => v.extend(["num/oh", "time/oclock", "time/am", "time/pm"]),
                _ => {}
            }
        }
    }
    v
}

/// The fragments that say `value` as `kind` in `lang`.
///
/// # Errors
/// [`SayError`] when the value does not have the form `kind` needs.
pub fn say(lang: &str, kind: SayKind, value: &str) -> Result<Vec<&'static str>, SayError> {
    let mut out = Vec::with_capacity(16);
    say_into(lang, kind, value, &mut out)?;
    Ok(out)
}

/// As [`say`], appending to `out`.
///
/// # Errors
/// As [`say`].
pub fn say_into(
    lang: &str,
    kind: SayKind,
    value: &str,
    out: &mut Vec<&'static str>,
) -> Result<(), SayError> {
    let bad = || SayError {
        kind,
        value: value.chars().take(40).collect(),
    };
    let zh = lang != "en";
    let v = value.trim();
    match kind {
        SayKind::Status | SayKind::Payment | SayKind::Carrier => out.push(code_fragment(kind, v)),
        SayKind::Digits => {
            let mut n = 0;
            for c in v.chars() {
                match c {
                    '0'..='9' => {
                        let d = c as usize - '0' as usize;
                        out.push(if zh && d == 1 { "num/yao" } else { NUM[d] });
                        n += 1;
                    }
                    ' ' | '-' => {}
                    _ => return Err(bad()),
                }
            }
            if n == 0 || n > 64 {
                return Err(bad());
            }
        }
        SayKind::Number => {
            let n = parse_uint(v)
                .filter(|n| *n < 1_000_000_000_000)
                .ok_or_else(bad)?;
            if zh {
                zh_int(n, true, out)
            } else {
                en_int(n, out)
            }
        }
        SayKind::Money => {
            let (yuan, cents) = parse_money(v).ok_or_else(bad)?;
            if zh {
                zh_money(yuan, cents, out)
            } else {
                en_money(yuan, cents, out)
            }
        }
        SayKind::Date => {
            let (y, m, d) = parse_date(v).ok_or_else(bad)?;
            if zh {
                for c in y.to_string().chars() {
                    out.push(NUM[c as usize - '0' as usize]);
                }
                out.push("date/year");
                zh_int(m.into(), false, out);
                out.push("date/month");
                zh_int(d.into(), false, out);
                out.push("date/day");
            } else {
                out.push(MONTH[m as usize - 1]);
                out.push(ORD[d as usize - 1]);
                en_year(y, out);
            }
        }
        SayKind::Time => {
            let (h, m) = parse_time(v).ok_or_else(bad)?;
            if zh {
                zh_int(h.into(), h == 2, out);
                out.push("time/hour");
                if m > 0 {
                    if m < 10 {
                        out.push(NUM[0]);
                    }
                    zh_int(m.into(), false, out);
                    out.push("time/minute");
                }
            } else {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                en_int(h12.into(), out);
                if m == 0 {
                    out.push("time/oclock");
                } else if m < 10 {
                    out.push("num/oh");
                    out.push(NUM[m as usize]);
                } else {
                    en_int(m.into(), out);
                }
                out.push(if h < 12 || h == 24 {
                    "time/am"
                } else {
                    "time/pm"
                });
            }
        }
    }
    Ok(())
}

fn parse_uint(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `128`, `128.5`, `128.50` → (128, 50).
fn parse_money(v: &str) -> Option<(u64, u32)> {
    let (a, b) = v.split_once('.').unwrap_or((v, ""));
    let yuan = parse_uint(a).filter(|y| *y < 1_000_000_000_000)?;
    let cents = match b.len() {
        0 => 0,
        1 | 2 if b.bytes().all(|c| c.is_ascii_digit()) => {
            let n: u32 = b.parse().ok()?;
            if b.len() == 1 { n * 10 } else { n }
        }
        _ => return None,
    };
    Some((yuan, cents))
}

fn parse_date(v: &str) -> Option<(u32, u8, u8)> {
    let mut it = v.split('-');
    let y: u32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    if it.next().is_some()
        || !(1000..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    Some((y, m, d))
}

fn parse_time(v: &str) -> Option<(u8, u8)> {
    let (h, m) = v.split_once(':')?;
    let m = m.get(..2).unwrap_or(m);
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60).then_some((h, m))
}

/// A whole number in Mandarin. `liang`: say a lone leading 2 before 万/亿 and 2 before
/// 百/千 as 两 (off for month and day numbers).
fn zh_int(n: u64, liang: bool, out: &mut Vec<&'static str>) {
    if n == 0 {
        out.push(NUM[0]);
        return;
    }
    if n == 2 && liang {
        out.push("num/liang");
        return;
    }
    let groups = [
        (n / 100_000_000) as u32,
        ((n / 10_000) % 10_000) as u32,
        (n % 10_000) as u32,
    ];
    let mut started = false;
    let mut need_zero = false;
    for (gi, &g) in groups.iter().enumerate() {
        let unit = 2 - gi;
        if g == 0 {
            if started {
                need_zero = true;
            }
            continue;
        }
        if started && (need_zero || g < 1000) {
            out.push(NUM[0]);
        }
        zh_group(g, !started, unit, liang, out);
        if unit > 0 {
            out.push(ZH_GROUP[unit]);
        }
        started = true;
        need_zero = false;
    }
}

fn zh_group(g: u32, leading: bool, unit: usize, liang: bool, out: &mut Vec<&'static str>) {
    let digits = [g / 1000, (g / 100) % 10, (g / 10) % 10, g % 10];
    let mut emitted = false;
    let mut zero = false;
    for (i, &d) in digits.iter().enumerate() {
        let pos = 3 - i;
        if d == 0 {
            if emitted {
                zero = true;
            }
            continue;
        }
        if zero {
            out.push(NUM[0]);
            zero = false;
        }
        let lone_two_before_unit = d == 2 && pos == 0 && !emitted && unit > 0;
        if pos == 1 && d == 1 && leading && !emitted {
            // 十五, not 一十五, at the very start of a number.
        } else if d == 2 && liang && (pos >= 2 || lone_two_before_unit) {
            out.push("num/liang");
        } else {
            out.push(NUM[d as usize]);
        }
        if pos > 0 {
            out.push(ZH_PLACE[pos]);
        }
        emitted = true;
    }
}

fn zh_money(yuan: u64, cents: u32, out: &mut Vec<&'static str>) {
    let (jiao, fen) = (cents / 10, cents % 10);
    if yuan > 0 {
        zh_int(yuan, true, out);
        out.push("money/yuan");
    }
    if jiao > 0 {
        zh_int(jiao.into(), true, out);
        out.push("money/jiao");
    } else if fen > 0 && yuan > 0 {
        out.push(NUM[0]);
    }
    if fen > 0 {
        zh_int(fen.into(), true, out);
        out.push("money/fen");
    }
    if yuan == 0 && cents == 0 {
        out.push(NUM[0]);
        out.push("money/yuan");
    }
}

fn en_int(n: u64, out: &mut Vec<&'static str>) {
    if n == 0 {
        out.push(NUM[0]);
        return;
    }
    const SCALES: [(u64, &str); 3] = [
        (1_000_000_000, "num/1000000000"),
        (1_000_000, "num/1000000"),
        (1_000, "num/1000"),
    ];
    let mut rest = n;
    for (scale, word) in SCALES {
        if rest >= scale {
            en_below_1000((rest / scale) as u32, out);
            out.push(word);
            rest %= scale;
        }
    }
    if rest > 0 {
        en_below_1000(rest as u32, out);
    }
}

fn en_below_1000(n: u32, out: &mut Vec<&'static str>) {
    let (h, r) = (n / 100, n % 100);
    if h > 0 {
        out.push(NUM[h as usize]);
        out.push("num/100");
    }
    if r >= 20 {
        out.push(TENS[(r / 10) as usize]);
        if r % 10 > 0 {
            out.push(NUM[(r % 10) as usize]);
        }
    } else if r > 0 {
        out.push(NUM[r as usize]);
    }
}

fn en_money(yuan: u64, cents: u32, out: &mut Vec<&'static str>) {
    if yuan > 0 || cents == 0 {
        en_int(yuan, out);
        out.push("money/yuan");
    }
    if cents > 0 {
        en_int(cents.into(), out);
        out.push("money/fen");
    }
}

fn en_year(y: u32, out: &mut Vec<&'static str>) {
    let (hi, lo) = (y / 100, y % 100);
    if (2000..2010).contains(&y) || lo == 0 && y % 1000 == 0 {
        en_int(y.into(), out);
    } else {
        en_int(hi.into(), out);
        if lo == 0 {
            out.push("num/100");
        } else if lo < 10 {
            out.push("num/oh");
            out.push(NUM[lo as usize]);
        } else {
            en_int(lo.into(), out);
        }
    }
}

/// The words a fragment stands for (what its prompt file says).
pub fn fragment_text(lang: &str, name: &str) -> Option<&'static str> {
    let zh = lang != "en";
    let table: &[(&str, &str)] = if zh { ZH_TEXT } else { EN_TEXT };
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The fragments as text: Mandarin joined without spaces, English with spaces.
pub fn text(lang: &str, fragments: &[&str]) -> String {
    let zh = lang != "en";
    let words: Vec<&str> = fragments
        .iter()
        .map(|f| fragment_text(lang, f).unwrap_or(f))
        .collect();
    words.join(if zh { "" } else { " " })
}

/// Every fragment with its text, for building prompt packs.
pub fn all_fragments(lang: &str) -> &'static [(&'static str, &'static str)] {
    if lang == "en" { EN_TEXT } else { ZH_TEXT }
}

const ZH_TEXT: &[(&str, &str)] = &[
    ("num/0", "零"),
    ("num/1", "一"),
    ("num/2", "二"),
    ("num/3", "三"),
    ("num/4", "四"),
    ("num/5", "五"),
    ("num/6", "六"),
    ("num/7", "七"),
    ("num/8", "八"),
    ("num/9", "九"),
    ("num/10", "十"),
    ("num/100", "百"),
    ("num/1000", "千"),
    ("num/10000", "万"),
    ("num/100000000", "亿"),
    ("num/liang", "两"),
    ("num/yao", "幺"),
    ("money/yuan", "元"),
    ("money/jiao", "角"),
    ("money/fen", "分"),
    ("date/year", "年"),
    ("date/month", "月"),
    ("date/day", "日"),
    ("time/hour", "点"),
    ("time/minute", "分"),
    ("status/placed", "已下单"),
    ("status/awaiting_payment", "待付款"),
    ("status/confirmed", "已确认，正在处理"),
    ("status/paid", "已付款，等待发货"),
    ("status/processing", "正在备货"),
    ("status/shipped", "已发货"),
    ("status/in_transit", "运输途中"),
    ("status/out_for_delivery", "正在派送"),
    ("status/delivered", "已签收"),
    ("status/cancelled", "已取消"),
    ("status/refunding", "正在退款"),
    ("status/refunded", "已退款"),
    ("status/returned", "已退货"),
    ("status/unknown", "状态未知"),
    ("payment/unpaid", "未付款"),
    ("payment/paying", "付款处理中"),
    ("payment/paid", "已付款"),
    ("payment/cod", "货到付款"),
    ("payment/refunded", "已退款"),
    ("payment/partially_refunded", "部分退款"),
    ("payment/unknown", "付款状态未知"),
    ("carrier/sf", "顺丰速运"),
    ("carrier/zto", "中通快递"),
    ("carrier/yto", "圆通速递"),
    ("carrier/sto", "申通快递"),
    ("carrier/yunda", "韵达快递"),
    ("carrier/jd", "京东物流"),
    ("carrier/ems", "邮政EMS"),
    ("carrier/best", "百世快递"),
    ("carrier/unknown", "其他快递"),
];

const EN_TEXT: &[(&str, &str)] = &[
    ("num/0", "zero"),
    ("num/1", "one"),
    ("num/2", "two"),
    ("num/3", "three"),
    ("num/4", "four"),
    ("num/5", "five"),
    ("num/6", "six"),
    ("num/7", "seven"),
    ("num/8", "eight"),
    ("num/9", "nine"),
    ("num/10", "ten"),
    ("num/11", "eleven"),
    ("num/12", "twelve"),
    ("num/13", "thirteen"),
    ("num/14", "fourteen"),
    ("num/15", "fifteen"),
    ("num/16", "sixteen"),
    ("num/17", "seventeen"),
    ("num/18", "eighteen"),
    ("num/19", "nineteen"),
    ("num/20", "twenty"),
    ("num/30", "thirty"),
    ("num/40", "forty"),
    ("num/50", "fifty"),
    ("num/60", "sixty"),
    ("num/70", "seventy"),
    ("num/80", "eighty"),
    ("num/90", "ninety"),
    ("num/100", "hundred"),
    ("num/1000", "thousand"),
    ("num/1000000", "million"),
    ("num/1000000000", "billion"),
    ("num/oh", "oh"),
    ("money/yuan", "yuan"),
    ("money/fen", "fen"),
    ("time/oclock", "o'clock"),
    ("time/am", "a.m."),
    ("time/pm", "p.m."),
    ("month/1", "January"),
    ("month/2", "February"),
    ("month/3", "March"),
    ("month/4", "April"),
    ("month/5", "May"),
    ("month/6", "June"),
    ("month/7", "July"),
    ("month/8", "August"),
    ("month/9", "September"),
    ("month/10", "October"),
    ("month/11", "November"),
    ("month/12", "December"),
    ("ord/1", "first"),
    ("ord/2", "second"),
    ("ord/3", "third"),
    ("ord/4", "fourth"),
    ("ord/5", "fifth"),
    ("ord/6", "sixth"),
    ("ord/7", "seventh"),
    ("ord/8", "eighth"),
    ("ord/9", "ninth"),
    ("ord/10", "tenth"),
    ("ord/11", "eleventh"),
    ("ord/12", "twelfth"),
    ("ord/13", "thirteenth"),
    ("ord/14", "fourteenth"),
    ("ord/15", "fifteenth"),
    ("ord/16", "sixteenth"),
    ("ord/17", "seventeenth"),
    ("ord/18", "eighteenth"),
    ("ord/19", "nineteenth"),
    ("ord/20", "twentieth"),
    ("ord/21", "twenty-first"),
    ("ord/22", "twenty-second"),
    ("ord/23", "twenty-third"),
    ("ord/24", "twenty-fourth"),
    ("ord/25", "twenty-fifth"),
    ("ord/26", "twenty-sixth"),
    ("ord/27", "twenty-seventh"),
    ("ord/28", "twenty-eighth"),
    ("ord/29", "twenty-ninth"),
    ("ord/30", "thirtieth"),
    ("ord/31", "thirty-first"),
    ("status/placed", "order placed"),
    ("status/awaiting_payment", "awaiting payment"),
    ("status/confirmed", "confirmed"),
    ("status/paid", "paid, waiting to ship"),
    ("status/processing", "being prepared"),
    ("status/shipped", "shipped"),
    ("status/in_transit", "in transit"),
    ("status/out_for_delivery", "out for delivery"),
    ("status/delivered", "delivered"),
    ("status/cancelled", "cancelled"),
    ("status/refunding", "refund in progress"),
    ("status/refunded", "refunded"),
    ("status/returned", "returned"),
    ("status/unknown", "status unknown"),
    ("payment/unpaid", "not paid"),
    ("payment/paying", "payment in progress"),
    ("payment/paid", "paid"),
    ("payment/cod", "cash on delivery"),
    ("payment/refunded", "refunded"),
    ("payment/partially_refunded", "partly refunded"),
    ("payment/unknown", "payment unknown"),
    ("carrier/sf", "S F Express"),
    ("carrier/zto", "Z T O Express"),
    ("carrier/yto", "Y T O Express"),
    ("carrier/sto", "S T O Express"),
    ("carrier/yunda", "Yunda Express"),
    ("carrier/jd", "J D Logistics"),
    ("carrier/ems", "E M S"),
    ("carrier/best", "Best Express"),
    ("carrier/unknown", "another carrier"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(kind: SayKind, v: &str) -> String {
        text("zh-CN", &say("zh-CN", kind, v).unwrap())
    }
    fn en(kind: SayKind, v: &str) -> String {
        text("en", &say("en", kind, v).unwrap())
    }

    #[test]
    fn mandarin_numbers() {
        let cases = [
            ("0", "零"),
            ("2", "两"),
            ("10", "十"),
            ("12", "十二"),
            ("15", "十五"),
            ("20", "二十"),
            ("22", "二十二"),
            ("110", "一百一十"),
            ("200", "两百"),
            ("222", "两百二十二"),
            ("1001", "一千零一"),
            ("1010", "一千零一十"),
            ("1020", "一千零二十"),
            ("2000", "两千"),
            ("2222", "两千两百二十二"),
            ("10000", "一万"),
            ("10001", "一万零一"),
            ("10100", "一万零一百"),
            ("20000", "两万"),
            ("120000", "十二万"),
            ("100015", "十万零一十五"),
            ("2000000", "两百万"),
            ("22000000", "两千两百万"),
            ("100000000", "一亿"),
            ("200000000", "两亿"),
            ("100010000", "一亿零一万"),
            ("100000001", "一亿零一"),
            ("200020000", "两亿零两万"),
            ("1020000", "一百零二万"),
            ("1234567890", "十二亿三千四百五十六万七千八百九十"),
            ("50000800", "五千万零八百"),
        ];
        for (n, want) in cases {
            assert_eq!(zh(SayKind::Number, n), want, "{n}");
        }
    }

    #[test]
    fn mandarin_digits_money_dates_times() {
        assert_eq!(zh(SayKind::Digits, "13800138000"), "幺三八零零幺三八零零零");
        assert_eq!(zh(SayKind::Digits, "2026-1122"), "二零二六幺幺二二");
        assert_eq!(zh(SayKind::Money, "128.50"), "一百二十八元五角");
        assert_eq!(zh(SayKind::Money, "128.05"), "一百二十八元零五分");
        assert_eq!(zh(SayKind::Money, "2.22"), "两元两角两分");
        assert_eq!(zh(SayKind::Money, "0.5"), "五角");
        assert_eq!(zh(SayKind::Money, "100"), "一百元");
        assert_eq!(zh(SayKind::Money, "0"), "零元");
        assert_eq!(zh(SayKind::Money, "20000.08"), "两万元零八分");
        assert_eq!(zh(SayKind::Date, "2026-02-02"), "二零二六年二月二日");
        assert_eq!(zh(SayKind::Date, "2019-11-22"), "二零一九年十一月二十二日");
        assert_eq!(zh(SayKind::Time, "14:05"), "十四点零五分");
        assert_eq!(zh(SayKind::Time, "02:30"), "两点三十分");
        assert_eq!(zh(SayKind::Time, "12:00"), "十二点");
        assert_eq!(zh(SayKind::Status, "SHIPPED"), "已发货");
        assert_eq!(zh(SayKind::Carrier, "no-such"), "其他快递");
    }

    #[test]
    fn english() {
        assert_eq!(en(SayKind::Number, "0"), "zero");
        assert_eq!(en(SayKind::Number, "115"), "one hundred fifteen");
        assert_eq!(en(SayKind::Number, "2000045"), "two million forty five");
        assert_eq!(en(SayKind::Digits, "1380"), "one three eight zero");
        assert_eq!(
            en(SayKind::Money, "128.05"),
            "one hundred twenty eight yuan five fen"
        );
        assert_eq!(en(SayKind::Money, "0.50"), "fifty fen");
        assert_eq!(
            en(SayKind::Date, "2026-11-22"),
            "November twenty-second twenty twenty six"
        );
        assert_eq!(
            en(SayKind::Date, "2005-01-01"),
            "January first two thousand five"
        );
        assert_eq!(en(SayKind::Time, "14:05"), "two oh five p.m.");
        assert_eq!(en(SayKind::Time, "00:00"), "twelve o'clock a.m.");
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for (k, v) in [
            (SayKind::Number, "12a"),
            (SayKind::Number, ""),
            (SayKind::Money, "1.234"),
            (SayKind::Money, "-5"),
            (SayKind::Date, "2026-13-01"),
            (SayKind::Time, "25:00"),
            (SayKind::Digits, "12x"),
            (SayKind::Number, "99999999999999999999999"),
        ] {
            assert!(say("zh-CN", k, v).is_err(), "{v}");
            assert!(say("en", k, v).is_err(), "{v}");
        }
    }

    #[test]
    fn every_fragment_said_is_listed_and_has_text() {
        for lang in LANGUAGES {
            for k in SayKind::ALL {
                let all = fragments(lang, k);
                for v in [
                    "0",
                    "2",
                    "19",
                    "2222",
                    "100015",
                    "999999999999",
                    "13800138000",
                    "128.05",
                    "2026-11-22",
                    "14:05",
                    "00:00",
                    "shipped",
                    "sf",
                    "paid",
                    "x",
                ] {
                    if let Ok(fs) = say(lang, k, v) {
                        for f in fs {
                            assert!(all.contains(&f), "{lang} {k:?} {v}: {f} not in fragments()");
                        }
                    }
                }
                for f in all {
                    assert!(fragment_text(lang, f).is_some(), "{lang}: no text for {f}");
                }
            }
        }
    }
}
