//! Writing to stdout. The text forms themselves live in the library (`Decision::to_text`,
//! `NextWindows::to_text`, `preview_to_text`), shared with the Python bindings.

use std::io::{IsTerminal, Write};

use changegate::TextStyle;
use clap::ValueEnum;

/// `--format`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not a reason to change the verdict.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

/// Writes `value` to stdout as pretty JSON and a newline.
pub(crate) fn print_json(value: &serde_json::Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    print(&text);
}

/// Colour when stdout is a terminal and `NO_COLOR` is not set.
pub(crate) fn style() -> TextStyle {
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        TextStyle::Ansi
    } else {
        TextStyle::Plain
    }
}
