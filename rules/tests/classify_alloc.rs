//! `classify` runs on every exec of a build (and on every failed PATH probe),
//! inside the preload: it must not allocate. A counting global allocator
//! proves it.

use pyrewrite_rules::{classify, Tool};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread while counting; other threads (the
    /// test harness) are not counted.
    static ALLOCATIONS: Cell<Option<usize>> = const { Cell::new(None) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get().map(|c| c + 1)));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn classify_never_allocates() {
    let paths: [(&[u8], Option<&[u8]>); 8] = [
        (b"/usr/local/sbin/gcc", Some(b"gcc")),
        (
            b"/usr/bin/x86_64-linux-gnu-gcc-12",
            Some(b"x86_64-linux-gnu-gcc-12"),
        ),
        (b"/usr/share/emscripten/emcc", Some(b"emcc")),
        (b"/usr/bin/python3.11", Some(b"python3")),
        (b"/opt/emsdk/upstream/bin/clang++", None),
        (b"", None),
        (
            b"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/llvm-ar-14",
            Some(b"\xff\xfe"),
        ),
        (b"/usr/lib/ccache/c++", Some(b"c++")),
    ];
    ALLOCATIONS.with(|n| n.set(Some(0)));
    let mut found = 0;
    for _ in 0..1000 {
        for (path, argv0) in paths {
            found += usize::from(classify(path, argv0).is_some());
        }
    }
    let allocations = ALLOCATIONS.with(|n| n.replace(None)).unwrap();
    assert_eq!(allocations, 0, "classify allocated {allocations} times");
    assert_eq!(found, 3000);
    assert_eq!(classify(b"/usr/lib/ccache/c++", None), Some(Tool::Cxx));
}
