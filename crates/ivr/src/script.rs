//! Loading a script: files and includes, linking, the checker, and the prompt catalogue.

use crate::error::{Diagnostic, LoadError, Loc, ParseError, Severity};
use crate::parse::{FileAst, PromptNames, parse_file, suggest};
use crate::program::*;
use crate::say;
use std::collections::{HashMap, HashSet};
use tel_types::PromptId;

/// FNV-1a: a fast hash for the short prompt names looked up for every say-back fragment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fnv;

/// The state of one FNV-1a hash.
#[derive(Debug)]
pub(crate) struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Variables every call has, set by the engine.
pub const BUILTIN_VARS: [&str; 10] = [
    "caller_id",
    "dialled",
    "trunk",
    "channel",
    "date",
    "time",
    "weekday",
    "language",
    "direction",
    "error",
];

/// A loaded, linked and checked script; immutable and shared by the calls that run it.
#[derive(Debug)]
pub struct Script {
    pub(crate) name: String,
    pub(crate) files: Vec<String>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) main: usize,
    pub(crate) hours: Vec<Hours>,
    pub(crate) languages: Vec<String>,
    pub(crate) fallback: (TransferKind, String),
    pub(crate) max_call_ms: u64,
    pub(crate) prompt_names: Vec<String>,
    prompt_index: HashMap<String, u16, Fnv>,
    /// `ids[lang * names + name]`.
    ids: Vec<Option<PromptId>>,
    catalogue: Vec<PromptEntry>,
    warnings: Vec<Diagnostic>,
    branches: Vec<BranchPoint>,
}

/// One entry of the prompt catalogue: the id `MediaCommand::Play` carries, and the file it
/// stands for (`<prompts dir>/<language>/<name>.wav`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptEntry {
    /// The id in `Play` commands.
    pub id: PromptId,
    /// The language, e.g. `zh-CN`.
    pub language: String,
    /// The prompt name, e.g. `welcome` or `num/2`.
    pub name: String,
    /// Where the script first uses it (`None` for say-back fragments).
    pub used_at: Option<(String, Loc)>,
}

/// A place where the flow can go more than one way, for branch coverage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchPoint {
    /// Where the branch is written.
    pub loc: Loc,
    /// Which way: `key 1`, `if true`, `found`, …
    pub label: String,
}

impl Script {
    /// Loads `entry` and its includes through `read` (which maps a path to its text), links
    /// and checks it. Refuses the script if the checker finds any error.
    ///
    /// # Errors
    /// Every syntax and check error, each with `file:line:col` and a hint.
    pub fn load<F>(entry: &str, read: F) -> Result<Self, LoadError>
    where
        F: FnMut(&str) -> std::io::Result<String>,
    {
        let (script, diags) = check_with(entry, read);
        match script {
            Some(s) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok(s),
            _ => Err(LoadError { diagnostics: diags }),
        }
    }

    /// Loads a single-file script from text (no includes).
    ///
    /// # Errors
    /// As [`Script::load`].
    pub fn from_text(name: &str, text: &str) -> Result<Self, LoadError> {
        let text = text.to_string();
        let name_owned = name.to_string();
        Self::load(name, move |p| {
            if p == name_owned {
                Ok(text.clone())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "includes need a file reader",
                ))
            }
        })
    }

    /// The script's name (its entry file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the script's opening hours `hours` (an `hours` block) are open at `local`,
    /// as `open(hours)` in the script would say; `None` if there is no such block. For a
    /// daemon's status page or a demo that wants to know which callers to expect.
    pub fn is_open(&self, hours: &str, local: &crate::engine::LocalTime) -> Option<bool> {
        let h = self.hours.iter().find(|h| h.name == hours)?;
        let date =
            u32::from(local.year) * 10_000 + u32::from(local.month) * 100 + u32::from(local.day);
        let minute = u32::from(local.hour) * 60 + u32::from(local.minute);
        Some(h.is_open(date, local.weekday(), minute))
    }

    /// The name of file number `file` in a [`Loc`].
    pub fn file_name(&self, file: u16) -> &str {
        self.files.get(file as usize).map_or("?", String::as_str)
    }

    /// `file:line:col` for a location.
    pub fn locate(&self, loc: Loc) -> String {
        format!("{}:{}:{}", self.file_name(loc.file), loc.line, loc.col)
    }

    /// Languages the script is written for; the first is the default.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Every prompt the script can play, per language, with the id the engine uses.
    pub fn prompts(&self) -> &[PromptEntry] {
        &self.catalogue
    }

    /// The catalogue entry for an id.
    pub fn prompt(&self, id: PromptId) -> Option<&PromptEntry> {
        self.catalogue.get(id.0 as usize)
    }

    /// The checker's warnings (a loaded script has no errors).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every branch point, for coverage reports.
    pub fn branches(&self) -> &[BranchPoint] {
        &self.branches
    }

    pub(crate) fn prompt_id(&self, lang: usize, name: u16) -> Option<PromptId> {
        self.ids
            .get(lang * self.prompt_names.len() + name as usize)
            .copied()
            .flatten()
    }

    pub(crate) fn fragment_id(&self, lang: usize, name: &str) -> Option<PromptId> {
        self.prompt_index
            .get(name)
            .and_then(|&i| self.prompt_id(lang, i))
    }

    pub(crate) fn flow_index(&self, name: &str) -> Option<usize> {
        self.flows.iter().position(|f| f.name == name)
    }

    /// The call flow as Graphviz DOT.
    pub fn to_dot(&self) -> String {
        crate::graph::to_dot(self)
    }
}

/// Loads and checks `entry`, returning the script (if it could be linked) and every finding.
pub fn check_with<F>(entry: &str, mut read: F) -> (Option<Script>, Vec<Diagnostic>)
where
    F: FnMut(&str) -> std::io::Result<String>,
{
    let mut files: Vec<String> = Vec::new();
    let mut asts: Vec<FileAst> = Vec::new();
    let mut perrs: Vec<ParseError> = Vec::new();
    let mut prompts = PromptNames::default();
    let mut queue: Vec<(String, Option<Loc>)> = vec![(entry.to_string(), None)];
    while let Some((path, from)) = queue.pop() {
        if files.contains(&path) {
            continue;
        }
        if files.len() >= 64 {
            perrs.push(ParseError::new(
                from.unwrap_or_default(),
                "more than 64 files are included",
            ));
            break;
        }
        let text = match read(&path) {
            Ok(t) => t,
            Err(e) => {
                let loc = from.unwrap_or_default();
                let msg = format!("cannot read `{path}`: {e}");
                perrs.push(
                    ParseError::new(loc, msg)
                        .hint("include paths are relative to the file that includes them"),
                );
                continue;
            }
        };
        let file = files.len() as u16;
        files.push(path.clone());
        let (ast, errs) = match crate::lex::lex(&text, file) {
            Ok(toks) => parse_file(toks, &mut prompts),
            Err(e) => (FileAst::default(), vec![e]),
        };
        perrs.extend(errs);
        let dir = path
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        for (inc, l) in &ast.includes {
            let p = if inc.starts_with('/') {
                inc.clone()
            } else {
                normalise(&format!("{dir}{inc}"))
            };
            queue.push((p, Some(*l)));
        }
        asts.push(ast);
    }
    let diag = |files: &[String], sev, e: ParseError| Diagnostic {
        severity: sev,
        file: files
            .get(e.loc.file as usize)
            .cloned()
            .unwrap_or_else(|| entry.to_string()),
        loc: e.loc,
        message: e.message,
        hint: e.hint,
    };
    let mut out: Vec<Diagnostic> = perrs
        .into_iter()
        .map(|e| diag(&files, Severity::Error, e))
        .collect();
    if !out.is_empty() {
        return (None, out);
    }
    let mut l = Linker {
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let script = l.link(entry, files.clone(), asts, prompts);
    out.extend(
        l.errors
            .into_iter()
            .map(|e| diag(&files, Severity::Error, e)),
    );
    let mut warns: Vec<Diagnostic> = l
        .warnings
        .into_iter()
        .map(|e| diag(&files, Severity::Warning, e))
        .collect();
    warns.sort_by_key(|d| (d.loc.file, d.loc.line, d.loc.col));
    out.sort_by_key(|d| (d.loc.file, d.loc.line, d.loc.col));
    match script {
        Some(mut s) => {
            s.warnings = warns.clone();
            out.extend(warns);
            (Some(s), out)
        }
        None => {
            out.extend(warns);
            (None, out)
        }
    }
}

fn normalise(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "." | "" if !parts.is_empty() => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

struct Linker {
    errors: Vec<ParseError>,
    warnings: Vec<ParseError>,
}

impl Linker {
    fn err(&mut self, loc: Loc, msg: impl Into<String>, hint: Option<String>) {
        let mut e = ParseError::new(loc, msg);
        e.hint = hint;
        self.errors.push(e);
    }

    fn link(
        &mut self,
        entry: &str,
        files: Vec<String>,
        asts: Vec<FileAst>,
        mut prompts: PromptNames,
    ) -> Option<Script> {
        let mut flows: Vec<Flow> = Vec::new();
        let mut hours: Vec<Hours> = Vec::new();
        let mut languages: Option<Vec<String>> = None;
        let mut fallback = (TransferKind::Group, "agents".to_string());
        let mut max_call_ms = 30 * 60_000;
        for ast in asts {
            if let Some((langs, loc)) = ast.languages {
                if languages.is_some() {
                    self.err(
                        loc,
                        "`languages` is given twice",
                        Some("say it once, in the main file".into()),
                    );
                }
                for lg in &langs {
                    if !say::LANGUAGES.contains(&lg.as_str()) {
                        self.err(
                            loc,
                            format!("language `{lg}` has no say-back rules"),
                            Some(format!("supported: {}", say::LANGUAGES.join(", "))),
                        );
                    }
                }
                languages = Some(langs);
            }
            if let Some((k, g, _)) = ast.fallback {
                fallback = (k, g);
            }
            if let Some(m) = ast.max_call_ms {
                max_call_ms = m;
            }
            for h in ast.hours {
                if let Some(o) = hours.iter().find(|o| o.name == h.name) {
                    let ol = o.loc;
                    self.err(
                        h.loc,
                        format!("hours `{}` are defined twice", h.name),
                        Some(format!("the other definition is at line {}", ol.line)),
                    );
                } else {
                    hours.push(h);
                }
            }
            for f in ast.flows {
                if let Some(o) = flows.iter().find(|o| o.name == f.name) {
                    let ol = o.loc;
                    self.err(
                        f.loc,
                        format!("flow `{}` is defined twice", f.name),
                        Some(format!(
                            "the other definition is at {}:{}",
                            files[ol.file as usize], ol.line
                        )),
                    );
                } else {
                    flows.push(f);
                }
            }
        }
        let languages = languages.unwrap_or_else(|| vec!["zh-CN".to_string()]);
        let Some(main) = flows.iter().position(|f| f.name == "main") else {
            self.err(
                Loc::default(),
                "the script has no `flow main`",
                Some("every call starts at `flow main ... end`".into()),
            );
            return None;
        };
        // Resolve calls and hours references.
        let sigs: Vec<(String, usize)> = flows
            .iter()
            .map(|f| (f.name.clone(), f.params.len()))
            .collect();
        let hour_names: Vec<String> = hours.iter().map(|h| h.name.clone()).collect();
        let mut say_kinds: HashSet<SayKind> = HashSet::new();
        for f in &mut flows {
            for ins in &mut f.code {
                let loc = ins.loc;
                match &mut ins.op {
                    Op::CallName(name, args, into) => {
                        if let Some(i) = sigs.iter().position(|(n, _)| n == name) {
                            if sigs[i].1 != args.len() {
                                self.err(
                                    loc,
                                    format!(
                                        "flow `{name}` takes {} value(s), this call gives {}",
                                        sigs[i].1,
                                        args.len()
                                    ),
                                    None,
                                );
                            }
                            ins.op = Op::Call(i, std::mem::take(args), into.take());
                        } else {
                            let names: Vec<&str> = sigs.iter().map(|(n, _)| n.as_str()).collect();
                            self.err(
                                loc,
                                format!("there is no flow `{name}`"),
                                suggest(name, &names),
                            );
                        }
                    }
                    Op::Language(lg) if !languages.contains(lg) => {
                        self.err(
                            loc,
                            format!("language `{lg}` is not in this script's `languages`"),
                            Some(format!("languages: {}", languages.join(", "))),
                        );
                    }
                    Op::Say(k, _) => {
                        say_kinds.insert(*k);
                    }
                    _ => {}
                }
                for_each_expr_mut(&mut ins.op, &mut |e| self.resolve_hours(e, &hour_names));
            }
        }
        // The prompt catalogue: script prompts in every language, plus say-back fragments.
        let script_names = prompts.names.len();
        let mut frag_sets: Vec<Vec<&'static str>> = Vec::new();
        for lg in &languages {
            let mut set: Vec<&'static str> = Vec::new();
            for k in SayKind::ALL {
                if say_kinds.contains(&k) {
                    set.extend(say::fragments(lg, k));
                }
            }
            set.sort_unstable();
            set.dedup();
            for n in &set {
                prompts.intern(n, Loc::default());
            }
            frag_sets.push(set);
        }
        let n = prompts.names.len();
        let mut ids = vec![None; n * languages.len()];
        let mut catalogue = Vec::new();
        for (li, lg) in languages.iter().enumerate() {
            for (ni, name) in prompts.names.iter().enumerate() {
                let used = ni < script_names;
                if used || frag_sets[li].contains(&name.as_str()) {
                    let id = PromptId(catalogue.len() as u16);
                    ids[li * n + ni] = Some(id);
                    let l = prompts.first_use[ni];
                    catalogue.push(PromptEntry {
                        id,
                        language: lg.clone(),
                        name: name.clone(),
                        used_at: used.then(|| (files[l.file as usize].clone(), l)),
                    });
                }
            }
        }
        if catalogue.len() > u16::MAX as usize {
            self.err(
                Loc::default(),
                "the script uses more than 65535 prompts",
                None,
            );
        }
        let mut script = Script {
            name: entry.to_string(),
            files,
            flows,
            main,
            hours,
            languages,
            fallback,
            max_call_ms,
            prompt_index: prompts.index.into_iter().collect(),
            prompt_names: prompts.names,
            ids,
            catalogue,
            warnings: Vec::new(),
            branches: Vec::new(),
        };
        crate::check::check(&mut script, &mut self.errors, &mut self.warnings);
        script.branches = crate::check::branch_points(&script);
        Some(script)
    }

    fn resolve_hours(&mut self, e: &mut Expr, names: &[String]) {
        match e {
            Expr::HoursRef(open, name, loc) => {
                if let Some(i) = names.iter().position(|n| n == name) {
                    *e = if *open {
                        Expr::Open(i, *loc)
                    } else {
                        Expr::Holiday(i, *loc)
                    };
                } else {
                    let ns: Vec<&str> = names.iter().map(String::as_str).collect();
                    let loc = *loc;
                    self.err(
                        loc,
                        format!("there are no hours `{name}`"),
                        Some(
                            suggest(name, &ns)
                                .unwrap_or_else(|| "define them with `hours NAME ... end`".into()),
                        ),
                    );
                }
            }
            Expr::Not(a) | Expr::Len(a) => self.resolve_hours(a, names),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b, _) | Expr::Add(a, b) => {
                self.resolve_hours(a, names);
                self.resolve_hours(b, names);
            }
            _ => {}
        }
    }
}

/// Calls `f` on every top-level expression in an instruction.
pub(crate) fn for_each_expr_mut(op: &mut Op, f: &mut dyn FnMut(&mut Expr)) {
    match op {
        Op::Say(_, e)
        | Op::Set(_, e)
        | Op::Result(e)
        | Op::JumpUnless(e, _)
        | Op::Transfer(_, e) => f(e),
        Op::Return(Some(e)) => f(e),
        Op::Call(_, a, _) | Op::CallName(_, a, _) => a.iter_mut().for_each(f),
        Op::Hook(h) => h.args.iter_mut().for_each(f),
        _ => {}
    }
}

/// Calls `f` on every top-level expression in an instruction.
pub(crate) fn for_each_expr<'a>(op: &'a Op, f: &mut dyn FnMut(&'a Expr)) {
    match op {
        Op::Say(_, e)
        | Op::Set(_, e)
        | Op::Result(e)
        | Op::JumpUnless(e, _)
        | Op::Transfer(_, e) => f(e),
        Op::Return(Some(e)) => f(e),
        Op::Call(_, a, _) | Op::CallName(_, a, _) => a.iter().for_each(f),
        Op::Hook(h) => h.args.iter().for_each(f),
        _ => {}
    }
}
