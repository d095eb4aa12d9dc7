//! The commands about the tool itself: `init` (a bundle to start from), `completions` (shell
//! completion scripts) and `man` (the manual page), the last two generated from the same
//! command-line definition as the parser (clap_complete, clap_mangen).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::input::invalid;

#[derive(Args)]
pub(crate) struct InitArgs {
    /// The directory to write the bundle into (created if missing); `policies` if absent.
    dir: Option<PathBuf>,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub(crate) struct SchemaArgs {
    /// The document whose schema to print (`policy`, `request`, `calendar`, `validation`,
    /// `history`, `approvals`, `directory`, `measurements`, `events`, `rollbacks`,
    /// `decision`); every one, into `--out`, if absent.
    name: Option<String>,
    /// The directory to write `<name>.schema.json` files into (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct DefinitionsArgs {
    /// The file to write the definitions to; stdout if absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `changegate init [DIR]`: writes the default bundle (the files `PolicySet::builtin` embeds)
/// and its tests into `DIR`, refusing to overwrite a file unless `--force`.
pub(crate) fn run_init(args: &InitArgs) -> crate::CommandResult {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("policies"));
    let files: Vec<(PathBuf, &str)> = changegate::builtin_sources()
        .chain(changegate::builtin_tests())
        .map(|(name, text)| (dir.join(name), text))
        .collect();
    if !args.force {
        if let Some((path, _)) = files.iter().find(|(p, _)| p.exists()) {
            return Err(invalid(
                &path.display().to_string(),
                "already exists: `changegate init` does not overwrite files without --force"
                    .to_owned(),
            ));
        }
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                invalid(&parent.display().to_string(), format!("cannot create: {e}"))
            })?;
        }
        std::fs::write(path, text)
            .map_err(|e| invalid(&path.display().to_string(), format!("cannot write: {e}")))?;
    }
    let mut out = std::io::stdout().lock();
    let tests = changegate::builtin_tests().count();
    for (path, _) in files.iter().take(files.len() - tests) {
        let _ = writeln!(out, "wrote {}", path.display());
    }
    let _ = writeln!(
        out,
        "wrote {tests} tests under {}",
        dir.join("tests").display()
    );
    let _ = writeln!(
        out,
        "next: edit {0}/policy.yaml, then `changegate validate {0}` and `changegate test {0}`",
        dir.display()
    );
    Ok(crate::exit::OK)
}

/// `changegate completions SHELL`: the completion script on stdout.
pub(crate) fn run_completions(args: &CompletionsArgs) -> crate::CommandResult {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "changegate", &mut std::io::stdout());
    Ok(crate::exit::OK)
}

/// `changegate man`: the manual page (roff) on stdout.
pub(crate) fn run_man() -> crate::CommandResult {
    let cmd = crate::Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(|e| invalid("<man>", format!("cannot render the manual page: {e}")))?;
    let _ = std::io::stdout().lock().write_all(&buf);
    Ok(crate::exit::OK)
}

/// `changegate schema [NAME] [--out DIR]`: the JSON Schemas of the documents changegate reads
/// and writes, generated from its types (the files of docs/schema/).
pub(crate) fn run_schema(args: &SchemaArgs) -> crate::CommandResult {
    let schemas = changegate::schemas();
    let known: Vec<&str> = schemas.iter().map(|(n, _)| *n).collect();
    let chosen: Vec<&(&str, serde_json::Value)> = match &args.name {
        Some(name) => match schemas.iter().find(|(n, _)| n == name) {
            Some(one) => vec![one],
            None => {
                return Err(invalid(
                    "<schema>",
                    format!(
                        "no schema named `{name}`; the schemas are {}",
                        known.join(", ")
                    ),
                ));
            }
        },
        None => schemas.iter().collect(),
    };
    let text = |v: &serde_json::Value| {
        let mut t = serde_json::to_string_pretty(v).unwrap_or_default();
        t.push('\n');
        t
    };
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| invalid(&dir.display().to_string(), format!("cannot create: {e}")))?;
            for (name, schema) in chosen {
                let path = dir.join(format!("{name}.schema.json"));
                std::fs::write(&path, text(schema)).map_err(|e| {
                    invalid(&path.display().to_string(), format!("cannot write: {e}"))
                })?;
                println!("wrote {}", path.display());
            }
        }
        None if args.name.is_none() => {
            return Err(invalid(
                "<schema>",
                format!(
                    "name one schema to print ({}), or give --out DIR to write them all",
                    known.join(", ")
                ),
            ));
        }
        None => {
            for (_, schema) in chosen {
                crate::render::print(&text(schema));
            }
        }
    }
    Ok(crate::exit::OK)
}

/// `changegate definitions [--out FILE]`: the `.d.rhai` definitions of every hook, type and
/// function scripts can use, with their docs (docs/script-api.d.rhai).
pub(crate) fn run_definitions(args: &DefinitionsArgs) -> crate::CommandResult {
    let text = changegate::script_definitions();
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| invalid(&path.display().to_string(), format!("cannot write: {e}")))?,
        None => crate::render::print(&text),
    }
    Ok(crate::exit::OK)
}
