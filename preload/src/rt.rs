//! What std would provide to a `no_std` cdylib: a global allocator and a
//! panic handler.
//!
//! | piece | choice | why |
//! |---|---|---|
//! | allocator | libc `malloc`/`realloc`/`free`, `posix_memalign` above 16-byte alignment | what std's `System` allocator does on glibc; the heap stays the process's own |
//! | panic | one line on stderr, then `abort()` | without std nothing can unwind, and unwinding into the caller's C frames would be undefined behaviour anyway; the non-compiler path is written not to panic (lints in lib.rs), so only a compiler call could end here; it aborts the process that made the call (make, ninja, pip...), loudly rather than by building native code |

use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

/// glibc's `malloc` alignment on 64-bit targets.
const MALLOC_ALIGN: usize = 16;

struct Libc;

unsafe impl GlobalAlloc for Libc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size() {
            // SAFETY: plain libc allocation.
            unsafe { libc::malloc(layout.size()).cast() }
        } else {
            aligned(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from malloc or posix_memalign.
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= new_size {
            // SAFETY: `ptr` came from malloc with a compatible alignment.
            return unsafe { libc::realloc(ptr.cast(), new_size).cast() };
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        let new = aligned(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks hold at least min(old, new) bytes and do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                libc::free(ptr.cast());
            }
        }
        new
    }
}

fn aligned(layout: Layout) -> *mut u8 {
    let mut p = core::ptr::null_mut();
    let align = layout.align().max(core::mem::size_of::<usize>());
    // SAFETY: `align` is a power of two and a multiple of the pointer size.
    if unsafe { libc::posix_memalign(&mut p, align, layout.size()) } != 0 {
        return core::ptr::null_mut();
    }
    p.cast()
}

#[global_allocator]
static ALLOCATOR: Libc = Libc;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let mut line: crate::small::SmallVec<u8, 512> = crate::small::SmallVec::new();
    line.extend_from_slice(b"pyrewrite: internal error");
    if let Some(at) = info.location() {
        line.extend_from_slice(b" at ");
        line.extend_from_slice(at.file().as_bytes());
        line.push(b':');
        line.push_int(i64::from(at.line()));
    }
    line.extend_from_slice(
        b"; aborting this process. Please report it with the command \
          (PYREWRITE_DEBUG=1 shows it).\n",
    );
    let _ = crate::sys::write_all(2, line.as_slice());
    // SAFETY: abort never returns.
    unsafe { libc::abort() }
}
