//! Writes the generated editor files: the JSON Schemas of changegate's documents to
//! `docs/schema/<name>.schema.json` and the Rhai definitions to `docs/script-api.d.rhai`.
//!
//! ```text
//! cargo run --example write_schemas
//! ```
//!
//! `tests/schemas.rs` fails when these files differ from what the code generates.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("docs/schema");
    std::fs::create_dir_all(&dir)?;
    for (name, schema) in changegate::schemas() {
        let path = dir.join(format!("{name}.schema.json"));
        std::fs::write(&path, pretty(&schema)?)?;
        println!("wrote {}", path.display());
    }
    let path = root.join("docs/script-api.d.rhai");
    std::fs::write(&path, changegate::script_definitions())?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The schema as the files hold it: pretty JSON and a final newline.
fn pretty(schema: &serde_json::Value) -> std::io::Result<String> {
    let mut text = serde_json::to_string_pretty(schema)?;
    text.push('\n');
    Ok(text)
}
