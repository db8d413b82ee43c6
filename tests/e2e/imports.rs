//! No crate's source files name each other in a loop.
//!
//! A loop between two files (`a.rs` uses `b.rs` and `b.rs` uses `a.rs`)
//! means neither can be read, tested or moved without the other: the seam
//! between them is in the wrong place. This reads every crate's `src/`
//! with `syn` and follows each path that names a module of the same crate
//! (`crate::`, `super::`, `self::`, in `use` items and in code) to the file
//! that module lives in. Tests inside a file (`#[cfg(test)]` modules) and
//! `src/bin/` are left out; a bare `mod x; pub use x::Y;` re-export is not
//! an edge (it is how a folder presents its parts, not a dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dmr_tests::repo_root;
use syn::visit::Visit;

/// A module's path inside its crate: `["parse", "header"]`; the crate root is empty.
type Module = Vec<String>;

#[test]
fn no_crate_has_an_import_cycle() {
    let mut found = Vec::new();
    let crates = crate_folders();
    assert!(crates.len() >= 7, "the workspace's crates: {crates:?}");
    for krate in &crates {
        let graph = import_graph(&repo_root().join(krate).join("src"));
        // Every crate has several files, and one of them names another:
        // a graph without edges would mean the sources were not read.
        let edges: usize = graph.values().map(BTreeSet::len).sum();
        eprintln!(
            "{krate}/src: {} files, {edges} imports between them",
            graph.len()
        );
        assert!(graph.len() > 1 && edges > 0, "{krate}/src: nothing read");
        found.extend(cycles(&graph).into_iter().map(|cycle| {
            let names: Vec<String> = cycle.iter().map(|m| display(krate, m)).collect();
            names.join(", ")
        }));
    }
    assert!(
        found.is_empty(),
        "files that import each other in a loop (one set a line):\n{}",
        found.join("\n")
    );
}

/// The checker itself: the loop `answer.rs` ↔ `http.rs` the gateway once had
/// is found, and a child naming its parent alone is not a loop.
#[test]
fn a_loop_between_two_files_is_found() {
    let files = [
        (
            module(&["http"]),
            "use crate::answer::too_large; pub fn stopped() {}",
        ),
        (
            module(&["answer"]),
            "use crate::http::MAX_HEADERS; pub fn too_large() {}",
        ),
        (module(&["parse"]), "mod header; pub use header::Header;"),
        (
            module(&["parse", "header"]),
            "use super::Event; fn f() { crate::http::stopped() }",
        ),
    ];
    let parsed: BTreeMap<Module, syn::File> = files
        .iter()
        .map(|(m, source)| (m.clone(), syn::parse_file(source).expect("valid Rust")))
        .collect();
    let graph = edges(&parsed);
    assert_eq!(
        graph[&module(&["parse", "header"])],
        BTreeSet::from([module(&["parse"]), module(&["http"])])
    );
    assert!(graph[&module(&["parse"])].is_empty());
    assert_eq!(
        cycles(&graph),
        vec![vec![module(&["answer"]), module(&["http"])]]
    );
}

/// The folders at the top of the repository that hold a crate (a
/// `Cargo.toml` beside a `src/`), so a crate added later is checked too.
fn crate_folders() -> Vec<String> {
    let mut crates: Vec<String> = std::fs::read_dir(repo_root())
        .expect("readable repository")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.join("Cargo.toml").is_file() && path.join("src").is_dir())
        .map(|path| {
            path.file_name()
                .expect("a folder name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    crates.sort();
    crates
}

fn module(segments: &[&str]) -> Module {
    segments.iter().map(|s| s.to_string()).collect()
}

fn display(krate: &str, module: &Module) -> String {
    if module.is_empty() {
        format!("{krate}/src (root)")
    } else {
        format!("{krate}/src/{}", module.join("/"))
    }
}

/// Every module file under `src` and the module files each one names.
fn import_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut parsed = BTreeMap::new();
    for path in rust_files(src) {
        let source = std::fs::read_to_string(&path).expect("readable source");
        let file = syn::parse_file(&source)
            .unwrap_or_else(|e| panic!("{}: not valid Rust: {e}", path.display()));
        parsed.insert(module_of(src, &path), file);
    }
    edges(&parsed)
}

fn edges(parsed: &BTreeMap<Module, syn::File>) -> BTreeMap<Module, BTreeSet<Module>> {
    parsed
        .iter()
        .map(|(module, file)| {
            let mut paths = Paths {
                here: module.clone(),
                found: Vec::new(),
            };
            paths.visit_file(file);
            let targets = paths
                .found
                .iter()
                .filter_map(|path| longest_module(parsed, path))
                .filter(|target| target != module && !target.is_empty())
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// The `.rs` files under `src`, without `src/bin/` (each binary is a crate of its own).
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                if path != src.join("bin") {
                    folders.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// `src/parse/header.rs` is `parse::header`; `mod.rs`, `lib.rs` and `main.rs` are their folder.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).expect("under src");
    let mut module: Module = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        module.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        module.pop();
    }
    module
}

/// The longest prefix of `path` that is a module file (a path may go on into
/// an item, or into an inline module of that file).
fn longest_module(parsed: &BTreeMap<Module, syn::File>, path: &Module) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| parsed.contains_key(prefix))
}

/// Collects, as absolute module paths, every path in a file that starts at
/// `crate`, `super` or `self`.
struct Paths {
    here: Module,
    found: Vec<Module>,
}

impl Paths {
    /// `segments` resolved from `here`, or `None` for a path that does not
    /// start at this crate (a dependency, `std`, a local name).
    fn resolve(&self, segments: &[String]) -> Option<Module> {
        let (mut base, rest) = match segments.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &segments[1..]),
            Some("self") => (self.here.clone(), &segments[1..]),
            Some("super") => (self.here.clone(), segments),
            _ => return None,
        };
        let mut rest = rest.iter().peekable();
        while rest.next_if(|s| *s == "super").is_some() {
            base.pop();
        }
        base.extend(rest.cloned());
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.record(prefix, Some(n.ident.to_string())),
            syn::UseTree::Rename(r) => self.record(prefix, Some(r.ident.to_string())),
            syn::UseTree::Glob(_) => self.record(prefix, None),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn record(&mut self, prefix: &[String], last: Option<String>) {
        let mut segments = prefix.to_vec();
        segments.extend(last.filter(|name| name != "self"));
        if let Some(path) = self.resolve(&segments) {
            self.found.push(path);
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(resolved) = self.resolve(&segments) {
            self.found.push(resolved);
        }
        syn::visit::visit_path(self, path);
    }

    /// `pub(super)` and `pub(in crate::x)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let test_only = item.attrs.iter().any(|attr| {
            attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Meta>()
                    .is_ok_and(|meta| meta.path().is_ident("test"))
        });
        if !test_only {
            syn::visit::visit_item_mod(self, item);
        }
    }
}

/// The loops of a graph: each strongly connected set of more than one
/// module (Tarjan's algorithm), its members in order.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let at = self
                    .stack
                    .iter()
                    .rposition(|m| *m == v)
                    .expect("on the stack");
                let mut set: Vec<Module> = self.stack.drain(at..).cloned().collect();
                if set.len() > 1 {
                    set.sort();
                    self.found.push(set);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}
