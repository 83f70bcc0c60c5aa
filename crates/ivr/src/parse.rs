//! The parser: tokens of one file to flows of flat instructions.

use crate::error::{Loc, ParseError};
use crate::lex::{Tok, Token};
use crate::pattern::Pattern;
use crate::program::*;
use std::collections::HashMap;
use tel_types::{Digit, DigitSet};

type PResult<T> = Result<T, ParseError>;

/// Prompt names seen while parsing, interned to small indices.
#[derive(Debug, Default, Clone)]
pub(crate) struct PromptNames {
    pub(crate) names: Vec<String>,
    pub(crate) index: HashMap<String, u16>,
    /// Where each name was first used.
    pub(crate) first_use: Vec<Loc>,
}

impl PromptNames {
    pub(crate) fn intern(&mut self, name: &str, loc: Loc) -> u16 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u16;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.first_use.push(loc);
        i
    }
}

/// What one file declares.
#[derive(Debug, Default)]
pub(crate) struct FileAst {
    pub(crate) includes: Vec<(String, Loc)>,
    pub(crate) languages: Option<(Vec<String>, Loc)>,
    pub(crate) fallback: Option<(TransferKind, String, Loc)>,
    pub(crate) max_call_ms: Option<u64>,
    pub(crate) hours: Vec<Hours>,
    pub(crate) flows: Vec<Flow>,
}

/// Deepest nesting of blocks (`if` inside `menu` inside …) and of brackets in expressions.
const MAX_DEPTH: u32 = 100;

const STATEMENTS: [&str; 17] = [
    "answer", "hangup", "play", "say", "set", "result", "language", "pause", "goto", "if", "menu",
    "collect", "hook", "record", "transfer", "call", "return",
];
const TOP_LEVEL: [&str; 6] = [
    "flow",
    "hours",
    "include",
    "languages",
    "fallback",
    "max-call",
];

pub(crate) struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    prompts: &'a mut PromptNames,
    errors: Vec<ParseError>,
    /// Nesting of blocks and brackets, bounded so no script can overflow the stack.
    depth: u32,
    // The flow being built.
    code: Vec<Instr>,
    labels: Vec<(String, usize, Loc)>,
}

/// Parses one file's tokens; returns what it declares and every syntax error found.
pub(crate) fn parse_file(
    toks: Vec<Token>,
    prompts: &mut PromptNames,
) -> (FileAst, Vec<ParseError>) {
    let mut p = Parser {
        toks,
        pos: 0,
        prompts,
        depth: 0,
        errors: Vec::new(),
        code: Vec::new(),
        labels: Vec::new(),
    };
    let mut ast = FileAst::default();
    loop {
        p.skip_newlines();
        if p.peek() == &Tok::Eof {
            break;
        }
        if let Err(e) = p.top_item(&mut ast) {
            p.errors.push(e);
            p.recover_top();
        }
    }
    (ast, p.errors)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "did you mean `x`?" when a word is close to one of `options`.
pub(crate) fn suggest(word: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (edit_distance(word, o), *o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 4) && *d < o.len())
        .min()
        .map(|(_, o)| format!("did you mean `{o}`?"))
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn loc(&self) -> Loc {
        self.toks[self.pos.min(self.toks.len() - 1)].loc
    }

    fn skip_newlines(&mut self) {
        while self.peek() == &Tok::Newline {
            self.pos += 1;
        }
    }

    fn recover_top(&mut self) {
        // Skip to the next line that starts a top-level item.
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Newline => {
                    self.pos += 1;
                    if let Tok::Ident(w) = self.peek() {
                        if TOP_LEVEL.contains(&w.as_str()) {
                            return;
                        }
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    fn skip_line(&mut self) {
        while !matches!(self.peek(), Tok::Newline | Tok::Eof) {
            self.pos += 1;
        }
        if self.peek() == &Tok::Newline {
            self.pos += 1;
        }
    }

    fn err_here(&self, what: &str) -> ParseError {
        ParseError::new(
            self.loc(),
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(x) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.err_here(&format!("`{s}`")))
        }
    }

    fn expect_newline(&mut self) -> PResult<()> {
        match self.peek() {
            Tok::Newline => {
                self.pos += 1;
                Ok(())
            }
            Tok::Eof => Ok(()),
            _ => Err(self
                .err_here("end of line")
                .hint("put one statement or option on each line")),
        }
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Loc)> {
        let loc = self.loc();
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.pos += 1;
                Ok((s, loc))
            }
            _ => Err(self.err_here(what)),
        }
    }

    fn string(&mut self, what: &str) -> PResult<(String, Loc)> {
        let loc = self.loc();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.pos += 1;
                Ok((s, loc))
            }
            _ => Err(self.err_here(what).hint("write it in double quotes")),
        }
    }

    fn int(&mut self, what: &str) -> PResult<u32> {
        match self.peek().clone() {
            Tok::Int(n) if (0..=10_000).contains(&n) => {
                self.pos += 1;
                Ok(n as u32)
            }
            _ => Err(self.err_here(what)),
        }
    }

    fn duration(&mut self) -> PResult<u64> {
        match self.peek().clone() {
            Tok::Dur(ms) if ms <= 24 * 3_600_000 => {
                self.pos += 1;
                Ok(ms)
            }
            Tok::Int(_) => Err(self
                .err_here("a duration")
                .hint("add a unit: 5s, 500ms or 2min")),
            _ => Err(self.err_here("a duration such as 5s")),
        }
    }

    fn on_off(&mut self) -> PResult<bool> {
        if self.eat_word("on") {
            Ok(true)
        } else if self.eat_word("off") {
            Ok(false)
        } else {
            Err(self.err_here("`on` or `off`"))
        }
    }

    fn keys(&mut self) -> PResult<DigitSet> {
        let (s, loc) = self.string("keys in quotes, e.g. \"#\"")?;
        let mut set = DigitSet::EMPTY;
        for c in s.chars() {
            let d = Digit::from_char(c).ok_or_else(|| {
                ParseError::new(loc, format!("`{c}` is not a phone key"))
                    .hint("keys are 0-9, * and #")
            })?;
            set = set.with(d);
        }
        Ok(set)
    }

    fn prompt_name(&mut self) -> PResult<u16> {
        let (s, loc) = self.string("a prompt name in quotes")?;
        let ok = !s.is_empty()
            && !s.starts_with('/')
            && !s.split('/').any(|p| p.is_empty() || p == "." || p == "..")
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.".contains(c));
        if !ok {
            return Err(ParseError::new(loc, format!("\"{s}\" is not a usable prompt name"))
                .hint("prompt names are file names without .wav: letters, digits, _ - . and / between folders"));
        }
        Ok(self.prompts.intern(&s, loc))
    }

    fn prompt_list(&mut self) -> PResult<PromptList> {
        let mut v = vec![self.prompt_name()?];
        while self.eat_sym(",") {
            if v.len() >= 32 {
                return Err(
                    ParseError::new(self.loc(), "more than 32 prompts in one list")
                        .hint("split the list over several `play` lines"),
                );
            }
            v.push(self.prompt_name()?);
        }
        Ok(v)
    }

    /// `"a", "b" then "c"`: one list per attempt.
    fn tapered(&mut self) -> PResult<Vec<PromptList>> {
        let mut v = vec![self.prompt_list()?];
        while self.eat_word("then") {
            v.push(self.prompt_list()?);
        }
        Ok(v)
    }

    // ---------- top level ----------

    fn top_item(&mut self, ast: &mut FileAst) -> PResult<()> {
        let (w, loc) = self.ident("`flow`, `hours`, `include`, `languages` or `fallback`")?;
        match w.as_str() {
            "include" => {
                let (s, l) = self.string("a file name")?;
                ast.includes.push((s, l));
                self.expect_newline()
            }
            "languages" => {
                let mut v = vec![self.ident("a language such as zh-CN")?.0];
                while self.eat_sym(",") {
                    v.push(self.ident("a language such as en")?.0);
                }
                ast.languages = Some((v, loc));
                self.expect_newline()
            }
            "fallback" => {
                let kind = self.transfer_kind()?;
                let (s, _) = self.string("the group or extension")?;
                ast.fallback = Some((kind, s, loc));
                self.expect_newline()
            }
            "max-call" => {
                ast.max_call_ms = Some(self.duration()?);
                self.expect_newline()
            }
            "hours" => {
                let h = self.hours(loc)?;
                ast.hours.push(h);
                Ok(())
            }
            "flow" => {
                let f = self.flow(loc)?;
                ast.flows.push(f);
                Ok(())
            }
            _ => {
                let mut e =
                    ParseError::new(loc, format!("`{w}` cannot start a line outside a flow"));
                if let Some(h) = suggest(&w, &TOP_LEVEL) {
                    e = e.hint(h);
                } else if STATEMENTS.contains(&w.as_str()) {
                    e = e.hint("statements belong inside `flow NAME ... end`");
                }
                Err(e)
            }
        }
    }

    fn transfer_kind(&mut self) -> PResult<TransferKind> {
        if self.eat_word("group") {
            Ok(TransferKind::Group)
        } else if self.eat_word("extension") {
            Ok(TransferKind::Extension)
        } else {
            Err(self.err_here("`group` or `extension`"))
        }
    }

    fn hours(&mut self, loc: Loc) -> PResult<Hours> {
        let (name, _) = self.ident("a name for these hours")?;
        self.expect_newline()?;
        let mut h = Hours {
            name,
            spans: Vec::new(),
            holidays: Vec::new(),
            loc,
        };
        loop {
            self.skip_newlines();
            let l = self.loc();
            let (w, wl) = self.ident("a day such as mon-fri, `holiday` or `end`")?;
            if w == "end" {
                self.expect_newline()?;
                return Ok(h);
            }
            if w == "holiday" {
                let a = self.date()?;
                let b = if self.eat_sym("..") { self.date()? } else { a };
                h.holidays.push((a, b));
                self.expect_newline()?;
                continue;
            }
            let mut days = day_mask(&w).ok_or_else(|| {
                ParseError::new(wl, format!("`{w}` is not a day"))
                    .hint("days are mon tue wed thu fri sat sun, ranges like mon-fri, or daily")
            })?;
            while self.eat_sym(",") {
                let (w, wl) = self.ident("a day")?;
                days |= day_mask(&w)
                    .ok_or_else(|| ParseError::new(wl, format!("`{w}` is not a day")))?;
            }
            loop {
                let a = self.time()?;
                self.expect_sym("-")?;
                let b = self.time()?;
                if b <= a {
                    return Err(ParseError::new(
                        l,
                        "the closing time must be after the opening time",
                    )
                    .hint("split a span across midnight into two lines"));
                }
                h.spans.push((days, a, b));
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_newline()?;
        }
    }

    fn time(&mut self) -> PResult<u32> {
        match *self.peek() {
            Tok::Time(m) => {
                self.pos += 1;
                Ok(m)
            }
            _ => Err(self.err_here("a time such as 09:00")),
        }
    }

    fn date(&mut self) -> PResult<u32> {
        match *self.peek() {
            Tok::Date(y, m, d) => {
                self.pos += 1;
                Ok(u32::from(y) * 10_000 + u32::from(m) * 100 + u32::from(d))
            }
            _ => Err(self.err_here("a date such as 2026-10-01")),
        }
    }

    fn flow(&mut self, loc: Loc) -> PResult<Flow> {
        let (name, _) = self.ident("the flow's name")?;
        let mut params = Vec::new();
        if self.eat_sym("(") && !self.eat_sym(")") {
            loop {
                params.push(self.ident("a parameter name")?.0);
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        self.expect_newline()?;
        self.code = Vec::new();
        self.labels = Vec::new();
        self.body("flow", loc, false)?;
        self.code.push(Instr {
            op: Op::End,
            loc: self.toks[self.pos.saturating_sub(1)].loc,
        });
        // Resolve gotos.
        let labels = std::mem::take(&mut self.labels);
        let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(labels.len());
        for (n, pc, l) in &labels {
            if by_name.insert(n.as_str(), *pc).is_some() {
                let msg = format!("label `{n}` is defined twice in this flow");
                self.errors.push(ParseError::new(*l, msg));
            }
        }
        for ins in &mut self.code {
            if let Op::Goto(l) = &ins.op {
                if let Some(pc) = by_name.get(l.as_str()) {
                    ins.op = Op::GotoPc(*pc);
                } else {
                    let names: Vec<&str> = labels.iter().map(|(n, _, _)| n.as_str()).collect();
                    let mut e = ParseError::new(
                        ins.loc,
                        format!("`goto {l}`: no label `{l}:` in flow `{name}`"),
                    );
                    e = e.hint(suggest(l, &names).unwrap_or_else(|| {
                        "write the label on its own line, e.g. `ask_again:`, in the same flow"
                            .into()
                    }));
                    self.errors.push(e);
                }
            }
        }
        Ok(Flow {
            name,
            params,
            code: std::mem::take(&mut self.code),
            labels,
            loc,
        })
    }

    /// Statements until `end` (or `else` when `allow_else`); consumes the terminator word and
    /// returns true if it was `else`.
    fn body(&mut self, opener: &str, open_loc: Loc, allow_else: bool) -> PResult<bool> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(ParseError::new(
                open_loc,
                format!("blocks are nested more than {MAX_DEPTH} deep here"),
            )
            .hint("move inner parts into a sub-flow (`flow name ... end` and `call name`)"))
        } else {
            self.body_inner(opener, open_loc, allow_else)
        };
        self.depth -= 1;
        r
    }

    fn body_inner(&mut self, opener: &str, open_loc: Loc, allow_else: bool) -> PResult<bool> {
        loop {
            self.skip_newlines();
            match self.peek().clone() {
                Tok::Eof => {
                    return Err(ParseError::new(
                        open_loc,
                        format!("`{opener}` opened here has no `end`"),
                    )
                    .hint(
                        "close every flow, if, menu, collect, hook and record block with `end`",
                    ));
                }
                Tok::Ident(w) if w == "end" => {
                    self.pos += 1;
                    self.expect_newline()?;
                    return Ok(false);
                }
                Tok::Ident(w) if w == "else" && allow_else => {
                    self.pos += 1;
                    return Ok(true);
                }
                Tok::Ident(w) if w == "flow" || w == "hours" => {
                    return Err(ParseError::new(
                        open_loc,
                        format!("`{opener}` opened here has no `end` before the next `{w}`"),
                    )
                    .hint("add `end` to close it"));
                }
                _ => {
                    if let Err(e) = self.stmt() {
                        self.errors.push(e);
                        self.skip_line();
                    }
                }
            }
        }
    }

    fn push(&mut self, op: Op, loc: Loc) -> usize {
        self.code.push(Instr { op, loc });
        self.code.len() - 1
    }

    fn patch_jump(&mut self, at: usize, to: usize) {
        match &mut self.code[at].op {
            Op::Jump(t) | Op::JumpUnless(_, t) => *t = to,
            _ => {}
        }
    }

    fn stmt(&mut self) -> PResult<()> {
        let loc = self.loc();
        let (w, _) = self.ident("a statement")?;
        if self.peek() == &Tok::Sym(":") && self.peek_at(1) == &Tok::Newline {
            self.pos += 1;
            self.labels.push((w, self.code.len(), loc));
            return self.expect_newline();
        }
        match w.as_str() {
            "answer" => {
                self.push(Op::Answer, loc);
            }
            "hangup" => {
                self.push(Op::Hangup, loc);
            }
            "play" => {
                let l = self.prompt_list()?;
                self.push(Op::Play(l), loc);
            }
            "say" => {
                let (k, kl) = self.ident(
                    "what to say: digits, number, money, date, time, status, payment or carrier",
                )?;
                let Some(kind) = SayKind::ALL.into_iter().find(|s| s.keyword() == k) else {
                    let kws: Vec<&str> = SayKind::ALL.iter().map(|s| s.keyword()).collect();
                    return Err(ParseError::new(kl, format!("cannot say `{k}`")).hint(
                        suggest(&k, &kws)
                            .unwrap_or_else(|| format!("say one of: {}", kws.join(", "))),
                    ));
                };
                let e = self.expr()?;
                self.push(Op::Say(kind, e), loc);
            }
            "set" => {
                let (v, vl) = self.ident("a variable name")?;
                check_var_name(&v, vl)?;
                self.expect_sym("=")
                    .map_err(|e| e.hint("write `set name = value`"))?;
                let e = self.expr()?;
                self.push(Op::Set(v, e), loc);
            }
            "result" => {
                let e = self.expr()?;
                self.push(Op::Result(e), loc);
            }
            "language" => {
                let l = match self.peek().clone() {
                    Tok::Ident(s) | Tok::Str(s) => {
                        self.pos += 1;
                        s
                    }
                    _ => return Err(self.err_here("a language such as en")),
                };
                self.push(Op::Language(l), loc);
            }
            "pause" => {
                let d = self.duration()?;
                self.push(Op::Pause(d), loc);
            }
            "goto" => {
                let (l, _) = self.ident("a label name")?;
                self.push(Op::Goto(l), loc);
            }
            "return" => {
                let e = if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.push(Op::Return(e), loc);
            }
            "transfer" => {
                let k = self.transfer_kind()?;
                let e = self.expr()?;
                self.push(Op::Transfer(k, e), loc);
            }
            "call" => {
                let (f, _) = self.ident("the flow to call")?;
                let args = if self.peek() == &Tok::Sym("(") {
                    self.args()?
                } else {
                    Vec::new()
                };
                let into = if self.eat_sym("->") {
                    let (v, vl) = self.ident("a variable for the result")?;
                    check_var_name(&v, vl)?;
                    Some(v)
                } else {
                    None
                };
                self.push(Op::CallName(f, args, into), loc);
            }
            "if" => return self.if_stmt(loc),
            "menu" => return self.menu(loc),
            "collect" => return self.collect(loc),
            "hook" => return self.hook(loc),
            "record" => return self.record(loc),
            "else" => {
                return Err(ParseError::new(loc, "`else` without an `if`")
                    .hint("`else` goes between `if ...` and its `end`"));
            }
            "key" | "on" | "greeting" | "timeout" | "prompt" => {
                return Err(ParseError::new(loc, format!("`{w}` is an option of a block, not a statement here"))
                    .hint("options go directly inside `menu`, `collect`, `hook` or `record`, before their `end`"));
            }
            _ => {
                let mut e = ParseError::new(loc, format!("unknown statement `{w}`"));
                if let Some(h) = suggest(&w, &STATEMENTS) {
                    e = e.hint(h);
                } else if self.peek() == &Tok::Sym("=") {
                    e = e.hint(format!("to assign, write `set {w} = ...`"));
                } else if self.peek() == &Tok::Sym(":") {
                    e = e.hint("a label stands alone on its line: `name:`");
                }
                return Err(e);
            }
        }
        self.expect_newline()
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        self.expect_sym("(")?;
        if self.eat_sym(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat_sym(")") {
                return Ok(args);
            }
            self.expect_sym(",")?;
        }
    }

    fn if_stmt(&mut self, loc: Loc) -> PResult<()> {
        let cond = self.expr()?;
        self.expect_newline()?;
        let j = self.push(Op::JumpUnless(cond, 0), loc);
        let has_else = self.body("if", loc, true)?;
        if has_else {
            let j2 = self.push(Op::Jump(0), loc);
            let here = self.code.len();
            self.patch_jump(j, here);
            let el = self.loc();
            if self.eat_word("if") {
                self.if_stmt(el)?;
            } else {
                self.expect_newline()?;
                self.body("else", el, false)?;
            }
            let here = self.code.len();
            self.patch_jump(j2, here);
        } else {
            let here = self.code.len();
            self.patch_jump(j, here);
        }
        Ok(())
    }

    /// A branch body: `: statement` on the same line, or lines up to `end`. Returns its start
    /// and the index of its closing jump (patched to the block's end later).
    fn branch(&mut self, what: &str, loc: Loc, ends: &mut Vec<usize>) -> PResult<usize> {
        let start = self.code.len();
        if self.eat_sym(":") {
            self.stmt()?;
        } else {
            self.expect_newline().map_err(|e| e.hint(format!("write `{what}: statement` or put the statements on the next lines and close with `end`")))?;
            self.body(what, loc, false)?;
        }
        let end_loc = self.toks[self.pos.saturating_sub(1)].loc;
        ends.push(self.push(Op::Jump(0), end_loc));
        Ok(start)
    }

    fn close_block(&mut self, ends: &[usize]) -> usize {
        let end = self.code.len();
        for &j in ends {
            self.patch_jump(j, end);
        }
        end
    }

    /// Runs `f` for each line of a block until `end`; `f` gets the option word and location.
    fn block<F>(&mut self, opener: &str, open_loc: Loc, mut f: F) -> PResult<()>
    where
        F: FnMut(&mut Self, &str, Loc) -> PResult<()>,
    {
        self.expect_newline()?;
        loop {
            self.skip_newlines();
            if self.peek() == &Tok::Eof {
                return Err(ParseError::new(
                    open_loc,
                    format!("`{opener}` opened here has no `end`"),
                ));
            }
            let loc = self.loc();
            let (w, _) = self.ident(&format!("an option of `{opener}` or `end`"))?;
            if w == "end" {
                return self.expect_newline();
            }
            if let Err(e) = f(self, &w, loc) {
                self.errors.push(e);
                self.skip_line();
            }
        }
    }

    fn unknown_option(w: &str, loc: Loc, opener: &str, options: &[&str]) -> ParseError {
        let e = ParseError::new(loc, format!("`{w}` is not an option of `{opener}`"));
        e.hint(
            suggest(w, options).unwrap_or_else(|| format!("options here: {}", options.join(", "))),
        )
    }

    fn on_label(&mut self, opener: &str, labels: &[&str]) -> PResult<(String, Loc)> {
        let (l, ll) = self.ident("what the branch is for")?;
        if labels.contains(&l.as_str()) {
            Ok((l, ll))
        } else {
            Err(Self::unknown_option(
                &l,
                ll,
                &format!("{opener} ... on"),
                labels,
            ))
        }
    }

    fn menu(&mut self, loc: Loc) -> PResult<()> {
        let (name, _) = self.ident("the menu's name")?;
        let at = self.push(Op::End, loc);
        let mut m = Menu {
            name,
            greeting: Vec::new(),
            invalid: Vec::new(),
            no_input: Vec::new(),
            timeout_ms: 5000,
            invalid_limit: 3,
            timeout_limit: 3,
            barge_in: true,
            keys: Vec::new(),
            on_invalid_limit: None,
            on_timeout_limit: None,
            end: 0,
        };
        let mut ends = Vec::new();
        const OPTS: [&str; 9] = [
            "greeting",
            "invalid",
            "no-input",
            "timeout",
            "invalid-limit",
            "timeout-limit",
            "barge-in",
            "key",
            "on",
        ];
        self.block("menu", loc, |p, w, l| {
            match w {
                "greeting" => m.greeting = p.tapered()?,
                "invalid" => m.invalid = p.tapered()?,
                "no-input" => m.no_input = p.tapered()?,
                "timeout" => m.timeout_ms = p.duration()?,
                "invalid-limit" => m.invalid_limit = p.int("a number of tries")?.max(1),
                "timeout-limit" => m.timeout_limit = p.int("a number of tries")?.max(1),
                "barge-in" => m.barge_in = p.on_off()?,
                "key" => {
                    let kl = p.loc();
                    let d = match p.peek().clone() {
                        Tok::Int(n) if (0..=9).contains(&n) => Digit::from_index(n as usize),
                        Tok::Str(s) if s.chars().count() == 1 => {
                            s.chars().next().and_then(Digit::from_char)
                        }
                        _ => None,
                    };
                    let Some(d) = d else {
                        return Err(p
                            .err_here("one key: 0-9, \"*\" or \"#\"")
                            .hint("write * and # in quotes, since # starts a comment"));
                    };
                    p.pos += 1;
                    if m.keys.iter().any(|(k, _, _)| *k == d) {
                        return Err(ParseError::new(
                            kl,
                            format!("key {d} is used twice in this menu"),
                        ));
                    }
                    let pc = p.branch("key", l, &mut ends)?;
                    m.keys.push((d, pc, l));
                    return Ok(());
                }
                "on" => {
                    let (lab, _) = p.on_label("menu", &["invalid-limit", "timeout-limit"])?;
                    let pc = p.branch("on", l, &mut ends)?;
                    if lab == "invalid-limit" {
                        m.on_invalid_limit = Some((pc, l));
                    } else {
                        m.on_timeout_limit = Some((pc, l));
                    }
                    return Ok(());
                }
                _ => return Err(Self::unknown_option(w, l, "menu", &OPTS)),
            }
            p.expect_newline()
        })?;
        if m.greeting.is_empty() {
            self.errors.push(
                ParseError::new(loc, format!("menu `{}` has no greeting", m.name)).hint(
                    "add `greeting \"prompt\"` (and `then \"short_prompt\"` for later attempts)",
                ),
            );
        }
        m.end = self.close_block(&ends);
        self.code[at].op = Op::Menu(Box::new(m));
        Ok(())
    }

    fn collect(&mut self, loc: Loc) -> PResult<()> {
        let (var, vl) = self.ident("the variable to collect into")?;
        check_var_name(&var, vl)?;
        let at = self.push(Op::End, loc);
        let mut c = Collect {
            var,
            prompt: Vec::new(),
            invalid: Vec::new(),
            no_input: Vec::new(),
            min: 1,
            max: 20,
            end_keys: DigitSet::from_keys("#"),
            stop_keys: DigitSet::EMPTY,
            first_timeout_ms: 8000,
            digit_timeout_ms: 4000,
            pattern: None,
            attempts: 3,
            barge_in: true,
            on_ok: None,
            on_fail: None,
            on_stop: None,
            end: 0,
        };
        let mut ends = Vec::new();
        const OPTS: [&str; 13] = [
            "prompt",
            "invalid",
            "no-input",
            "min",
            "max",
            "end-keys",
            "stop-keys",
            "first-timeout",
            "digit-timeout",
            "pattern",
            "attempts",
            "barge-in",
            "on",
        ];
        self.block("collect", loc, |p, w, l| {
            match w {
                "prompt" => c.prompt = p.tapered()?,
                "invalid" => c.invalid = p.tapered()?,
                "no-input" => c.no_input = p.tapered()?,
                "min" => c.min = p.int("a number of digits")?,
                "max" => c.max = p.int("a number of digits")?.clamp(1, 64),
                "end-keys" => c.end_keys = p.keys()?,
                "stop-keys" => c.stop_keys = p.keys()?,
                "first-timeout" => c.first_timeout_ms = p.duration()?,
                "digit-timeout" => c.digit_timeout_ms = p.duration()?,
                "attempts" => c.attempts = p.int("a number of attempts")?.max(1),
                "barge-in" => c.barge_in = p.on_off()?,
                "pattern" => {
                    let (s, sl) = p.string("a pattern such as \"1XXXXXXXXXX\"")?;
                    c.pattern = Some(Pattern::parse(&s).map_err(|e| {
                        ParseError::new(sl, format!("bad pattern: {e}")).hint(
                            "X any digit, Z 1-9, N 2-9, [1-5] a set, . one or more, ! zero or more",
                        )
                    })?);
                }
                "on" => {
                    let (lab, _) = p.on_label("collect", &["ok", "fail", "stop"])?;
                    let pc = p.branch("on", l, &mut ends)?;
                    let slot = Some((pc, l));
                    match lab.as_str() {
                        "ok" => c.on_ok = slot,
                        "fail" => c.on_fail = slot,
                        _ => c.on_stop = slot,
                    }
                    return Ok(());
                }
                _ => return Err(Self::unknown_option(w, l, "collect", &OPTS)),
            }
            p.expect_newline()
        })?;
        if c.min > c.max {
            self.errors.push(ParseError::new(
                loc,
                format!("`min {}` is more than `max {}`", c.min, c.max),
            ));
        }
        if c.prompt.is_empty() {
            self.errors.push(
                ParseError::new(loc, "this collect has no prompt")
                    .hint("add `prompt \"enter_order_no\"` so the caller knows what to key in"),
            );
        }
        c.end = self.close_block(&ends);
        self.code[at].op = Op::Collect(Box::new(c));
        Ok(())
    }

    fn hook(&mut self, loc: Loc) -> PResult<()> {
        let (name, nl) = self.ident("a hook name")?;
        let Some(kind) = HookKind::ALL.into_iter().find(|k| k.name() == name) else {
            let names: Vec<&str> = HookKind::ALL.iter().map(|k| k.name()).collect();
            return Err(
                ParseError::new(nl, format!("there is no hook `{name}`")).hint(
                    suggest(&name, &names)
                        .unwrap_or_else(|| format!("hooks: {}", names.join(", "))),
                ),
            );
        };
        let args = self.args()?;
        let (lo, hi) = kind.arity();
        if args.len() < lo || args.len() > hi {
            return Err(ParseError::new(
                nl,
                format!("`{name}` takes {lo}..{hi} values, not {}", args.len()),
            )
            .hint(match kind {
                HookKind::FindOrder => "hook find_order(order_no) -> order",
                HookKind::RecentOrders => "hook recent_orders(caller_id) -> order",
                HookKind::AfterSales => "hook after_sales(order_no, reason, message) -> ticket",
                HookKind::RequestCallback => {
                    "hook request_callback(caller_id, reason, order_no, message) -> callback"
                }
            }));
        }
        let into = if self.eat_sym("->") {
            let (v, vl) = self.ident("a variable for the result")?;
            check_var_name(&v, vl)?;
            Some(v)
        } else {
            None
        };
        let at = self.push(Op::End, loc);
        let mut h = HookOp {
            kind,
            args,
            into,
            timeout_ms: 5000,
            hold: None,
            on_found: None,
            on_not_found: None,
            on_error: None,
            on_timeout: None,
            end: 0,
        };
        let mut ends = Vec::new();
        self.block("hook", loc, |p, w, l| {
            match w {
                "timeout" => h.timeout_ms = p.duration()?.max(100),
                "hold" => h.hold = Some(p.prompt_name()?),
                "on" => {
                    let (lab, _) =
                        p.on_label("hook", &["found", "not-found", "error", "timeout"])?;
                    let pc = p.branch("on", l, &mut ends)?;
                    let slot = Some((pc, l));
                    match lab.as_str() {
                        "found" => h.on_found = slot,
                        "not-found" => h.on_not_found = slot,
                        "error" => h.on_error = slot,
                        _ => h.on_timeout = slot,
                    }
                    return Ok(());
                }
                _ => {
                    return Err(Self::unknown_option(
                        w,
                        l,
                        "hook",
                        &["timeout", "hold", "on"],
                    ));
                }
            }
            p.expect_newline()
        })?;
        h.end = self.close_block(&ends);
        self.code[at].op = Op::Hook(Box::new(h));
        Ok(())
    }

    fn record(&mut self, loc: Loc) -> PResult<()> {
        let (var, vl) = self.ident("the variable for the recording")?;
        check_var_name(&var, vl)?;
        let at = self.push(Op::End, loc);
        let mut r = RecordOp {
            var,
            prompt: None,
            beep: true,
            max_ms: 60_000,
            silence_ms: 5000,
            stop_keys: DigitSet::from_keys("#"),
            on_done: None,
            on_empty: None,
            on_hangup: None,
            end: 0,
        };
        let mut ends = Vec::new();
        self.block("record", loc, |p, w, l| {
            match w {
                "prompt" => r.prompt = Some(p.prompt_list()?),
                "beep" => r.beep = p.on_off()?,
                "max" => r.max_ms = p.duration()?.max(1000),
                "silence" => r.silence_ms = p.duration()?,
                "stop-keys" => r.stop_keys = p.keys()?,
                "on" => {
                    let (lab, _) = p.on_label("record", &["done", "empty", "hangup"])?;
                    if lab == "hangup" {
                        // Runs after the caller hung up; its end ends the call.
                        let start = p.code.len();
                        if p.eat_sym(":") {
                            p.stmt()?;
                        } else {
                            p.expect_newline().map_err(|e| e.hint("write `on hangup: statement` or put the statements on the next lines and close with `end`"))?;
                            p.body("on hangup", l, false)?;
                        }
                        let end_loc = p.toks[p.pos.saturating_sub(1)].loc;
                        let end = p.push(Op::HangupEnd, end_loc);
                        r.on_hangup = Some((start, l, end));
                        return Ok(());
                    }
                    let pc = p.branch("on", l, &mut ends)?;
                    if lab == "done" {
                        r.on_done = Some((pc, l));
                    } else {
                        r.on_empty = Some((pc, l));
                    }
                    return Ok(());
                }
                _ => {
                    return Err(Self::unknown_option(
                        w,
                        l,
                        "record",
                        &["prompt", "beep", "max", "silence", "stop-keys", "on"],
                    ));
                }
            }
            p.expect_newline()
        })?;
        r.end = self.close_block(&ends);
        self.code[at].op = Op::Record(Box::new(r));
        Ok(())
    }

    // ---------- expressions ----------

    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(ParseError::new(
                self.loc(),
                format!("this expression is nested more than {MAX_DEPTH} deep"),
            ))
        } else {
            self.expr_inner()
        };
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> PResult<Expr> {
        let mut a = self.and_expr()?;
        let mut n = 0;
        while self.eat_word("or") {
            n += 1;
            if n > MAX_DEPTH {
                return Err(ParseError::new(self.loc(), "this expression is too long")
                    .hint("split it with `set` into shorter steps"));
            }
            let b = self.and_expr()?;
            a = Expr::Or(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut a = self.not_expr()?;
        let mut n = 0;
        while self.eat_word("and") {
            n += 1;
            if n > MAX_DEPTH {
                return Err(ParseError::new(self.loc(), "this expression is too long")
                    .hint("split it with `set` into shorter steps"));
            }
            let b = self.not_expr()?;
            a = Expr::And(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.eat_word("not") {
            let mut n = 1;
            while self.eat_word("not") {
                n += 1;
            }
            let inner = self.not_expr()?;
            return Ok(if n % 2 == 1 {
                Expr::Not(Box::new(inner))
            } else {
                Expr::Not(Box::new(Expr::Not(Box::new(inner))))
            });
        }
        let a = self.add_expr()?;
        let loc = self.loc();
        let op = match self.peek() {
            Tok::Sym("==") => CmpOp::Eq,
            Tok::Sym("!=") => CmpOp::Ne,
            Tok::Sym("<") => CmpOp::Lt,
            Tok::Sym("<=") => CmpOp::Le,
            Tok::Sym(">") => CmpOp::Gt,
            Tok::Sym(">=") => CmpOp::Ge,
            Tok::Sym("=") => {
                return Err(ParseError::new(loc, "`=` assigns; to compare write `==`"));
            }
            _ => return Ok(a),
        };
        self.pos += 1;
        let b = self.add_expr()?;
        Ok(Expr::Cmp(op, Box::new(a), Box::new(b), loc))
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let mut a = self.primary()?;
        let mut n = 0;
        while self.eat_sym("+") {
            n += 1;
            if n > MAX_DEPTH {
                return Err(ParseError::new(self.loc(), "this expression is too long")
                    .hint("split it with `set` into shorter steps"));
            }
            let b = self.primary()?;
            a = Expr::Add(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let loc = self.loc();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Tok::Int(n) => {
                self.pos += 1;
                Ok(Expr::Int(n))
            }
            Tok::Sym("(") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Ident(w) => {
                self.pos += 1;
                match w.as_str() {
                    "true" => return Ok(Expr::Bool(true)),
                    "false" => return Ok(Expr::Bool(false)),
                    _ => {}
                }
                if self.peek() == &Tok::Sym("(") {
                    self.pos += 1;
                    let e = match w.as_str() {
                        "open" | "holiday" => {
                            let (h, _) = self.ident("the name of an `hours` table")?;
                            Expr::HoursRef(w == "open", h, loc)
                        }
                        "len" => Expr::Len(Box::new(self.expr()?)),
                        _ => {
                            return Err(ParseError::new(loc, format!("there is no function `{w}`"))
                                .hint("functions: open(hours), holiday(hours), len(value); to run a sub-flow write `call name(...)`"));
                        }
                    };
                    self.expect_sym(")")?;
                    return Ok(e);
                }
                if ["and", "or", "then", "end"].contains(&w.as_str()) {
                    return Err(ParseError::new(
                        loc,
                        format!("expected a value, found `{w}`"),
                    ));
                }
                Ok(Expr::Var(w, loc))
            }
            _ => Err(self.err_here("a value: \"text\", a number or a variable")),
        }
    }
}

fn check_var_name(v: &str, loc: Loc) -> PResult<()> {
    if v.contains('-') || v.contains('.') {
        return Err(ParseError::new(loc, format!("`{v}` cannot be a variable name"))
            .hint("variable names use letters, digits and _ (fields like order.status are set by hooks)"));
    }
    Ok(())
}

fn day_mask(w: &str) -> Option<u8> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let idx = |d: &str| DAYS.iter().position(|x| *x == d);
    match w {
        "daily" => Some(0x7f),
        "weekdays" => Some(0x1f),
        "weekends" => Some(0x60),
        _ => {
            if let Some((a, b)) = w.split_once('-') {
                let (a, b) = (idx(a)?, idx(b)?);
                if a > b {
                    return None;
                }
                Some((a..=b).fold(0u8, |m, i| m | (1 << i)))
            } else {
                Some(1 << idx(w)?)
            }
        }
    }
}
