//! Where a wasm's code goes: the size of each function body, from the code section, by
//! function and summed by the crate its name (name section) starts with. Reads the module as bytes;
//! twiggy 0.7 cannot parse the bulk-memory opcodes rustc emits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `cargo xtask code-size FILE.wasm`: [`print()`] for any module with names (wasm-opt `-g`).
pub fn command(args: &[String]) -> Result<(), String> {
    match args {
        [file] => {
            print(&PathBuf::from(file), file);
            Ok(())
        }
        _ => Err("usage: cargo xtask code-size FILE.wasm".into()),
    }
}

/// What `wasm` holds, by crate and its largest functions (bytes of function bodies;
/// functions of one name summed).
pub fn print(wasm: &Path, title: &str) {
    const ROWS: usize = 40;
    let found = by_crate(wasm).and_then(|crates| Ok((crates, by_function(wasm)?)));
    let ((crates, total), functions) = match found {
        Ok(found) => found,
        Err(e) => return println!("\n(no code breakdown of {title}: {e})"),
    };
    println!("\n{title}, code by crate (bytes of function bodies; {total} in all):");
    for (name, bytes) in crates.iter().take(12) {
        println!("  {name:<44} {bytes:>8}");
    }
    println!("\n{title}, the {ROWS} largest functions:");
    for (name, bytes) in functions.iter().take(ROWS) {
        let name: String = name.chars().take(110).collect();
        println!("  {bytes:>8}  {name}");
    }
}

/// Code bytes per crate, largest first, and the total; `Err` when the module cannot be read
/// or has no function names.
pub fn by_crate(wasm: &Path) -> Result<(Vec<(String, usize)>, usize), String> {
    let functions = by_function(wasm)?;
    let mut sums: BTreeMap<String, usize> = BTreeMap::new();
    for (name, size) in &functions {
        *sums.entry(crate_of(name)).or_default() += size;
    }
    Ok((largest_first(sums.into_iter().collect()), functions.iter().map(|(_, size)| size).sum()))
}

/// Each function body's size with its demangled name (without its `::h…` hash), largest
/// first; functions of one name (generic instances, closures) are summed.
pub fn by_function(wasm: &Path) -> Result<Vec<(String, usize)>, String> {
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
        *sums.entry(name.to_owned()).or_default() += size;
    }
    Ok(largest_first(sums.into_iter().collect()))
}

fn largest_first(mut sizes: Vec<(String, usize)>) -> Vec<(String, usize)> {
    sizes.sort_by_key(|&(_, bytes)| core::cmp::Reverse(bytes));
    sizes
}

/// `clipcloud::codec::read::h…` → `clipcloud`; `<alloc::vec::Vec<T> as …>::clone` → `alloc`;
/// `<(tachys::…, …) as …>::build` (a tuple of views) → `tachys`.
fn crate_of(name: &str) -> String {
    let name =
        name.trim_start_matches(['<', '&', '*', '(']).trim_start_matches("mut ").trim_start_matches("dyn ");
    let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
    if end == 0 {
        "?".into()
    } else {
        name[..end].into()
    }
}

/// `core[1c06cdc706c022ca]::fmt` → `core::fmt`: the v0 scheme's crate hashes, which say
/// nothing to a reader and make rows too long.
fn without_crate_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('[') {
        let hash = rest[at + 1..].split(']').next().unwrap_or("");
        let is_hash = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && rest.len() > at + 17;
        out.push_str(&rest[..at]);
        if is_hash {
            rest = &rest[at + 18..];
        } else {
            out.push('[');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// An unsigned LEB128 number at `at`: its value and where it ends.
pub fn leb(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
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

/// Function index → demangled name, from a module's `name` section (`None` without one).
pub fn function_names_in(module: &[u8]) -> Option<BTreeMap<usize, String>> {
    let mut at = 8; // magic and version
    while at < module.len() {
        let id = module[at];
        let (size, start) = leb(module, at + 1)?;
        if id == 0 {
            if let Some(names) = function_names(module.get(start..start + size)?) {
                return Some(names);
            }
        }
        at = start + size;
    }
    None
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
                names.insert(index, without_crate_hashes(&format!("{:#}", rustc_demangle::demangle(&text))));
                p = end;
            }
        }
        at = start + size;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_crate_hashes_and_crates_are_found() {
        let name = "<core[1c06cdc706c022ca]::iter::Map<[u8; 4]>>::next";
        assert_eq!(without_crate_hashes(name), "<core::iter::Map<[u8; 4]>>::next");
        assert_eq!(without_crate_hashes("a[0123456789abcdefX]"), "a[0123456789abcdefX]");
        assert_eq!(without_crate_hashes("tail["), "tail[");
        assert_eq!(crate_of(&without_crate_hashes(name)), "core");
        assert_eq!(crate_of("clipcloud::codec::read"), "clipcloud");
        assert_eq!(crate_of("<(tachys::html::Header, ()) as tachys::view::Render>::build"), "tachys");
        assert_eq!(crate_of("?"), "?");
    }
}
