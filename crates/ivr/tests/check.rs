//! What designers see when a script is wrong: `file:line:col`, the message and a hint.

mod support;

use ivr::{Diagnostic, Script, Severity, check_with};
use std::collections::HashMap;

fn diags(text: &str) -> Vec<Diagnostic> {
    check_with("s.ivr", |p| {
        if p == "s.ivr" {
            Ok(text.to_string())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })
    .1
}

fn has(d: &[Diagnostic], sev: Severity, at: &str, msg: &str) -> bool {
    d.iter().any(|x| {
        x.severity == sev
            && format!("{}:{}:{}", x.file, x.loc.line, x.loc.col) == at
            && x.message.contains(msg)
    })
}

fn show(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn syntax_errors_point_at_file_line_col_with_hints() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "flow main\n  plya \"x\"\nend\n",
            "s.ivr:2:3",
            "unknown statement `plya`",
            "did you mean `play`?",
        ),
        (
            "flow main\n  play \"x\"\n",
            "s.ivr:1:1",
            "`flow` opened here has no `end`",
            "close every",
        ),
        (
            "flow main\n  x = 1\nend\n",
            "s.ivr:2:3",
            "unknown statement `x`",
            "set x = ...",
        ),
        (
            "flow main\n  if x = 1\n  end\nend\n",
            "s.ivr:2:8",
            "`=` assigns",
            "",
        ),
        (
            "flow main\n  pause 5\nend\n",
            "s.ivr:2:9",
            "expected a duration",
            "add a unit",
        ),
        (
            "flow main\n  play “欢迎”\nend\n",
            "s.ivr:2:8",
            "unexpected character",
            "straight double quotes",
        ),
        (
            "flow main\n  goto nowhere\nend\n",
            "s.ivr:2:3",
            "no label `nowhere:`",
            "",
        ),
        (
            "flow main\n  say moneys 5\nend\n",
            "s.ivr:2:7",
            "cannot say `moneys`",
            "did you mean `money`?",
        ),
        (
            "flow main\n  hook find_ordr(\"1\")\n  end\nend\n",
            "s.ivr:2:8",
            "there is no hook `find_ordr`",
            "did you mean `find_order`?",
        ),
        (
            "flow main\n  menu m\n    greting \"a\"\n  end\nend\n",
            "s.ivr:3:5",
            "not an option of `menu`",
            "did you mean `greeting`?",
        ),
        (
            "flow main\n  collect n\n    prompt \"p\"\n    pattern \"1[2\"\n  end\nend\n",
            "s.ivr:4:13",
            "bad pattern",
            "X any digit",
        ),
        (
            "flow main\n  play \"../etc/passwd\"\nend\n",
            "s.ivr:2:8",
            "not a usable prompt name",
            "",
        ),
        (
            "play \"x\"\n",
            "s.ivr:1:1",
            "cannot start a line outside a flow",
            "inside `flow NAME",
        ),
        ("flow other\nend\n", "s.ivr:0:0", "no `flow main`", ""),
        (
            "flow main\na:\n  play \"x\"\na:\n  goto a\nend\n",
            "s.ivr:4:1",
            "label `a` is defined twice",
            "",
        ),
        (
            "flow main\n  call nowhere(1)\nend\n",
            "s.ivr:2:3",
            "there is no flow `nowhere`",
            "",
        ),
        (
            "flow main\n  if open(offce)\n  end\nend\nhours office\n  mon-fri 09:00-18:00\nend\n",
            "s.ivr:2:6",
            "no hours `offce`",
            "did you mean `office`?",
        ),
        (
            "flow main\n  language fr\nend\n",
            "s.ivr:2:3",
            "not in this script's `languages`",
            "",
        ),
        (
            "hours h\n  mon-fry 09:00-18:00\nend\nflow main\nend\n",
            "s.ivr:2:3",
            "`mon-fry` is not a day",
            "",
        ),
        (
            "flow main\n  menu m\n    greeting \"g\"\n    key \"#\": hangup\n    key \"#\": hangup\n  end\nend\n",
            "s.ivr:5:9",
            "key # is used twice",
            "",
        ),
    ];
    for (text, at, msg, hint) in cases {
        let d = diags(text);
        let hit = d.iter().find(|x| {
            x.severity == Severity::Error
                && format!("{}:{}:{}", x.file, x.loc.line, x.loc.col) == *at
                && x.message.contains(msg)
        });
        let Some(hit) = hit else {
            panic!("for {text:?} wanted {at} {msg}, got:\n{}", show(&d))
        };
        assert!(
            hit.hint.as_deref().unwrap_or("").contains(hint),
            "hint for {text:?}: {:?}",
            hit.hint
        );
        assert!(Script::from_text("s.ivr", text).is_err());
    }
}

#[test]
fn several_errors_are_reported_at_once() {
    let d = diags("flow main\n  plya \"x\"\n  say nmber 1\n  set = 3\nend\n");
    let errs: Vec<u32> = d
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| x.loc.line)
        .collect();
    assert_eq!(errs, [2, 3, 4], "{}", show(&d));
}

#[test]
fn checker_findings() {
    let text = r#"flow main
  answer
  set unused = 1
  say number missing
  menu m
    greeting "g"
    key 1: goto top
  end
  hangup
  play "never"
top:
  hook find_order("1") -> o
  end
  say digits o.no
  transfer group "x"
lonely:
  hangup
end

flow spare(a)
  hangup
end

flow trap
again:
  play "x"
  goto again
end
"#;
    let d = diags(text);
    let s = show(&d);
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:3:3",
            "`unused` is set but never used"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Error,
            "s.ivr:4:14",
            "variable `missing` is never set"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:5:3",
            "menu `m` has no `on timeout-limit` branch"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:5:3",
            "menu `m` has no `on invalid-limit` branch"
        ),
        "{s}"
    );
    assert!(
        has(&d, Severity::Warning, "s.ivr:9:3", "can never run"),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:12:3",
            "hook `find_order` has no failure branch for: error, timeout"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:16:1",
            "label `lonely` is never used"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:20:1",
            "flow `spare` is never called"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:20:1",
            "parameter `a` of flow `spare` is never used"
        ),
        "{s}"
    );
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:26:3",
            "can only leave by hanging up"
        ),
        "{s}"
    );
    // `o.no` is a hook field, fine; the error is only `missing`.
    assert_eq!(
        d.iter().filter(|x| x.severity == Severity::Error).count(),
        1,
        "{s}"
    );
}

#[test]
fn includes_resolve_relative_to_the_including_file() {
    let files: HashMap<&str, &str> = [
        (
            "dir/main.ivr",
            "include \"lib/a.ivr\"\nflow main\n  call hello\nend\n",
        ),
        (
            "dir/lib/a.ivr",
            "include \"b.ivr\"\nflow hello\n  call bye\nend\n",
        ),
        (
            "dir/lib/b.ivr",
            "include \"a.ivr\"\nflow bye\n  hangup\nend\n",
        ),
    ]
    .into_iter()
    .collect();
    let read = |p: &str| {
        files
            .get(p)
            .map(|s| s.to_string())
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    };
    let s = Script::load("dir/main.ivr", read).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.file_name(2), "dir/lib/b.ivr");
    let err = Script::load("x.ivr", |p: &str| {
        if p == "x.ivr" {
            Ok("include \"gone.ivr\"\nflow main\nend\n".into())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("x.ivr:1:9: error: cannot read `gone.ivr`"),
        "{err}"
    );
    let err = Script::load("dir/main.ivr", |p: &str| {
        Ok(if p == "dir/main.ivr" {
            "include \"b.ivr\"\nflow main\nend\n"
        } else {
            "flow main\nend\n"
        }
        .into())
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("dir/b.ivr:1:1: error: flow `main` is defined twice"),
        "{err}"
    );
}

#[test]
fn every_bundled_script_loads_without_warnings() {
    let dir = support::scripts_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ivr") {
            let s = support::load(p.file_name().unwrap().to_str().unwrap());
            assert!(
                s.warnings().is_empty(),
                "{}: {:?}",
                p.display(),
                s.warnings()
            );
            assert!(s.languages().iter().any(|l| l == "zh-CN"));
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn dot_graph_names_every_menu() {
    let s = support::load("shop-hotline.ivr");
    let dot = s.to_dot();
    assert!(dot.starts_with("digraph"));
    for m in [
        "menu main_menu",
        "menu closed",
        "menu order_menu",
        "hook find_order",
        "key 9",
    ] {
        assert!(dot.contains(m), "{m} missing from the graph");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let ifs = "if true\n".repeat(50_000);
    let d = diags(&format!("flow main\n{ifs}end\n"));
    assert!(
        d.iter()
            .any(|x| x.message.contains("nested more than 100 deep")),
        "{}",
        show(&d[..d.len().min(3)])
    );
    let brackets = format!(
        "flow main\n  set x = {}1{}\nend\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let d = diags(&brackets);
    assert!(
        d.iter()
            .any(|x| x.message.contains("nested more than 100 deep")),
        "{}",
        show(&d[..d.len().min(3)])
    );
    let nots = format!(
        "flow main\n  set x = {}true\n  say number x\nend\n",
        "not ".repeat(50_000)
    );
    let d = diags(&nots);
    assert!(
        !d.iter().any(|x| x.severity == Severity::Error),
        "{}",
        show(&d)
    );
}

#[test]
fn very_long_expressions_are_an_error() {
    let sum = format!(
        "flow main\n  set x = 1{}\n  say number x\nend\n",
        " + 1".repeat(50_000)
    );
    let d = diags(&sum);
    assert!(
        d.iter().any(|x| x.message.contains("too long")),
        "{}",
        show(&d[..d.len().min(3)])
    );
}

#[test]
fn a_variable_set_on_only_some_paths_is_flagged_where_it_is_read() {
    let text = "flow main\n  answer\n  if caller_id == \"1\"\n    set x = \"a\"\n  end\n  say digits x\n  set y = \"b\"\n  if y == \"b\"\n    say digits y\n  end\n  hangup\nend\n";
    let d = diags(text);
    assert!(
        has(
            &d,
            Severity::Warning,
            "s.ivr:6:14",
            "variable `x` may have no value here"
        ),
        "{}",
        show(&d)
    );
    assert!(
        !d.iter().any(|x| x.message.contains("`y` may have")),
        "{}",
        show(&d)
    );
    // A loop that sets the variable before reading it is fine.
    let d = diags(
        "flow main\n  answer\ntop:\n  collect n\n    prompt \"p\"\n    on fail: hangup\n  end\n  say digits n\n  goto top\nend\n",
    );
    assert!(
        !d.iter().any(|x| x.message.contains("may have no value")),
        "{}",
        show(&d)
    );
}
