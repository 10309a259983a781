//! The gateway's layout rules (DESIGN §3), read from the source: one folder per feature, no
//! import cycle between feature folders, and no feature calling another feature's handlers
//! (its `api`, `pages` or `cli` modules). `app` (the route table, the server, the shared
//! plumbing) and `ui` (what every page shares) are not features; the command line's root
//! (`cli.rs`) and `app` put the features together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules that are not features.
const NOT_FEATURES: [&str; 2] = ["app", "ui"];
/// A feature's modules that only the composition (routes, the command line) may name.
const HANDLER_MODULES: [&str; 3] = ["api", "pages", "cli"];

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the source directory is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Feature folders: the directories directly under `src/`, less `app` and `ui`.
fn features() -> BTreeSet<String> {
    std::fs::read_dir(source_dir())
        .expect("the source directory is readable")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !NOT_FEATURES.contains(&name.as_str()))
        .collect()
}

/// Every `crate::a::b…` path a file names, as its segments: in `use` trees (braces expanded,
/// `use crate::{a, b::{c, d}}`) and inline in code. Comments are left out.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_word = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if !preceded_by_word {
            use_tree(rest, &[], &mut paths);
        }
    }
    paths
}

/// The paths of one use tree (or inline path) at the start of `text`, each after `prefix`.
fn use_tree(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut segments = prefix.to_vec();
    let mut rest = text.trim_start();
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            for item in top_level_items(group) {
                use_tree(item, &segments, out);
            }
            return;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        if &rest[..end] != "self" {
            segments.push(rest[..end].to_owned());
        }
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    if segments.len() > prefix.len()
        || (!segments.is_empty() && text.trim_start().starts_with("self"))
    {
        out.push(segments);
    }
}

/// The comma-separated items of a brace group whose opening brace was just read, up to its
/// closing brace.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..at]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

/// Which feature (or `app`, `ui`, the crate root) a source file belongs to.
fn owner(file: &Path) -> String {
    let relative = file
        .strip_prefix(source_dir())
        .expect("files come from the source directory");
    let mut components = relative.components();
    let first = components
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    if components.next().is_some() {
        first
    } else {
        // lib.rs, main.rs, cli.rs: the crate root.
        String::new()
    }
}

/// The feature imports among feature folders: from → (to → the files that import it).
fn feature_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let features = features();
    let mut files = Vec::new();
    rust_files(&source_dir(), &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let from = owner(&file);
        if !features.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source files are UTF-8");
        for path in crate_paths(&text) {
            let to = &path[0];
            if to != &from && features.contains(to) {
                let shown = file
                    .strip_prefix(source_dir())
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to.clone())
                    .or_default()
                    .insert(shown);
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one: the features in order, `start` first.
fn cycle_through(
    graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    start: &str,
) -> Option<Vec<String>> {
    // Depth-first search for a path from start's successors back to start.
    fn search(
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if search(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    search(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn feature_folders_import_each_other_without_a_cycle() {
    let graph = feature_graph();
    let mut cycles = Vec::new();
    let mut reported = BTreeSet::new();
    for start in graph.keys() {
        if reported.contains(start) {
            continue;
        }
        if let Some(cycle) = cycle_through(&graph, start) {
            let mut shown = Vec::new();
            for (i, from) in cycle.iter().enumerate() {
                let to = &cycle[(i + 1) % cycle.len()];
                let files: Vec<&String> = graph[from][to].iter().collect();
                shown.push(format!("{from} → {to} (in {files:?})"));
                reported.insert(from.clone());
            }
            cycles.push(shown.join(", "));
        }
    }
    assert!(
        cycles.is_empty(),
        "feature folders import each other in a cycle:\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn no_feature_calls_another_features_handlers() {
    let features = features();
    let mut files = Vec::new();
    rust_files(&source_dir(), &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let from = owner(&file);
        if !features.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source files are UTF-8");
        for path in crate_paths(&text) {
            if path.len() >= 2
                && path[0] != from
                && features.contains(&path[0])
                && HANDLER_MODULES.contains(&path[1].as_str())
            {
                wrong.push(format!(
                    "{} uses crate::{}",
                    file.strip_prefix(source_dir()).unwrap_or(&file).display(),
                    path.join("::")
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "a feature calls another feature's handlers (call its operations instead):\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn ui_imports_no_feature() {
    let features = features();
    let mut files = Vec::new();
    rust_files(&source_dir().join("ui"), &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source files are UTF-8");
        for path in crate_paths(&text) {
            if features.contains(&path[0]) {
                wrong.push(format!(
                    "{} uses crate::{}",
                    file.display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ui/ is shared by every feature and must not depend on one:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_checks_see_imports() {
    // The parser the checks rely on finds grouped, nested and inline paths, and skips comments.
    let text = "use crate::{sessions, devices::{self, cli::print_lent}};\n\
                // crate::work is only mentioned\n\
                let a = crate::vendors::vendor(1);\n\
                use crate::app::state::AppState;";
    let paths: Vec<String> = crate_paths(text).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        [
            "sessions",
            "devices",
            "devices::cli::print_lent",
            "vendors::vendor",
            "app::state::AppState"
        ]
    );
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .entry(to.to_owned())
            .or_default()
            .insert("f.rs".to_owned());
    }
    assert_eq!(
        cycle_through(&graph, "a"),
        Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
    );
    assert_eq!(cycle_through(&graph, "d"), None);
}
