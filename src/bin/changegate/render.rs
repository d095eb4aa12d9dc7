//! Writing to stdout. The text forms themselves live in the library (`Decision::to_text`,
//! `NextWindows::to_text`, `preview_to_text`), shared with the Python bindings.

use std::io::{IsTerminal, Write};

use changegate::TextStyle;
use clap::ValueEnum;

/// `--format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Writes `text` to stdout through one buffered writer; a closed pipe (`| head`) is not a
/// reason to change the verdict.
pub(crate) fn print(text: &str) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes `value` to stdout as pretty JSON and a newline, serialized straight into one
/// buffered writer (stdout's own line buffering would write a large decision line by line).
pub(crate) fn print_json(value: &serde_json::Value) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if serde_json::to_writer_pretty(&mut out, value).is_ok() {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// `--color`: when the text output is coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Color {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

static COLOR: std::sync::OnceLock<Color> = std::sync::OnceLock::new();

/// Sets `--color` once, before any output.
pub(crate) fn set_color(color: Color) {
    let _ = COLOR.set(color);
}

/// Colour as `--color` says; `auto` (the default): when stdout is a terminal and `NO_COLOR` is
/// not set (<https://no-color.org>).
pub(crate) fn style() -> TextStyle {
    let on = match COLOR.get().copied().unwrap_or_default() {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    if on {
        TextStyle::Ansi
    } else {
        TextStyle::Plain
    }
}
