//! A wasm module with the sections of one kind rewritten, and the unsigned LEB128 numbers
//! its sections are written with.

use crate::code_size::leb;

/// `module` with the body of each section of kind `id` replaced by what `rewrite` makes of it.
pub fn rewritten(
    module: &[u8],
    id: u8,
    mut rewrite: impl FnMut(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    if module.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut out = module[..8].to_vec();
    let mut at = 8;
    while at < module.len() {
        let kind = module[at];
        let (size, start) = leb(module, at + 1).ok_or("the wasm ends inside a section's size")?;
        let section = module.get(start..start + size).ok_or("a wasm section runs past the end")?;
        let body = if kind == id { rewrite(section)? } else { section.to_vec() };
        out.push(kind);
        put_leb(&mut out, body.len());
        out.extend_from_slice(&body);
        at = start + size;
    }
    Ok(out)
}

/// `value` as an unsigned LEB128.
pub fn put_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
