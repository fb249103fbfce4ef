//! A vector that lives on the stack until it outgrows `N`, then moves to the heap.
//!
//! Why: the exec path may run in a `vfork` child, which shares the parent's
//! memory. Whatever the child mallocs and does not free before the exec stays
//! behind in the parent for ever. Stack storage vanishes with the child, so the
//! common case leaves nothing behind; only very large argv/envp spill (and, in
//! a vfork child that then execs, leak one block in the parent).

use alloc::vec::Vec;
use core::mem::MaybeUninit;

pub struct SmallVec<T: Copy, const N: usize> {
    stack: [MaybeUninit<T>; N],
    len: usize,
    heap: Option<Vec<T>>,
}

impl<T: Copy, const N: usize> SmallVec<T, N> {
    pub fn new() -> Self {
        SmallVec {
            stack: [const { MaybeUninit::uninit() }; N],
            len: 0,
            heap: None,
        }
    }

    pub fn push(&mut self, value: T) {
        self.extend_from_slice(core::slice::from_ref(&value));
    }

    pub fn extend_from_slice(&mut self, values: &[T]) {
        if let Some(heap) = &mut self.heap {
            heap.extend_from_slice(values);
            return;
        }
        if let Some(free) = self
            .stack
            .get_mut(self.len..)
            .filter(|free| values.len() <= free.len())
        {
            for (slot, v) in free.iter_mut().zip(values) {
                slot.write(*v);
            }
            self.len += values.len();
            return;
        }
        let mut heap = Vec::with_capacity((self.len + values.len()) * 2);
        heap.extend_from_slice(self.as_slice());
        heap.extend_from_slice(values);
        self.heap = Some(heap);
    }

    pub fn as_slice(&self) -> &[T] {
        match &self.heap {
            Some(heap) => heap,
            // SAFETY: the first `len` slots were written by `extend_from_slice`.
            None => unsafe { core::slice::from_raw_parts(self.stack.as_ptr().cast(), self.len) },
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.heap {
            Some(heap) => heap,
            // SAFETY: as in `as_slice`.
            None => unsafe {
                core::slice::from_raw_parts_mut(self.stack.as_mut_ptr().cast(), self.len)
            },
        }
    }

    pub fn as_ptr(&self) -> *const T {
        self.as_slice().as_ptr()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[cfg(test)]
    pub fn clear(&mut self) {
        self.heap = None;
        self.len = 0;
    }
}

/// Copies `bytes` into `buf` at `at`; the end offset, or `None` (nothing
/// written) if it does not fit.
pub fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> Option<usize> {
    let end = at.checked_add(bytes.len())?;
    buf.get_mut(at..end)?.copy_from_slice(bytes);
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_heap_and_keeps_order() {
        let mut v: SmallVec<u8, 4> = SmallVec::new();
        v.extend_from_slice(b"abc");
        assert!(v.heap.is_none());
        v.extend_from_slice(b"def");
        v.push(b'g');
        assert!(v.heap.is_some());
        assert_eq!(v.as_slice(), b"abcdefg");
        v.clear();
        assert_eq!(v.len(), 0);
    }

    #[test]
    fn put_writes_only_what_fits() {
        let mut buf = [0u8; 4];
        assert_eq!(put(&mut buf, 0, b"ab"), Some(2));
        assert_eq!(put(&mut buf, 2, b"cd"), Some(4));
        assert_eq!(&buf, b"abcd");
        assert_eq!(put(&mut buf, 3, b"xy"), None);
        assert_eq!(put(&mut buf, usize::MAX, b"x"), None);
        assert_eq!(&buf, b"abcd", "nothing written on failure");
        assert_eq!(put(&mut buf, 4, b""), Some(4));
    }
}
