//! The layer check of a crate: reads every file of its src/, takes each
//! `crate::` and `super::` path (in `use` lines, multi-line groups
//! included, and in code), and fails on a cycle between the crate's layers
//! or on an edge that does not go down lib.rs's layer list.
//!
//! The layer list is lib.rs's doc lines `//! - `a`, `b`: what they are`,
//! bottom first. An entry is a top-level module (`env`) or a sub-module
//! (`serve::config`): a sub-module entry is a layer of its own, apart from
//! its parent, so a leaf of a high module can sit low (its parent may use
//! it; it may not use its parent). Every top-level module lib.rs declares
//! must be listed.
//!
//! Comments, strings and character literals are skipped (doc links do not
//! count). A path through the crate root (`crate::Proxy`) counts as a use
//! of the module lib.rs re-exports it from; a path to an item lib.rs itself
//! defines (`crate::http_client`) or to a re-exported crate counts as no
//! layer. A `<name>_tests.rs` file of src/ (a module's tests, by `#[path]`)
//! counts as `tests`; main.rs and src/bin/ are binaries, not the library,
//! and are not read. `super::` inside an inline `mod name { }` (a file's
//! tests) starts from that inline module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod tokens;

use tokens::{Token, tokens};

/// One use of another layer: where it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    at: String,
}

/// Every path that starts at token `i` (just after `crate::`/`super::`),
/// as its names: one path, or one per item of a `{ }` group (nested
/// groups included). A name is kept only up to where the path ends or a
/// non-name follows (`*`, `self` is kept as a name).
fn paths(tokens: &[(Token, usize)], i: usize) -> Vec<Vec<String>> {
    match tokens.get(i) {
        Some((Token::Ident(name), _)) => {
            let rest = if tokens.get(i + 1).map(|t| &t.0) == Some(&Token::Path) { paths(tokens, i + 2) } else { Vec::new() };
            if rest.is_empty() {
                vec![vec![name.clone()]]
            } else {
                rest.into_iter().map(|r| std::iter::once(name.clone()).chain(r).collect()).collect()
            }
        }
        Some((Token::Open, _)) => {
            let (mut out, mut depth, mut k) = (Vec::new(), 0, i);
            while let Some((token, _)) = tokens.get(k) {
                match token {
                    Token::Open => depth += 1,
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                // An item starts just after the group's `{` or one of its commas.
                if depth == 1 && matches!(token, Token::Open | Token::Comma) && !(k > i && *token == Token::Open) {
                    out.extend(paths(tokens, k + 1));
                }
                k += 1;
            }
            out
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

/// What lib.rs declares: its top-level modules, the module each name it
/// re-exports comes from, and the items it defines itself.
struct Root {
    modules: BTreeSet<String>,
    reexports: BTreeMap<String, String>,
    items: BTreeSet<String>,
}

fn root(lib: &str) -> Root {
    let tokens = tokens(lib);
    let mut root = Root { modules: BTreeSet::new(), reexports: BTreeMap::new(), items: BTreeSet::new() };
    let ident = |k: usize| match tokens.get(k) {
        Some((Token::Ident(name), _)) => Some(name.as_str()),
        _ => None,
    };
    for (i, (token, _)) in tokens.iter().enumerate() {
        let Token::Ident(word) = token else { continue };
        match (word.as_str(), ident(i + 1)) {
            ("mod", Some(name)) => {
                root.modules.insert(name.to_string());
            }
            ("fn" | "struct" | "enum" | "const" | "static" | "type" | "trait", Some(name)) => {
                root.items.insert(name.to_string());
            }
            ("use", Some(module)) => {
                let mut k = i + 2;
                while let Some((token, _)) = tokens.get(k) {
                    if let Token::Ident(name) = token
                        && matches!(tokens.get(k + 1), Some((Token::Comma | Token::Close | Token::Semicolon, _)))
                    {
                        root.reexports.insert(name.clone(), module.to_string());
                    }
                    if *token == Token::Semicolon {
                        break;
                    }
                    k += 1;
                }
            }
            _ => {}
        }
    }
    root
}

/// The layer list of lib.rs (`//! - `a`, `b`: ...`): each entry's layer,
/// bottom first.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    let lines = lib.lines().filter_map(|l| l.strip_prefix("//! - "));
    for (layer, line) in lines.enumerate() {
        let mut rest = line;
        while let Some(after) = rest.strip_prefix('`')
            && let Some((name, tail)) = after.split_once('`')
        {
            layers.insert(name.to_string(), layer);
            match tail.strip_prefix(", ") {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
    layers
}

/// The layer a module path belongs to: its longest prefix that is a
/// layer-list entry, else its top-level module.
fn unit(path: &[String], layers: &BTreeMap<String, usize>) -> String {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|prefix| layers.contains_key(prefix)).unwrap_or_else(|| path[0].clone())
}

/// Every use of one layer by another, in the sources given as (module
/// path, file name, text); an error for a root path that names nothing
/// lib.rs declares, re-exports or defines.
fn edges(files: &[(Vec<String>, String, String)], root: &Root, layers: &BTreeMap<String, usize>) -> Result<Vec<Edge>, String> {
    let mut edges = Vec::new();
    for (path, name, text) in files {
        if path.is_empty() {
            continue;
        }
        let from = unit(path, layers);
        let tokens = tokens(text);
        // The inline `mod name { }` blocks around the token, each with the
        // brace depth it opened at: `super::` starts from the innermost.
        let (mut depth, mut inline) = (0usize, Vec::<(String, usize)>::new());
        for i in 0..tokens.len() {
            match &tokens[i].0 {
                Token::Open => {
                    depth += 1;
                    if let (Some((Token::Ident(word), _)), Some((Token::Ident(name), _))) =
                        (tokens.get(i.wrapping_sub(2)), tokens.get(i.wrapping_sub(1)))
                        && word == "mod"
                    {
                        inline.push((name.clone(), depth));
                    }
                }
                Token::Close => {
                    if inline.last().is_some_and(|(_, opened)| *opened == depth) {
                        inline.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            let here: Vec<String> = path.iter().cloned().chain(inline.iter().map(|(name, _)| name.clone())).collect();
            let base = match &tokens[i].0 {
                Token::Ident(word) if word == "crate" => Vec::new(),
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
                    here[..here.len().saturating_sub(up)].to_vec()
                }
                _ => continue,
            };
            if tokens.get(i + 1).map(|t| &t.0) != Some(&Token::Path) {
                continue;
            }
            let mut k = i + 2;
            while matches!(&tokens.get(k), Some((Token::Ident(w), _)) if w == "super") {
                k += 2;
            }
            for names in paths(&tokens, k) {
                let mut target: Vec<String> = base.iter().cloned().chain(names).filter(|n| n != "self").collect();
                let Some(first) = target.first().cloned() else { continue };
                if base.is_empty() && !root.modules.contains(&first) {
                    if let Some(module) = root.reexports.get(&first) {
                        target = vec![module.clone()];
                    } else if root.items.contains(&first) {
                        continue;
                    } else {
                        return Err(format!(
                            "{name}:{}: crate root path to `{first}`, which lib.rs neither declares, re-exports nor defines",
                            tokens[i].1
                        ));
                    }
                }
                let to = unit(&target, layers);
                if to != from {
                    edges.push(Edge { from: from.clone(), to, at: format!("{name}:{}", tokens[i].1) });
                }
            }
        }
    }
    Ok(edges)
}

/// A cycle among the layers, if there is one, as the layers along it.
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

/// Everything wrong with the layers of the sources given as (module path,
/// file name, text), lib.rs's text being `lib`.
pub fn problems_of(lib: &str, files: &[(Vec<String>, String, String)]) -> Vec<String> {
    let root = root(lib);
    let layers = layers(lib);
    let edges = match edges(files, &root, &layers) {
        Ok(edges) => edges,
        Err(e) => return vec![e],
    };
    let mut problems: Vec<String> = files
        .iter()
        .filter_map(|(path, name, _)| {
            path.first().filter(|m| !root.modules.contains(*m)).map(|m| format!("{name}: in `{m}`, which lib.rs does not declare"))
        })
        .collect();
    if let Some(cycle) = cycle(&edges) {
        problems.push(format!("import cycle: {}", cycle.join(" -> ")));
    }
    for module in &root.modules {
        if !layers.contains_key(module) {
            problems.push(format!("module `{module}` is missing from lib.rs's layer list"));
        }
    }
    for entry in layers.keys() {
        let top = entry.split("::").next().unwrap_or_default();
        if !root.modules.contains(top) {
            problems.push(format!("lib.rs's layer list names `{entry}`, but lib.rs declares no module `{top}`"));
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

/// Everything wrong with the layers of the library whose sources are in
/// `src` (its lib.rs and every module file under it); empty when all is
/// well. Panics only on an unreadable src/ (a test's setup).
pub fn problems(src: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    let files: Vec<_> = paths
        .iter()
        .filter(|p| {
            let relative = p.strip_prefix(src).unwrap_or(p);
            relative != Path::new("main.rs") && !relative.starts_with("bin")
        })
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (module_path(src, p), p.strip_prefix(src).unwrap_or(p).display().to_string(), text)
        })
        .collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_else(|e| panic!("reading {}: {e}", src.join("lib.rs").display()));
    problems_of(&lib, &files)
}

/// How many files [`problems`] reads under `src` (a test checks it read them).
pub fn files_read(src: &Path) -> usize {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.len()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())).path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> (Vec<String>, String, String) {
        (path.split('/').map(String::from).collect(), path.to_string(), text.to_string())
    }

    /// The check itself finds what it is for: a back edge written as a
    /// multi-line group, and a path in code; comments and strings do not count.
    #[test]
    fn a_back_edge_is_found() {
        let lib = "//! - `low`: ...\n//! - `high`: ...\nmod low;\nmod high;\npub use high::Top;\n";
        let high = file("high", "use crate::{\n    low::{self, Thing},\n};\n// crate::nothing\nconst S: &str = \"crate::nothing\";\n");
        assert_eq!(problems_of(lib, &[high.clone(), file("low", "fn f() -> char { '\"' }\n")]), Vec::<String>::new());
        let back = file("low", "fn f() {\n    let _ = super::high::g();\n}\n");
        assert_eq!(
            problems_of(lib, &[high.clone(), back]),
            ["import cycle: high -> low -> high", "low:2: `low` uses `high`, which is not below it in lib.rs's layer list"]
        );
        let through_root = file("low/part", "use crate::{\n    Top,\n};\n");
        assert_eq!(problems_of(lib, &[high.clone(), through_root]).len(), 2, "crate::Top is high's");
        let inline_tests = file("low/part", "fn g() {}\nmod tests {\n    use super::super::Thing;\n}\nfn h() { super::Thing }\n");
        assert_eq!(problems_of(lib, &[high, inline_tests]), Vec::<String>::new(), "super::super of low::part::tests is low");
    }

    /// A sub-module entry is a layer of its own: below its parent, it may
    /// be used by a layer between them, and may not use its parent.
    #[test]
    fn a_sub_module_is_a_layer_of_its_own() {
        let lib = "//! - `serve::config`: leaf\n//! - `scenario`: ...\n//! - `serve`: ...\nmod scenario;\nmod serve;\npub fn helper() {}\n";
        let scenario = file("scenario", "use crate::serve::config::Mode;\nfn f() { crate::helper() }\n");
        let serve = file("serve", "use crate::scenario::Scenario;\nuse self::config::Mode;\n");
        let handlers = file("serve/handlers", "use super::{config::Mode, mod_item};\n");
        let config = file("serve/config", "use super::super::scenario::X;\n");
        assert_eq!(problems_of(lib, &[scenario.clone(), serve.clone(), handlers.clone()]), Vec::<String>::new());
        assert_eq!(
            problems_of(lib, &[scenario.clone(), serve.clone(), handlers, config]),
            [
                "import cycle: scenario -> serve::config -> scenario",
                "serve/config:1: `serve::config` uses `scenario`, which is not below it in lib.rs's layer list"
            ]
        );
        let up = file("serve/config", "use super::handlers::X;\n");
        assert_eq!(
            problems_of(lib, &[scenario, serve, up]),
            [
                "import cycle: scenario -> serve::config -> serve -> scenario",
                "serve/config:1: `serve::config` uses `serve`, which is not below it in lib.rs's layer list"
            ]
        );
        let unknown = file("scenario", "fn f() { crate::nowhere() }\n");
        assert_eq!(
            problems_of(lib, &[unknown]),
            ["scenario:1: crate root path to `nowhere`, which lib.rs neither declares, re-exports nor defines"]
        );
    }
}
