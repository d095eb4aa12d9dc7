//! Embeds the default bundle's own tests (`policies/tests/**/*.yaml`) so that `changegate init`
//! can write them next to the bundle: `$OUT_DIR/builtin_tests.rs` lists each file's path
//! (relative to the bundle) and its text through `include_str!`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let bundle = root.join("policies");
    let tests = bundle.join("tests");
    println!("cargo::rerun-if-changed={}", tests.display());
    let mut files = Vec::new();
    collect(&tests, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for path in &files {
        // Directories are watched for added and removed files, files for edits.
        println!("cargo::rerun-if-changed={}", path.display());
        let rel = path
            .strip_prefix(&bundle)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.to_string_lossy()
        );
    }
    code.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("builtin_tests.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo::warning=cannot write {}: {e}", out.display());
    }
}
