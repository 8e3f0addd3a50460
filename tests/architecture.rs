//! The crate's shape, checked: the module graph has no cycle, every arrow between the layers
//! points down, and no source file grows past 800 lines. Read from `src/` as text, so it needs
//! no server and no tool beyond the test binary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use only modules of a lower rank (or its own
/// folder). Two layers of the same rank must not use each other.
const LAYERS: &[(&str, u8)] = &[
    ("content", 0),
    ("cli", 0),
    ("settings", 1),
    ("aws", 1),
    ("site", 2),
    ("store", 2),
    ("cdn", 2),
    ("plan", 3),
    ("report", 4),
    ("error", 5),
    ("run", 6),
    ("app", 7),
];

/// Most lines a source file may have.
const MAX_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the library (`a::b`), with the text of its file.
fn modules() -> BTreeMap<String, String> {
    let root = src();
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(&root) {
        let e = e.unwrap();
        let path = e.path();
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&root).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts == ["main"] || parts == ["lib"] {
            continue;
        }
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        out.insert(parts.join("::"), std::fs::read_to_string(path).unwrap());
    }
    out
}

/// The text with comments and the contents of string and char literals removed, so a path in
/// a doc comment or a message is not taken for a use.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The modules `module` (whose text is `text`) refers to through `crate::`, `super::` and
/// `s3site::` paths, resolved to the longest module each path names.
fn uses(module: &str, text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code_only(text);
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[at - 1])) {
                continue;
            }
            let base: Vec<String> = if start == "crate::" {
                Vec::new()
            } else {
                let mut m: Vec<String> = module.split("::").map(str::to_string).collect();
                m.pop();
                m
            };
            // The path after the start: `a::b::c`, maybe ending in `::{x, y::z}`.
            let rest = &code[from..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let mut segs = base;
            for seg in rest[..end].split("::").filter(|s| !s.is_empty()) {
                if seg == "super" {
                    segs.pop();
                } else {
                    segs.push(seg.to_string());
                }
            }
            let mut targets = vec![segs.clone()];
            if rest[end..].starts_with('{') {
                let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
                for item in rest[end + 1..close].split(',') {
                    let first = item.trim().split("::").next().unwrap_or("").trim();
                    if !first.is_empty() && first != "self" && first != "*" {
                        let mut t = segs.clone();
                        t.push(first.to_string());
                        targets.push(t);
                    }
                }
            }
            for t in targets {
                if let Some(m) = longest_module(&t, known) {
                    found.insert(m);
                }
            }
        }
    }
    found
}

fn longest_module(segs: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=segs.len())
        .rev()
        .map(|n| segs[..n].join("::"))
        .find(|m| known.contains(m))
}

/// Whether `a` is `b` or inside it (`store::s3` is inside `store`).
fn within(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::"))
}

/// The arrows between modules: `a` uses `b`, where `b` is not `a` itself or a folder `a` is
/// in (a submodule is part of its parent, and `super::` is how it says so).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(m, text)| {
            let to = uses(m, text, &known)
                .into_iter()
                .filter(|t| !within(m, t))
                .collect();
            (m.clone(), to)
        })
        .collect()
}

/// A cycle in `g`, if there is one, as the modules along it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut done, &mut Vec::new()))
}

fn top(m: &str) -> &str {
    m.split("::").next().unwrap_or(m)
}

fn rank(layer: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| {
            panic!("module '{layer}' is in no layer: add it to LAYERS in tests/architecture.rs")
        })
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 20, "read {} modules: is src/ there?", g.len());
    if let Some(cycle) = find_cycle(&g) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn every_arrow_between_layers_points_down() {
    let mut wrong = Vec::new();
    for (from, tos) in graph() {
        for to in tos {
            let (a, b) = (top(&from), top(&to));
            if a != b && rank(b) >= rank(a) {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows against the layers ({}):\n{}",
        LAYERS
            .iter()
            .map(|(l, r)| format!("{l}={r}"))
            .collect::<Vec<_>>()
            .join(" "),
        wrong.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let long: Vec<String> = walkdir::WalkDir::new(src())
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter_map(|e| {
            let n = std::fs::read_to_string(e.path()).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", e.path().display()))
        })
        .collect();
    assert!(long.is_empty(), "split along their ideas: {long:?}");
}

/// The checker itself: a cycle and a `super::` path are seen.
#[test]
fn the_checker_sees_paths_and_cycles() {
    let known: BTreeSet<String> = ["a", "a::x", "b", "c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let text = "use crate::a::{x::Thing, Other};\nfn f() { super::c::g(); }\n// crate::b::nope\n";
    let u = uses("b::y", text, &known);
    assert_eq!(
        u.into_iter().collect::<Vec<_>>(),
        ["a", "a::x", "b"],
        "super::c from b::y is b::c, which does not exist: b"
    );
    let u = uses(
        "c::y",
        "let s = \"crate::b::X\"; super::super::b::f();",
        &known,
    );
    assert_eq!(u.into_iter().collect::<Vec<_>>(), ["b"]);
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}
