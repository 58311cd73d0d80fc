//! The allocator under a random mix of allocations, growths and frees, in a real browser
//! (`cargo xtask test`, headless Chromium): every block keeps its bytes while others come
//! and go, and every block is aligned as asked.
#![cfg(target_arch = "wasm32")]

use std::alloc::{alloc, dealloc, Layout};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

/// xorshift64: the same sequence every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// A block filled with one byte, so that any overlap with another block shows.
struct Block {
    tag: u8,
    bytes: Vec<u8>,
}

impl Block {
    fn intact(&self) -> bool {
        self.bytes.iter().all(|&b| b == self.tag)
    }
}

#[wasm_bindgen_test]
fn blocks_keep_their_bytes_while_others_come_and_go() {
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let mut live: Vec<Block> = Vec::new();
    for round in 0..20_000u32 {
        let tag = (round % 251) as u8;
        match random.below(10) {
            // Free one, checking it first.
            0..=2 if !live.is_empty() => {
                let block = live.swap_remove(random.below(live.len() as u64));
                assert!(block.intact(), "a block of {} bytes was overwritten", block.bytes.len());
            }
            // Grow one (realloc, often into another size class).
            3 if !live.is_empty() => {
                let i = random.below(live.len() as u64);
                let more = random.below(5_000);
                let block = &mut live[i];
                block.bytes.resize(block.bytes.len() + more, block.tag);
                assert!(block.intact(), "a grown block lost its bytes");
            }
            // Mostly small blocks, now and then one of several pages.
            _ => {
                let size = if random.below(50) == 0 { random.below(300_000) } else { 1 + random.below(700) };
                live.push(Block { tag, bytes: vec![tag; size] });
            }
        }
    }
    assert!(live.len() > 1_000, "the mix kept {} blocks", live.len());
    for block in &live {
        assert!(block.intact(), "a block of {} bytes was overwritten", block.bytes.len());
    }
}

#[wasm_bindgen_test]
fn blocks_are_aligned_as_asked() {
    for align in [1, 8, 16, 64, 4_096, 65_536] {
        for size in [1, 7, align, 3 * align + 1] {
            let layout = Layout::from_size_align(size, align).expect("a valid layout");
            // SAFETY: a layout of non-zero size; the block is freed with the same layout.
            unsafe {
                let block = alloc(layout);
                assert!(!block.is_null());
                assert_eq!(block as usize % align, 0, "size {size}, align {align}");
                block.write_bytes(0xAB, size);
                dealloc(block, layout);
            }
        }
    }
}
