//! The supported-browsers record: which browser suites ran in which engine, at which
//! version, in the last run of the browser suites (`cargo xtask test` or `cargo xtask
//! browsers`; only a run where every suite passed writes it). It goes to `docs/browsers.json`, and the README's table is rendered from it between
//! two markers; the lint checks that the table is still that rendering, so the table is
//! never written by hand. Times are printed, not kept: they differ on every run.

use crate::browser::{Browser, ALL};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const START: &str = "<!-- supported browsers: written by `cargo xtask test` from docs/browsers.json -->\n";
const END: &str = "<!-- end of supported browsers -->";

/// One suite that passed in one engine.
pub struct Suite {
    pub name: String,
    /// What ran, e.g. "12 tests".
    pub detail: Option<String>,
    pub seconds: f64,
}

/// What the run did, engine by engine.
#[derive(Default)]
pub struct Record {
    suites: Vec<(Browser, Suite)>,
    /// Tests an engine could not run, and why (the test's own skip reason).
    could_not: Vec<(Browser, String, String)>,
}

impl Record {
    pub fn add(&mut self, browser: Browser, suite: Suite) {
        self.suites.push((browser, suite));
    }

    /// Records a node test run's skipped tests as what `browser` could not run.
    pub fn could_not(&mut self, browser: Browser, tally: &Tally) {
        for (name, why) in &tally.skipped {
            self.could_not.push((browser, name.clone(), why.clone()));
        }
    }

    /// Each engine's time, suite by suite: the builds they share are done before the first.
    pub fn print_times(&self) {
        println!("\ntime per engine (builds shared, done before the first engine):");
        for browser in ALL {
            let suites: Vec<&Suite> =
                self.suites.iter().filter(|(b, _)| *b == browser).map(|(_, s)| s).collect();
            if suites.is_empty() {
                continue;
            }
            let parts: Vec<String> =
                suites.iter().map(|s| format!("{} {:.0} s", s.name, s.seconds)).collect();
            let total: f64 = suites.iter().map(|s| s.seconds).sum();
            println!("  {:<12} {:>5.1} min  ({})", browser.name(), total / 60.0, parts.join(", "));
        }
    }

    fn to_json(&self) -> Value {
        let engines: Vec<Value> = ALL
            .iter()
            .map(|&browser| {
                let ran: Vec<String> = self
                    .suites
                    .iter()
                    .filter(|(b, _)| *b == browser)
                    .map(|(_, s)| match &s.detail {
                        Some(detail) => format!("{}: {detail}", s.name),
                        None => s.name.clone(),
                    })
                    .collect();
                let could_not: Vec<Value> = self
                    .could_not
                    .iter()
                    .filter(|(b, _, _)| *b == browser)
                    .map(|(_, what, why)| json!({ "what": what, "why": why }))
                    .collect();
                json!({
                    "engine": browser.name(),
                    "version": browser.version().unwrap_or_else(|| "unknown".into()),
                    "ran": ran,
                    "could_not_run": could_not,
                })
            })
            .collect();
        json!({ "written_by": "cargo xtask test (or browsers), after every browser suite passed", "engines": engines })
    }

    /// Writes docs/browsers.json and the README's table from it.
    pub fn write(&self) -> Result<(), String> {
        let record = self.to_json();
        let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())? + "\n";
        write(&json_path(), &text)?;
        let readme = read(&readme_path())?;
        let updated = with_table(&readme, &table(&record)?)?;
        if updated != readme {
            write(&readme_path(), &updated)?;
            println!("README.md: the supported-browsers table changed with this run (docs/browsers.json): commit both");
        }
        Ok(())
    }
}

fn json_path() -> PathBuf {
    crate::root().join("docs").join("browsers.json")
}

fn readme_path() -> PathBuf {
    crate::root().join("README.md")
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The README's table (markdown), from the record.
fn table(record: &Value) -> Result<String, String> {
    let engines = record["engines"].as_array().ok_or("docs/browsers.json has no engines list")?;
    let cell = |v: &Value| v.as_str().unwrap_or("").replace('|', "\\|");
    let mut out = String::from("| engine | version tested | what runs there |\n|---|---|---|\n");
    let mut missing = String::new();
    for engine in engines {
        let ran: Vec<String> = engine["ran"].as_array().into_iter().flatten().map(cell).collect();
        out +=
            &format!("| {} | {} | {} |\n", cell(&engine["engine"]), cell(&engine["version"]), ran.join("; "));
        for gap in engine["could_not_run"].as_array().into_iter().flatten() {
            missing +=
                &format!("- {}: {} — {}\n", cell(&engine["engine"]), cell(&gap["what"]), cell(&gap["why"]));
        }
    }
    if !missing.is_empty() {
        out += "\nNot run there:\n\n";
        out += &missing;
    }
    Ok(out)
}

/// `readme` with the text between the markers replaced by `table`.
fn with_table(readme: &str, table: &str) -> Result<String, String> {
    let start =
        readme.find(START).ok_or("README.md lacks the supported-browsers start marker")? + START.len();
    let end = start + readme[start..].find(END).ok_or("README.md lacks the supported-browsers end marker")?;
    Ok(format!("{}{table}{}", &readme[..start], &readme[end..]))
}

/// The lint: the README's table is the rendering of docs/browsers.json.
pub fn check() -> Result<(), String> {
    let record: Value =
        serde_json::from_str(&read(&json_path())?).map_err(|e| format!("docs/browsers.json: {e}"))?;
    let readme = read(&readme_path())?;
    if with_table(&readme, &table(&record)?)? != readme {
        return Err("README.md's supported-browsers table differs from docs/browsers.json: the table is \
                    written by `cargo xtask test`, not by hand"
            .into());
    }
    Ok(())
}

/// "1 test", "12 tests".
pub fn tests_counted(n: usize) -> String {
    format!("{n} test{}", if n == 1 { "" } else { "s" })
}

/// Runs `cargo test` (a wasm suite), its output shown as it comes; the number of tests passed.
pub fn cargo_tests(command: &mut Command) -> Result<usize, String> {
    let mut child =
        command.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut passed = 0;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            // "test result: ok. 12 passed; 0 failed; 0 ignored; …"
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += rest
                    .split(". ")
                    .nth(1)
                    .and_then(|counts| counts.split(' ').next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{command:?} failed ({status})"));
    }
    Ok(passed)
}

/// What a node test run did (its TAP report), in all or within one `describe`.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub passed: usize,
    /// Name and reason of each skipped test.
    pub skipped: Vec<(String, String)>,
    /// The `describe`'s duration, when one was asked for.
    pub seconds: f64,
}

/// Reads node's TAP report: every test (suites left out), or those inside the top-level
/// `describe` named `within` (and its duration).
pub fn tap(report: &str, within: Option<&str>) -> Result<Tally, String> {
    let lines: Vec<&str> = report.lines().collect();
    let range = match within {
        None => 0..lines.len(),
        Some(name) => {
            let header = format!("# Subtest: {name}");
            let from =
                lines.iter().position(|l| *l == header).ok_or(format!("the test report has no `{name}`"))?;
            // Up to the describe's own result line, the first result back at the left margin
            // (a test's output comes as `# ` lines there too).
            let at_margin = |l: &&str| l.starts_with("ok ") || l.starts_with("not ok ");
            let to = from + 1 + lines[from + 1..].iter().position(at_margin).unwrap_or(0);
            from + 1..to
        }
    };
    let mut tally = Tally::default();
    // A result's YAML block: its duration, and whether it is a suite.
    let block = |at: usize| {
        lines[at + 1..].iter().skip(1).take_while(|l| l.trim() != "...").map(|l| l.trim()).collect::<Vec<_>>()
    };
    if let Some(name) = within {
        let end = block(range.end);
        if !lines.get(range.end).is_some_and(|l| l.starts_with("ok ") && l.ends_with(name)) {
            return Err(format!("the test report has a failure in `{name}`"));
        }
        tally.seconds = end
            .iter()
            .find_map(|l| l.strip_prefix("duration_ms: "))
            .and_then(|ms| ms.parse::<f64>().ok())
            .map_or(0.0, |ms| ms / 1000.0);
    }
    for at in range {
        let line = lines[at].trim_start();
        if line.starts_with("not ok ") {
            return Err(format!("the test report has a failure: {line}"));
        }
        let Some(rest) = line.strip_prefix("ok ") else { continue };
        if block(at).contains(&"type: 'suite'") {
            continue;
        }
        let name = rest.split_once(" - ").map_or(rest, |(_, name)| name);
        match name.split_once(" # SKIP") {
            Some((name, why)) => tally.skipped.push((name.to_owned(), why.trim().to_owned())),
            None => tally.passed += 1,
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "TAP version 13\n# Subtest: types\nok 1 - types\n  ---\n  duration_ms: 5.6\n  ...\n# Subtest: in WebKit\n    # Subtest: from a page\n        # Subtest: generate\n        ok 1 - generate\n          ---\n          duration_ms: 0.2\n          ...\n        1..1\n    ok 1 - from a page\n      ---\n      duration_ms: 0.3\n      type: 'suite'\n      ...\n    # Subtest: check\n    ok 1 - check\n      ---\n      duration_ms: 0.2\n      ...\n    # Subtest: quota\n    ok 2 - quota # SKIP no quota control\n      ---\n      duration_ms: 0.1\n      ...\n    1..2\n# clipcloud-gateway: shutting down\nok 2 - in WebKit\n  ---\n  duration_ms: 2500.5\n  type: 'suite'\n  ...\n# Subtest: offline\nok 3 - offline # SKIP Firefox's offline mode\n  ---\n  duration_ms: 0.1\n  ...\n1..3\n# pass 2\n";

    #[test]
    fn tap_reports_are_tallied_in_all_or_within_a_describe() {
        let top = tap(REPORT, None).unwrap();
        assert_eq!(top.passed, 3);
        let skipped: Vec<&str> = top.skipped.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(skipped, ["quota", "offline"]);
        assert_eq!(top.skipped[1].1, "Firefox's offline mode");
        let webkit = tap(REPORT, Some("in WebKit")).unwrap();
        assert_eq!(webkit.passed, 2, "generate and check; the describe between is no test");
        assert_eq!(webkit.skipped, [("quota".to_owned(), "no quota control".to_owned())]);
        assert_eq!(webkit.seconds, 2.5005);
        assert!(tap(REPORT, Some("in Safari")).is_err());
        assert!(tap("ok 1 - a\nnot ok 2 - b\n", None).is_err());
    }

    #[test]
    fn the_table_is_rendered_between_the_markers_only() {
        let record = json!({ "engines": [
            { "engine": "WebKitGTK", "version": "2.50.6", "ran": ["core client: 12 tests", "app end to end"],
              "could_not_run": [{ "what": "storage made small", "why": "no quota | control" }] },
        ]});
        let table = table(&record).unwrap();
        assert!(
            table.contains("| WebKitGTK | 2.50.6 | core client: 12 tests; app end to end |\n"),
            "{table}"
        );
        assert!(table.contains("- WebKitGTK: storage made small — no quota \\| control\n"), "{table}");
        let readme = format!("# Title\n\n{START}old table\n{END}\n\nmore\n");
        let updated = with_table(&readme, &table).unwrap();
        assert_eq!(updated, format!("# Title\n\n{START}{table}{END}\n\nmore\n"));
        assert!(with_table("no markers", &table).is_err());
    }
}
