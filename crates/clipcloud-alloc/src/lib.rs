//! A small allocator for the project's wasm builds (the npm package and the app), in
//! place of std's dlmalloc: about 7 KB of code, 2.5 KB gzipped, less.
//!
//! Power-of-two size classes, one free list per class, new blocks cut from 64 KiB pages
//! taken with `memory.grow`. Freed blocks are reused by their class; memory is never
//! given back (wasm memory cannot shrink anyway). The at most 2× rounding costs little
//! memory next to what a page holds. Single-threaded: the wasm is built without atomics,
//! so nothing runs in parallel.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();
//! ```
#![no_std]
#![cfg(target_arch = "wasm32")]

// The `Sync` below holds only while nothing runs in parallel. Threads in wasm need the
// `atomics` feature, which only nightly features (`-Z build-std`) make usable; there the
// cfg is set and this stops the build.
#[cfg(target_feature = "atomics")]
compile_error!("clipcloud-alloc is single-threaded: build without the `atomics` target feature");

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::memory_grow;
use core::cell::UnsafeCell;
use core::ptr::{copy_nonoverlapping, null_mut};

const PAGE: usize = 65_536;
/// Every block holds at least the free list's link.
const MIN_CLASS: u32 = 4;

struct State {
    /// Head of each class's free list (0: empty); a free block's first word links on.
    free: [usize; usize::BITS as usize],
    /// Unused part of the current page: `next..end`.
    next: usize,
    end: usize,
}

pub struct Allocator(UnsafeCell<State>);

// SAFETY: the wasm is single-threaded (no atomics feature, refused above at compile time),
// so the state is never shared between threads.
unsafe impl Sync for Allocator {}

impl Allocator {
    pub const fn new() -> Self {
        Self(UnsafeCell::new(State { free: [0; usize::BITS as usize], next: 0, end: 0 }))
    }
}

impl Default for Allocator {
    fn default() -> Self {
        Self::new()
    }
}

/// log2 of the block size for `layout`: a power of two ≥ size and align (so a block
/// aligned to its size is aligned enough).
fn class(layout: Layout) -> u32 {
    let size = layout.size().max(layout.align());
    size.max(1 << MIN_CLASS).next_power_of_two().trailing_zeros()
}

/// Whole pages from `memory.grow`; the address of the first, or 0 when memory is full.
fn grow(pages: usize) -> usize {
    match memory_grow(0, pages) {
        usize::MAX => 0,
        old_pages => old_pages * PAGE,
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, and no allocation happens while this borrow lives.
        let state = unsafe { &mut *self.0.get() };
        let class = class(layout);
        let Some(head) = state.free.get_mut(class as usize) else { return null_mut() };
        if *head != 0 {
            let block = *head;
            // SAFETY: `block` is a freed block of this class; its first word is the link.
            *head = unsafe { *(block as *const usize) };
            return block as *mut u8;
        }
        let size = 1usize << class;
        if size >= PAGE {
            // Page-aligned, and the size is a multiple of the page.
            return grow(size / PAGE) as *mut u8;
        }
        let mut start = (state.next + size - 1) & !(size - 1);
        if state.end == 0 || start + size > state.end {
            // What is left of the old page is too small for this class: a new page
            // (page-aligned, so aligned for every class below the page size).
            let page = grow(1);
            if page == 0 {
                return null_mut();
            }
            start = page;
            state.end = page + PAGE;
        }
        state.next = start + size;
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: single-threaded, and no allocation happens while this borrow lives.
        let state = unsafe { &mut *self.0.get() };
        if let Some(head) = state.free.get_mut(class(layout) as usize) {
            // SAFETY: the block is ours again and at least a word long, word-aligned.
            unsafe { *(ptr as *mut usize) = *head };
            *head = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for `new_size` (GlobalAlloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class(new_layout) == class(layout) {
            return ptr;
        }
        // SAFETY: as for `alloc`; the old block stays valid until it is freed below.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap.
            unsafe {
                copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
