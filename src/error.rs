//! Errors: one type for reading input (requests, calendars), one for loading a policy bundle.
//! Both name the file, line, column and field where known.

use std::fmt;

/// A place in a file: `file:line:column`, line and column 1-based and optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file name (or `<request>` and the like for text given directly).
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
}

impl Location {
    pub(crate) fn new(file: &str, pos: Option<(usize, usize)>) -> Self {
        Self {
            file: file.to_owned(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// A request or calendar that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct InputError {
    /// Where the problem is.
    pub location: Location,
    /// The field at fault, as a path such as `deployments[3].start`, where known.
    pub field: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// What kind of problem stopped a bundle from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// A file could not be read.
    Io,
    /// `policy.yaml` is not valid YAML or breaks the schema.
    Config,
    /// A script does not compile.
    Script,
}

/// A policy bundle that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct LoadError {
    /// What kind of problem.
    pub kind: LoadErrorKind,
    /// Where the problem is.
    pub location: Location,
    /// The field at fault, as a path such as `environments.production.blackouts[1].weekly`.
    pub field: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// The most characters of its input that an error message or a finding quotes
/// ([`quote`]): longer text is cut and marked with `...` and its full length.
pub const MAX_QUOTE_CHARS: usize = 200;

/// The longest error message, in characters: a message built around a value that was not
/// quoted in part (a parser's, say) is cut there ([`bound_message`]).
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// `message` cut to at most [`MAX_MESSAGE_CHARS`] characters, marked like [`quote`] marks it.
pub(crate) fn bound_message(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => message,
        Some((cut, _)) => format!("{}... ({} bytes)", &message[..cut], message.len()),
    }
}

/// `text` as an error message quotes it: whole when it has at most [`MAX_QUOTE_CHARS`]
/// characters, else its first [`MAX_QUOTE_CHARS`] characters, `...` and its length in bytes.
pub(crate) fn quote(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTE_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => {
            std::borrow::Cow::Owned(format!("{}... ({} bytes)", &text[..cut], text.len()))
        }
    }
}
