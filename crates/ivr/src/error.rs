//! Errors and diagnostics, each with a location in the script.

/// A position in a script: file number (see [`crate::Script::file_name`]), line and column,
/// both counted from 1 (columns in characters, so Chinese text counts one per character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Loc {
    /// Index into the script's file list.
    pub file: u16,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub col: u32,
}

/// A syntax error: where, what, and a hint for the designer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where the problem is.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can tell.
    pub hint: Option<String>,
}

impl ParseError {
    pub(crate) fn new(loc: Loc, message: impl Into<String>) -> Self {
        Self {
            loc,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// How serious a finding of the checker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The script is refused.
    Error,
    /// The script runs, but a designer should look.
    Warning,
}

/// One finding about a script, with its location, as `ivrd check` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// File name as given to the loader.
    pub file: String,
    /// Where.
    pub loc: Loc,
    /// What.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl core::fmt::Display for Diagnostic {
    /// `file:line:col: error: message` and an indented `hint:` line.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.loc.line, self.loc.col, self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n    hint: {h}")?;
        }
        Ok(())
    }
}

/// Why a script could not be loaded: every error found, each with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The findings (errors first, then warnings).
    pub diagnostics: Vec<Diagnostic>,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        write!(f, "script refused, {n} error(s)")?;
        for d in &self.diagnostics {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// A caller bug in driving the engine (not a script problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// An event for a channel with no call.
    NoCall(tel_types::ChannelId),
    /// A call arrived on a channel that already has one.
    ChannelBusy(tel_types::ChannelId),
    /// The engine already runs its maximum number of calls.
    TooManyCalls(usize),
}

impl core::fmt::Display for InputError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoCall(ch) => write!(f, "no call on {ch}"),
            Self::ChannelBusy(ch) => write!(f, "{ch} already has a call"),
            Self::TooManyCalls(n) => write!(f, "the engine already runs {n} calls"),
        }
    }
}

impl std::error::Error for InputError {}
