//! The main module's function table without the slots of code that never runs, so that
//! wasm-opt can drop that code once nothing else names it.
//!
//! The split shares the main module's table with the lazy modules (exported), so wasm-opt
//! keeps every function in it. wasm-streams (which Leptos's server functions bring, and a
//! client-side app never calls) has functions there: the `Future`s its exported classes
//! hand to `future_to_promise`, their drops and polls. Their slots become `ref.null func`
//! (a call through one traps); `spa::shrink` removes the classes' exports afterwards.

use crate::code_size::{function_names_in, leb};
use crate::wasm_sections::{put_leb, rewritten};

/// Opcodes of the constant expressions an element segment holds.
const I32_CONST: u8 = 0x41;
const GLOBAL_GET: u8 = 0x23;
const REF_NULL: u8 = 0xd0;
const REF_FUNC: u8 = 0xd2;
const END: u8 = 0x0b;
const FUNCREF: u8 = 0x70;

/// `module` (with a name section) with every table slot of a function whose name holds
/// `crate_name::` emptied, and how many were. A segment of function indexes (flags 0)
/// holding one is written again as expressions (flags 4, as the split writes its own); a
/// slot in any other kind of segment is an error, and so is a module with none.
pub fn emptied(module: &[u8], crate_name: &str) -> Result<(Vec<u8>, usize), String> {
    let names = function_names_in(module).ok_or("the main module has no function names")?;
    let marker = format!("{crate_name}::");
    let dead = |index: usize| names.get(&index).is_some_and(|name| name.contains(&marker));
    let bad = || "the main module's element section is not one this reader understands".to_owned();
    let mut emptied = 0;
    let out = rewritten(module, 9, |section| elements(section, &dead, &mut emptied).ok_or_else(bad)?)?;
    if emptied == 0 {
        return Err(format!(
            "no table slot holds {crate_name}'s code: has the app or Leptos changed? (dead_slots.rs)"
        ));
    }
    Ok((out, emptied))
}

/// The element section again, with `dead` functions' slots emptied (`None`: not readable).
fn elements(
    section: &[u8],
    dead: &dyn Fn(usize) -> bool,
    emptied: &mut usize,
) -> Option<Result<Vec<u8>, String>> {
    let (count, mut at) = leb(section, 0)?;
    let mut out = Vec::with_capacity(section.len());
    put_leb(&mut out, count);
    for _ in 0..count {
        let start = at;
        let (flags, after) = leb(section, at)?;
        at = after;
        match flags {
            0 => {
                let offset_end = constant_end(section, at)?;
                let (items, mut p) = leb(section, offset_end)?;
                let mut functions = Vec::with_capacity(items);
                for _ in 0..items {
                    let (index, next) = leb(section, p)?;
                    functions.push(index);
                    p = next;
                }
                if functions.iter().any(|&f| dead(f)) {
                    out.push(4);
                    out.extend_from_slice(&section[at..offset_end]);
                    put_leb(&mut out, items);
                    for f in functions {
                        if dead(f) {
                            *emptied += 1;
                            out.extend_from_slice(&[REF_NULL, FUNCREF, END]);
                        } else {
                            out.push(REF_FUNC);
                            put_leb(&mut out, f);
                            out.push(END);
                        }
                    }
                } else {
                    out.extend_from_slice(&section[start..p]);
                }
                at = p;
            }
            4 => {
                // Already expressions (the split's slots for the lazy modules): kept as they are.
                at = constant_end(section, at)?;
                let (items, mut p) = leb(section, at)?;
                for _ in 0..items {
                    if section.get(p) == Some(&REF_FUNC) && dead(leb(section, p + 1)?.0) {
                        return Some(Err("a dead function in an expression segment".into()));
                    }
                    p = constant_end(section, p)?;
                }
                out.extend_from_slice(&section[start..p]);
                at = p;
            }
            other => {
                return Some(Err(format!(
                    "an element segment of kind {other}, which dead_slots.rs does not read"
                )))
            }
        }
    }
    (at == section.len()).then_some(Ok(out))
}

/// Where the one-instruction constant expression at `at` ends (after its `end`).
fn constant_end(bytes: &[u8], at: usize) -> Option<usize> {
    let after = match *bytes.get(at)? {
        // A signed LEB128: its last byte is below 0x80.
        I32_CONST => at + 1 + bytes.get(at + 1..)?.iter().position(|&b| b < 0x80)? + 1,
        GLOBAL_GET | REF_FUNC => leb(bytes, at + 1)?.1,
        REF_NULL => at + 2,
        _ => return None,
    };
    (*bytes.get(after)? == END).then_some(after + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with functions named `names`' (a name section) and an element section of
    /// one segment from slot 1 holding them all, and one of expressions.
    fn module(names: &[&str]) -> Vec<u8> {
        let mut elements = vec![2, 0, I32_CONST, 1, END, names.len() as u8];
        elements.extend((0..names.len() as u8).collect::<Vec<_>>());
        elements.extend_from_slice(&[4, I32_CONST, 9, END, 1, REF_NULL, FUNCREF, END]);
        let mut name_map = vec![1, 0, names.len() as u8];
        for (i, name) in names.iter().enumerate() {
            name_map.extend_from_slice(&[i as u8, name.len() as u8]);
            name_map.extend_from_slice(name.as_bytes());
        }
        name_map[1] = (name_map.len() - 2) as u8;
        let mut custom = vec![4];
        custom.extend_from_slice(b"name");
        custom.extend(name_map);
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        out.extend_from_slice(&[9, elements.len() as u8]);
        out.extend(elements);
        out.extend_from_slice(&[0, custom.len() as u8]);
        out.extend(custom);
        out
    }

    #[test]
    fn slots_of_the_named_crate_become_null() {
        let input = module(&["app::run", "wasm_streams::sink::write", "app::stop"]);
        let (out, count) = emptied(&input, "wasm_streams").unwrap();
        assert_eq!(count, 1);
        let segments = [
            &[2u8, 4, I32_CONST, 1, END, 3][..],
            &[REF_FUNC, 0, END, REF_NULL, FUNCREF, END, REF_FUNC, 2, END],
            &[4, I32_CONST, 9, END, 1, REF_NULL, FUNCREF, END],
        ]
        .concat();
        assert_eq!(out[8..10], [9, segments.len() as u8]);
        assert_eq!(out[10..10 + segments.len()], segments[..]);
        // The names stay, after the section.
        assert_eq!(out[10 + segments.len()..], input[10 + input[9] as usize..]);
        // Nothing of the crate in the table: an error, not a silent no-op.
        assert!(emptied(&input, "absent").is_err());
        assert!(emptied(b"not wasm", "x").is_err());
    }
}
