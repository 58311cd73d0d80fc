//! Where a wasm's code goes: the size of each function body, from the code section,
//! summed by the crate its name (name section) starts with. Reads the module as bytes;
//! twiggy 0.7 cannot parse the bulk-memory opcodes rustc emits.

use std::collections::BTreeMap;
use std::path::Path;

/// Code bytes per crate, largest first, and the total; `Err` when the module cannot be read
/// or has no function names.
pub fn by_crate(wasm: &Path) -> Result<(Vec<(String, usize)>, usize), String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let bad = || format!("{} is not a wasm module this reader understands", wasm.display());
    let mut at = 8; // magic and version
    let (mut imported, mut bodies, mut names) = (0, Vec::new(), BTreeMap::new());
    while at < bytes.len() {
        let id = bytes[at];
        let (size, start) = leb(&bytes, at + 1).ok_or_else(bad)?;
        let section = bytes.get(start..start + size).ok_or_else(bad)?;
        match id {
            2 => imported = function_imports(section).ok_or_else(bad)?,
            10 => bodies = body_sizes(section).ok_or_else(bad)?,
            0 => {
                if let Some(found) = function_names(section) {
                    names = found;
                }
            }
            _ => {}
        }
        at = start + size;
    }
    if names.is_empty() {
        return Err(format!("{} has no function names (a stripped build?)", wasm.display()));
    }
    let mut sums: BTreeMap<String, usize> = BTreeMap::new();
    for (i, size) in bodies.iter().enumerate() {
        let name = names.get(&(imported + i)).map_or("?", String::as_str);
        *sums.entry(crate_of(name)).or_default() += size;
    }
    let mut sums: Vec<(String, usize)> = sums.into_iter().collect();
    sums.sort_by_key(|&(_, bytes)| core::cmp::Reverse(bytes));
    Ok((sums, bodies.iter().sum()))
}

/// `clipcloud::codec::read::h…` → `clipcloud`; `<alloc::vec::Vec<T> as …>::clone` → `alloc`;
/// `core[c5930c85a12de822]::fmt::write` → `core`.
fn crate_of(name: &str) -> String {
    let name = name.trim_start_matches(['<', '&', '*']).trim_start_matches("mut ").trim_start_matches("dyn ");
    let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
    if end == 0 {
        "?".into()
    } else {
        name[..end].into()
    }
}

/// An unsigned LEB128 number at `at`: its value and where it ends.
fn leb(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let (mut value, mut shift) = (0usize, 0);
    loop {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some((value, at));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// A length-prefixed name at `at`: where it ends, and the name.
fn name(bytes: &[u8], at: usize) -> Option<(usize, String)> {
    let (len, start) = leb(bytes, at)?;
    let text = bytes.get(start..start + len)?;
    Some((start + len, String::from_utf8_lossy(text).into_owned()))
}

/// How many imports are functions (they come first in the function index space).
fn function_imports(section: &[u8]) -> Option<usize> {
    let (count, mut at) = leb(section, 0)?;
    let mut functions = 0;
    for _ in 0..count {
        at = name(section, at)?.0; // module
        at = name(section, at)?.0; // field
        let kind = *section.get(at)?;
        at += 1;
        at = match kind {
            0 => {
                functions += 1;
                leb(section, at)?.1 // type index
            }
            1 => limits(section, at + 1)?, // table: element type, limits
            2 => limits(section, at)?,     // memory: limits
            3 => at + 2,                   // global: value type, mutability
            _ => return None,
        };
    }
    Some(functions)
}

/// Limits at `at` (flags, min, and max when flag bit 0 is set): where they end.
fn limits(section: &[u8], at: usize) -> Option<usize> {
    let (_, after_min) = leb(section, at + 1)?;
    if section.get(at)? & 1 == 1 {
        Some(leb(section, after_min)?.1)
    } else {
        Some(after_min)
    }
}

/// The size of each function body, in order.
fn body_sizes(section: &[u8]) -> Option<Vec<usize>> {
    let (count, mut at) = leb(section, 0)?;
    let mut sizes = Vec::with_capacity(count);
    for _ in 0..count {
        let (size, start) = leb(section, at)?;
        sizes.push(size + (start - at));
        at = start + size;
    }
    Some(sizes)
}

/// Function index → name, from the `name` custom section (`None` for other custom sections).
fn function_names(section: &[u8]) -> Option<BTreeMap<usize, String>> {
    let (mut at, section_name) = name(section, 0)?;
    if section_name != "name" {
        return None;
    }
    let mut names = BTreeMap::new();
    while at < section.len() {
        let kind = section[at];
        let (size, start) = leb(section, at + 1)?;
        if kind == 1 {
            let (count, mut p) = leb(section, start)?;
            for _ in 0..count {
                let (index, after) = leb(section, p)?;
                let (end, text) = name(section, after)?;
                // Demangled (`clipcloud::codec::read`); wasm-bindgen's output already is.
                names.insert(index, format!("{:#}", rustc_demangle::demangle(&text)));
                p = end;
            }
        }
        at = start + size;
    }
    Some(names)
}
