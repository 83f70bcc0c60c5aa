//! Masking helpers for personal data in logs, errors and the [`Order`](crate::Order) type.
//!
//! Phone numbers keep their first three and last four digits (`138****5678`), names keep
//! their first character (`张*`), addresses are cut after their first few characters
//! (province and city) and end in `…`. The functions never fail and never panic on odd input.

/// Masks a phone number for logs: `13812345678` → `138****5678`, `02112345678` →
/// `021****5678`. Short numbers keep only their last two digits. Non-digits are dropped.
///
/// ```
/// assert_eq!(order_hooks::mask::phone("13812345678"), "138****5678");
/// assert_eq!(order_hooks::mask::phone("+86 138-1234-5678"), "861****5678");
/// ```
pub fn phone(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let mut out = String::with_capacity(n + 4);
    if n >= 8 {
        out.extend(&digits[..3]);
        out.push_str("****");
        out.extend(&digits[n - 4..]);
    } else {
        for (i, d) in digits.iter().enumerate() {
            out.push(if i + 2 < n { '*' } else { *d });
        }
    }
    out
}

/// Masks a person's name: the first character stays, every other one becomes `*`
/// (`张三` → `张*`, `欧阳娜娜` → `欧***`). Surrounding whitespace is dropped.
///
/// ```
/// assert_eq!(order_hooks::mask::name("张三"), "张*");
/// ```
pub fn name(raw: &str) -> String {
    let mut chars = raw.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = String::new();
    out.push(first);
    for c in chars {
        out.push(if c.is_whitespace() { ' ' } else { '*' });
    }
    out
}

/// How many characters of an address [`address`] keeps.
pub const ADDRESS_KEEP: usize = 6;

/// Cuts an address after [`ADDRESS_KEEP`] characters and appends `…`
/// (`广东省深圳市南山区科技园路1号` → `广东省深圳市…`); short addresses are returned whole.
///
/// ```
/// assert_eq!(order_hooks::mask::address("广东省深圳市南山区科技园路1号"), "广东省深圳市…");
/// ```
pub fn address(raw: &str) -> String {
    let raw = raw.trim();
    let mut out: String = raw.chars().take(ADDRESS_KEEP).collect();
    if raw.chars().nth(ADDRESS_KEEP).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_prefix_and_last_four() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("021-1234 5678"), "021****5678");
        assert_eq!(phone("12345"), "***45");
        assert_eq!(phone(""), "");
        assert!(!phone("13812345678").contains("1234"));
    }

    #[test]
    fn names_keep_the_first_character() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name(" 欧阳娜娜 "), "欧***");
        assert_eq!(name("王"), "王");
        assert_eq!(name("John Smith"), "J*** *****");
        assert_eq!(name(""), "");
    }

    #[test]
    fn addresses_are_cut() {
        assert_eq!(address("北京市海淀区中关村大街27号"), "北京市海淀区…");
        assert_eq!(address("上海市"), "上海市");
        assert_eq!(address("123456"), "123456");
        assert_eq!(address("1234567"), "123456…");
    }
}
