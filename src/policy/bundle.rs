//! Loading a bundle: `policy.yaml`, its scripts and calendars, from a directory, from memory
//! or from the copy embedded in the crate; and its digest.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Inner, PolicySet};
use crate::config::{BundleFiles, InputLimits, parse_policy, read_input_file};
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::script::Scripts;

/// The name of the bundle's configuration file.
const POLICY_FILE: &str = "policy.yaml";
/// The name of the bundle's directory of people and roles (optional, top level only).
const DIRECTORY_FILE: &str = "directory.yaml";

/// The folder of a bundle's own test cases, skipped when the bundle is loaded.
pub(crate) const TESTS_DIR: &str = "tests";

/// The default bundle, embedded so that [`PolicySet::builtin`] needs no files.
const BUILTIN: &[(&str, &str)] = &[
    (POLICY_FILE, include_str!("../../policies/policy.yaml")),
    (
        "change_ticket.rhai",
        include_str!("../../policies/change_ticket.rhai"),
    ),
    (
        "emergency_incident.rhai",
        include_str!("../../policies/emergency_incident.rhai"),
    ),
    (
        "team_overlap.rhai",
        include_str!("../../policies/team_overlap.rhai"),
    ),
];

/// The names of the embedded default bundle's files (for tests and tooling).
pub fn builtin_files() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

/// The embedded default bundle's files: each name (relative to the bundle) and its text, as
/// `changegate init` writes them.
pub fn builtin_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTIN.iter().copied()
}

/// The default bundle's own tests (`policies/tests/**/*.yaml`, embedded by build.rs): each path
/// relative to the bundle (`tests/gates/latency-generated.yaml`) and its text. They are not part
/// of the bundle (nor of its digest); `changegate init` writes them so that `changegate test`
/// runs on the new bundle at once.
pub fn builtin_tests() -> impl Iterator<Item = (&'static str, &'static str)> {
    const TESTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_tests.rs"));
    TESTS.iter().copied()
}

fn load_error(kind: LoadErrorKind, file: &str, message: String) -> LoadError {
    LoadError {
        kind,
        location: Location::new(file, None),
        field: None,
        message,
    }
}

impl PolicySet {
    /// The default bundle shipped with changegate (the files in `policies/`).
    ///
    /// # Errors
    /// None in practice: the embedded bundle is tested to load. The `Result` keeps a broken
    /// build from panicking.
    pub fn builtin() -> Result<Self, LoadError> {
        Self::from_sources(
            "policies",
            BUILTIN
                .iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned())),
        )
    }

    /// Loads the bundle in `dir`: `policy.yaml`, `directory.yaml` (optional: the people and
    /// their roles, see [`Directory::from_yaml`](crate::Directory::from_yaml)) beside it, every
    /// `*.rhai` script and every `*.ics` calendar in it or its subdirectories (up to three
    /// levels down; directories whose names start with `.` are skipped, and so is the top-level
    /// `tests/`, which holds the bundle's own test cases, see [`crate::testing`]). Scripts in
    /// subdirectories are compiled like those beside `policy.yaml`; calendars are named in
    /// `policy.yaml` relative to `dir`.
    ///
    /// # Errors
    /// A missing or unreadable file, a path that is not a regular file, a file larger than
    /// [`InputLimits::max_bytes`] (16 MiB by default), a file named like a script or calendar in
    /// another case (`check.RHAI`: a load error rather than a file silently ignored), invalid
    /// YAML, a schema violation, an unknown time zone, a window that ends before it starts, a
    /// script that does not compile, an invalid `directory.yaml`: each names the file, line,
    /// column and field.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, LoadError> {
        Self::load_with_limits(dir, &InputLimits::default())
    }

    /// [`PolicySet::load`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`PolicySet::load`].
    pub fn load_with_limits(
        dir: impl AsRef<Path>,
        limits: &InputLimits,
    ) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        let label = dir.display().to_string();
        let read_err = |path: &Path, e: std::io::Error| {
            load_error(
                LoadErrorKind::Io,
                &path.display().to_string(),
                format!("cannot read: {e}"),
            )
        };
        let io = |e: crate::error::InputError| LoadError {
            kind: LoadErrorKind::Io,
            location: e.location,
            field: e.field,
            message: e.message,
        };
        let meta = std::fs::metadata(dir).map_err(|e| read_err(dir, e))?;
        if !meta.is_dir() {
            return Err(load_error(
                LoadErrorKind::Io,
                &label,
                "cannot read: a policy bundle is a directory (with `policy.yaml`), not a file"
                    .to_owned(),
            ));
        }
        let mut files = Vec::new();
        // (directory, its path relative to the bundle); scripts and calendars may sit a few
        // levels down.
        let mut pending = vec![(dir.to_path_buf(), String::new())];
        while let Some((current, prefix)) = pending.pop() {
            let entries = std::fs::read_dir(&current).map_err(|e| read_err(&current, e))?;
            for entry in entries {
                let path = entry.map_err(|e| read_err(&current, e))?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let relative = format!("{prefix}{name}");
                if path.is_dir() {
                    // `tests/` at the top holds the bundle's own test cases (`changegate
                    // test`): not part of the policy, its digest or its scripts.
                    let own_tests = prefix.is_empty() && name == TESTS_DIR;
                    if !own_tests && !name.starts_with('.') && prefix.matches('/').count() < 3 {
                        pending.push((path.clone(), format!("{relative}/")));
                    }
                    continue;
                }
                let top = prefix.is_empty();
                let lower = name.to_ascii_lowercase();
                let wanted = (top && (name == POLICY_FILE || name == DIRECTORY_FILE))
                    || name.ends_with(".rhai")
                    || name.ends_with(".ics");
                if !wanted && (lower.ends_with(".rhai") || lower.ends_with(".ics")) {
                    return Err(load_error(
                        LoadErrorKind::Io,
                        &path.display().to_string(),
                        format!(
                            "`{name}` is named like a script or calendar in another case; bundle \
                             files end in lowercase `.rhai` or `.ics`: rename it (or move it out \
                             of the bundle)"
                        ),
                    ));
                }
                if wanted {
                    files.push((relative, read_input_file(&path, limits).map_err(io)?));
                }
            }
        }
        Self::from_sources_with_limits(&label, files, limits)
    }

    /// Loads a bundle from `(file name, text)` pairs, one of them `policy.yaml`; `label` (a
    /// directory name) prefixes the file names in errors and findings. `*.rhai` files are
    /// compiled; `*.ics` files (names relative to the bundle, e.g. `calendars/holidays.ics`) are
    /// the calendars `policy.yaml` may name; `directory.yaml`, if given, is the bundle's
    /// directory ([`PolicySet::directory`]). Every file given counts in the digest.
    ///
    /// # Example
    /// ```
    /// use changegate::PolicySet;
    /// let policy = PolicySet::from_sources("b", [
    ///     ("policy.yaml".to_owned(), "timezone: UTC\nenvironments: {production: {}}\n".to_owned()),
    ///     ("directory.yaml".to_owned(), "people:\n  alice@example.com: {roles: [release]}\n".to_owned()),
    /// ])?;
    /// assert!(policy.directory().has_role("alice@example.com", "release"));
    /// # Ok::<(), changegate::LoadError>(())
    /// ```
    ///
    /// # Errors
    /// As [`PolicySet::load`].
    pub fn from_sources(
        label: &str,
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, LoadError> {
        Self::from_sources_with_limits(label, files, &InputLimits::default())
    }

    /// [`PolicySet::from_sources`] with other [`InputLimits`] than the defaults: each file's
    /// text is at most `limits.max_bytes` long, and a leading byte order mark is skipped.
    ///
    /// # Errors
    /// As [`PolicySet::load`].
    pub fn from_sources_with_limits(
        label: &str,
        files: impl IntoIterator<Item = (String, String)>,
        limits: &InputLimits,
    ) -> Result<Self, LoadError> {
        let mut files: Vec<(String, String)> = files
            .into_iter()
            .map(|(name, text)| match text.strip_prefix('\u{feff}') {
                Some(rest) => (name, rest.to_owned()),
                None => (name, text),
            })
            .collect();
        files.sort();
        let origin = |name: &str| {
            if label.is_empty() {
                name.to_owned()
            } else {
                format!("{}/{name}", label.trim_end_matches('/'))
            }
        };
        for (name, text) in &files {
            if let Some(message) = limits.size_error(text.len()) {
                return Err(load_error(LoadErrorKind::Io, &origin(name), message));
            }
        }
        let policy_text = files
            .iter()
            .find(|(n, _)| n == POLICY_FILE)
            .map(|(_, t)| t.as_str())
            .ok_or_else(|| {
                load_error(
                    LoadErrorKind::Io,
                    &origin(POLICY_FILE),
                    format!("the bundle has no `{POLICY_FILE}`"),
                )
            })?;
        let calendars: BundleFiles = files
            .iter()
            .filter(|(n, _)| n.ends_with(".ics"))
            .map(|(n, t)| (n.as_str(), (origin(n), t.as_str())))
            .collect();
        let config = parse_policy(policy_text, &origin(POLICY_FILE), &calendars, limits)?;
        let script_files: Vec<(String, String)> = files
            .iter()
            .filter(|(n, _)| n.ends_with(".rhai"))
            .map(|(n, t)| (origin(n), t.clone()))
            .collect();
        let scripts = Scripts::compile(&script_files)?;
        let directory = match files.iter().find(|(n, _)| n == DIRECTORY_FILE) {
            None => crate::model::Directory::default(),
            Some((name, text)) => {
                crate::model::Directory::from_yaml_with_limits(text, &origin(name), limits)
                    .map_err(|e| LoadError {
                        kind: LoadErrorKind::Config,
                        location: e.location,
                        field: e.field,
                        message: e.message,
                    })?
            }
        };
        let mut hasher = Sha256::new();
        for (name, text) in &files {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                scripts,
                digest: format!("sha256:{hex}"),
                files: files.iter().map(|(n, _)| origin(n)).collect(),
                directory,
                policy_file: (origin(POLICY_FILE), policy_text.to_owned()),
            }),
        })
    }
}
