//! DTMF digits and sets of them.

/// One of the 16 DTMF keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Digit {
    /// Key 0.
    D0 = 0,
    /// Key 1.
    D1,
    /// Key 2.
    D2,
    /// Key 3.
    D3,
    /// Key 4.
    D4,
    /// Key 5.
    D5,
    /// Key 6.
    D6,
    /// Key 7.
    D7,
    /// Key 8.
    D8,
    /// Key 9.
    D9,
    /// Key `*`.
    Star,
    /// Key `#`.
    Hash,
    /// Key A (fourth column; used by DTMF caller ID as a start code).
    A,
    /// Key B.
    B,
    /// Key C (DTMF caller ID end code).
    C,
    /// Key D (DTMF caller ID start code for some carriers).
    D,
}

impl Digit {
    /// All 16 digits in index order (`0`–`9`, `*`, `#`, `A`–`D`).
    pub const ALL: [Self; 16] = [
        Self::D0,
        Self::D1,
        Self::D2,
        Self::D3,
        Self::D4,
        Self::D5,
        Self::D6,
        Self::D7,
        Self::D8,
        Self::D9,
        Self::Star,
        Self::Hash,
        Self::A,
        Self::B,
        Self::C,
        Self::D,
    ];

    /// The digit for a key character (`0`–`9`, `*`, `#`, `A`–`D`, letters in either case).
    pub const fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0'..='9' => Self::ALL[(c as u8 - b'0') as usize],
            '*' => Self::Star,
            '#' => Self::Hash,
            'A' | 'a' => Self::A,
            'B' | 'b' => Self::B,
            'C' | 'c' => Self::C,
            'D' | 'd' => Self::D,
            _ => return None,
        })
    }

    /// The key character (`0`–`9`, `*`, `#`, `A`–`D`).
    pub const fn as_char(self) -> char {
        b"0123456789*#ABCD"[self as usize] as char
    }

    /// Index 0–15 in [`Digit::ALL`] order.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The digit at `index` in [`Digit::ALL`] order.
    pub const fn from_index(index: usize) -> Option<Self> {
        if index < 16 {
            Some(Self::ALL[index])
        } else {
            None
        }
    }

    /// Row (low-group) and column (high-group) frequencies in Hz, per ITU-T Q.23.
    pub const fn frequencies_hz(self) -> (u32, u32) {
        const LOW: [u32; 4] = [697, 770, 852, 941];
        const HIGH: [u32; 4] = [1209, 1336, 1477, 1633];
        let (row, col) = match self {
            Self::D1 => (0, 0),
            Self::D2 => (0, 1),
            Self::D3 => (0, 2),
            Self::A => (0, 3),
            Self::D4 => (1, 0),
            Self::D5 => (1, 1),
            Self::D6 => (1, 2),
            Self::B => (1, 3),
            Self::D7 => (2, 0),
            Self::D8 => (2, 1),
            Self::D9 => (2, 2),
            Self::C => (2, 3),
            Self::Star => (3, 0),
            Self::D0 => (3, 1),
            Self::Hash => (3, 2),
            Self::D => (3, 3),
        };
        (LOW[row], HIGH[col])
    }
}

impl core::fmt::Display for Digit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// A set of digits, e.g. the keys that stop a prompt (barge-in) or end digit collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DigitSet(u16);

impl DigitSet {
    /// No digit.
    pub const EMPTY: Self = Self(0);
    /// Every digit.
    pub const ALL: Self = Self(u16::MAX);

    /// The set of the key characters in `keys`; other characters are ignored.
    pub fn from_keys(keys: &str) -> Self {
        keys.chars()
            .filter_map(Digit::from_char)
            .fold(Self::EMPTY, Self::with)
    }

    /// This set plus `digit`.
    pub const fn with(self, digit: Digit) -> Self {
        Self(self.0 | (1 << digit as u16))
    }

    /// Whether `digit` is in the set.
    pub const fn contains(self, digit: Digit) -> bool {
        self.0 & (1 << digit as u16) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The digits in the set, in [`Digit::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Digit> {
        Digit::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_round_trip_for_all_sixteen() {
        for d in Digit::ALL {
            assert_eq!(Digit::from_char(d.as_char()), Some(d));
            assert_eq!(Digit::from_index(d.index()), Some(d));
        }
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::from_char('b'), Some(Digit::B));
    }

    #[test]
    fn q23_frequencies() {
        assert_eq!(Digit::D1.frequencies_hz(), (697, 1209));
        assert_eq!(Digit::D0.frequencies_hz(), (941, 1336));
        assert_eq!(Digit::D.frequencies_hz(), (941, 1633));
        assert_eq!(Digit::Hash.frequencies_hz(), (941, 1477));
    }

    #[test]
    fn digit_sets() {
        let s = DigitSet::from_keys("1#*");
        assert!(s.contains(Digit::D1) && s.contains(Digit::Hash) && s.contains(Digit::Star));
        assert!(!s.contains(Digit::D2));
        assert_eq!(s.iter().count(), 3);
        assert!(DigitSet::EMPTY.is_empty());
        assert!(DigitSet::ALL.contains(Digit::D));
    }
}
