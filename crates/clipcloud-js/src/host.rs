//! What the wasm and its host (`web/npm/wasm.js`) give each other, without wasm-bindgen:
//! the imports below and the exports at the end, plain numbers and UTF-8 in the wasm's
//! memory. The only unsafe code of the crate: declarations, and the attributes that export.
//! `cargo xtask package` shortens every name on both sides.
#![allow(unsafe_code)]

#[link(wasm_import_module = "clipcloud")]
unsafe extern "C" {
    /// When argument `i` of the current call is a string: encodes it for
    /// [`clipcloud_take`] and gives its length in bytes; else -1.
    pub safe fn clipcloud_arg_string(i: u32) -> i32;
    /// Argument `i` of the current call as a number (`+v`: booleans are 0 and 1), or `NaN`
    /// when it is not given.
    pub safe fn clipcloud_arg_number(i: u32) -> f64;
    /// Copies the string encoded last to `to`, which has room for its length.
    fn clipcloud_take(to: *mut u8);
    /// Appends the string at `at` to the values put so far (a step, for `index.js`).
    pub safe fn clipcloud_put_string(at: *const u8, len: usize);
    /// Appends a number to the values put so far.
    pub safe fn clipcloud_put_number(n: f64);
    /// Appends `undefined` to the values put so far.
    pub safe fn clipcloud_put_none();
}

/// The string the host encoded last, `len` bytes of it (as it gave them; -1: none).
pub fn take(len: i32) -> Option<String> {
    let mut bytes = vec![0; usize::try_from(len).ok()?];
    // SAFETY: `bytes` has room for the `len` bytes the host copies (the length it gave for
    // that string); the host encodes with `TextEncoder`, which writes UTF-8.
    unsafe {
        clipcloud_take(bytes.as_mut_ptr());
        Some(String::from_utf8_unchecked(bytes))
    }
}

/// [`crate::new`].
#[no_mangle]
pub extern "C" fn clipcloud_new(seed: f64) -> i32 {
    crate::new(seed)
}

/// [`crate::begin`].
#[no_mangle]
pub extern "C" fn clipcloud_begin(core: u32, op: u32) -> u32 {
    crate::begin(core, op)
}

/// [`crate::next`].
#[no_mangle]
pub extern "C" fn clipcloud_next(core: u32, run: u32, event: u32, number: f64, now: f64) -> u32 {
    crate::next(core, run, event, number, now)
}

/// [`crate::free`].
#[no_mangle]
pub extern "C" fn clipcloud_free(core: u32) {
    crate::free(core);
}
