//! The lint step's import-circle check: in each crate, which top-level module names which
//! (`crate::name`, `crate::{a, b}` and `super::name` from a top-level file), and no two
//! modules may reach each other. A circle means neither can be read, tested or moved
//! without the other; the fix is usually a type moved to the lower of the two.
//!
//! Read as text: comments and `#[cfg(test)]` modules (written last in every file here) do
//! not count, since doc links and tests are not the code's shape.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's modules and whom each names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `src` folder checked: each crate's and xtask's own.
pub fn check() -> Result<(), String> {
    let root = crate::root();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map_err(|e| format!("cannot list crates/: {e}"))?
        .filter_map(|entry| Some(entry.ok()?.path().join("src")))
        .filter(|src| src.is_dir())
        .collect();
    sources.push(root.join("xtask").join("src"));
    sources.sort();
    let mut found = Vec::new();
    for src in &sources {
        for circle in circles(&graph(src)?) {
            let crate_dir = src.parent().and_then(|dir| dir.strip_prefix(&root).ok()).unwrap_or(src);
            found.push(format!("{}: {}", crate_dir.display(), circle.join(", ")));
        }
    }
    if found.is_empty() {
        println!("no import circle in {} crates", sources.len());
        Ok(())
    } else {
        Err(format!("import circles (modules that reach one another):\n  {}", found.join("\n  ")))
    }
}

/// The modules of `src` (a top-level file or folder each) and the others each names.
fn graph(src: &Path) -> Result<Graph, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let module_of = |file: &Path| -> Option<String> {
        let first = file.strip_prefix(src).ok()?.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (name != "lib" && name != "main").then(|| name.to_owned())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut graph: Graph = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &files {
        let Some(module) = module_of(file) else { continue };
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let top_level = file.parent() == Some(src);
        let named = names(&code_only(&text), top_level);
        let edges: Vec<String> = named.into_iter().filter(|n| *n != module && modules.contains(n)).collect();
        graph.entry(module).or_default().extend(edges);
    }
    Ok(graph)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `text` without its test module and its `//` comments.
fn code_only(text: &str) -> String {
    let text = text.find("#[cfg(test)]").map_or(text, |at| &text[..at]);
    text.lines().map(|line| line.find("//").map_or(line, |at| &line[..at])).collect::<Vec<_>>().join("\n")
}

/// The module names after `crate::` (one, or a `{...}` group) and, in a top-level file,
/// after `super::`.
fn names(code: &str, top_level: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let prefixes: &[&str] = if top_level { &["crate::", "super::"] } else { &["crate::"] };
    for prefix in prefixes {
        for (at, _) in code.match_indices(prefix) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(group.split(',').filter_map(|item| identifier(item.trim_start())));
            } else {
                out.extend(identifier(rest));
            }
        }
    }
    out
}

fn identifier(text: &str) -> Option<String> {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    (end > 0).then(|| text[..end].to_owned())
}

/// Each group of modules that reach one another (Tarjan's strongly connected components).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().rposition(|m| *m == node).unwrap_or(0);
                let group: Vec<String> = self.stack.drain(at..).map(str::to_owned).collect();
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk =
        Walk { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(edges: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph.entry(from.to_string()).or_default().insert(to.to_string());
            graph.entry(to.to_string()).or_default();
        }
        graph
    }

    #[test]
    fn names_are_read_from_paths_groups_and_super_not_comments_or_tests() {
        let code = code_only(
            "use crate::{api, state::Gateway};\nuse crate::log::Note; // crate::budget\n\
             fn f() { super::hold::x(); my_crate::ledger::y(); }\n#[cfg(test)]\nmod t { use crate::redis; }",
        );
        let top: Vec<String> = names(&code, true).into_iter().collect();
        assert_eq!(top, ["api", "hold", "log", "state"]);
        assert!(!names(&code, false).contains("hold"), "super:: is the parent only at the top level");
    }

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let chain = graph_of(&[("api", "relay"), ("relay", "state"), ("api", "state")]);
        assert!(circles(&chain).is_empty());
        let circle = graph_of(&[("api", "relay"), ("relay", "state"), ("state", "api"), ("log", "api")]);
        let found = circles(&circle);
        assert_eq!(found.len(), 1, "{found:?}");
        let mut members = found[0].clone();
        members.sort();
        assert_eq!(members, ["api", "relay", "state"]);
    }
}
