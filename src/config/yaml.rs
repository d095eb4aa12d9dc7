//! The YAML (and JSON) reader with positions: deserializes a document, turns the parser's
//! error into a message, a position and the field it names, and finds the line and column of a
//! field path in block-style YAML for errors found after parsing. The only file that calls the
//! YAML crate.

use chrono::TimeDelta;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

use super::limits::{InputLimits, check_depth, strip_bom};
use crate::error::bound_message;
use crate::time::parse_duration;

// ---------------------------------------------------------------------------------------------
// Field types that validate while deserializing, so that errors carry the YAML position.

/// A positive duration such as `2h30m`.
pub(super) struct DurationField(pub(super) TimeDelta);

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(DurationField)
            .map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Positions.

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

pub(super) fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

pub(super) struct YamlLine<'a> {
    indent: usize,
    dash: bool,
    key: Option<&'a str>,
    key_col: usize,
}

pub(super) fn scan_line(line: &str) -> Option<YamlLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let (dash, body, key_col) = match rest.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            let trimmed = after.trim_start_matches(' ');
            (true, trimmed, indent + 1 + (after.len() - trimmed.len()))
        }
        _ => (false, rest, indent),
    };
    let key = body.find(':').and_then(|i| {
        let k = body[..i].trim_matches(|c| c == '"' || c == '\'');
        let after = &body[i + 1..];
        let plain = !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "_-. ".contains(c));
        (plain && (after.is_empty() || after.starts_with(' '))).then_some(k)
    });
    Some(YamlLine {
        indent,
        dash,
        key,
        key_col,
    })
}

/// Finds the line and column of `path` in block-style YAML. Where the rest of a path is not
/// there (or is written flow-style, `weekly: {from: ...}`), the deepest part found is named;
/// when nothing is found (a JSON document), `None`, and callers point at the file alone.
pub(super) fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let lines: Vec<Option<YamlLine>> = text.lines().map(scan_line).collect();
    let (mut from, mut to) = (0, lines.len());
    let mut found = None;
    for seg in path {
        let entries =
            || (from..to).filter_map(|i| lines.get(i).and_then(|l| l.as_ref()).map(|l| (i, l)));
        match seg {
            Seg::Key(k) => {
                let Some(level) = entries()
                    .find(|(_, l)| l.key.is_some())
                    .map(|(_, l)| l.key_col)
                else {
                    return found;
                };
                let Some((i, l)) = entries().find(|(_, l)| l.key_col == level && l.key == Some(k))
                else {
                    return found;
                };
                let end = entries()
                    .find(|(j, m)| {
                        *j > i
                            && (m.key_col < level
                                || (m.key_col == level && !(m.dash && m.indent == level)))
                    })
                    .map_or(to, |(j, _)| j);
                found = Some((i + 1, l.key_col + 1));
                (from, to) = (i + 1, end);
            }
            Seg::Index(n) => {
                let Some(level) = entries().find(|(_, l)| l.dash).map(|(_, l)| l.indent) else {
                    return found;
                };
                let Some((i, l)) = entries()
                    .filter(|(_, l)| l.dash && l.indent == level)
                    .nth(*n)
                else {
                    return found;
                };
                let end = entries()
                    .find(|(j, m)| *j > i && m.indent <= level)
                    .map_or(to, |(j, _)| j);
                found = Some((i + 1, l.indent + 1));
                (from, to) = (i, end);
            }
        }
    }
    found
}

/// [`locate`] for a field path written as text (`environments.production.blackouts[1]`, as
/// [`path_string`] writes it): the line and column of its deepest part found in `text`.
pub(crate) fn locate_field(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut path = Vec::new();
    for part in field.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            path.push(Seg::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                path.push(Seg::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    locate(text, &path)
}

/// A YAML error as (message, position, field path).
pub(super) type YamlError = (String, Option<(usize, usize)>, Option<String>);

/// Deserializes `text`, turning a YAML error into (message, position, field path).
///
/// A document that starts with `{` is read as JSON, by serde_json: several times faster than
/// the YAML parser for the same input (what the Python bindings send), with its own line and
/// column. Everything else, JSON included when it does not start with `{`, is read as YAML.
///
/// Before any parser runs, the text is checked against `limits` (size, then nesting depth in
/// one linear pass) and a leading byte order mark is skipped.
pub(super) fn from_yaml<T: DeserializeOwned>(
    text: &str,
    limits: &InputLimits,
) -> Result<T, YamlError> {
    if let Some(message) = limits.size_error(text.len()) {
        return Err((message, None, None));
    }
    let text = strip_bom(text);
    check_depth(text, limits.max_depth).map_err(|(message, pos)| (message, Some(pos), None))?;
    if text.trim_start().starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let text = inner.to_string();
            // Prefix the path as yaml_serde does: the mapping for an unknown or missing field
            // (the message names the field), the field itself otherwise.
            let named = text.contains("unknown field `") || text.contains("missing field `");
            let prefix = if named {
                path.rsplit_once('.').map_or("", |(parent, _)| parent)
            } else {
                path.as_str()
            };
            let msg = match prefix {
                "" | "." => text,
                p => format!("{p}: {text}"),
            };
            describe(msg, Some((inner.line(), inner.column())))
        })?;
        de.end()
            .map_err(|e| describe(e.to_string(), Some((e.line(), e.column()))))?;
        return Ok(value);
    }
    ::yaml::from_str(text)
        .map_err(|e| describe(e.to_string(), e.location().map(|l| (l.line(), l.column()))))
}

/// Splits a parser's message into the message, its position and the field it names.
pub(super) fn describe(mut msg: String, pos: Option<(usize, usize)>) -> YamlError {
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    // A parser's message may quote the input (`invalid value: string "..."`): bound it.
    let mut msg = bound_message(msg);
    // A document that is a sequence: the parsers write its items' paths as `.[0]`.
    if msg.starts_with(".[") {
        msg.remove(0);
    }
    // yaml_serde prefixes the path of the field at fault: `deployments[0].start: ...`
    let (prefix, rest) = msg
        .split_once(": ")
        .filter(|(p, _)| !p.contains(' '))
        .map_or((None, msg.as_str()), |(p, r)| (Some(p), r));
    // An unknown or missing field is named by the message, not by the path: add it.
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|lead| rest.strip_prefix(lead))
        .and_then(|r| r.split_once('`'))
        .map(|(name, _)| name);
    let field = match (prefix, named) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (None, Some(n)) => Some(n.to_owned()),
        (p, None) => p.map(str::to_owned),
    };
    let hint = rest
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
        .and_then(|(name, tail)| did_you_mean(name, tail));
    if let Some(hint) = hint {
        msg.push_str(&hint);
    }
    (msg, pos, field)
}

/// `" (did you mean `x`?)"` for an unknown field `name`, from the parser's list of what it
/// expected (`, expected one of `a`, `b`` or `, expected `a``), when one is close.
fn did_you_mean(name: &str, expected: &str) -> Option<String> {
    let list = expected
        .strip_prefix(", expected one of ")
        .or_else(|| expected.strip_prefix(", expected "))?;
    let known: Vec<&str> = list
        .split(", ")
        .filter_map(|k| k.strip_prefix('`')?.strip_suffix('`'))
        .collect();
    crate::rules::environment::suggest(name, &known).map(|k| format!(" (did you mean `{k}`?)"))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_nested_keys_and_items() {
        let text = "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: a\n        weekly: {from: x, to: y}\n      - name: b\n        yearly:\n          from: z\n";
        let p = [
            Seg::Key("environments"),
            Seg::Key("production"),
            Seg::Key("blackouts"),
            Seg::Index(1),
            Seg::Key("yearly"),
            Seg::Key("from"),
        ];
        assert_eq!(locate(text, &p), Some((9, 11)));
        let p = [
            Seg::Key("environments"),
            Seg::Key("production"),
            Seg::Key("blackouts"),
            Seg::Index(0),
            Seg::Key("weekly"),
        ];
        assert_eq!(locate(text, &p), Some((6, 9)));
        assert_eq!(locate(text, &[Seg::Key("nope")]), None);
        assert_eq!(
            locate_field(text, "environments.production.blackouts[1].yearly.from"),
            Some((9, 11))
        );
        assert_eq!(
            locate_field(text, "environments.production.blackouts[0]"),
            Some((5, 7))
        );
        assert_eq!(locate_field(text, "[x]]."), None);
    }
}
