//! The lint step's import-circle check. Each crate (every library and binary of the
//! workspace) is parsed with `syn` from its root, following `mod` declarations to their
//! files (`name.rs`, `name/mod.rs`, `#[path]`). Every path the code writes that leads into
//! another of the crate's modules — in `use` trees, expressions, types, patterns and macro
//! arguments; through `crate::`, `super::`, `self::` or a child module's name — links the
//! two modules holding its two ends, at the level just below their nearest common parent.
//! Among the children of any one module, no two may reach each other: a circle means
//! neither can be read, tested or moved without the other; the fix is usually a type moved
//! to the lower of the two.
//!
//! `#[cfg(test)]` and `#[test]` items, attributes and doc comments do not count: tests and
//! doc links are not the code's shape.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Meta, Token};

/// A module's place in its crate: the names from the crate root down (the root is empty).
type ModulePath = Vec<String>;

/// Which module names which, among the children of one module.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Reads a source file: `Ok(None)` when there is none at that path.
type Load<'a> = &'a dyn Fn(&Path) -> Result<Option<String>, String>;

/// Every library and binary of the workspace.
pub fn check() -> Result<(), String> {
    let root = crate::root();
    let load = |file: &Path| match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", file.display())),
    };
    let mut crates = 0;
    let mut modules = 0;
    let mut found = Vec::new();
    for package in crate::metadata::workspace_packages()? {
        for target in package.targets.iter().filter(|target| target.is_product()) {
            let code = read_crate(&target.root, &load)?;
            crates += 1;
            modules += code.modules.len();
            let crate_root = target.root.strip_prefix(&root).unwrap_or(&target.root);
            found.extend(code.circles(&root).into_iter().map(|c| format!("{}: {c}", crate_root.display())));
        }
    }
    if found.is_empty() {
        println!("no import circle in {crates} crates ({modules} modules)");
        Ok(())
    } else {
        Err(format!("import circles (modules that reach one another):\n  {}", found.join("\n  ")))
    }
}

/// One crate's code: its modules, and every path it writes with the module that writes it.
#[derive(Default)]
struct Crate {
    modules: BTreeSet<ModulePath>,
    named: Vec<Named>,
}

/// A path as written (`super::relay::Key`), where.
struct Named {
    from: ModulePath,
    path: Vec<String>,
    file: PathBuf,
}

fn read_crate(root: &Path, load: Load) -> Result<Crate, String> {
    let mut code = Crate::default();
    let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
    if !read_file(&mut code, load, root, Vec::new(), dir)? {
        return Err(format!("{}: no such file", root.display()));
    }
    Ok(code)
}

/// Reads the module `module` from `file`, its `mod name;` children from `children_dir`.
/// False when the file does not exist.
fn read_file(
    code: &mut Crate,
    load: Load,
    file: &Path,
    module: ModulePath,
    children_dir: PathBuf,
) -> Result<bool, String> {
    let Some(text) = load(file)? else { return Ok(false) };
    let parsed = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if only_in_tests(&parsed.attrs) {
        return Ok(true);
    }
    code.modules.insert(module.clone());
    let path_base = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut reader = Reader { code, load, file, module, children_dir, path_base, error: None };
    for item in &parsed.items {
        reader.visit_item(item);
    }
    reader.error.map_or(Ok(true), Err)
}

/// Walks one file's items, nested inline modules included.
struct Reader<'a> {
    code: &'a mut Crate,
    load: Load<'a>,
    file: &'a Path,
    module: ModulePath,
    /// Where this module's `mod name;` children are: `name.rs` or `name/mod.rs`.
    children_dir: PathBuf,
    /// What a child's `#[path = "…"]` is relative to.
    path_base: PathBuf,
    error: Option<String>,
}

impl Reader<'_> {
    /// Keeps a path written here, to resolve once every module is known.
    fn note(&mut self, path: Vec<String>) {
        self.code.named.push(Named { from: self.module.clone(), path, file: self.file.to_path_buf() });
    }

    fn read_child_file(&mut self, item: &syn::ItemMod, module: ModulePath) -> Result<(), String> {
        let name = item.ident.unraw().to_string();
        let path_attribute = item.attrs.iter().find(|attr| attr.path().is_ident("path"));
        if let Some(attr) = path_attribute {
            let relative = match &attr.meta {
                Meta::NameValue(syn::MetaNameValue {
                    value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(path), .. }),
                    ..
                }) => path.value(),
                _ => return Err(format!("{}: mod {name}: unreadable #[path]", self.file.display())),
            };
            let file = self.path_base.join(relative);
            // A file named by `#[path]` keeps its own children beside it, as a `mod.rs` does.
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            return match read_file(self.code, self.load, &file, module, dir)? {
                true => Ok(()),
                false => Err(format!("{}: mod {name}: no file {}", self.file.display(), file.display())),
            };
        }
        let dir = self.children_dir.join(&name);
        let flat = self.children_dir.join(format!("{name}.rs"));
        if read_file(self.code, self.load, &flat, module.clone(), dir.clone())? {
            return Ok(());
        }
        let nested = dir.join("mod.rs");
        match read_file(self.code, self.load, &nested, module, dir)? {
            true => Ok(()),
            false => Err(format!(
                "{}: mod {name}: neither {} nor {}",
                self.file.display(),
                flat.display(),
                nested.display()
            )),
        }
    }
}

/// Visit methods for the items of impls and traits (the same four kinds), which skip the
/// items that exist only in tests.
macro_rules! skip_test_items {
    ($($method:ident($kind:ident)),*) => {$(
        fn $method(&mut self, item: &'ast syn::$kind) {
            let attrs = match item {
                syn::$kind::Const(item) => &item.attrs[..],
                syn::$kind::Fn(item) => &item.attrs,
                syn::$kind::Type(item) => &item.attrs,
                syn::$kind::Macro(item) => &item.attrs,
                _ => &[],
            };
            if !only_in_tests(attrs) {
                visit::$method(self, item);
            }
        }
    )*};
}

impl<'ast> Visit<'ast> for Reader<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !only_in_tests(item_attributes(item)) {
            visit::visit_item(self, item);
        }
    }

    // Items of impls and traits: each skipped when it exists only in tests.
    skip_test_items!(visit_impl_item(ImplItem), visit_trait_item(TraitItem));

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let name = item.ident.unraw().to_string();
        let module: ModulePath = self.module.iter().cloned().chain([name.clone()]).collect();
        let Some((_, items)) = &item.content else {
            if let Err(e) = self.read_child_file(item, module) {
                self.error.get_or_insert(e);
            }
            return;
        };
        // Inline: its children's files, and its `#[path]`s, are in a folder of its name.
        self.code.modules.insert(module.clone());
        let dir = self.children_dir.join(&name);
        let outer_module = std::mem::replace(&mut self.module, module);
        let outer_dir = std::mem::replace(&mut self.children_dir, dir.clone());
        let outer_base = std::mem::replace(&mut self.path_base, dir);
        for item in items {
            self.visit_item(item);
        }
        self.module = outer_module;
        self.children_dir = outer_dir;
        self.path_base = outer_base;
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            let mut paths = Vec::new();
            use_paths(&item.tree, &mut Vec::new(), &mut paths);
            for path in paths {
                self.note(path);
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            self.note(path.segments.iter().map(|segment| segment.ident.unraw().to_string()).collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        let mut paths = Vec::new();
        token_paths(mac.tokens.clone(), &mut paths);
        for path in paths {
            self.note(path);
        }
    }

    // `pub(in crate::x)` limits who may use an item; it uses nothing.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    // Doc comments, `cfg`, `derive`, `path`: not the code's shape.
    fn visit_attribute(&mut self, _: &'ast Attribute) {}
}

/// Each path a `use` tree imports: `crate::{a::{self, B}, c as d}` gives `crate::a`,
/// `crate::a::B`, `crate::c`.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let with = |prefix: &[String], ident: &syn::Ident| {
        let mut path = prefix.to_vec();
        if ident != "self" || path.is_empty() {
            path.push(ident.unraw().to_string());
        }
        path
    };
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.unraw().to_string());
            use_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => out.push(with(prefix, &name.ident)),
        syn::UseTree::Rename(rename) => out.push(with(prefix, &rename.ident)),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                use_paths(tree, prefix, out);
            }
        }
    }
}

/// The paths in a macro's tokens (`format!("{}", crate::a::b())`, `$crate::a`), which syn
/// leaves unparsed: each run of identifiers joined by `::`, not itself after a `::`.
fn token_paths(tokens: TokenStream, out: &mut Vec<Vec<String>>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let separator_at = |at: usize| match (trees.get(at), trees.get(at + 1)) {
        (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second))) => {
            first.as_char() == ':' && first.spacing() == Spacing::Joint && second.as_char() == ':'
        }
        _ => false,
    };
    let mut at = 0;
    while at < trees.len() {
        match &trees[at] {
            TokenTree::Group(group) => token_paths(group.stream(), out),
            TokenTree::Ident(first) if at < 2 || !separator_at(at - 2) => {
                let mut path = vec![first.unraw().to_string()];
                while let (true, Some(TokenTree::Ident(next))) = (separator_at(at + 1), trees.get(at + 3)) {
                    path.push(next.unraw().to_string());
                    at += 3;
                }
                if path.len() > 1 {
                    out.push(path);
                }
            }
            _ => {}
        }
        at += 1;
    }
}

fn item_attributes(item: &syn::Item) -> &[Attribute] {
    use syn::Item;
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

/// `#[test]`, `#[cfg(test)]`, or a `cfg` that needs `test` (`all(test, …)`).
fn only_in_tests(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("test")
            || (attr.path().is_ident("cfg") && attr.parse_args::<Meta>().is_ok_and(|cfg| needs_test(&cfg)))
    })
}

fn needs_test(cfg: &Meta) -> bool {
    let nested = |list: &syn::MetaList| {
        list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .map(|all| all.into_iter().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    match cfg {
        Meta::Path(path) => path.is_ident("test"),
        Meta::List(list) if list.path.is_ident("all") => nested(list).iter().any(needs_test),
        Meta::List(list) if list.path.is_ident("any") => {
            let options = nested(list);
            !options.is_empty() && options.iter().all(needs_test)
        }
        _ => false,
    }
}

impl Crate {
    /// The module of this crate a path written in `from` leads into, if any: as far down
    /// `crate::`, `self::`, `super::` or a child's name as the path's segments are modules.
    fn target(&self, from: &ModulePath, path: &[String]) -> Option<ModulePath> {
        let (mut module, rest) = match path.first()?.as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (from.clone(), &path[1..]),
            "super" => {
                let up = path.iter().take_while(|segment| *segment == "super").count();
                (from[..from.len().checked_sub(up)?].to_vec(), &path[up..])
            }
            // A child module by its name alone (`relay::forward()`); one segment alone is a
            // local name (a variable called like a module), not a path into it.
            child if path.len() > 1 => {
                let module: ModulePath = from.iter().cloned().chain([child.to_owned()]).collect();
                (self.modules.contains(&module).then(|| from.clone())?, path)
            }
            _ => return None,
        };
        for segment in rest {
            module.push(segment.clone());
            if !self.modules.contains(&module) {
                module.pop();
                break;
            }
        }
        Some(module)
    }

    /// For each module, which of its children names which, with one path that does.
    fn links(&self, root: &Path) -> BTreeMap<ModulePath, BTreeMap<(String, String), String>> {
        let mut links: BTreeMap<ModulePath, BTreeMap<(String, String), String>> = BTreeMap::new();
        for named in &self.named {
            let Some(to) = self.target(&named.from, &named.path) else { continue };
            let common = named.from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // Within one module, or into a module that holds the other: not between siblings.
            if common == named.from.len() || common == to.len() {
                continue;
            }
            let file = named.file.strip_prefix(root).unwrap_or(&named.file);
            links
                .entry(to[..common].to_vec())
                .or_default()
                .entry((named.from[common].clone(), to[common].clone()))
                .or_insert_with(|| format!("{} writes {}", file.display(), named.path.join("::")));
        }
        links
    }

    /// Each circle: where (`crate::relay`), who (`forward, key`) and, per link, what makes it.
    fn circles(&self, root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for (parent, links) in self.links(root) {
            let mut graph = Graph::new();
            for (from, to) in links.keys() {
                graph.entry(from.clone()).or_default().insert(to.clone());
                graph.entry(to.clone()).or_default();
            }
            for mut circle in circles(&graph) {
                circle.sort();
                let why: Vec<String> = links
                    .iter()
                    .filter(|((from, to), _)| circle.contains(from) && circle.contains(to))
                    .map(|((from, to), example)| format!("{from} -> {to}: {example}"))
                    .collect();
                let place =
                    ["crate".to_owned()].into_iter().chain(parent.iter().cloned()).collect::<Vec<_>>();
                found.push(format!(
                    "{}::{{{}}}\n      {}",
                    place.join("::"),
                    circle.join(", "),
                    why.join("\n      ")
                ));
            }
        }
        found
    }
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

    /// A crate rooted at `src/lib.rs` made of these files, and of `src/{name}.rs` empty for
    /// each of `empty`.
    fn read(files: &[(&str, &str)], empty: &[&str]) -> Crate {
        let empty = empty.iter().map(|name| (PathBuf::from(format!("src/{name}.rs")), String::new()));
        let files: BTreeMap<PathBuf, String> =
            files.iter().map(|(path, text)| (PathBuf::from(path), text.to_string())).chain(empty).collect();
        read_crate(Path::new("src/lib.rs"), &|file| Ok(files.get(file).cloned())).expect("the crate reads")
    }

    /// Every link as `parent: from -> to` (`crate` for the root).
    fn links(code: &Crate) -> Vec<String> {
        let mut out = Vec::new();
        for (parent, links) in code.links(Path::new("")) {
            let place = if parent.is_empty() { "crate".to_owned() } else { parent.join("::") };
            out.extend(links.keys().map(|(from, to)| format!("{place}: {from} -> {to}")));
        }
        out
    }

    #[test]
    fn nested_use_groups_self_renames_and_globs_are_each_a_link() {
        let code = read(
            &[
                ("src/lib.rs", "mod a; mod b; mod c; mod d; mod e; mod f;"),
                (
                    "src/a.rs",
                    "use crate::{b::{self, Thing as Other}, c::{x::{y}, z}, d as dd};\n\
                     use crate::{e::*};\nuse ::f::outside;",
                ),
            ],
            &["b", "c", "d", "e", "f"],
        );
        // `::f` is an outside crate of that name, not the module.
        assert_eq!(links(&code), ["crate: a -> b", "crate: a -> c", "crate: a -> d", "crate: a -> e"]);
    }

    #[test]
    fn a_cfg_test_in_a_doc_comment_does_not_end_the_file() {
        let code = read(
            &[
                ("src/lib.rs", "mod a; mod b;"),
                (
                    "src/a.rs",
                    "/// Tests go in a `#[cfg(test)]` module.\nfn f() {}\nfn g() { crate::b::run(); }",
                ),
            ],
            &["b"],
        );
        assert_eq!(links(&code), ["crate: a -> b"]);
    }

    #[test]
    fn test_code_and_doc_links_are_not_links() {
        let code = read(
            &[
                ("src/lib.rs", "mod a; mod b; mod c; mod d;"),
                (
                    "src/a.rs",
                    "//! See [`crate::b`].\n#[cfg(test)] mod tests { use crate::b; }\n\
                     #[cfg(test)] mod more;\n#[cfg(all(test, feature = \"x\"))] use crate::c::X;\n\
                     #[test] fn t() { crate::d::x(); }\n\
                     struct S;\nimpl S { #[cfg(test)] fn f() { crate::d::x(); } }",
                ),
                ("src/b.rs", "#![cfg(test)]\nuse crate::a;"),
                ("src/d.rs", "#[cfg(not(test))] fn live() { crate::a::f(); }"),
            ],
            &["c"],
        );
        // `src/a/more.rs` does not exist and is not looked for.
        assert_eq!(links(&code), ["crate: d -> a"]);
    }

    #[test]
    fn paths_in_expressions_types_patterns_and_macros_are_links() {
        let code = read(
            &[
                ("src/lib.rs", "mod a; mod b; mod c; mod d; mod e; mod f;"),
                (
                    "src/a.rs",
                    "fn f(x: crate::b::B) -> Vec<crate::c::C> {\n\
                       match x { crate::d::D::One => {} _ => {} }\n\
                       println!(\"{}\", crate::e::name());\n\
                       let e = 1; drop(e);\n\
                       vec![]\n}",
                ),
            ],
            &["b", "c", "d", "e", "f"],
        );
        assert_eq!(links(&code), ["crate: a -> b", "crate: a -> c", "crate: a -> d", "crate: a -> e"]);
    }

    #[test]
    fn folder_modules_path_attributes_and_super_are_followed() {
        let code = read(
            &[
                ("src/lib.rs", "mod relay; mod api;\n#[path = \"other/place.rs\"] mod moved;"),
                ("src/relay.rs", "mod forward; mod key;"),
                ("src/relay/forward.rs", "use super::key::Key;\nfn f() { super::super::api::x(); }"),
                ("src/relay/key.rs", "pub struct Key;"),
                ("src/api/mod.rs", "pub mod inner { pub fn x() { super::super::moved::y(); } }"),
                ("src/other/place.rs", "mod near;\nfn y() { crate::api::inner::x(); }"),
                ("src/other/near.rs", ""),
            ],
            &[],
        );
        let modules: Vec<String> = code.modules.iter().map(|m| m.join("::")).collect();
        assert_eq!(
            modules,
            ["", "api", "api::inner", "moved", "moved::near", "relay", "relay::forward", "relay::key"]
        );
        assert_eq!(
            links(&code),
            ["crate: api -> moved", "crate: moved -> api", "crate: relay -> api", "relay: forward -> key"]
        );
        let circles = code.circles(Path::new(""));
        assert_eq!(circles.len(), 1, "{circles:?}");
        assert!(circles[0].starts_with("crate::{api, moved}"), "{}", circles[0]);
        assert!(
            circles[0].contains("moved -> api: src/other/place.rs writes crate::api::inner::x"),
            "{}",
            circles[0]
        );
    }

    #[test]
    fn a_circle_among_siblings_below_the_root_is_found() {
        let code = read(
            &[
                ("src/lib.rs", "mod relay;"),
                ("src/relay/mod.rs", "mod forward; mod key;\nuse key::Key;"),
                ("src/relay/forward.rs", "pub fn send(_: &super::key::Key) {}"),
                ("src/relay/key.rs", "pub struct Key;\nfn k() { crate::relay::forward::send(&Key); }"),
            ],
            &[],
        );
        assert_eq!(links(&code), ["relay: forward -> key", "relay: key -> forward"]);
        let circles = code.circles(Path::new(""));
        assert_eq!(circles.len(), 1, "{circles:?}");
        assert!(circles[0].starts_with("crate::relay::{forward, key}"), "{}", circles[0]);
    }

    #[test]
    fn a_missing_module_file_is_an_error() {
        let error = read_crate(Path::new("src/lib.rs"), &|file| {
            Ok((file == Path::new("src/lib.rs")).then(|| "mod gone;".to_owned()))
        })
        .err()
        .expect("an error");
        assert!(error.contains("mod gone: neither src/gone.rs nor src/gone/mod.rs"), "{error}");
    }

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let graph_of = |edges: &[(&str, &str)]| {
            let mut graph = Graph::new();
            for (from, to) in edges {
                graph.entry(from.to_string()).or_default().insert(to.to_string());
                graph.entry(to.to_string()).or_default();
            }
            graph
        };
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
