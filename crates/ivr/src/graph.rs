//! The call flow as a Graphviz DOT picture.

use crate::program::*;
use crate::script::Script;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Follows jumps to the first real statement.
fn resolve(code: &[Instr], mut pc: usize) -> usize {
    for _ in 0..code.len() + 1 {
        match code.get(pc).map(|i| &i.op) {
            Some(Op::Jump(t) | Op::GotoPc(t)) => pc = *t,
            _ => break,
        }
    }
    pc
}

fn names(s: &Script, l: &[u16]) -> String {
    l.iter()
        .map(|&n| s.prompt_names[n as usize].as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(s: &Script, op: &Op) -> (String, &'static str) {
    match op {
        Op::Answer => ("answer".into(), "ellipse"),
        Op::Hangup => ("hang up".into(), "doublecircle"),
        Op::Play(l) => (format!("play {}", names(s, l)), "box"),
        Op::Say(k, _) => (format!("say {}", k.keyword()), "box"),
        Op::Set(v, _) => (format!("set {v}"), "box"),
        Op::Result(_) => ("result".into(), "box"),
        Op::Language(l) => (format!("language {l}"), "box"),
        Op::Pause(ms) => (format!("pause {ms}ms"), "box"),
        Op::JumpUnless(..) => ("if".into(), "diamond"),
        Op::Menu(m) => (
            format!("menu {}\\n{}", m.name, names(s, &m.greeting[0])),
            "box3d",
        ),
        Op::Collect(c) => (format!("collect {}", c.var), "box3d"),
        Op::Hook(h) => (format!("hook {}", h.kind.name()), "cds"),
        Op::Record(r) => (format!("record {}", r.var), "box3d"),
        Op::Transfer(TransferKind::Group, _) => ("transfer to group".into(), "doubleoctagon"),
        Op::Transfer(TransferKind::Extension, _) => {
            ("transfer to extension".into(), "doubleoctagon")
        }
        Op::Call(fi, _, _) => (format!("call {}", s.flows[*fi].name), "component"),
        Op::Return(_) => ("return".into(), "ellipse"),
        Op::End => ("end".into(), "ellipse"),
        Op::HangupEnd => ("call over (caller gone)".into(), "doublecircle"),
        _ => ("?".into(), "box"),
    }
}

pub(crate) fn to_dot(s: &Script) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "digraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"Noto Sans CJK SC,sans-serif\", fontsize=10];\n  edge [fontsize=9];",
        esc(&s.name)
    );
    for (fi, f) in s.flows.iter().enumerate() {
        let _ = writeln!(
            o,
            "  subgraph cluster_{fi} {{\n    label=\"flow {}\";",
            esc(&f.name)
        );
        let code = &f.code;
        let mut seen = vec![false; code.len()];
        let mut stack = vec![resolve(code, 0)];
        let mut edges = Vec::new();
        while let Some(pc) = stack.pop() {
            if pc >= code.len() || std::mem::replace(&mut seen[pc], true) {
                continue;
            }
            let (label, shape) = describe(s, &code[pc].op);
            let _ = writeln!(
                o,
                "    f{fi}_{pc} [label=\"{}\\n(line {})\", shape={shape}];",
                esc(&label).replace("\\\\n", "\\n"),
                code[pc].loc.line
            );
            let labels: Vec<String> = match &code[pc].op {
                Op::JumpUnless(..) => vec!["false".into(), "true".into()],
                Op::Menu(m) => {
                    let mut v: Vec<String> =
                        m.keys.iter().map(|(d, _, _)| format!("key {d}")).collect();
                    v.push("invalid-limit".into());
                    v.push("timeout-limit".into());
                    v
                }
                Op::Collect(_) => vec!["ok".into(), "fail".into(), "stop".into()],
                Op::Hook(_) => vec![
                    "found".into(),
                    "not-found".into(),
                    "error".into(),
                    "timeout".into(),
                ],
                Op::Record(_) => vec!["done".into(), "empty".into(), "hangup".into()],
                _ => Vec::new(),
            };
            let mut succ = crate::check::successors(code, pc);
            if matches!(code[pc].op, Op::JumpUnless(..)) {
                succ.reverse();
            }
            for (k, t) in succ.iter().enumerate() {
                let lab = labels.get(k).cloned().unwrap_or_default();
                if matches!(&code[pc].op, Op::Collect(c) if c.stop_keys.is_empty()) && lab == "stop"
                {
                    continue;
                }
                match t {
                    Some(t) => {
                        let t = resolve(code, *t);
                        if !matches!(
                            code[pc].op,
                            Op::Hangup | Op::Transfer(..) | Op::Return(_) | Op::End | Op::HangupEnd
                        ) {
                            edges.push(format!(
                                "    f{fi}_{pc} -> f{fi}_{t} [label=\"{}\"];",
                                esc(&lab)
                            ));
                            stack.push(t);
                        }
                    }
                    None if !lab.is_empty() => {
                        edges.push(format!(
                            "    f{fi}_{pc} -> fallback [label=\"{}\", style=dashed];",
                            esc(&lab)
                        ));
                    }
                    None => {}
                }
            }
            if let Op::Call(ci, _, _) = code[pc].op {
                edges.push(format!(
                    "    f{fi}_{pc} -> f{ci}_{} [style=dotted, label=\"call\"];",
                    resolve(&s.flows[ci].code, 0)
                ));
            }
        }
        for e in edges {
            let _ = writeln!(o, "{e}");
        }
        let _ = writeln!(o, "  }}");
    }
    let _ = writeln!(
        o,
        "  fallback [label=\"fallback: {}\", shape=doubleoctagon, style=dashed];\n}}",
        esc(&s.fallback.1)
    );
    o
}
