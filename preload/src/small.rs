//! A vector that lives on the stack until it outgrows `N`, then moves to the heap.
//!
//! Why: the exec path may run in a `vfork` child, which shares the parent's
//! memory. Whatever the child mallocs and does not free before the exec stays
//! behind in the parent for ever. Stack storage vanishes with the child, so the
//! common case leaves nothing behind; only very large argv/envp spill (and, in
//! a vfork child that then execs, leak one block in the parent).

use std::mem::MaybeUninit;

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
        self.extend_from_slice(std::slice::from_ref(&value));
    }

    pub fn extend_from_slice(&mut self, values: &[T]) {
        if let Some(heap) = &mut self.heap {
            heap.extend_from_slice(values);
            return;
        }
        if self.len + values.len() <= N {
            for (slot, v) in self.stack[self.len..].iter_mut().zip(values) {
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
            None => unsafe { std::slice::from_raw_parts(self.stack.as_ptr().cast(), self.len) },
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.heap {
            Some(heap) => heap,
            // SAFETY: as in `as_slice`.
            None => unsafe {
                std::slice::from_raw_parts_mut(self.stack.as_mut_ptr().cast(), self.len)
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
}
