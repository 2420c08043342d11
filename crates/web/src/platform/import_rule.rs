//! The import rule: a capability uses `crate::platform` (and other crates),
//! never another capability. This test reads every `.rs` file below each
//! capability folder and names each forbidden reference.

use std::path::{Path, PathBuf};

/// The capability folders below `src/` (every folder except `platform`).
fn capabilities(src: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(src)
        .expect("src readable")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "platform")
        .collect();
    out.sort();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The forbidden references in one file of `own`: (line, the reference).
fn violations(text: &str, own: &str, all: &[String]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for other in all.iter().filter(|c| c.as_str() != own) {
            for pattern in [format!("crate::{other}"), format!("super::super::{other}")] {
                // A whole path segment only (`crate::forms`, not `crate::forms_x`).
                let hit = code.match_indices(&pattern).any(|(at, _)| {
                    !code[at + pattern.len()..]
                        .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    found.push((i + 1, pattern));
                }
            }
        }
        // `use crate::{catalog, ...}` and the like.
        if let Some(rest) = code.split("crate::{").nth(1) {
            for other in all.iter().filter(|c| c.as_str() != own) {
                if rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == other)
                {
                    found.push((i + 1, format!("crate::{{{other}}}")));
                }
            }
        }
    }
    found
}

#[test]
fn capabilities_import_only_the_platform() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = capabilities(&src);
    assert!(all.len() >= 5, "capability folders not found: {all:?}");
    let mut problems = Vec::new();
    for own in &all {
        let mut files = Vec::new();
        rust_files(&src.join(own), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("file readable");
            for (line, reference) in violations(&text, own, &all) {
                problems.push(format!(
                    "{}:{line}: `{own}` must not use `{reference}` (move the shared piece to platform)",
                    file.strip_prefix(&src).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_rule_catches_forbidden_imports() {
    let all = vec!["cases".to_string(), "forms".to_string()];
    let text = "use crate::platform::auth::StaffUser;\n\
                use crate::forms::wizard::route;\n\
                let x = super::super::forms::api::FORMAT;\n\
                use crate::{cases, platform};\n\
                // crate::forms in a comment is fine\n\
                use crate::forms_like::X;\n";
    let found = violations(text, "cases", &all);
    assert_eq!(
        found,
        vec![
            (2, "crate::forms".to_string()),
            (3, "super::super::forms".to_string()),
        ]
    );
    let found = violations(text, "forms", &all);
    assert_eq!(found, vec![(4, "crate::{cases}".to_string())]);
}
