//! A vector that lives on the stack until it outgrows `N`, then moves to an
//! anonymous `mmap`, never to the heap.
//!
//! Why: the exec path runs in `vfork` children (which share the parent's
//! memory and must not take `malloc`'s locks: another thread of the parent
//! may hold them) and in signal handlers (where `malloc` is not safe at
//! all). Stack storage vanishes with the frame; a spill is one `mmap`
//! (async-signal-safe, no lock) given back by `munmap` on drop. What a vfork
//! child still holds when its exec succeeds stays mapped in the parent for
//! ever, so spills are kept to the rare large cases (an envp or a PATH
//! candidate beyond its buffer, which must live through the exec); the
//! event line is dropped before the exec. The sizes `N` are chosen so the
//! passthrough path fits an 8 KiB signal stack (docs/preload.md).

use core::mem::MaybeUninit;

pub struct SmallVec<T: Copy, const N: usize> {
    stack: [MaybeUninit<T>; N],
    len: usize,
    /// The mapping once spilled (`cap` elements), else null.
    map: *mut T,
    cap: usize,
}

impl<T: Copy, const N: usize> SmallVec<T, N> {
    #[inline(always)]
    pub fn new() -> Self {
        SmallVec {
            stack: [const { MaybeUninit::uninit() }; N],
            len: 0,
            map: core::ptr::null_mut(),
            cap: N,
        }
    }

    pub fn push(&mut self, value: T) {
        self.extend_from_slice(core::slice::from_ref(&value));
    }

    pub fn extend_from_slice(&mut self, values: &[T]) {
        let Some(end) = self.len.checked_add(values.len()) else {
            spill_failed()
        };
        if end > self.cap {
            self.grow(end);
        }
        // SAFETY: `grow` made room for `end` elements (or never returned).
        unsafe {
            core::ptr::copy_nonoverlapping(
                values.as_ptr(),
                self.base_mut().add(self.len),
                values.len(),
            );
        }
        self.len = end;
    }

    /// Room for at least `extra` more elements; the spare part (uninitialised
    /// memory as `MaybeUninit`) to write into before [`SmallVec::set_len`].
    pub fn spare(&mut self, extra: usize) -> &mut [MaybeUninit<T>] {
        let Some(want) = self.len.checked_add(extra) else {
            spill_failed()
        };
        if want > self.cap {
            self.grow(want);
        }
        // SAFETY: `cap` elements of storage; the first `len` are in use.
        unsafe {
            core::slice::from_raw_parts_mut(
                self.base_mut().add(self.len).cast(),
                self.cap - self.len,
            )
        }
    }

    /// Marks `n` more elements (written through [`SmallVec::spare`]) as in use.
    ///
    /// # Safety
    /// Those elements were initialised, `n` ≤ the spare length.
    pub unsafe fn add_len(&mut self, n: usize) {
        self.len = (self.len + n).min(self.cap);
    }

    fn base_mut(&mut self) -> *mut T {
        if self.map.is_null() {
            self.stack.as_mut_ptr().cast()
        } else {
            self.map
        }
    }

    fn base(&self) -> *const T {
        if self.map.is_null() {
            self.stack.as_ptr().cast()
        } else {
            self.map
        }
    }

    /// Moves the contents to a mapping of at least `want` elements.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, want: usize) {
        let size = core::mem::size_of::<T>().max(1);
        let cap = want.max(self.cap.saturating_mul(2)).max(64);
        let Some(bytes) = cap.checked_mul(size).and_then(|b| b.checked_add(PAGE - 1)) else {
            spill_failed()
        };
        let bytes = bytes & !(PAGE - 1);
        // SAFETY: a fresh private anonymous mapping; page alignment suits any T.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            spill_failed()
        }
        let p = p.cast::<T>();
        // SAFETY: both hold `len` elements; distinct memory.
        unsafe { core::ptr::copy_nonoverlapping(self.base(), p, self.len) };
        self.release();
        self.map = p;
        self.cap = bytes / size;
    }

    fn release(&mut self) {
        if !self.map.is_null() {
            let size = core::mem::size_of::<T>().max(1);
            // SAFETY: our own mapping of `cap * size` bytes (rounded up to pages by the kernel).
            unsafe { libc::munmap(self.map.cast(), self.cap * size) };
            self.map = core::ptr::null_mut();
            self.cap = N;
        }
    }

    pub fn as_slice(&self) -> &[T] {
        // SAFETY: the first `len` elements were written.
        unsafe { core::slice::from_raw_parts(self.base(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`.
        unsafe { core::slice::from_raw_parts_mut(self.base_mut(), self.len) }
    }

    pub fn as_ptr(&self) -> *const T {
        self.base()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the contents moved to a mapping.
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        !self.map.is_null()
    }

    /// Keeps the first `len` elements.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Empties it; a mapping is kept for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> SmallVec<u8, N> {
    /// Appends `v` in decimal.
    pub fn push_int(&mut self, v: i64) {
        let mut buf = [0u8; 21];
        self.extend_from_slice(crate::sys::decimal(v, &mut buf));
    }
}

impl<T: Copy, const N: usize> Drop for SmallVec<T, N> {
    fn drop(&mut self) {
        self.release();
    }
}

const PAGE: usize = 4096;

/// No memory for a spill: abort as an allocation failure does.
#[cold]
fn spill_failed() -> ! {
    alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<u8>())
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
    fn spills_to_a_mapping_and_keeps_order() {
        let mut v: SmallVec<u8, 4> = SmallVec::new();
        v.extend_from_slice(b"abc");
        assert!(!v.spilled());
        v.extend_from_slice(b"def");
        v.push(b'g');
        assert!(v.spilled());
        assert_eq!(v.as_slice(), b"abcdefg");
        let big = vec![7u8; 100_000];
        v.extend_from_slice(&big);
        assert_eq!(v.len(), 100_007);
        assert_eq!(&v.as_slice()[..7], b"abcdefg");
        v.clear();
        assert_eq!(v.len(), 0);
        let mut p: SmallVec<*const u8, 2> = SmallVec::new();
        for i in 0..1000 {
            p.push(i as *const u8);
        }
        assert_eq!(p.as_slice()[999], 999 as *const u8);
        v.push_int(-42);
        assert_eq!(v.as_slice(), b"-42");
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
