//! The rules of the house that the compiler does not check, read from the sources: the web crate
//! reaches the database only through app, and every store function opens a tracing span.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};

fn sources(crate_dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = vec![];
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(crate_dir).join("src"), &mut out);
    assert!(!out.is_empty(), "no sources under {crate_dir}");
    out
}

#[test]
fn the_web_crate_does_not_touch_the_store() {
    let offenders: Vec<_> = sources("web")
        .into_iter()
        .filter(|(_, text)| text.contains("shouhou_store"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "web goes around app to the store in {offenders:?}");
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/Cargo.toml")).unwrap();
    assert!(!manifest.contains("shouhou-store"), "crates/web/Cargo.toml depends on the store");
}

#[test]
fn every_store_function_opens_a_span() {
    let mut missing = vec![];
    for (path, text) in sources("store") {
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if !l.starts_with("pub async fn ") {
                continue;
            }
            // The attribute sits right above the function, below its doc comment.
            let above = lines[..i].iter().rev().take_while(|l| l.starts_with("#[") || l.starts_with("///"));
            if !above.clone().any(|l| l.starts_with("#[tracing::instrument")) {
                let name = l.trim_start_matches("pub async fn ").split(['(', '<']).next().unwrap_or("");
                missing.push(format!("{}: {name}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(missing.is_empty(), "store functions without #[tracing::instrument]: {missing:?}");
}
