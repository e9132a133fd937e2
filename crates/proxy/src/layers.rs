//! The layer check: reads every file of src/, takes each `crate::` and
//! `super::` path that leaves its top-level module (in `use` lines, multi-line
//! groups included, and in code), and fails on a cycle between top-level
//! modules or on an edge that does not go down lib.rs's layer list.
//!
//! Comments, strings and character literals are skipped (doc links do not
//! count). A path through the crate root (`crate::Proxy`) counts as a use
//! of the module lib.rs re-exports it from. A `<name>_tests.rs` file of
//! src/ (a module's tests, by `#[path]`) counts as `tests`. Limit: `super::` inside an
//! inline `mod { }` of a top-level file is read as the crate root; a name
//! that is then neither a module nor a re-export fails the test loudly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One use of another top-level module: where it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    at: String,
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Semicolon,
    Other,
}

/// The tokens of Rust source that matter here, with the line of each;
/// comments, strings and characters are dropped.
fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            line += usize::from(c == '\n');
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' || ((c == 'r' || c == 'b') && matches!((at(i + 1), at(i + 2)), ('"', _) | ('#', _) | ('r', '"') | ('r', '#'))) {
            // A string: plain, byte, or raw with any number of #.
            let mut j = i;
            while chars[j] != '"' && chars[j] != '#' {
                j += 1;
            }
            let raw = j > i && chars[j - 1] == 'r';
            let hashes = chars[j..].iter().take_while(|&&h| h == '#').count();
            if !raw && hashes > 0 {
                // `r#ident`, `b#`...: not a string.
                out.push((Token::Other, line));
                i += 1;
                continue;
            }
            i = j + hashes + 1;
            while i < chars.len() {
                if !raw && chars[i] == '\\' {
                    i += 2;
                    continue;
                }
                line += usize::from(chars[i] == '\n');
                if chars[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c == '\'' {
            // A character literal, or a lifetime (left as nothing).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else {
            let token = match c {
                ':' if at(i + 1) == ':' => Token::Path,
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semicolon,
                _ => Token::Other,
            };
            i += if token == Token::Path { 2 } else { 1 };
            out.push((token, line));
        }
    }
    out
}

/// The first name of each path that `crate::`/`super::` starts at token
/// `i` (just after the `::`): one name, or one per item of a `{ }` group.
fn first_names(tokens: &[(Token, usize)], mut i: usize) -> Vec<String> {
    match tokens.get(i) {
        Some((Token::Ident(name), _)) => vec![name.clone()],
        Some((Token::Open, _)) => {
            let (mut names, mut depth, mut expect) = (Vec::new(), 0, true);
            while let Some((token, _)) = tokens.get(i) {
                match token {
                    Token::Open => {
                        depth += 1;
                        expect = depth == 1;
                    }
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Token::Comma => expect = depth == 1,
                    Token::Ident(name) if expect => {
                        names.push(name.clone());
                        expect = false;
                    }
                    _ => expect = false,
                }
                i += 1;
            }
            names
        }
        _ => Vec::new(),
    }
}

/// The module path of a file of src/: `kafka/mod.rs` is `kafka`,
/// `protocol/aim.rs` `protocol::aim`, `lib.rs` the root.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src/").with_extension("");
    let mut path: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    // `<module>_tests.rs` beside a top-level module is its tests
    // (`#[path]`): test code, at the top with `tests`, since a test may
    // drive a module through the layers above it (a whole proxy).
    if let Some(first) = path.first_mut()
        && first.ends_with("_tests")
    {
        *first = "tests".to_string();
    }
    path
}

/// lib.rs's top-level modules and, for each name it re-exports, the module
/// it comes from.
fn root(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let tokens = tokens(lib);
    let (mut modules, mut reexports) = (BTreeSet::new(), BTreeMap::new());
    for (i, (token, _)) in tokens.iter().enumerate() {
        let ident = |k: usize| match tokens.get(k) {
            Some((Token::Ident(name), _)) => Some(name.as_str()),
            _ => None,
        };
        if *token == Token::Ident("mod".into())
            && let Some(name) = ident(i + 1)
        {
            modules.insert(name.to_string());
        }
        if *token == Token::Ident("use".into())
            && let Some(module) = ident(i + 1)
        {
            let mut k = i + 2;
            while let Some((token, _)) = tokens.get(k) {
                if let Token::Ident(name) = token
                    && matches!(tokens.get(k + 1), Some((Token::Comma | Token::Close | Token::Semicolon, _)))
                {
                    reexports.insert(name.clone(), module.to_string());
                }
                if *token == Token::Semicolon {
                    break;
                }
                k += 1;
            }
        }
    }
    (modules, reexports)
}

/// Every use of one top-level module by another, in the sources given as
/// (module path, file name, text); an error for a root path that names
/// nothing lib.rs declares or re-exports.
fn edges(
    files: &[(Vec<String>, String, String)],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Result<Vec<Edge>, String> {
    let mut edges = Vec::new();
    for (path, name, text) in files {
        let Some(from) = path.first() else { continue };
        let tokens = tokens(text);
        for i in 0..tokens.len() {
            let base = match &tokens[i].0 {
                Token::Ident(word) if word == "crate" => Some(Vec::new()),
                Token::Ident(word) if word == "super" && (i == 0 || tokens[i - 1].0 != Token::Path) => {
                    // `super::super::...`: one step up per `super`.
                    let mut up = 0;
                    let mut k = i;
                    while matches!(&tokens.get(k), Some((Token::Ident(w), _)) if w == "super")
                        && tokens.get(k + 1).map(|t| &t.0) == Some(&Token::Path)
                    {
                        up += 1;
                        k += 2;
                    }
                    Some(path[..path.len().saturating_sub(up)].to_vec())
                }
                _ => None,
            };
            let Some(base) = base else { continue };
            if tokens.get(i + 1).map(|t| &t.0) != Some(&Token::Path) || !base.is_empty() {
                continue;
            }
            let mut k = i + 2;
            while matches!(&tokens.get(k), Some((Token::Ident(w), _)) if w == "super") {
                k += 2;
            }
            for first in first_names(&tokens, k) {
                let to = if modules.contains(&first) {
                    first
                } else if let Some(module) = reexports.get(&first) {
                    module.clone()
                } else if first == "self" {
                    continue;
                } else {
                    return Err(format!(
                        "{name}:{}: crate root path to `{first}`, which lib.rs neither declares nor re-exports",
                        tokens[i].1
                    ));
                };
                if to != *from {
                    edges.push(Edge { from: from.clone(), to, at: format!("{name}:{}", tokens[i].1) });
                }
            }
        }
    }
    Ok(edges)
}

/// A cycle among the modules, if there is one, as the modules along it.
fn cycle(edges: &[Edge]) -> Option<Vec<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for edge in edges {
        graph.entry(&edge.from).or_default().insert(&edge.to);
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            return Some(stack[at..].iter().chain([&node]).map(|n| n.to_string()).collect());
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, &graph, &mut Vec::new(), &mut done))
}

/// The layer of each module, from lib.rs's list (`//! - `a`, `b`: ...`),
/// bottom first.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    let lines = lib.lines().filter_map(|l| l.strip_prefix("//! - `"));
    for (layer, line) in lines.enumerate() {
        let names = line.split(':').next().unwrap_or_default();
        for name in names.split(',') {
            layers.insert(name.trim().trim_matches('`').to_string(), layer);
        }
    }
    layers
}

/// Everything wrong with the module graph of the sources.
fn problems(lib: &str, files: &[(Vec<String>, String, String)]) -> Vec<String> {
    let (modules, reexports) = root(lib);
    let edges = match edges(files, &modules, &reexports) {
        Ok(edges) => edges,
        Err(e) => return vec![e],
    };
    let mut problems: Vec<String> = files
        .iter()
        .filter_map(|(path, name, _)| {
            path.first().filter(|m| !modules.contains(*m)).map(|m| format!("{name}: in `{m}`, which lib.rs does not declare"))
        })
        .collect();
    if let Some(cycle) = cycle(&edges) {
        problems.push(format!("import cycle: {}", cycle.join(" -> ")));
    }
    let layers = layers(lib);
    for module in &modules {
        if !layers.contains_key(module) {
            problems.push(format!("module `{module}` is missing from lib.rs's layer list"));
        }
    }
    for edge in &edges {
        if let (Some(from), Some(to)) = (layers.get(&edge.from), layers.get(&edge.to))
            && to >= from
        {
            problems.push(format!("{}: `{}` uses `{}`, which is not below it in lib.rs's layer list", edge.at, edge.from, edge.to));
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<_> = paths
        .iter()
        .map(|p| (module_path(&src, p), p.strip_prefix(&src).unwrap().display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(files.len() > 40, "read {} files of {}", files.len(), src.display());
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let problems = problems(&lib, &files);
    assert!(problems.is_empty(), "the proxy's layers are broken:\n{}", problems.join("\n"));
}

/// The check itself finds what it is for: a back edge written as a
/// multi-line group, and a path in code; comments and strings do not count.
#[test]
fn a_back_edge_is_found() {
    let lib = "//! - `low`: ...\n//! - `high`: ...\nmod low;\nmod high;\npub use high::Top;\n";
    let file = |path: &str, text: &str| (path.split('/').map(String::from).collect::<Vec<_>>(), path.to_string(), text.to_string());
    let high = file("high", "use crate::{\n    low::{self, Thing},\n};\n// crate::nothing\nconst S: &str = \"crate::nothing\";\n");
    assert_eq!(problems(lib, &[high.clone(), file("low", "fn f() -> char { '\"' }\n")]), Vec::<String>::new());
    let back = file("low", "fn f() {\n    let _ = super::high::g();\n}\n");
    assert_eq!(
        problems(lib, &[high.clone(), back]),
        ["import cycle: high -> low -> high", "low:2: `low` uses `high`, which is not below it in lib.rs's layer list"]
    );
    let through_root = file("low/part", "use crate::{\n    Top,\n};\n");
    assert_eq!(problems(lib, &[high, through_root]).len(), 2, "crate::Top is high's");
}
