//! Limits on what changegate reads: the size of every file and text, and the nesting depth of
//! a YAML or JSON document, checked in one linear pass before the parser sees it. Reading a
//! file refuses anything that is not a regular file (a directory, a FIFO, a device such as
//! `/dev/zero`) and reads at most the limit plus one byte, so nothing hangs or grows without
//! bound.

use std::io::Read;
use std::path::Path;

use crate::error::{InputError, Location};

/// The default of [`InputLimits::max_bytes`]: 16 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The default of [`InputLimits::max_depth`]: 64 levels.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// Limits on input: every request, calendar, `policy.yaml`, script and `.ics` file (and text
/// given directly) is refused with a clear error when it is larger than `max_bytes`, and a
/// YAML or JSON document when it nests deeper than `max_depth`.
///
/// The CLI raises the size limit with `--max-input-bytes`; the library with the `*_with_limits`
/// forms ([`crate::ChangeRequest::from_yaml_with_limits`],
/// [`crate::Calendar::from_yaml_with_limits`], [`crate::PolicySet::load_with_limits`]).
///
/// # Example
/// ```
/// use changegate::{ChangeRequest, InputLimits};
/// let limits = InputLimits { max_bytes: 20, ..InputLimits::default() };
/// let err = ChangeRequest::from_yaml_with_limits("id: dep-1\nservice: checkout\n", "r.yaml", &limits)
///     .unwrap_err();
/// assert!(err.message.contains("more than the limit of 20 bytes"), "{err}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// The largest file or text read, in bytes.
    pub max_bytes: usize,
    /// The deepest nesting of mappings and sequences (block or flow) in a YAML or JSON document.
    pub max_depth: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl InputLimits {
    /// The message for text of `len` bytes over the size limit, or `None` when it is within.
    pub(crate) fn size_error(&self, len: usize) -> Option<String> {
        (len > self.max_bytes).then(|| {
            format!(
                "the input is {len} bytes, more than the limit of {} bytes; {RAISE}",
                self.max_bytes
            )
        })
    }
}

/// How to raise the size limit, for its error messages.
const RAISE: &str = "raise it with `--max-input-bytes` (CLI) or `InputLimits::max_bytes` (library)";

/// Strips a UTF-8 byte order mark from the start of `text`.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads the regular file at `path` as UTF-8 text (a leading byte order mark removed), at most
/// `limits.max_bytes` bytes.
///
/// # Errors
/// A path that is not a regular file (a directory, a FIFO, a device), a file that cannot be
/// read, one larger than the limit, or one that is not UTF-8: each an [`InputError`] naming
/// the file.
///
/// # Example
/// ```
/// use changegate::{InputLimits, read_input_file};
/// let err = read_input_file(std::path::Path::new("/"), &InputLimits::default()).unwrap_err();
/// assert!(err.message.contains("not a regular file"), "{err}");
/// ```
pub fn read_input_file(path: &Path, limits: &InputLimits) -> Result<String, InputError> {
    let fail = |message: String| InputError {
        location: Location::new(&path.display().to_string(), None),
        field: None,
        message,
    };
    // Checked before opening: opening a FIFO would block until a writer appears.
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a FIFO, socket or device"
        };
        return Err(fail(format!(
            "cannot read: not a regular file ({what}); give the path of a file"
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let cap = u64::try_from(limits.max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    file.take(cap)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() > limits.max_bytes {
        return Err(fail(format!(
            "the file is larger than the limit of {} bytes; {RAISE}",
            limits.max_bytes
        )));
    }
    let text =
        String::from_utf8(bytes).map_err(|e| fail(format!("cannot read: not UTF-8 text ({e})")))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Checks that `text` nests at most `max` levels deep, in one pass, before a parser sees it
/// (the YAML parser takes quadratic time on deep flow nesting). Counts block levels by
/// indentation and `- ` markers, and flow levels by `[` and `{` outside quoted strings,
/// comments and block scalars. Returns the message and the 1-based line and column where the
/// limit is passed.
pub(crate) fn check_depth(text: &str, max: usize) -> Result<(), (String, (usize, usize))> {
    let too_deep = |line: usize, col: usize| {
        Err((
            format!(
                "the document nests deeper than {max} levels; changegate reads at most {max} \
                 levels of mappings and sequences"
            ),
            (line, col),
        ))
    };
    // Block levels: the columns of the open block collections.
    let mut block: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    // Inside a quoted string that spans lines (flow context only).
    let mut quote: Option<char> = None;
    // The indentation of a block scalar's parent: deeper lines are its text.
    let mut scalar_parent: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let body = &line[indent..];
        if let Some(parent) = scalar_parent {
            if body.is_empty() || indent > parent {
                continue;
            }
            scalar_parent = None;
        }
        if quote.is_none() && flow == 0 {
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            while block.last().is_some_and(|&c| c >= indent) {
                block.pop();
            }
            // A line that opens a flow collection is that collection, counted below.
            if !body.starts_with(['[', '{']) {
                block.push(indent);
            }
            // `- - - x`: one more level per marker.
            let mut rest = body;
            let mut col = indent;
            while let Some(after) = rest.strip_prefix('-') {
                if !(after.is_empty() || after.starts_with(' ')) {
                    break;
                }
                let trimmed = after.trim_start_matches(' ');
                col += rest.len() - trimmed.len();
                rest = trimmed;
                // The item is a collection itself when it is another `- ` or a `key:`.
                let nested = rest == "-" || rest.starts_with("- ") || rest.contains(':');
                if !nested {
                    break;
                }
                block.push(col);
            }
            if block.len() > max {
                return too_deep(line_no, col + 1);
            }
        }
        // Scan the rest of the line for flow collections and quoted strings.
        let bytes = line.as_bytes();
        let mut i = if flow == 0 && quote.is_none() {
            indent
        } else {
            0
        };
        // Where a value may start a flow collection in block context.
        let mut value_start = true;
        while i < bytes.len() {
            let c = bytes[i];
            if let Some(q) = quote {
                if q == '"' && c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == q as u8 {
                    if q == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
                i += 1;
                continue;
            }
            match c {
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                b'"' | b'\'' if flow > 0 || value_start => {
                    quote = Some(c as char);
                    value_start = false;
                }
                b'[' | b'{' if flow > 0 || value_start => {
                    flow += 1;
                    if block.len() + flow > max {
                        return too_deep(line_no, i + 1);
                    }
                }
                b']' | b'}' if flow > 0 => flow -= 1,
                b' ' | b'\t' => {}
                b'-' if flow == 0 && value_start => {}
                b':' if flow == 0 => {
                    value_start = matches!(bytes.get(i + 1), None | Some(b' ' | b'\t'));
                }
                b'|' | b'>' if flow == 0 && value_start => {
                    scalar_parent = Some(indent);
                    break;
                }
                _ => {
                    if flow == 0 {
                        value_start = false;
                    }
                }
            }
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_flow_and_block_levels() {
        assert!(check_depth("a: [[1]]\nb: {c: [d]}\n", 4).is_ok());
        let deep = format!("a: {}1{}\n", "[".repeat(70), "]".repeat(70));
        let (msg, pos) = check_depth(&deep, 64).unwrap_err();
        assert!(msg.contains("deeper than 64"), "{msg}");
        assert_eq!(pos, (1, 67));
        let mut block = String::new();
        for i in 0..70 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert_eq!(check_depth(&block, 64).unwrap_err().1, (65, 65));
        // Brackets in plain scalars, quoted strings, comments and block scalars do not count.
        let text = format!(
            "a: x [[[[\nb: \"[[[[\"\n# [[[[\nc: |\n  {}\nd: ok\n",
            "[".repeat(100)
        );
        assert!(check_depth(&text, 3).is_ok());
        assert!(check_depth("- - - - x\n", 3).is_err());
        assert!(check_depth("- - - x\n", 3).is_ok());
        // JSON: exactly the limit is read, one more is not.
        let json = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(check_depth(&json(64), 64).is_ok());
        assert!(check_depth(&json(65), 64).is_err());
        let obj = |n: usize| format!("{}1{}", "{\"a\": ".repeat(n), "}".repeat(n));
        assert!(check_depth(&obj(64), 64).is_ok());
        assert!(check_depth(&obj(65), 64).is_err());
    }
}
