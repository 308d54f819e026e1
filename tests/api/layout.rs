//! The layout of `src/` shows the layers, and the code keeps to them: each layer
//! imports only the layers below it, no two modules import each other (directly
//! or around a circle), and no file grows past 400 lines. Read from the source
//! files themselves, so that a change that breaks a rule fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A layer may import those before it.
const LAYERS: &[&[&str]] = &[
    &["platform"],
    &["engine"],
    &["content", "admin"],
    &["features"],
    &["app"],
];

/// The only file allowed past the limit: diesel's schema, which mirrors the
/// migrations.
const LONG_FILES: &[&str] = &["src/platform/db/schema.rs"];
const MAX_LINES: usize = 400;

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|layers| layers.contains(&layer))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A module as the rules see it: a layer and the unit in it (`platform::db`,
/// `engine::mod` for a layer's own `mod.rs` and what it declares inline).
type Unit = (String, String);

/// The unit a file belongs to.
fn unit_of(file: &Path) -> Option<Unit> {
    let relative = file.strip_prefix(src()).ok()?;
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [layer, unit, ..] => Some((layer.clone(), unit.clone())),
        _ => None,
    }
}

/// The unit a path `crate::layer::name...` names: `name` if it is a module of the
/// layer (a file or a folder), else the layer's own `mod.rs`.
fn unit_named(layer: &str, name: &str) -> Unit {
    let dir = src().join(layer);
    let is_module = dir.join(format!("{name}.rs")).exists() || dir.join(name).is_dir();
    let unit = if is_module { name } else { "mod" };
    (layer.to_owned(), unit.to_owned())
}

/// Every unit each unit imports (`crate::...` anywhere in its code).
fn imports() -> BTreeMap<Unit, BTreeSet<Unit>> {
    let mut graph: BTreeMap<Unit, BTreeSet<Unit>> = BTreeMap::new();
    for file in files(&src()) {
        let Some(from) = unit_of(&file) else { continue };
        let source = std::fs::read_to_string(&file).expect("read a source file");
        // Code only: what a comment names is not an import.
        let text: String = source
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let targets = graph.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let segment = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            let layer = segment(rest);
            let after = &rest[layer.len()..];
            let name = after.strip_prefix("::").map(segment).unwrap_or_default();
            if rank(&layer).is_none() {
                continue;
            }
            let to = unit_named(&layer, &name);
            if to != from {
                targets.insert(to);
            }
        }
    }
    graph
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let mut wrong = Vec::new();
    for (from, targets) in imports() {
        let Some(own) = rank(&from.0) else { continue };
        for to in targets {
            let theirs = rank(&to.0).unwrap_or(0);
            let same_layer_other_folder = theirs == own && to.0 != from.0;
            if theirs > own || same_layer_other_folder {
                wrong.push(format!("{}::{} imports {}::{}", from.0, from.1, to.0, to.1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_around_a_circle() {
    let graph = imports();
    // Depth-first search for a back edge, reporting the circle it closes.
    fn visit(
        unit: &Unit,
        graph: &BTreeMap<Unit, BTreeSet<Unit>>,
        path: &mut Vec<Unit>,
        done: &mut BTreeSet<Unit>,
        circles: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|u| u == unit) {
            let circle: Vec<String> = path[start..]
                .iter()
                .chain(std::iter::once(unit))
                .map(|(l, u)| format!("{l}::{u}"))
                .collect();
            circles.push(circle.join(" -> "));
            return;
        }
        if !done.insert(unit.clone()) {
            return;
        }
        path.push(unit.clone());
        for next in graph.get(unit).into_iter().flatten() {
            visit(next, graph, path, done, circles);
        }
        path.pop();
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for unit in graph.keys() {
        visit(unit, &graph, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn no_source_file_is_longer_than_four_hundred_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let long: Vec<String> = files(&src())
        .into_iter()
        .filter_map(|file| {
            let name = file.strip_prefix(root).ok()?.to_string_lossy().into_owned();
            let lines = std::fs::read_to_string(&file).ok()?.lines().count();
            (lines > MAX_LINES && !LONG_FILES.contains(&name.as_str()))
                .then(|| format!("{name}: {lines} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn lib_declares_a_dozen_top_level_modules_at_most() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let modules = lib.lines().filter(|l| l.starts_with("pub mod ")).count();
    assert!(
        (1..=12).contains(&modules),
        "lib.rs declares {modules} modules"
    );
}

/// The code of a source file with string and character literals and comments
/// blanked out (their line breaks kept), so that braces can be counted.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if c == '/' && next == '/' {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == '*' {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                out.push(blank(chars[i]));
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (next == '"' || next == '#')
            && !chars[i.saturating_sub(1)].is_alphanumeric()
        {
            // A raw string: r"...", r#"..."#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(chars[i..j.min(chars.len())].iter().map(|c| blank(*c)));
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(blank(chars.get(i).copied().unwrap_or(' ')));
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '\''
            && (chars.get(i + 2) == Some(&'\'')
                || (next == '\\' && chars.get(i + 3) == Some(&'\'')))
        {
            // A character literal: 'x' or '\n' (not a lifetime).
            let end = if next == '\\' { i + 4 } else { i + 3 };
            out.extend(std::iter::repeat_n(' ', end - i));
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_eighty_lines() {
    const MAX_FN_LINES: usize = 80;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for file in files(&src()) {
        let source = std::fs::read_to_string(&file).expect("read a source file");
        let code = code_only(&source);
        let lines: Vec<&str> = code.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "async fn ",
                "pub async fn ",
                "const fn ",
                "pub const fn ",
            ]
            .iter()
            .any(|prefix| trimmed.starts_with(prefix));
            if !is_fn {
                continue;
            }
            // The body: from the first `{` after the signature to its match.
            let mut depth = 0i32;
            let mut opened = false;
            let mut end = start;
            'scan: for (at, text) in lines.iter().enumerate().skip(start) {
                for c in text.chars() {
                    match c {
                        ';' if !opened && depth == 0 => break 'scan,
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if opened && depth == 0 {
                        end = at;
                        break 'scan;
                    }
                }
            }
            let length = end + 1 - start;
            if opened && length > MAX_FN_LINES {
                let name = file.strip_prefix(root).unwrap_or(&file).display();
                long.push(format!(
                    "{name}:{}: {} lines: {}",
                    start + 1,
                    length,
                    trimmed
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}
