//! A fixed-capacity FIFO of `Copy` items that never allocates after construction.

/// Up to `N` items, stored inline.
#[derive(Debug, Clone, Copy)]
#[repr(C)] // `head` and `len` first: an empty queue is looked at without touching `items`.
pub(crate) struct Fifo<T: Copy, const N: usize> {
    head: usize,
    len: usize,
    items: [Option<T>; N],
}

impl<T: Copy, const N: usize> Fifo<T, N> {
    pub(crate) const fn new() -> Self {
        Self {
            head: 0,
            len: 0,
            items: [None; N],
        }
    }

    /// Appends `item`; hands it back if full.
    pub(crate) fn push(&mut self, item: T) -> Result<(), T> {
        if self.len == N {
            return Err(item);
        }
        self.items[(self.head + self.len) % N] = Some(item);
        self.len += 1;
        Ok(())
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.items[self.head].take();
        self.head = (self.head + 1) % N;
        self.len -= 1;
        item
    }

    pub(crate) const fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_wrap_and_full() {
        let mut f = Fifo::<u8, 3>::new();
        for round in 0..5u8 {
            assert_eq!(f.push(round), Ok(()));
            assert_eq!(f.push(round + 10), Ok(()));
            assert_eq!(f.pop(), Some(round));
            assert_eq!(f.pop(), Some(round + 10));
        }
        assert!(f.push(1).is_ok() && f.push(2).is_ok() && f.push(3).is_ok());
        assert_eq!(f.push(4), Err(4));
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f.pop(), f.pop(), f.pop(), f.pop()),
            (Some(1), Some(2), Some(3), None)
        );
    }
}
