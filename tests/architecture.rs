//! The layering of ARCHITECTURE.md, checked on the source text (as ArchUnit does for Java):
//!
//! platform → faces (router, JSON APIs, OAuth endpoints, pages, HTTP helpers) → core (OIDC
//! protocol, experience flows, identity, sessions, words) → below (store, crypto, config).
//!
//! - the core never names a face, the platform, or the HTTP and template crates;
//! - what is below the core never names the core, a face or the platform;
//! - the faces never hold SQL, and the pages never reach the store at all;
//! - no module is over about 500 lines outside its unit tests.
use std::fs;
use std::path::{Path, PathBuf};

const FACES: &[&str] = &["app", "api", "endpoints", "pages", "web", "wire"];
const CORE: &[&str] = &["ctx", "experience", "i18n", "identity", "oidc", "session"];
const BELOW: &[&str] = &["config", "crypto", "error", "json", "outbound", "store"];
const PLATFORM: &[&str] = &["platform"];
/// Crates only a face or the platform may use: HTTP, cookies, templates, the Workers runtime.
const FACE_CRATES: &[&str] = &[
    "http",
    "cookie",
    "askama",
    "worker",
    "js_sys",
    "wasm_bindgen",
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

/// The top-level module a file belongs to: `src/oidc/token.rs` → `oidc`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// The line without its `//` comment (a `//` inside a string literal such as a URL cuts
/// the line short, which can only hide text, never invent a reference).
fn code_part(line: &str) -> &str {
    let mut in_str = false;
    let b = line.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match (b.get(i), b.get(i + 1)) {
            (Some(b'"'), _) if i == 0 || b.get(i - 1) != Some(&b'\\') => in_str = !in_str,
            (Some(b'/'), Some(b'/')) if !in_str => return line.get(..i).unwrap_or(line),
            _ => {}
        }
        i += 1;
    }
    line
}

/// The crate-level modules and external crates a line of code names: `crate::pages::x`,
/// `use crate::{pages, store}`, `super::pages` from a top-level file, `askama::Template`.
fn names(line: &str, top_level_file: bool) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in line.match_indices("crate::") {
        let before = line.get(..i).unwrap_or_default();
        if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = line.get(i + 7..).unwrap_or_default();
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            out.extend(group.split(',').map(|s| ident(s.trim())));
        } else {
            out.push(ident(rest));
        }
    }
    if top_level_file {
        for (i, _) in line.match_indices("super::") {
            out.push(ident(line.get(i + 7..).unwrap_or_default()));
        }
    }
    let trimmed = line.trim_start();
    let used = trimmed
        .strip_prefix("pub use ")
        .or_else(|| trimmed.strip_prefix("use "));
    for krate in FACE_CRATES {
        let path = format!("{krate}::");
        let named = line.match_indices(&path).any(|(i, _)| {
            let before = line.get(..i).unwrap_or_default();
            !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        }) || used.is_some_and(|u| u.starts_with(&path) || u == format!("{krate};"));
        if named {
            out.push(format!("extern {krate}"));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Every breach of the rules in the tree at `src`, as `file:line: what (the line)`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let module = module_of(src, &file);
        let rel = file
            .strip_prefix(src)
            .unwrap_or(&file)
            .display()
            .to_string();
        let top_level_file = !rel.contains('/');
        let forbidden: Vec<&str> = if CORE.contains(&module.as_str()) {
            FACES.iter().chain(PLATFORM).copied().collect()
        } else if BELOW.contains(&module.as_str()) {
            FACES.iter().chain(PLATFORM).chain(CORE).copied().collect()
        } else {
            Vec::new()
        };
        let crates_forbidden = CORE.contains(&module.as_str()) || BELOW.contains(&module.as_str());
        for (n, line) in text.lines().enumerate() {
            let code = code_part(line);
            let at = format!("src/{rel}:{}", n + 1);
            for name in names(code, top_level_file) {
                let is_crate = name.starts_with("extern ");
                if (is_crate && crates_forbidden) || forbidden.contains(&name.as_str()) {
                    out.push(format!(
                        "{at}: the {module} layer must not use `{name}` ({})",
                        code.trim()
                    ));
                }
            }
            if FACES.contains(&module.as_str()) {
                let upper = code.to_ascii_uppercase();
                let sql = ["SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"]
                    .iter()
                    .any(|k| upper.contains(&format!("\"{k}")))
                    || ["query_one(", "query_as(", ".execute(", ".batch("]
                        .iter()
                        .any(|k| code.contains(k));
                if sql {
                    out.push(format!(
                        "{at}: the face `{module}` holds SQL ({})",
                        code.trim()
                    ));
                }
            }
            if module == "pages" && code.contains("store::") {
                let only_traits = code.contains("store::{Db, Kv}");
                if !only_traits {
                    out.push(format!(
                        "{at}: a page reaches the store; go through the core ({})",
                        code.trim()
                    ));
                }
            }
        }
        let body = text.split("#[cfg(test)]").next().unwrap_or_default();
        let lines = body.lines().count();
        if lines > MAX_LINES {
            out.push(format!(
                "src/{rel}: {lines} lines outside its tests (at most {MAX_LINES}): split it"
            ));
        }
    }
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
        v.contains("`pages`") && v.contains("use crate::pages::views;"),
        "{v}"
    );
}

#[test]
fn grouped_imports_super_paths_and_face_crates_are_caught_too() {
    let tree = Scratch::new(
        "grouped",
        &[
            ("experience/codes.rs", "use crate::{store, app};\n"),
            ("session.rs", "use super::web::cookies;\n"),
            (
                "identity/mod.rs",
                "use http::StatusCode;\nuse askama::Template;\n",
            ),
            (
                "store/users.rs",
                "use crate::oidc::authorize::AuthRequest;\n",
            ),
            (
                "pages/x.rs",
                "use crate::store::users;\nconst Q: &str = \"SELECT 1\";\n",
            ),
            ("api/y.rs", "use crate::store::users;\n"),
        ],
    );
    let found = violations(&tree.0).join("\n");
    for expected in [
        "src/experience/codes.rs:1: the experience layer must not use `app`",
        "src/session.rs:1: the session layer must not use `web`",
        "src/identity/mod.rs:1: the identity layer must not use `extern http`",
        "src/identity/mod.rs:2: the identity layer must not use `extern askama`",
        "src/store/users.rs:1: the store layer must not use `oidc`",
        "src/pages/x.rs:1: a page reaches the store",
        "src/pages/x.rs:2: the face `pages` holds SQL",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
    assert!(
        !found.contains("src/api/y.rs"),
        "the Management API may call store functions: {found}"
    );
}

#[test]
fn a_module_over_the_size_limit_is_named() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1) + "#[cfg(test)]\nmod tests {}\n";
    let short_with_tests = "fn f() {}\n#[cfg(test)]\n".to_owned() + &"\n".repeat(900);
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
