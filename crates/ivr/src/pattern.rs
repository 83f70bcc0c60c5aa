//! Digit patterns for `collect ... pattern "..."`, in the style dial plans use.
//!
//! `X` any digit 0-9, `Z` 1-9, `N` 2-9, `[135-7]` one of a set, `.` one or more of
//! anything, `!` zero or more of anything; other characters match themselves
//! (`0`-`9`, `*`, `#`).

/// A compiled digit pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    items: Vec<Item>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Bitmask over the 12 keys `0`-`9`, `*` (10), `#` (11).
    One(u16),
    /// `.` (min 1) or `!` (min 0): any keys.
    Rest(usize),
}

fn key_bit(c: char) -> Option<u16> {
    match c {
        '0'..='9' => Some(1 << (c as u16 - '0' as u16)),
        '*' => Some(1 << 10),
        '#' => Some(1 << 11),
        _ => None,
    }
}

impl Pattern {
    /// Compiles `text`; the error says which character is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut items = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let item = match c.to_ascii_uppercase() {
                'X' => Item::One(0x3ff),
                'Z' => Item::One(0x3fe),
                'N' => Item::One(0x3fc),
                '.' => Item::Rest(1),
                '!' => Item::Rest(0),
                '[' => {
                    let mut mask = 0u16;
                    let mut prev: Option<char> = None;
                    loop {
                        match chars.next() {
                            None => return Err("`[` has no closing `]`".into()),
                            Some(']') => break,
                            Some('-') => {
                                let (Some(a), Some(b)) = (prev, chars.next()) else {
                                    return Err("a range needs a digit on both sides of `-`".into());
                                };
                                if !(a.is_ascii_digit() && b.is_ascii_digit() && a <= b) {
                                    return Err(format!("`{a}-{b}` is not a digit range"));
                                }
                                for d in a..=b {
                                    mask |= key_bit(d).unwrap_or(0);
                                }
                            }
                            Some(d) => {
                                mask |= key_bit(d)
                                    .ok_or_else(|| format!("`{d}` is not a key in `[...]`"))?;
                                prev = Some(d);
                            }
                        }
                    }
                    Item::One(mask)
                }
                _ => Item::One(
                    key_bit(c)
                        .ok_or_else(|| format!("`{c}` is not a key or one of X Z N [..] . !"))?,
                ),
            };
            items.push(item);
        }
        Ok(Self {
            items,
            text: text.to_string(),
        })
    }

    /// Whether the whole of `keys` matches. Linear in pattern × keys (no backtracking, so
    /// no pattern a designer writes can make it slow).
    pub fn matches(&self, keys: &str) -> bool {
        let ks: Vec<u16> = keys.chars().map(|c| key_bit(c).unwrap_or(0)).collect();
        // reach[j]: the items so far can consume exactly the first j keys.
        let mut reach = vec![false; ks.len() + 1];
        reach[0] = true;
        for item in &self.items {
            let mut next = vec![false; ks.len() + 1];
            match item {
                Item::One(mask) => {
                    for j in 0..ks.len() {
                        if reach[j] && ks[j] & mask != 0 {
                            next[j + 1] = true;
                        }
                    }
                }
                Item::Rest(min) => {
                    // Any run of at least `min` keys.
                    let mut seen = false;
                    for j in 0..=ks.len() {
                        if j >= *min && reach[j - min] {
                            seen = true;
                        }
                        next[j] = seen;
                    }
                }
            }
            reach = next;
        }
        reach[ks.len()]
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_plan_patterns() {
        let p = Pattern::parse("1[3-9]XXXXXXXXX").unwrap();
        assert!(p.matches("13800138000"));
        assert!(!p.matches("12800138000"));
        assert!(!p.matches("1380013800"));
        let p = Pattern::parse("2026X.").unwrap();
        assert!(p.matches("202611220001"));
        assert!(!p.matches("20261"));
        assert!(Pattern::parse("ZN!").unwrap().matches("12"));
        assert!(Pattern::parse("[12").is_err());
        assert!(Pattern::parse("!").unwrap().matches(""));
        assert!(!Pattern::parse(".").unwrap().matches(""));
        // Many wildcards against a long entry stay fast (no backtracking blow-up).
        let p = Pattern::parse(&".X".repeat(30)).unwrap();
        assert!(!p.matches(&"1".repeat(59)));
        assert!(p.matches(&"1".repeat(60)));
        assert!(Pattern::parse("Q").is_err());
    }
}
