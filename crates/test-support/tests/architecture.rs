//! The architecture's two rules, checked on every test run instead of once by hand:
//!
//! - **the dependency rule between crates** (docs/architecture.md): `domain` depends
//!   on nothing of ours and on no framework, `application` on `domain` only, the
//!   adapters on `domain` and `application`, and only `server` and `admin` see
//!   everything. Read from each member's `Cargo.toml`.
//! - **the http crate's rooms depend on each other one way only**, with no import
//!   cycle between any two of its modules (issue 17: "no import cycles"). Read from
//!   the crate's source with `syn`: every path naming `crate::`, `super::` or
//!   `self::` in an item, a `use` or a macro's tokens is an edge from the module it
//!   is written in to the module it names. Test modules (`#[cfg(test)]`) are left
//!   out: they may reach anything.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a file that cannot be read is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

// ----- the dependency rule between crates ------------------------------------------

/// Which of our crates each member may depend on (normal dependencies; tests and
/// benches may use more). A new member must be placed here.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("application", &["domain"]),
    ("crypto", &["domain"]),
    ("persistence", &["domain"]),
    ("verify", &["domain"]),
    ("limits", &["domain"]),
    ("http", &["domain", "application"]),
    ("console", &["domain", "application", "http"]),
    (
        "server",
        &[
            "domain",
            "application",
            "crypto",
            "persistence",
            "http",
            "console",
            "verify",
            "limits",
        ],
    ),
    (
        "admin",
        &["domain", "application", "crypto", "persistence", "server"],
    ),
    // Micro-benchmarks of SQLite alone, and what the tests share.
    ("bench", &[]),
    (
        "test-support",
        &["persistence", "server", "crypto", "domain"],
    ),
];

/// Crates that `domain` and `application` must not depend on: a web framework, a
/// database driver, an async runtime, an HTTP client, a template engine.
const FRAMEWORKS: &[&str] = &[
    "actix",
    "askama",
    "diesel",
    "libsqlite3-sys",
    "r2d2",
    "redis",
    "reqwest",
    "tokio",
    "ureq",
];

fn dependencies_of(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).expect("a member's Cargo.toml");
    let parsed: toml::Table = toml::from_str(&text).expect("Cargo.toml is TOML");
    parsed
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|table| table.keys().cloned().collect())
        .unwrap_or_default()
}

fn members() -> Vec<String> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace manifest");
    let parsed: toml::Table = toml::from_str(&text).expect("Cargo.toml is TOML");
    parsed["workspace"]["members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(|member| member.as_str()?.strip_prefix("crates/").map(str::to_owned))
        .collect()
}

#[test]
fn crates_depend_on_each_other_as_the_architecture_says() {
    let root = workspace_root();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut faults = Vec::new();
    let members = members();
    assert!(
        members.len() >= 10,
        "the workspace lists its crates: {members:?}"
    );
    for member in &members {
        let Some(may_use) = allowed.get(member.as_str()) else {
            faults.push(format!(
                "crates/{member} is not placed in the dependency rule (ALLOWED)"
            ));
            continue;
        };
        let dependencies = dependencies_of(&root.join("crates").join(member).join("Cargo.toml"));
        for dependency in &dependencies {
            if let Some(ours) = dependency.strip_prefix("switchboard-")
                && !may_use.contains(&ours)
            {
                faults.push(format!("{member} depends on {dependency}"));
            }
            let inner = member == "domain" || member == "application";
            if inner && FRAMEWORKS.iter().any(|name| dependency.starts_with(name)) {
                faults.push(format!(
                    "{member} depends on the framework crate {dependency}"
                ));
            }
        }
    }
    assert!(
        faults.is_empty(),
        "the dependency rule is broken: {faults:#?}"
    );
}

#[test]
fn the_manifest_reader_reads_each_members_dependencies() {
    // The reader itself: the domain's manifest names none of ours, the server's
    // names all the adapters, so a rule reading nothing would fail here.
    let root = workspace_root();
    let domain = dependencies_of(&root.join("crates/domain/Cargo.toml"));
    assert!(domain.iter().all(|name| !name.starts_with("switchboard-")));
    assert!(domain.contains("serde"), "{domain:?}");
    let server = dependencies_of(&root.join("crates/server/Cargo.toml"));
    for adapter in ["persistence", "http", "crypto", "verify", "limits"] {
        assert!(
            server.contains(&format!("switchboard-{adapter}")),
            "{server:?}"
        );
    }
}

// ----- the http crate's modules ----------------------------------------------------

/// Module path (`["routes", "provider_configs"]`) to the modules its code names.
type ModuleGraph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// The http crate's rooms and the rooms each may name (docs/architecture.md, "The
/// http crate's rooms"). `lib.rs` (the crate's root) re-exports from every room and
/// is not a room.
const ROOMS: &[(&str, &[&str])] = &[
    ("wire", &[]),
    ("spec", &[]),
    ("state", &["wire"]),
    ("middleware", &["wire", "state"]),
    ("extract", &["middleware", "wire", "state"]),
    ("docs", &["spec", "state"]),
    (
        "routes",
        &["docs", "extract", "middleware", "wire", "spec", "state"],
    ),
];

/// Records, for one file, the modules named by its paths.
struct Names<'a> {
    /// The module the visitor is in (the file's, then any inline module's).
    current: Vec<String>,
    /// Every module of the crate, to resolve `crate::a::b::Item` to `a::b`.
    modules: &'a BTreeSet<Vec<String>>,
    graph: &'a mut ModuleGraph,
}

impl Names<'_> {
    /// The module a path starting at `crate`, `super` or `self` names, if any.
    fn resolve(&self, segments: &[String]) -> Option<Vec<String>> {
        let mut base: Vec<String>;
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base = Vec::new();
                rest = &rest[1..];
            }
            Some("self") => {
                base = self.current.clone();
                rest = &rest[1..];
            }
            Some("super") => {
                base = self.current.clone();
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            // A child module named from its parent (`provider_configs::routes` in
            // routes/mod.rs).
            Some(first) => {
                let mut child = self.current.clone();
                child.push(first.to_owned());
                if !self.modules.contains(&child) {
                    return None;
                }
                base = self.current.clone();
            }
            None => return None,
        }
        // The longest prefix that is a module: `crate::wire::error::ApiError` names
        // `wire::error`.
        let mut named = base.clone();
        for segment in rest {
            let mut longer = named.clone();
            longer.push(segment.clone());
            if self.modules.contains(&longer) {
                named = longer;
            } else {
                break;
            }
        }
        Some(named)
    }

    fn record(&mut self, segments: &[String]) {
        if let Some(target) = self.resolve(segments)
            && target != self.current
        {
            self.graph
                .entry(self.current.clone())
                .or_default()
                .insert(target);
        }
    }

    /// `crate :: a :: b` sequences in a macro's tokens (syn does not parse them).
    fn record_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut index = 0;
        while index < trees.len() {
            match &trees[index] {
                TokenTree::Group(group) => self.record_tokens(group.stream()),
                TokenTree::Ident(ident)
                    if ["crate", "super", "self"].contains(&&*ident.to_string()) =>
                {
                    let mut segments = vec![ident.to_string()];
                    let mut next = index + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(name)),
                    ) = (trees.get(next), trees.get(next + 1), trees.get(next + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(name.to_string());
                        next += 3;
                    }
                    if segments.len() > 1 {
                        self.record(&segments);
                    }
                    index = next;
                    continue;
                }
                _ => {}
            }
            index += 1;
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// `use` trees: every leaf path, with its prefix.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            use_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let mut full = prefix.clone();
            full.push(name.ident.to_string());
            out.push(full);
        }
        syn::UseTree::Rename(rename) => {
            let mut full = prefix.clone();
            full.push(rename.ident.to_string());
            out.push(full);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(group) => {
            for item in &group.items {
                use_paths(item, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(item) => &item.attrs,
            syn::Item::Fn(item) => &item.attrs,
            syn::Item::Impl(item) => &item.attrs,
            syn::Item::Use(item) => &item.attrs,
            syn::Item::Struct(item) => &item.attrs,
            syn::Item::Enum(item) => &item.attrs,
            syn::Item::Const(item) => &item.attrs,
            syn::Item::Static(item) => &item.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // An inline module's code is in that module; `mod x;` has no body here.
        if item.content.is_some() {
            self.current.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.current.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            self.record(&path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(&segments);
        syn::visit::visit_path(self, path);
    }

    /// `pub(crate)` and `pub(super)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.record_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// The module path of a source file: `src/lib.rs` is the root, `src/a/mod.rs` and
/// `src/a.rs` are `a`, `src/a/b.rs` is `a::b`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Inline modules (`mod x { ... }`) of a file, as module paths.
fn inline_modules(items: &[syn::Item], within: &[String], out: &mut BTreeSet<Vec<String>>) {
    for item in items {
        if let syn::Item::Mod(module) = item
            && let Some((_, content)) = &module.content
        {
            let mut path = within.to_vec();
            path.push(module.ident.to_string());
            inline_modules(content, &path, out);
            out.insert(path);
        }
    }
}

fn module_graph(src: &Path) -> ModuleGraph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let parsed: Vec<(Vec<String>, syn::File)> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).expect("a source file");
            let syntax = syn::parse_file(&text)
                .unwrap_or_else(|error| panic!("{} does not parse: {error}", file.display()));
            (module_of(src, file), syntax)
        })
        .collect();
    let mut modules: BTreeSet<Vec<String>> = parsed.iter().map(|(path, _)| path.clone()).collect();
    for (path, syntax) in &parsed {
        inline_modules(&syntax.items, path, &mut modules);
    }
    let mut graph = ModuleGraph::new();
    for (path, syntax) in &parsed {
        let mut names = Names {
            current: path.clone(),
            modules: &modules,
            graph: &mut graph,
        };
        names.visit_file(syntax);
    }
    graph
}

/// The strongly connected components of more than one module, each sorted.
fn cycles(graph: &ModuleGraph) -> Vec<Vec<Vec<String>>> {
    let mut directed = DiGraph::<&Vec<String>, ()>::new();
    let mut nodes = BTreeMap::new();
    for (from, targets) in graph {
        for module in std::iter::once(from).chain(targets) {
            nodes
                .entry(module)
                .or_insert_with(|| directed.add_node(module));
        }
    }
    for (from, targets) in graph {
        for target in targets {
            directed.add_edge(nodes[from], nodes[target], ());
        }
    }
    tarjan_scc(&directed)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut modules: Vec<Vec<String>> = component
                .iter()
                .map(|&node| directed[node].clone())
                .collect();
            modules.sort();
            modules
        })
        .collect()
}

fn http_graph() -> ModuleGraph {
    module_graph(&workspace_root().join("crates/http/src"))
}

#[test]
fn the_http_crate_has_no_import_cycle() {
    let graph = http_graph();
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "modules of crates/http that name each other: {:#?}",
        found
            .iter()
            .map(|component| component
                .iter()
                .map(|path| path.join("::"))
                .collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_http_crate_rooms_depend_one_way() {
    let graph = http_graph();
    let rooms: BTreeMap<&str, &[&str]> = ROOMS.iter().copied().collect();
    let mut faults = BTreeSet::new();
    let mut seen_rooms = BTreeSet::new();
    for (from, targets) in &graph {
        let Some(from_room) = from.first() else {
            continue; // lib.rs: the crate's facade
        };
        seen_rooms.insert(from_room.clone());
        let Some(may_name) = rooms.get(from_room.as_str()) else {
            faults.insert(format!(
                "{from_room} is not a room of the architecture (ROOMS)"
            ));
            continue;
        };
        for target in targets {
            match target.first() {
                None => {
                    faults.insert(format!("{} names the crate root", from.join("::")));
                }
                Some(room) if room != from_room && !may_name.contains(&room.as_str()) => {
                    faults.insert(format!("{} names {}", from.join("::"), target.join("::")));
                }
                Some(_) => {}
            }
        }
    }
    assert!(faults.is_empty(), "rooms of crates/http: {faults:#?}");
    // The reading found the crate's rooms: a graph read from nowhere holds no fault.
    for room in ["routes", "extract", "middleware", "wire", "docs"] {
        assert!(
            seen_rooms.contains(room),
            "no code read in {room}: {seen_rooms:?}"
        );
    }
    let routes_names: BTreeSet<&str> = graph
        .iter()
        .filter(|(from, _)| from.first().is_some_and(|room| room == "routes"))
        .flat_map(|(_, targets)| targets.iter().filter_map(|t| t.first().map(String::as_str)))
        .collect();
    assert!(
        routes_names.contains("wire") && routes_names.contains("extract"),
        "the routes name the wire and the extractors: {routes_names:?}"
    );
}

#[test]
fn the_module_reader_finds_a_cycle_and_resolves_paths() {
    // A small crate written out here: a::x names b, b names a through super and
    // through a macro; c names a's item (`crate::a::Thing` is module `a`).
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).expect("a folder");
    std::fs::write(src.join("lib.rs"), "mod a; mod b; mod c;").expect("a file");
    std::fs::write(src.join("a/mod.rs"), "mod x; pub struct Thing;").expect("a file");
    std::fs::write(src.join("a/x.rs"), "use crate::b::Other; fn f() {}").expect("a file");
    std::fs::write(
        src.join("b.rs"),
        "pub struct Other; fn g() { let _ = format!(\"{}\", super::a::Thing); }\n\
         #[cfg(test)] mod tests { use crate::c::Third; }",
    )
    .expect("a file");
    std::fs::write(
        src.join("c.rs"),
        "pub struct Third; fn h(_: crate::a::Thing) {}",
    )
    .expect("a file");
    let graph = module_graph(src);
    let path = |text: &str| -> Vec<String> { text.split("::").map(str::to_owned).collect() };
    assert_eq!(graph[&path("a::x")], BTreeSet::from([path("b")]));
    assert_eq!(
        graph[&path("b")],
        BTreeSet::from([path("a")]),
        "test modules are left out"
    );
    assert_eq!(graph[&path("c")], BTreeSet::from([path("a")]));
    // a::x -> b -> a is no cycle (a does not name a::x: declaring it is not naming it);
    // once a names b's item, a and b form one.
    assert!(cycles(&graph).is_empty(), "{:?}", cycles(&graph));
    std::fs::write(
        src.join("a/mod.rs"),
        "mod x; pub struct Thing; use crate::b::Other;",
    )
    .expect("a file");
    let graph = module_graph(src);
    assert_eq!(cycles(&graph), vec![vec![path("a"), path("b")]]);
}
