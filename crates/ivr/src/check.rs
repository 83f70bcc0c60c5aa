//! The checker: what `ivrd check` reports beyond syntax.

use crate::error::{Loc, ParseError};
use crate::parse::suggest;
use crate::program::*;
use crate::script::{BUILTIN_VARS, BranchPoint, Script, for_each_expr};
use std::collections::{HashMap, HashSet};

/// Where control can go after instruction `pc`. `None` in the list means "leaves the flow"
/// (hang-up, transfer, return, or the engine's fallback to an agent).
pub(crate) fn successors(code: &[Instr], pc: usize) -> Vec<Option<usize>> {
    let or_end = |b: &Option<(usize, Loc)>, end: usize| Some(b.map_or(end, |(p, _)| p));
    let or_exit = |b: &Option<(usize, Loc)>| b.map(|(p, _)| p);
    match &code[pc].op {
        Op::Hangup | Op::Transfer(..) | Op::Return(_) | Op::End | Op::HangupEnd => vec![None],
        Op::Jump(t) | Op::GotoPc(t) => vec![Some(*t)],
        Op::JumpUnless(_, t) => vec![Some(pc + 1), Some(*t)],
        Op::Menu(m) => {
            let mut v: Vec<Option<usize>> = m.keys.iter().map(|(_, p, _)| Some(*p)).collect();
            v.push(or_exit(&m.on_invalid_limit));
            v.push(or_exit(&m.on_timeout_limit));
            v
        }
        Op::Collect(c) => vec![
            or_end(&c.on_ok, c.end),
            or_exit(&c.on_fail),
            or_end(&c.on_stop, c.end),
        ],
        Op::Hook(h) => vec![
            or_end(&h.on_found, h.end),
            or_end(&h.on_not_found, h.end),
            or_exit(&h.on_error),
            or_exit(&h.on_timeout),
        ],
        Op::Record(r) => {
            let mut v = vec![or_end(&r.on_done, r.end), or_end(&r.on_empty, r.end)];
            if let Some((p, _, _)) = r.on_hangup {
                v.push(Some(p));
            }
            v
        }
        _ => vec![Some(pc + 1)],
    }
}

fn waits(op: &Op) -> bool {
    matches!(
        op,
        Op::Menu(_)
            | Op::Collect(_)
            | Op::Hook(_)
            | Op::Record(_)
            | Op::Pause(_)
            | Op::Play(_)
            | Op::Say(..)
            | Op::Call(..)
    )
}

fn is_synthetic(op: &Op) -> bool {
    matches!(op, Op::Jump(_) | Op::End | Op::HangupEnd)
}

/// The statement's keyword, if it needs the caller on the line (it plays, listens, waits
/// for the caller or hands the call on): such statements cannot run after a hang-up.
pub(crate) fn needs_caller(op: &Op) -> Option<&'static str> {
    Some(match op {
        Op::Answer => "answer",
        Op::Play(_) => "play",
        Op::Say(..) => "say",
        Op::Pause(_) => "pause",
        Op::Menu(_) => "menu",
        Op::Collect(_) => "collect",
        Op::Record(_) => "record",
        Op::Transfer(..) => "transfer",
        _ => return None,
    })
}

/// For each flow: whether it (or a flow it calls) has a statement that needs the caller.
fn flows_needing_caller(s: &Script) -> Vec<bool> {
    let mut needs: Vec<bool> = s
        .flows
        .iter()
        .map(|f| f.code.iter().any(|i| needs_caller(&i.op).is_some()))
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for (fi, f) in s.flows.iter().enumerate() {
            if !needs[fi]
                && f.code
                    .iter()
                    .any(|i| matches!(i.op, Op::Call(c, ..) if needs[c]))
            {
                needs[fi] = true;
                changed = true;
            }
        }
    }
    needs
}

/// `on hangup` bodies run after the caller has gone: only statements that need no caller.
fn check_after_hangup(s: &Script, errors: &mut Vec<ParseError>) {
    let needs = flows_needing_caller(s);
    const HINT: &str = "the caller has hung up: only `set`, `if`, `hook` (without `hold`), `result`, `language`, `return`, `hangup` and calls of flows that need no caller run in `on hangup`";
    for flow in &s.flows {
        for ins in &flow.code {
            let Op::Record(r) = &ins.op else { continue };
            let Some((start, _, end)) = r.on_hangup else {
                continue;
            };
            for body in &flow.code[start..end] {
                let msg = match &body.op {
                    op if needs_caller(op).is_some() => format!(
                        "`{}` cannot run in `on hangup`: nobody is on the line",
                        needs_caller(op).unwrap_or_default()
                    ),
                    Op::Hook(h) if h.hold.is_some() => format!(
                        "hook `{}` in `on hangup` cannot have `hold`: nobody is on the line",
                        h.kind.name()
                    ),
                    Op::Call(c, ..) if needs[*c] => format!(
                        "flow `{}` cannot be called in `on hangup`: it needs the caller on the line",
                        s.flows[*c].name
                    ),
                    Op::Goto(_) | Op::GotoPc(_) => {
                        "`goto` cannot be used in `on hangup`: its body runs once, to its end"
                            .to_string()
                    }
                    _ => continue,
                };
                errors.push(ParseError::new(body.loc, msg).hint(HINT));
            }
            for (name, pc, loc) in &flow.labels {
                if (start..end).contains(pc) {
                    errors.push(
                        ParseError::new(
                            *loc,
                            format!("label `{name}` cannot be inside `on hangup`"),
                        )
                        .hint(HINT),
                    );
                }
            }
        }
    }
}

pub(crate) fn check(s: &mut Script, errors: &mut Vec<ParseError>, warnings: &mut Vec<ParseError>) {
    // Flows reachable from main.
    let mut called = vec![false; s.flows.len()];
    let mut stack = vec![s.main];
    while let Some(f) = stack.pop() {
        if std::mem::replace(&mut called[f], true) {
            continue;
        }
        for ins in &s.flows[f].code {
            if let Op::Call(i, _, _) = ins.op {
                stack.push(i);
            }
        }
    }
    for (fi, flow) in s.flows.iter().enumerate() {
        if !called[fi] && flow.loc.file == 0 && flow.name != "on_error" {
            warnings.push(
                ParseError::new(flow.loc, format!("flow `{}` is never called", flow.name))
                    .hint("call it with `call name(...)` or remove it"),
            );
        }
        check_flow(flow, fi == s.main, errors, warnings);
    }
    check_after_hangup(s, errors);
}

fn check_flow(
    flow: &Flow,
    is_main: bool,
    errors: &mut Vec<ParseError>,
    warnings: &mut Vec<ParseError>,
) {
    let code = &flow.code;
    let n = code.len();
    let succ: Vec<Vec<Option<usize>>> = (0..n).map(|pc| successors(code, pc)).collect();
    // Reachability.
    let mut reach = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(pc) = stack.pop() {
        if pc >= n || std::mem::replace(&mut reach[pc], true) {
            continue;
        }
        stack.extend(succ[pc].iter().flatten());
    }
    let mut pc = 0;
    while pc < n {
        if !reach[pc] && !is_synthetic(&code[pc].op) {
            warnings.push(
                ParseError::new(code[pc].loc, "this statement can never run").hint(
                    "the statements before it always jump away (goto, hangup, transfer, return)",
                ),
            );
            while pc < n && !reach[pc] {
                pc += 1;
            }
        } else {
            pc += 1;
        }
    }
    // Loops the caller cannot leave: reachable statements from which no exit is reachable.
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut can_exit = vec![false; n];
    let mut work = Vec::new();
    for pc in 0..n {
        for s in &succ[pc] {
            match s {
                Some(t) if *t < n => pred[*t].push(pc),
                _ => {
                    can_exit[pc] = true;
                    work.push(pc);
                }
            }
        }
    }
    while let Some(pc) = work.pop() {
        for &p in &pred[pc] {
            if !can_exit[p] {
                can_exit[p] = true;
                work.push(p);
            }
        }
    }
    if let Some(pc) = (0..n).find(|&pc| reach[pc] && !can_exit[pc] && !is_synthetic(&code[pc].op)) {
        warnings.push(
            ParseError::new(
                code[pc].loc,
                "from here the caller can only leave by hanging up",
            )
            .hint("give the loop a way out: a menu limit branch, a transfer, a hangup or a return"),
        );
    }
    // Loops that never wait: the call would spin without input.
    let mut color = vec![0u8; n];
    for start in 0..n {
        if reach[start] && color[start] == 0 && !waits(&code[start].op) {
            if let Some(at) = spin_cycle(code, &succ, start, &mut color) {
                errors.push(ParseError::new(code[at].loc, "this loop never waits for the caller")
                    .hint("a goto that comes back without a play, menu, collect, pause or hook would spin forever"));
            }
        }
    }
    // Variables.
    let mut defined: HashMap<&str, Loc> = HashMap::new();
    let mut records: HashSet<&str> = HashSet::new();
    let mut used_anyway: HashSet<&str> = HashSet::new();
    for p in &flow.params {
        defined.insert(p, flow.loc);
    }
    for ins in code {
        match &ins.op {
            Op::Set(v, _) => {
                defined.entry(v).or_insert(ins.loc);
            }
            Op::Collect(c) => {
                defined.entry(&c.var).or_insert(ins.loc);
            }
            Op::Call(_, _, Some(v)) => {
                defined.entry(v).or_insert(ins.loc);
            }
            Op::Hook(h) => {
                if let Some(v) = &h.into {
                    defined.entry(v).or_insert(ins.loc);
                    records.insert(v);
                }
            }
            Op::Record(r) => {
                // A recording is kept whatever the flow does with the variable.
                records.insert(&r.var);
                defined.entry(&r.var).or_insert(ins.loc);
                used_anyway.insert(r.var.as_str());
            }
            _ => {}
        }
    }
    let mut used: HashSet<&str> = used_anyway;
    let known: Vec<&str> = defined.keys().copied().chain(BUILTIN_VARS).collect();
    for ins in code {
        let mut vars = Vec::new();
        for_each_expr(&ins.op, &mut |e| e.vars(&mut vars));
        for (v, loc) in vars {
            let base = v.split('.').next().unwrap_or(v);
            used.insert(base);
            let ok = if v.contains('.') {
                records.contains(base)
            } else {
                defined.contains_key(v) || BUILTIN_VARS.contains(&v)
            };
            if !ok {
                let hint = if v.contains('.') && defined.contains_key(base) {
                    format!("`{base}` is not a hook or record result, so it has no fields")
                } else {
                    suggest(v, &known).unwrap_or_else(|| {
                        "set it first (`set`, `collect`, `hook ... -> name`) or pass it as a flow parameter".into()
                    })
                };
                errors.push(
                    ParseError::new(
                        loc,
                        format!("variable `{v}` is never set in flow `{}`", flow.name),
                    )
                    .hint(hint),
                );
            }
        }
    }
    for (v, loc) in &defined {
        if !used.contains(v) && !v.starts_with('_') && !flow.params.iter().any(|p| p == v) {
            warnings.push(
                ParseError::new(*loc, format!("variable `{v}` is set but never used"))
                    .hint("use it, or start its name with _ if that is on purpose"),
            );
        }
    }
    for p in &flow.params {
        if !used.contains(p.as_str()) {
            warnings.push(
                ParseError::new(
                    flow.loc,
                    format!("parameter `{p}` of flow `{}` is never used", flow.name),
                )
                .hint("remove it or use it"),
            );
        }
    }
    maybe_unset(flow, &succ, &reach, &defined, warnings);
    // Labels.
    let targets: HashSet<usize> = code
        .iter()
        .filter_map(|i| match i.op {
            Op::GotoPc(t) => Some(t),
            _ => None,
        })
        .collect();
    for (name, pc, loc) in &flow.labels {
        if !targets.contains(pc) {
            warnings.push(
                ParseError::new(*loc, format!("label `{name}` is never used by a goto"))
                    .hint("remove it, or add `goto` where the flow should come back"),
            );
        }
    }
    // Menus, collects and hooks without failure branches.
    for ins in code {
        match &ins.op {
            Op::Menu(m) => {
                if m.on_timeout_limit.is_none() {
                    warnings.push(ParseError::new(ins.loc, format!("menu `{}` has no `on timeout-limit` branch", m.name))
                        .hint("say what happens when the caller presses nothing; without it the call goes to the fallback agent group"));
                }
                if m.on_invalid_limit.is_none() {
                    warnings.push(ParseError::new(ins.loc, format!("menu `{}` has no `on invalid-limit` branch", m.name))
                        .hint("say what happens after too many wrong keys; without it the call goes to the fallback agent group"));
                }
                if m.keys.is_empty() {
                    errors.push(ParseError::new(
                        ins.loc,
                        format!("menu `{}` has no `key` branches", m.name),
                    ));
                }
            }
            Op::Collect(c) if c.on_fail.is_none() => {
                warnings.push(ParseError::new(ins.loc, format!("collect `{}` has no `on fail` branch", c.var))
                    .hint("say what happens when every attempt fails; without it the call goes to the fallback agent group"));
            }
            Op::Hook(h) => {
                let missing: Vec<&str> = [
                    ("error", h.on_error.is_none()),
                    ("timeout", h.on_timeout.is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect();
                if !missing.is_empty() {
                    warnings.push(ParseError::new(ins.loc, format!(
                        "hook `{}` has no failure branch for: {}", h.kind.name(), missing.join(", ")))
                        .hint("add `on error:` and `on timeout:` (a slow or broken shop database must not strand the caller)"));
                }
            }
            Op::Return(Some(_)) if is_main => {
                warnings.push(
                    ParseError::new(
                        ins.loc,
                        "`return` with a value in flow main: the value is ignored",
                    )
                    .hint("use `result \"...\"` to record how the call ended"),
                );
            }
            _ => {}
        }
    }
}

/// Finds a cycle through non-waiting statements starting at `start` (iterative DFS).
fn spin_cycle(
    code: &[Instr],
    succ: &[Vec<Option<usize>>],
    start: usize,
    color: &mut [u8],
) -> Option<usize> {
    let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
    color[start] = 1;
    while let Some(&mut (pc, ref mut i)) = stack.last_mut() {
        if let Some(next) = succ[pc].get(*i) {
            *i += 1;
            if let Some(t) = *next {
                if t >= code.len() || waits(&code[t].op) {
                    continue;
                }
                if color[t] == 1 {
                    return Some(t);
                }
                if color[t] == 0 {
                    color[t] = 1;
                    stack.push((t, 0));
                }
            }
        } else {
            color[pc] = 2;
            stack.pop();
        }
    }
    None
}

/// Every branch point of the script, as the engine reports them in `Trace::Branch`.
pub(crate) fn branch_points(s: &Script) -> Vec<BranchPoint> {
    let mut v = Vec::new();
    let mut add = |loc: Loc, label: String| v.push(BranchPoint { loc, label });
    for f in &s.flows {
        for ins in &f.code {
            match &ins.op {
                Op::JumpUnless(..) => {
                    add(ins.loc, "if true".into());
                    add(ins.loc, "if false".into());
                }
                Op::Menu(m) => {
                    for (d, _, l) in &m.keys {
                        add(*l, format!("key {d}"));
                    }
                    add(ins.loc, "invalid key".into());
                    add(ins.loc, "timeout".into());
                    add(
                        m.on_invalid_limit.map_or(ins.loc, |b| b.1),
                        "invalid-limit".into(),
                    );
                    add(
                        m.on_timeout_limit.map_or(ins.loc, |b| b.1),
                        "timeout-limit".into(),
                    );
                }
                Op::Collect(c) => {
                    add(c.on_ok.map_or(ins.loc, |b| b.1), "ok".into());
                    add(ins.loc, "retry".into());
                    add(c.on_fail.map_or(ins.loc, |b| b.1), "fail".into());
                    if !c.stop_keys.is_empty() {
                        add(c.on_stop.map_or(ins.loc, |b| b.1), "stop".into());
                    }
                }
                Op::Hook(h) => {
                    add(h.on_found.map_or(ins.loc, |b| b.1), "found".into());
                    add(h.on_not_found.map_or(ins.loc, |b| b.1), "not-found".into());
                    add(h.on_error.map_or(ins.loc, |b| b.1), "error".into());
                    add(h.on_timeout.map_or(ins.loc, |b| b.1), "timeout".into());
                }
                Op::Record(r) => {
                    add(r.on_done.map_or(ins.loc, |b| b.1), "done".into());
                    add(r.on_empty.map_or(ins.loc, |b| b.1), "empty".into());
                    if let Some((_, l, _)) = r.on_hangup {
                        add(l, "hangup".into());
                    }
                }
                _ => {}
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The variable an instruction sets on every way out of it.
fn def_of(op: &Op) -> Option<&str> {
    match op {
        Op::Set(v, _) => Some(v),
        Op::Collect(c) => Some(&c.var),
        Op::Record(r) => Some(&r.var),
        Op::Hook(h) => h.into.as_deref(),
        Op::Call(_, _, Some(v)) => Some(v),
        _ => None,
    }
}

/// Definite assignment: warns where a variable is read on a path that never set it (it would
/// be a runtime error there), e.g. set inside an `if` and read after it.
fn maybe_unset(
    flow: &Flow,
    succ: &[Vec<Option<usize>>],
    reach: &[bool],
    defined: &HashMap<&str, Loc>,
    warnings: &mut Vec<ParseError>,
) {
    let code = &flow.code;
    let n = code.len();
    let mut names: Vec<&str> = defined.keys().copied().collect();
    names.sort_unstable();
    let idx = |v: &str| names.binary_search(&v).ok();
    let words = names.len().div_ceil(64).max(1);
    let full = vec![u64::MAX; words];
    if n == 0 {
        return;
    }
    let mut entry = vec![0u64; words];
    for p in &flow.params {
        if let Some(i) = idx(p) {
            entry[i / 64] |= 1 << (i % 64);
        }
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (pc, ss) in succ.iter().enumerate() {
        if reach[pc] {
            for t in ss.iter().flatten().filter(|t| **t < n) {
                preds[*t].push(pc);
            }
        }
    }
    // in_sets[pc]: variables set on every path to pc (greatest fixpoint, from "all").
    let mut in_sets: Vec<Vec<u64>> = vec![full; n];
    let out_of = |pc: usize, ins: &[Vec<u64>]| {
        let mut o = ins[pc].clone();
        if let Some(i) = def_of(&code[pc].op).and_then(idx) {
            o[i / 64] |= 1 << (i % 64);
        }
        o
    };
    let mut changed = true;
    let mut rounds = 0;
    // Capped: before the fixpoint the sets are only larger, so a cut-off run warns less, never wrongly.
    while changed && rounds < 64 {
        changed = false;
        rounds += 1;
        for pc in (0..n).filter(|&pc| reach[pc]) {
            let mut new = if pc == 0 {
                entry.clone()
            } else {
                vec![u64::MAX; words]
            };
            for &p in &preds[pc] {
                let o = out_of(p, &in_sets);
                for (w, x) in new.iter_mut().zip(&o) {
                    *w &= x;
                }
            }
            if new != in_sets[pc] {
                in_sets[pc] = new;
                changed = true;
            }
        }
    }
    let mut warned: HashSet<&str> = HashSet::new();
    for pc in 0..n {
        if !reach[pc] {
            continue;
        }
        let mut vars = Vec::new();
        for_each_expr(&code[pc].op, &mut |e| e.vars(&mut vars));
        for (v, loc) in vars {
            let base = v.split('.').next().unwrap_or(v);
            let Some(i) = idx(base) else { continue };
            if in_sets[pc][i / 64] & (1 << (i % 64)) == 0 && warned.insert(base) {
                warnings.push(
                    ParseError::new(loc, format!("variable `{base}` may have no value here"))
                        .hint("it is not set on every way to this line (e.g. only inside an `if` or one menu key); set it before, or the call takes the error path when it has none"),
                );
            }
        }
    }
}
