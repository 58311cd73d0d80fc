//! The names between the app's main wasm module and its JS shortened to one to three
//! letters (wasm-opt's `--minify-imports-and-exports-and-modules`), and its JS following
//! wasm-opt's name map: the wasm-bindgen glue (the import object, `wasm.NAME`) and the
//! split's link module (the exports it hands the lazy modules). The lazy modules keep
//! importing by the old names: the link module passes them on under those.

use crate::glue::{quoted_strings, replace_token};

/// The module every import comes from after wasm-opt renamed the modules.
const MODULE: &str = "a";

/// wasm-opt's name map: `(module, old, new)` per import, `(old, new)` per export.
pub struct Names {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

impl Names {
    /// Reads the map wasm-opt prints (`"imports": [[module, old, new], …], "exports": [[old, new], …]`).
    pub fn parse(map: &str) -> Result<Self, String> {
        let (imports, exports) = map.split_once("\"exports\"").ok_or("wasm-opt printed no name map")?;
        let imports: Vec<_> = imports
            .lines()
            .filter_map(|line| match quoted_strings(line)[..] {
                [module, old, new] => Some((module.to_owned(), old.to_owned(), new.to_owned())),
                _ => None,
            })
            .collect();
        let exports = exports
            .lines()
            .filter_map(|line| match quoted_strings(line)[..] {
                [old, new] => Some((old.to_owned(), new.to_owned())),
                _ => None,
            })
            .collect();
        if imports.is_empty() {
            return Err("wasm-opt's name map lists no imports".into());
        }
        Ok(Self { imports, exports })
    }

    fn export(&self, old: &str) -> Option<&str> {
        self.exports.iter().find(|(o, _)| o == old).map(|(_, new)| new.as_str())
    }
}

/// The wasm-bindgen glue with the new names: its own imports' keys renamed, the imports from
/// other JS modules (the link module's loaders, `import * as importN from "…"`) added to its
/// import object under their new names, the import object under the one module [`MODULE`],
/// and `wasm.OLD` renamed. What the wasm no longer imports leaves the glue.
pub fn in_glue(glue: &str, names: &Names) -> Result<String, String> {
    let mut glue = glue.to_owned();
    let mut kept = Vec::new();
    let mut from_modules = String::new();
    for (module, old, new) in &names.imports {
        kept.push(new.as_str());
        if glue.contains(&format!("\"{module}\": import0,")) {
            glue = replace_token(&glue, &[old, ":"].concat(), &[new, ":"].concat())?;
        } else {
            from_modules.push_str(&format!("        {new}: {}.{old},\n", namespace(&glue, module)?));
        }
    }
    for (old, new) in &names.exports {
        // Not every export is used by the glue.
        if let Ok(renamed) = replace_token(&glue, &["wasm.", old].concat(), &["wasm.", new].concat()) {
            glue = renamed;
        }
    }
    let glue = without_unused_imports(&glue, &kept)?;
    let (_, end) = import_object(&glue)?;
    let returned = end + glue[end..].find("    return {\n").ok_or("the glue returns no import object")?;
    let returned_end = returned
        + glue[returned..].find("\n    };\n").ok_or("the returned import object is not closed")?
        + "\n    };\n".len();
    for line in glue[returned..returned_end].lines().skip(1) {
        let line = line.trim();
        let known = line == "__proto__: null,"
            || line == "};"
            || quoted_strings(line)
                .first()
                .is_some_and(|m| names.imports.iter().any(|(module, ..)| module == m));
        if !known {
            return Err(format!("the glue's import object has an unexpected entry: {line}"));
        }
    }
    Ok([
        &glue[..end],
        "\n",
        &from_modules,
        &glue[end + 1..returned],
        &format!("    return {{ __proto__: null, {MODULE}: import0 }};\n"),
        &glue[returned_end..],
    ]
    .concat())
}

/// The link module taking the main module's exports by their new names and handing them to
/// the lazy modules by their old ones: `const { OLD, … } = initSync(…)` becomes
/// `const { NEW: OLD, … } = initSync(…)`.
pub fn in_link_module(link: &str, names: &Names) -> Result<String, String> {
    const OPEN: &str = "const { ";
    const CLOSE: &str = "} = initSync(";
    let close = link.find(CLOSE).ok_or("the link module takes no exports from `initSync`")?;
    let open = link[..close].rfind(OPEN).ok_or("the link module takes no exports from `initSync`")?;
    let mut taken = Vec::new();
    for old in link[open + OPEN.len()..close].split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let new = names.export(old).ok_or_else(|| format!("wasm-opt's name map has no export `{old}`"))?;
        taken.push(format!("{new}: {old}"));
    }
    Ok([&link[..open], OPEN, &taken.join(", "), " ", &link[close..]].concat())
}

/// `importN` of `import * as importN from "MODULE"` in the glue.
fn namespace<'a>(glue: &'a str, module: &str) -> Result<&'a str, String> {
    glue.lines()
        .find_map(|line| line.strip_prefix("import * as ")?.strip_suffix(&format!(" from \"{module}\"")))
        .ok_or_else(|| format!("the glue does not import {module}"))
}

/// Where the glue's `const import0 = {` starts, and where its closing `\n    };` starts.
fn import_object(glue: &str) -> Result<(usize, usize), String> {
    let start = glue.find("const import0 = {\n").ok_or("the glue has no `const import0 = {`")?;
    let end = start + glue[start..].find("\n    };\n").ok_or("the import object is not closed")?;
    Ok((start, end))
}

/// The glue without the functions it offers the wasm that the wasm no longer imports (not
/// renamed by wasm-opt: its name map lists only the imports left). wasm-bindgen writes each
/// as `        KEY: function(...) {` up to the next line starting `        }`.
fn without_unused_imports(glue: &str, imports: &[&str]) -> Result<String, String> {
    const INDENT: &str = "        ";
    let (start, end) = import_object(glue)?;
    let mut out = String::with_capacity(glue.len());
    out.push_str(&glue[..start]);
    let mut skipping = false;
    for line in glue[start..end].split_inclusive('\n') {
        if skipping {
            skipping = !(line.starts_with(INDENT) && line[INDENT.len()..].starts_with('}'));
            continue;
        }
        if let Some(entry) = line.strip_prefix(INDENT).filter(|l| !l.starts_with(' ')) {
            let key = entry.split(':').next().unwrap_or("");
            let is_key = entry.contains(':')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if is_key && key != "__proto__" && !imports.contains(&key) {
                if !entry.contains(": function(") {
                    return Err(format!("an import of the glue has an unexpected form: {line}"));
                }
                skipping = !entry.trim_end().ends_with("},");
                continue;
            }
        }
        out.push_str(line);
    }
    out.push_str(&glue[end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "import * as import1 from \"./__wasm_split.js\"\nimport * as import2 from \"./__wasm_split.js\"\nfunction __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n        __wbg_a_1: function(arg0) {\n            return arg0;\n        },\n        __wbg_b_2: function() { return handleError(function (arg0) {\n            arg0.x();\n        }, arguments); },\n        __wbg_c_3: function(arg0) { return arg0 + 1; },\n    };\n    return {\n        __proto__: null,\n        \"./app_bg.js\": import0,\n        \"./__wasm_split.js\": import1,\n        \"./__wasm_split.js\": import2,\n    };\n}\nfunction f() { wasm.__wbindgen_start(); }\n";

    const MAP: &str = "{\n \"imports\": [\n  [\"./app_bg.js\", \"__wbg_a_1\", \"a\"],\n  [\"./__wasm_split.js\", \"__wasm_split_load_keep\", \"$\"],\n  [\"./app_bg.js\", \"__wbg_c_3\", \"b\"]\n ],\n \"exports\": [\n  [\"__wbindgen_start\", \"c\"],\n  [\"memory\", \"d\"],\n  [\"__indirect_function_table\", \"e\"]\n ]\n}\n";

    #[test]
    fn the_glue_follows_wasm_opts_map_and_unused_imports_leave() {
        let out = in_glue(GLUE, &Names::parse(MAP).unwrap()).unwrap();
        assert!(out.contains("        a: function(arg0) {\n            return arg0;\n        },\n"), "{out}");
        assert!(out.contains("        b: function(arg0) { return arg0 + 1; },\n"), "{out}");
        assert!(out.contains("        $: import1.__wasm_split_load_keep,\n    };\n"), "{out}");
        assert!(
            !out.contains("__wbg_b_2") && !out.contains("x()"),
            "the import the wasm dropped stays: {out}"
        );
        assert!(out.contains("    return { __proto__: null, a: import0 };\n}\n"), "{out}");
        assert!(out.contains("wasm.c()"), "{out}");
        // A name the glue lacks is a changed glue: fail rather than ship a broken page.
        let unknown = MAP.replace("__wbg_c_3", "__wbg_zz");
        assert!(in_glue(GLUE, &Names::parse(&unknown).unwrap()).is_err());
        let other_module = GLUE.replace("\"./__wasm_split.js\": import2", "\"./other.js\": import2");
        assert!(in_glue(&other_module, &Names::parse(MAP).unwrap()).is_err());
    }

    #[test]
    fn the_link_module_takes_the_new_names_and_passes_on_the_old() {
        let link = "        const { __indirect_function_table, memory,  } = initSync(undefined, undefined);\n        Object.assign(s, { __indirect_function_table, memory,  });\n";
        let out = in_link_module(link, &Names::parse(MAP).unwrap()).unwrap();
        assert_eq!(
            out,
            "        const { e: __indirect_function_table, d: memory } = initSync(undefined, undefined);\n        Object.assign(s, { __indirect_function_table, memory,  });\n"
        );
        assert!(in_link_module(&link.replace("memory", "other"), &Names::parse(MAP).unwrap()).is_err());
        assert!(in_link_module("no link", &Names::parse(MAP).unwrap()).is_err());
    }
}
