//! A per-call arena allocator for plugins: bump allocation in a fixed static buffer, falling
//! back to the system allocator when it is full.
//!
//! The host runs every call in a fresh instance and throws its memory away afterwards (SPEC
//! §6.2), so a plugin never needs to give memory back to a general-purpose allocator. Bumping a
//! pointer costs a few instructions where `dlmalloc` costs a few hundred; for a small plugin the
//! allocator was about a third of the guest's time. The arena still reclaims the most recent
//! allocation when it is freed or grown (the common `Vec` and `String` growth pattern), and an
//! allocation that does not fit goes to the system allocator, so memory use stays bounded by the
//! arena's size plus what the system allocator would have used anyway.
//!
//! Install it in a plugin with [`call_arena!`](crate::call_arena): it only takes effect when the
//! plugin is built for a single-threaded `wasm32` target; native builds (unit tests) keep the
//! system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};
use std::ptr;

/// A bump arena of `N` bytes in static memory with the system allocator behind it.
///
/// Only sound on a single thread: [`call_arena!`](crate::call_arena) installs it on
/// single-threaded `wasm32` builds only.
#[repr(C, align(16))]
pub struct CallArena<const N: usize> {
    buffer: UnsafeCell<[u8; N]>,
    /// Offset of the first free byte in `buffer`.
    next: Cell<usize>,
}

impl<const N: usize> CallArena<N> {
    /// An empty arena.
    #[allow(clippy::new_without_default)] // used in `static` items: must be const
    pub const fn new() -> Self {
        Self {
            buffer: UnsafeCell::new([0; N]),
            next: Cell::new(0),
        }
    }

    fn base(&self) -> *mut u8 {
        self.buffer.get().cast()
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let start = self.base() as usize;
        (start..start + N).contains(&(ptr as usize))
    }

    /// Whether `ptr..ptr + size` is the last allocation made in the arena.
    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.base() as usize + self.next.get()
    }

    #[inline(always)]
    fn bump(&self, layout: Layout) -> *mut u8 {
        let base = self.base() as usize;
        // Alignments are powers of two: a mask, not the division `next_multiple_of` costs.
        let mask = layout.align() - 1;
        let start = (base + self.next.get() + mask) & !mask;
        match start.checked_add(layout.size()) {
            Some(end) if end <= base + N => {
                self.next.set(end - base);
                start as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }
}

// SAFETY: `call_arena!` installs a `CallArena` only on single-threaded wasm32 targets, where no
// two threads can reach it; the type itself is not exported for use elsewhere as a `Sync` value
// by any other path in this crate.
unsafe impl<const N: usize> Sync for CallArena<N> {}

// SAFETY: every pointer handed out is either inside `buffer`, aligned and not overlapping any
// live allocation (the bump offset only moves back over the last allocation, when it is freed or
// resized), or comes from `System` and is returned to it.
unsafe impl<const N: usize> GlobalAlloc for CallArena<N> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = self.bump(layout);
        if ptr.is_null() {
            // SAFETY: forwarded with the caller's layout.
            unsafe { System.alloc(layout) }
        } else {
            ptr
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Arena bytes may have been used and given back: they are not known to be zero.
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { self.alloc(layout) };
        if !ptr.is_null() && self.owns(ptr) {
            // SAFETY: `ptr` is valid for `layout.size()` bytes.
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.owns(ptr) {
            // SAFETY: `ptr` came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) };
        } else if self.is_last(ptr, layout.size()) {
            self.next.set(ptr as usize - self.base() as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(ptr) {
            // SAFETY: `ptr` came from `System` with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let offset = ptr as usize - self.base() as usize;
        if self.is_last(ptr, layout.size()) && offset + new_size <= N {
            self.next.set(offset + new_size);
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the alignment is the caller's, valid; the size was checked by the caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a fresh allocation of `new_layout`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both are valid for `layout.size()` bytes and do not overlap (`new` was
            // allocated after `ptr`, which is still live).
            unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size()) };
            // SAFETY: `ptr` was allocated here with `layout`.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// Installs a [`CallArena`] of `bytes` as the plugin's global allocator on single-threaded
/// `wasm32` builds (native builds keep the system allocator):
///
/// ```ignore
/// moja_plugin_sdk::call_arena!(256 * 1024);
/// ```
///
/// The arena lives in the component's static memory, so it adds `bytes` to the memory every
/// instance starts with; memory the host never sees touched costs nothing to reset.
#[macro_export]
macro_rules! call_arena {
    ($bytes:expr) => {
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        #[global_allocator]
        static MOJA_CALL_ARENA: $crate::arena::CallArena<{ $bytes }> =
            $crate::arena::CallArena::new();
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    // The arena is exercised directly (not as the global allocator) on one thread.

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn bumps_aligned_and_reclaims_the_last_allocation() {
        let arena = Box::new(CallArena::<1024>::new());
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(8, 8));
            assert!(arena.owns(a) && arena.owns(b));
            assert_eq!(b as usize % 8, 0);
            assert!(b as usize >= a as usize + 3);
            arena.dealloc(b, layout(8, 8));
            let c = arena.alloc(layout(8, 8));
            assert_eq!(b, c, "the freed last allocation is reused");
        }
    }

    #[test]
    fn grows_the_last_allocation_in_place_and_copies_others() {
        let arena = Box::new(CallArena::<1024>::new());
        unsafe {
            let a = arena.alloc(layout(4, 1));
            a.copy_from_nonoverlapping(b"abcd".as_ptr(), 4);
            let grown = arena.realloc(a, layout(4, 1), 16);
            assert_eq!(a, grown, "the last allocation grows in place");
            let b = arena.alloc(layout(4, 1));
            let moved = arena.realloc(grown, layout(16, 1), 32);
            assert_ne!(moved, grown);
            assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
            assert!(arena.owns(b) && arena.owns(moved));
        }
    }

    #[test]
    fn falls_back_to_the_system_allocator_when_full() {
        let arena = Box::new(CallArena::<64>::new());
        unsafe {
            let small = arena.alloc(layout(48, 8));
            assert!(arena.owns(small));
            let big = arena.alloc(layout(100, 8));
            assert!(!big.is_null() && !arena.owns(big));
            big.write_bytes(7, 100);
            let bigger = arena.realloc(big, layout(100, 8), 1000);
            assert_eq!(*bigger.add(99), 7);
            arena.dealloc(bigger, layout(1000, 8));
            // Growing an arena allocation past the arena moves it to the system allocator.
            small.write_bytes(9, 48);
            let moved = arena.realloc(small, layout(48, 8), 200);
            assert!(!arena.owns(moved));
            assert_eq!(*moved.add(47), 9);
            arena.dealloc(moved, layout(200, 8));
        }
    }

    #[test]
    fn zeroed_allocations_are_zero_after_reuse() {
        let arena = Box::new(CallArena::<256>::new());
        unsafe {
            let a = arena.alloc(layout(32, 1));
            a.write_bytes(0xff, 32);
            arena.dealloc(a, layout(32, 1));
            let z = arena.alloc_zeroed(layout(32, 1));
            assert_eq!(a, z);
            assert!(std::slice::from_raw_parts(z, 32).iter().all(|&b| b == 0));
        }
    }
}
