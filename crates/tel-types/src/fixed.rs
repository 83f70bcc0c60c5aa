//! A fixed-capacity string that can cross the audio thread's rings without allocating.

/// Up to `N` bytes of UTF-8 text stored inline.
///
/// Used for caller-ID numbers and names, which the audio thread decodes and sends to the
/// control thread: it must not allocate, so the text lives inside the value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> FixedStr<N> {
    /// The empty string.
    pub const EMPTY: Self = Self {
        len: 0,
        bytes: [0; N],
    };

    /// Copies `s`, cut at the last character boundary that fits in `N` bytes (and 255).
    pub fn new_truncated(s: &str) -> Self {
        let cap = N.min(u8::MAX as usize);
        let mut end = s.len().min(cap);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; N];
        bytes[..end].copy_from_slice(&s.as_bytes()[..end]);
        Self {
            len: end as u8,
            bytes,
        }
    }

    /// Appends `c` if it fits; returns whether it did.
    pub fn push(&mut self, c: char) -> bool {
        let mut buf = [0; 4];
        let enc = c.encode_utf8(&mut buf).as_bytes();
        let len = self.len as usize;
        if len + enc.len() > N.min(u8::MAX as usize) {
            return false;
        }
        self.bytes[len..len + enc.len()].copy_from_slice(enc);
        self.len += enc.len() as u8;
        true
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only `new_truncated` and `push` write, and both keep whole UTF-8 characters.
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }

    /// Whether the string is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> core::fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> core::fmt::Display for FixedStr<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundary() {
        let s = FixedStr::<7>::new_truncated("张三丰");
        assert_eq!(s.as_str(), "张三");
        let mut n = FixedStr::<3>::EMPTY;
        assert!(n.push('1') && n.push('3') && n.push('8'));
        assert!(!n.push('0'));
        assert_eq!(n.as_str(), "138");
    }
}
