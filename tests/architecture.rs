//! The layering of ARCHITECTURE.md, checked on the parsed source (as ArchUnit does for
//! Java):
//!
//! platform → faces (router, JSON APIs, OAuth endpoints, pages, HTTP helpers) → core (OIDC
//! protocol, experience flows, identity, sessions, words) → below (store, crypto, config).
//!
//! - the core never names a face, the platform, or the HTTP, cookie and template crates;
//! - what is below the core never names the core, a face or the platform;
//! - no face names the platform;
//! - SQL lives in `store/` only, and the pages never reach the store at all;
//! - no module is over about 500 lines outside its unit tests.
//!
//! Every path counts: `use` trees (grouped, nested, renamed, over several lines), paths in
//! code and types, `super::`/`self::` resolved against the file's module, `::crate` paths,
//! and paths inside macro invocations.
use proc_macro2::{TokenStream, TokenTree};
use std::fs;
use std::path::{Path, PathBuf};
use syn::visit::{self, Visit};

const FACES: &[&str] = &["app", "api", "endpoints", "pages", "web", "wire"];
const CORE: &[&str] = &[
    "account",
    "cache",
    "ctx",
    "experience",
    "i18n",
    "identity",
    "mfa",
    "oidc",
    "session",
    "social",
    "saml",
];
const BELOW: &[&str] = &[
    "clock", "config", "crypto", "error", "json", "outbound", "store", "uri",
];
const PLATFORM: &[&str] = &["platform"];
/// Crates only a face or the platform may use: HTTP, cookies, templates, the Workers runtime.
const FACE_CRATES: &[&str] = &[
    "http",
    "cookie",
    "askama",
    "worker",
    "js_sys",
    "wasm_bindgen",
    "web_sys",
];
const MAX_LINES: usize = 520;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/oidc/token.rs` → `[oidc, token]`, `src/oidc/mod.rs` →
/// `[oidc]`, `src/lib.rs` → `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_owned();
        if stem != "mod" && stem != "lib" {
            parts.push(stem);
        }
    }
    parts
}

/// What a file is allowed to name.
struct Rules {
    module: String,
    forbidden_modules: Vec<&'static str>,
    forbid_face_crates: bool,
    sql_allowed: bool,
    is_page: bool,
}

impl Rules {
    fn of(module: &str) -> Rules {
        let in_ = |layer: &[&str]| layer.contains(&module);
        let forbidden_modules: Vec<&'static str> = if in_(CORE) {
            FACES.iter().chain(PLATFORM).copied().collect()
        } else if in_(BELOW) {
            FACES.iter().chain(PLATFORM).chain(CORE).copied().collect()
        } else if in_(FACES) {
            PLATFORM.to_vec()
        } else {
            Vec::new()
        };
        Rules {
            module: module.to_owned(),
            forbidden_modules,
            forbid_face_crates: in_(CORE) || in_(BELOW),
            sql_allowed: module == "store" || module == "platform",
            is_page: module == "pages",
        }
    }
}

struct Checker<'a> {
    rules: &'a Rules,
    file: String,
    /// The module the code being visited is in (the file's, plus inline `mod`s).
    scope: Vec<String>,
    out: Vec<String>,
}

fn line_of(span: proc_macro2::Span) -> usize {
    span.start().line
}

impl Checker<'_> {
    fn report(&mut self, line: usize, what: String) {
        self.out.push(format!("{}:{line}: {what}", self.file));
    }

    /// Checks one path, given as its segments; `leading_colon` for `::name::…`.
    fn check_path(&mut self, segments: &[String], leading_colon: bool, line: usize, shown: &str) {
        let Some(first) = segments.first() else {
            return;
        };
        // Resolve to a crate-absolute path, when it is one.
        let absolute: Option<Vec<String>> = match first.as_str() {
            "crate" | "$crate" => Some(segments.get(1..).unwrap_or_default().to_vec()),
            "super" | "self" => {
                let mut base = self.scope.clone();
                let mut rest = segments;
                while let Some(head) = rest.first() {
                    match head.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = rest.get(1..).unwrap_or_default();
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            _ => None,
        };
        let rules = self.rules;
        if let Some(abs) = absolute {
            let Some(top) = abs.first() else {
                return;
            };
            if rules.forbidden_modules.contains(&top.as_str()) {
                self.report(
                    line,
                    format!("the {} layer must not use `{top}` ({shown})", rules.module),
                );
            }
            if rules.is_page && top == "store" {
                let only_trait =
                    abs.len() == 2 && abs.get(1).is_some_and(|s| s == "Db" || s == "Kv");
                if !only_trait {
                    self.report(
                        line,
                        format!("a page reaches the store; go through the core ({shown})"),
                    );
                }
            }
            return;
        }
        let is_crate =
            FACE_CRATES.contains(&first.as_str()) && (leading_colon || segments.len() > 1);
        if rules.forbid_face_crates && is_crate {
            self.report(
                line,
                format!(
                    "the {} layer must not use `extern {first}` ({shown})",
                    rules.module
                ),
            );
        }
    }

    fn check_sql_text(&mut self, text: &str, line: usize) {
        if self.rules.sql_allowed {
            return;
        }
        let upper = text.trim_start().to_ascii_uppercase();
        let sql = [
            "SELECT ",
            "INSERT ",
            "UPDATE ",
            "DELETE FROM",
            "REPLACE INTO",
        ]
        .iter()
        .any(|k| upper.starts_with(k));
        if sql {
            let short: String = text.chars().take(40).collect();
            self.report(
                line,
                format!(
                    "`{}` holds SQL: keep it in store/ ({short}…)",
                    self.rules.module
                ),
            );
        }
    }

    /// Paths inside a macro's tokens: `crate::x`, `$crate::x`, `super::x`, `http::x`.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match trees.get(i) {
                Some(TokenTree::Group(g)) => self.scan_tokens(g.stream()),
                Some(TokenTree::Literal(l)) => {
                    if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&l.to_string()) {
                        self.check_sql_text(&s.value(), line_of(l.span()));
                    }
                }
                Some(TokenTree::Ident(id)) => {
                    let mut segs = vec![id.to_string()];
                    let line = line_of(id.span());
                    let mut j = i + 1;
                    loop {
                        let colons = matches!(
                            (trees.get(j), trees.get(j + 1)),
                            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                                if a.as_char() == ':' && b.as_char() == ':'
                        );
                        match (colons, trees.get(j + 2)) {
                            (true, Some(TokenTree::Ident(next))) => {
                                segs.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if segs.len() > 1 {
                        let dollar = i > 0
                            && matches!(trees.get(i - 1), Some(TokenTree::Punct(p)) if p.as_char() == '$');
                        if dollar && segs.first().is_some_and(|s| s == "crate") {
                            segs[0] = "$crate".into();
                        }
                        let shown = segs.join("::");
                        self.check_path(&segs, false, line, &shown);
                        i = j;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Every full path a `use` tree names (with the line of its last name), renames resolved to
/// what they rename.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix.clone();
            if n.ident != "self" {
                full.push(n.ident.to_string());
            }
            out.push((full, line_of(n.ident.span())));
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push((full, line_of(r.ident.span())));
        }
        syn::UseTree::Glob(g) => out.push((prefix.clone(), line_of(g.star_token.span))),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut paths);
        for (p, line) in paths {
            let shown = format!(
                "use {}{}",
                if u.leading_colon.is_some() { "::" } else { "" },
                p.join("::")
            );
            // In a `use`, a lone name is a crate: `use askama as a;`.
            self.check_path(&p, true, line, &shown);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = p
            .segments
            .first()
            .map(|s| line_of(s.ident.span()))
            .unwrap_or_default();
        let shown = segs.join("::");
        self.check_path(&segs, p.leading_colon.is_some(), line, &shown);
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.check_sql_text(&s.value(), line_of(s.span()));
    }

    fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
        let name = c.method.to_string();
        let db_call =
            matches!(name.as_str(), "execute" | "batch") || (name == "query" && c.args.len() == 2);
        if db_call && !self.rules.sql_allowed {
            self.report(
                line_of(c.method.span()),
                format!(
                    "`{}` runs SQL (`.{name}(…)`): keep it in store/",
                    self.rules.module
                ),
            );
        }
        visit::visit_expr_method_call(self, c);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.scope.push(m.ident.to_string());
        visit::visit_item_mod(self, m);
        self.scope.pop();
    }
}

/// Every breach of the rules in the tree at `src`, as `src/file:line: what`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let rel = file
            .strip_prefix(src)
            .unwrap_or(&file)
            .display()
            .to_string();
        let scope = module_path(src, &file);
        let top = scope.first().cloned().unwrap_or_default();
        let rules = Rules::of(&top);
        match syn::parse_file(&text) {
            Ok(ast) => {
                let mut c = Checker {
                    rules: &rules,
                    file: format!("src/{rel}"),
                    scope,
                    out: Vec::new(),
                };
                c.visit_file(&ast);
                out.extend(c.out);
            }
            Err(e) => out.push(format!("src/{rel}: cannot be parsed: {e}")),
        }
        let body = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in body.lines().enumerate() {
            if line.contains(":?}") || line.contains(":#?}") {
                out.push(format!(
                    "src/{rel}:{}: formats with `Debug` (`{{:?}}`), which prints nothing in the module (-Zfmt-debug=none, scripts/build.sh)",
                    i + 1
                ));
            }
            if rel != "json.rs"
                && (line.contains("json!(") && !line.contains("jv!(")
                    || line.contains("serde_json::to_value"))
            {
                out.push(format!(
                    "src/{rel}:{}: builds a `Value` through serde's `Value` serializer (`json!`, `to_value`), 19 KB of the module: use `crate::jv!` or `json::Obj`",
                    i + 1
                ));
            }
            if rel != "json.rs" && line.contains("serde_json::from_") {
                out.push(format!(
                    "src/{rel}:{}: reads JSON text outside `json::parse`: each other reader links serde_json's parser once more",
                    i + 1
                ));
            }
        }
        let lines = body.lines().count();
        if lines > MAX_LINES {
            out.push(format!(
                "src/{rel}: {lines} lines outside its tests (at most {MAX_LINES}): split it"
            ));
        }
    }
    out.dedup();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_layers_hold_in_the_source_tree() {
    let found = violations(&src());
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn every_top_level_module_belongs_to_one_layer() {
    let mut entries: Vec<String> = fs::read_dir(src())
        .unwrap()
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .filter(|m| m != "lib")
        .collect();
    entries.sort();
    for m in entries {
        let homes = [FACES, CORE, BELOW, PLATFORM]
            .iter()
            .filter(|layer| layer.contains(&m.as_str()))
            .count();
        assert_eq!(homes, 1, "src/{m} must be listed in exactly one layer");
    }
}

/// A scratch tree of source files, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("gatehouse-arch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_core_file_that_imports_a_page_is_named_with_its_import() {
    let tree = Scratch::new(
        "core",
        &[(
            "oidc/token.rs",
            "//! uses crate::pages only in this comment\nuse crate::store::Db;\nuse crate::pages::views;\n",
        )],
    );
    let found = violations(&tree.0);
    assert_eq!(found.len(), 1, "{found:?}");
    let v = &found[0];
    assert!(v.starts_with("src/oidc/token.rs:3:"), "{v}");
    assert!(
        v.contains("`pages`") && v.contains("use crate::pages::views"),
        "{v}"
    );
}

#[test]
fn every_way_of_naming_a_face_is_caught() {
    let tree = Scratch::new(
        "ways",
        &[
            (
                "experience/codes.rs",
                "use crate::{\n    store::Db,\n    experience::{codes, policy},\n    pages::views,\n};\n",
            ),
            ("oidc/mod.rs", "use super::web::cookies;\n"),
            ("oidc/x.rs", "fn f() { super::super::wire::api_error(); }\n"),
            ("session.rs", "mod inner { use super::super::app; }\n"),
            (
                "identity/mod.rs",
                "use ::http::StatusCode;\nuse askama as a;\nfn f() -> http::StatusCode { todo!() }\n",
            ),
            (
                "i18n/mod.rs",
                "macro_rules! m { () => { $crate::pages::views::x() }; }\nfn g() { format!(\"{}\", crate :: api :: x()); }\n",
            ),
            ("store/users.rs", "use crate::oidc::authorize::AuthRequest;\n"),
            (
                "pages/x.rs",
                "use crate::store as s;\nuse crate::store::{Db, Kv};\nconst Q: &str = \"SELECT 1\";\nfn f(db: &D) { db.execute(\"x\", &[]); }\n",
            ),
            ("api/y.rs", "use crate::store::users;\nuse crate::platform::d1;\n"),
        ],
    );
    let found = violations(&tree.0).join("\n");
    for expected in [
        "src/experience/codes.rs:4: the experience layer must not use `pages`",
        "src/oidc/mod.rs:1: the oidc layer must not use `web`",
        "src/oidc/x.rs:1: the oidc layer must not use `wire`",
        "src/session.rs:1: the session layer must not use `app`",
        "src/identity/mod.rs:1: the identity layer must not use `extern http`",
        "src/identity/mod.rs:2: the identity layer must not use `extern askama`",
        "src/identity/mod.rs:3: the identity layer must not use `extern http`",
        "src/i18n/mod.rs:1: the i18n layer must not use `pages`",
        "src/i18n/mod.rs:2: the i18n layer must not use `api`",
        "src/store/users.rs:1: the store layer must not use `oidc`",
        "src/pages/x.rs:1: a page reaches the store",
        "src/pages/x.rs:3: `pages` holds SQL",
        "src/pages/x.rs:4: `pages` runs SQL",
        "src/api/y.rs:2: the api layer must not use `platform`",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
    assert!(
        !found.contains("src/pages/x.rs:2:"),
        "the storage traits are fine in a page: {found}"
    );
    assert!(
        !found.contains("src/api/y.rs:1:"),
        "the Management API may call store functions: {found}"
    );
}

#[test]
fn a_module_over_the_size_limit_is_named() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1) + "#[cfg(test)]\nmod tests {}\n";
    let short_with_tests =
        "fn f() {}\n#[cfg(test)]\nmod tests {\n".to_owned() + &"\n".repeat(900) + "}\n";
    let tree = Scratch::new(
        "size",
        &[
            ("oidc/big.rs", &long),
            ("oidc/tested.rs", &short_with_tests),
        ],
    );
    let found = violations(&tree.0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/oidc/big.rs:"), "{found:?}");
}

#[test]
fn debug_formatting_outside_the_tests_is_named_because_the_module_prints_none() {
    let tree = Scratch::new(
        "debug",
        &[(
            "oidc/token.rs",
            "fn f(x: &str) -> String {\n    format!(\"bad {x:?}\")\n}\n#[cfg(test)]\nmod tests {\n    fn g() { let _ = format!(\"{:?}\", 1); }\n}\n",
        )],
    );
    let found = violations(&tree.0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/oidc/token.rs:2:"), "{}", found[0]);
    assert!(found[0].contains("Debug"), "{}", found[0]);
}

#[test]
fn a_json_reader_other_than_json_parse_or_a_value_built_by_serde_is_named_because_each_links_code_twice(
) {
    let tree = Scratch::new(
        "jsonread",
        &[(
            "oidc/token.rs",
            "fn f(x: &str) -> Option<u8> {\n    serde_json::from_str(x).ok()\n}\nfn g(x: u8) -> serde_json::Value {\n    serde_json::json!({\"x\": x})\n}\n",
        )],
    );
    let found = violations(&tree.0);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].starts_with("src/oidc/token.rs:5:"), "{}", found[1]);
    assert!(found[0].starts_with("src/oidc/token.rs:2:"), "{}", found[0]);
}
