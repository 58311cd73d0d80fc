//! The lint step's check that the repository holds what it refers to: no file git knows
//! names a path outside it, since a clone would not have that path. Three patterns:
//!
//! - a relative path whose `..` segments climb above the repository's root, resolved from
//!   the folder of the file that names it (a path that starts with `/`, as a URL's does, is
//!   not relative to the file and is left alone);
//! - an absolute path into a folder where machines keep homes and checkouts
//!   (`PRIVATE_ROOTS`): one machine's, never a clone's (a tool's system path, such as a
//!   browser's binary, is fine);
//! - a Markdown document (`*.md`, not in a URL) that no file of the repository is named.
//!
//! The files are those `git ls-files` lists: the tracked ones, and new ones not ignored.
//! A file that is not UTF-8 text is skipped.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Top-level folders of homes and checkouts (`/NAME/…`), never of tools. Written without
/// slashes, so that this file names none of them.
const PRIVATE_ROOTS: [&str; 3] = ["work", "home", "Users"];

/// A path named outside the repository: its line (from 1), the path, and why.
#[derive(Debug, PartialEq, Eq)]
struct Finding {
    line: usize,
    path: String,
    why: &'static str,
}

pub fn check() -> Result<(), String> {
    let root = crate::root();
    let files = listed_files(&root)?;
    let documents: BTreeSet<&str> = files.iter().map(|file| file_name(file)).collect();
    let mut found = Vec::new();
    for file in &files {
        // Binary files, and files deleted but not yet committed, have no text to read.
        let Ok(text) = std::fs::read_to_string(root.join(file)) else { continue };
        for f in findings(file, &text, &documents) {
            found.push(format!("{file}:{}: `{}` {}", f.line, f.path, f.why));
        }
    }
    if found.is_empty() {
        println!("no file names a path outside the repository ({} files)", files.len());
        Ok(())
    } else {
        Err(format!(
            "files name paths outside the repository, which a clone does not have:\n  {}",
            found.join("\n  ")
        ))
    }
}

/// The repository's files, relative to its root, `/`-separated.
fn listed_files(root: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!("git ls-files failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    // In order for the report; a file with a merge conflict is listed once per side.
    files.sort();
    files.dedup();
    Ok(files)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What `text`, the contents of `file` (a path from the root), names outside the repository.
fn findings(file: &str, text: &str, documents: &BTreeSet<&str>) -> Vec<Finding> {
    let depth = file.matches('/').count();
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut add = |path: &str, why| found.push(Finding { line: index + 1, path: path.to_owned(), why });
        for (_, path) in paths_containing(line, "../") {
            if !path.starts_with('/') && climbs_out(depth, path) {
                add(path, "climbs above the repository's root");
            }
        }
        for root in PRIVATE_ROOTS {
            for (_, path) in paths_containing(line, &["/", root, "/"].concat()) {
                // `/NAME/…`, or `file:///NAME/…`; not `/srv/NAME/…` nor a URL's `host/NAME/…`.
                if path.starts_with('/') && path.trim_start_matches('/').starts_with(&[root, "/"].concat()) {
                    add(path, "is a path on one machine");
                }
            }
        }
        for (start, path) in paths_containing(line, ".md") {
            let name = file_name(path);
            let is_document = name.len() > ".md".len() && name.ends_with(".md");
            let in_url = line[..start].ends_with(':');
            if is_document && !in_url && !documents.contains(name) {
                add(path, "is a document the repository does not have");
            }
        }
    }
    found
}

/// Characters of a path as files and docs write one (not `:`, so a URL's scheme stays out).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-~%+@/".contains(c)
}

/// Each whole path of `line` that contains `needle`, once, in order, with where it starts.
fn paths_containing<'a>(line: &'a str, needle: &str) -> Vec<(usize, &'a str)> {
    let mut paths: Vec<(usize, &str)> = Vec::new();
    let mut from = 0;
    while let Some(at) = line.get(from..).and_then(|rest| rest.find(needle)).map(|i| from + i) {
        let start = line[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_path_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = line[at..].find(|c: char| !is_path_char(c)).map_or(line.len(), |i| at + i);
        let mut path = &line[start..end];
        // A sentence's full stop is not part of the path before it (a `..` is).
        if path.ends_with('.') && !path.ends_with("..") {
            path = &path[..path.len() - 1];
        }
        if paths.last().is_none_or(|&(last, _)| last != start) {
            paths.push((start, path));
        }
        from = end.max(at + needle.len());
    }
    paths
}

/// Whether `path`, relative to a folder `depth` levels below the root, leaves the root.
fn climbs_out(depth: usize, path: &str) -> bool {
    let mut depth = depth;
    for segment in path.split('/') {
        match segment {
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            "" | "." => {}
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    // The planted paths are put together at run time, so that this file names none itself.
    const UP: &str = "..";

    fn up(path: &str) -> String {
        [UP, "/", path].concat()
    }

    fn machine(path: &str) -> String {
        ["/", PRIVATE_ROOTS[0], "/", path].concat()
    }

    fn md(stem: &str) -> String {
        [stem, ".md"].concat()
    }

    /// The paths found in `text`, as the file `file`, with `documents` in the repository.
    fn found(file: &str, text: &str, documents: &[&str]) -> Vec<String> {
        let documents: BTreeSet<&str> = documents.iter().copied().collect();
        findings(file, text, &documents).into_iter().map(|f| f.path).collect()
    }

    #[test]
    fn relative_paths_may_not_climb_above_the_root() {
        let notes = up("shared/notes");
        assert_eq!(found("Cargo.toml", &["(see ", &notes, ")"].concat(), &[]), [notes.as_str()]);
        let twice = up(&up("shared/x"));
        assert_eq!(found("docs/page.txt", &twice, &[]), [twice.as_str()]);
        assert_eq!(found("Cargo.toml", &["—", &notes].concat(), &[]), [notes.as_str()]);
        let detour = ["crates/", &up(&up("x"))].concat();
        assert_eq!(found("Cargo.toml", &detour, &[]), [detour.as_str()]);
        // Inside the repository, from deeper folders.
        assert!(found("docs/page.txt", &up("README"), &[]).is_empty());
        assert!(found("tests/bench/hello/index.html", &up(&up(&up("web/icon.svg"))), &[]).is_empty());
        assert!(found("crates/c/src/a.rs", &["include!(\"", &up("b.rs"), "\")"].concat(), &[]).is_empty());
        // URL paths and paths after another part are not relative to the file.
        for text in [
            ["\"/sub/", &up(&up(&up("etc/passwd"))), "\""].concat(),
            ["http://evil.example/", &up("x")].concat(),
            ["format!(\"{host}/", &up("x"), "\")"].concat(),
        ] {
            assert!(found("Cargo.toml", &text, &[]).is_empty(), "{text}");
        }
    }

    #[test]
    fn absolute_paths_into_homes_and_checkouts_are_one_machines() {
        let shared = machine("shared/api");
        assert_eq!(found("a.rs", &["see ", &shared, "."].concat(), &[]), [shared.as_str()]);
        let url = ["file://", &machine("x")].concat();
        assert_eq!(found("a.rs", &url, &[]), [["//", &machine("x")].concat()]);
        for text in [
            "/usr/bin/chromium".to_owned(),
            ["https://example.com", &machine("x")].concat(),
            ["~", &machine("x")].concat(),
            ["$HOME", &machine("x")].concat(),
            ["/srv", &machine("x")].concat(),
        ] {
            assert!(found("a.rs", &text, &[]).is_empty(), "{text}");
        }
    }

    #[test]
    fn documents_must_be_the_repositorys_own() {
        let spec = md("SPEC");
        assert_eq!(found("a.rs", &["as ", &spec, " says"].concat(), &[]), [spec.as_str()]);
        assert_eq!(found("a.rs", &["— see ", &spec, "."].concat(), &[]), [spec.as_str()]);
        let api = ["docs/", &md("api")].concat();
        assert!(found("a.rs", &["[api](", &api, "#errors)"].concat(), &[&md("api")]).is_empty());
        for text in [
            ["https://github.com/o/r/blob/main/", &md("ARCH")].concat(),
            [&md("x"), "x"].concat(),
            ".md files".to_owned(),
        ] {
            assert!(found("a.rs", &text, &[]).is_empty(), "{text}");
        }
    }

    #[test]
    fn findings_name_their_line() {
        let text = ["one\ntwo ", &up("outside"), "\n"].concat();
        let found = findings("Cargo.toml", &text, &BTreeSet::new());
        assert_eq!(
            found,
            [Finding { line: 2, path: up("outside"), why: "climbs above the repository's root" }]
        );
    }
}
