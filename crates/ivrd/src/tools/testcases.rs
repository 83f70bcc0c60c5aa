//! `ivrd test`: designer-written test cases (`*.test` beside the scripts), pass/fail per case
//! and branch coverage per script.
//!
//! ```text
//! script ../order-status.ivr      # the script under test, relative to this file
//! shop shop.toml                  # the sample shop
//!
//! case "order found by number"
//!   caller 13800138000            # or: caller none
//!   at 2026-11-23 10:00
//!   press 1                       # keys, pressed when the IVR waits for keys
//!   press 20261122001#
//!   expect "say status shipped"   # a transcript line containing this, after the last match
//!   result "order-status-said"    # the call's result
//!   ends hangup                   # hangup, transfer, caller or max-time
//! end
//! ```

use super::shop::Shop;
use super::simulate::parse_duration;
use clap::Args;
use ivr::sim::{Action, SimConfig, simulate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Run the designers' test cases and report branch coverage per script.
#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// `.test` files, or folders (their `*.test` files and those in their `tests/` folder).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Fail when a script's branch coverage is below this percentage.
    #[arg(long, default_value_t = 0)]
    min_coverage: u32,
    /// Print the transcript of every case, not only of failing ones.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Default)]
struct Case {
    name: String,
    line: usize,
    cfg: SimConfig,
    actions: Vec<Action>,
    forced: Vec<(String, String)>,
    expects: Vec<(usize, Expect)>,
}

#[derive(Debug)]
enum Expect {
    Line(String),
    NotLine(String),
    Result(String),
    Ends(String),
}

#[derive(Debug)]
struct TestFile {
    path: PathBuf,
    script: PathBuf,
    shop: Option<PathBuf>,
    cases: Vec<Case>,
}

/// Splits a line into words; "double quoted" words may hold spaces.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            let mut w = String::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted text has no closing \"".into()),
                    Some('"') => break,
                    Some('\\') => w.extend(chars.next()),
                    Some(c) => w.push(c),
                }
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        }
    }
    Ok(out)
}

fn parse(path: &Path) -> Result<TestFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tf = TestFile {
        path: path.to_path_buf(),
        script: PathBuf::new(),
        shop: None,
        cases: Vec::new(),
    };
    let mut cur: Option<Case> = None;
    for (n, line) in text.lines().enumerate() {
        let ln = n + 1;
        let err = |m: &str| format!("{}:{ln}: {m}", path.display());
        let w = words(line).map_err(|e| err(&e))?;
        let Some(cmd) = w.first() else { continue };
        let arg = |i: usize| {
            w.get(i)
                .cloned()
                .ok_or_else(|| err(&format!("`{cmd}` needs a value")))
        };
        match (cmd.as_str(), cur.as_mut()) {
            ("script", None) => tf.script = dir.join(arg(1)?),
            ("shop", None) => tf.shop = Some(dir.join(arg(1)?)),
            ("case", None) => {
                cur = Some(Case {
                    name: arg(1)?,
                    line: ln,
                    cfg: SimConfig::default(),
                    ..Case::default()
                });
            }
            ("end", Some(_)) => tf.cases.extend(cur.take()),
            ("caller", Some(c)) => {
                let v = arg(1)?;
                c.cfg.call.caller_id = if v == "none" { String::new() } else { v };
            }
            ("dialled", Some(c)) => c.cfg.call.dialled = arg(1)?,
            ("outbound", Some(c)) => c.cfg.call.outbound = true,
            ("at", Some(c)) => {
                c.cfg.call.local = super::parse_local(&arg(1)?, &arg(2)?)
                    .ok_or_else(|| err("write `at 2026-11-23 10:00`"))?;
            }
            ("press", Some(c)) => c.actions.push(Action::Press(arg(1)?)),
            ("press-now", Some(c)) => c.actions.push(Action::PressNow(arg(1)?)),
            ("wait", Some(c)) => {
                c.actions.push(Action::Wait(
                    parse_duration(&arg(1)?).ok_or_else(|| err("write `wait 5s`"))?,
                ));
            }
            ("hangup", Some(c)) => c.actions.push(Action::Hangup),
            ("speech", Some(c)) => {
                c.cfg.speech = parse_duration(&arg(1)?).ok_or_else(|| err("write `speech 5s`"))?
            }
            ("hook", Some(c)) => {
                let how = arg(2)?;
                if !["not-found", "error", "timeout"].contains(&how.as_str()) {
                    return Err(err("write `hook NAME not-found|error|timeout`"));
                }
                c.forced.push((arg(1)?, how));
            }
            ("expect", Some(c)) => c.expects.push((ln, Expect::Line(arg(1)?))),
            ("expect-not", Some(c)) => c.expects.push((ln, Expect::NotLine(arg(1)?))),
            ("result", Some(c)) => c.expects.push((ln, Expect::Result(arg(1)?))),
            ("ends", Some(c)) => {
                let v = arg(1)?;
                if !["hangup", "transfer", "caller", "max-time"].contains(&v.as_str()) {
                    return Err(err("write `ends hangup|transfer|caller|max-time`"));
                }
                c.expects.push((ln, Expect::Ends(v)));
            }
            (other, None) => {
                return Err(err(&format!(
                    "`{other}` outside a case (start one with `case \"name\"`)"
                )));
            }
            (other, Some(_)) => return Err(err(&format!("unknown test step `{other}`"))),
        }
    }
    if let Some(c) = cur {
        return Err(format!(
            "{}:{}: case \"{}\" has no `end`",
            path.display(),
            c.line,
            c.name
        ));
    }
    if tf.script.as_os_str().is_empty() {
        return Err(format!("{}: no `script FILE` line", path.display()));
    }
    Ok(tf)
}

fn test_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for d in [p.clone(), p.join("tests")] {
                if let Ok(rd) = std::fs::read_dir(&d) {
                    let mut v: Vec<PathBuf> = rd
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| f.extension().is_some_and(|x| x == "test"))
                        .collect();
                    v.sort();
                    out.extend(v);
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn check_case(case: &Case, out: &ivr::sim::SimOutcome) -> Vec<String> {
    let mut fails = Vec::new();
    let mut from = 0;
    for (ln, e) in &case.expects {
        match e {
            Expect::Line(s) => match out.transcript[from..]
                .iter()
                .position(|l| l.contains(s.as_str()))
            {
                Some(p) => from += p + 1,
                None => fails.push(format!(
                    "line {ln}: expected \"{s}\" after transcript line {from}"
                )),
            },
            Expect::NotLine(s) => {
                if let Some(l) = out.transcript.iter().find(|l| l.contains(s.as_str())) {
                    fails.push(format!(
                        "line {ln}: did not expect \"{s}\", got: {}",
                        l.trim()
                    ));
                }
            }
            Expect::Result(r) => {
                let got = out
                    .record
                    .as_ref()
                    .map(|r| r.result.as_str())
                    .unwrap_or("(call did not end)");
                if got != r {
                    fails.push(format!("line {ln}: expected result \"{r}\", got \"{got}\""));
                }
            }
            Expect::Ends(how) => {
                let got = match out.record.as_ref().map(|r| r.reason) {
                    Some(ivr::EndReason::Hangup) => "hangup",
                    Some(ivr::EndReason::Transferred) => "transfer",
                    Some(ivr::EndReason::CallerHungUp) => "caller",
                    Some(ivr::EndReason::MaxCallTime) => "max-time",
                    Some(ivr::EndReason::Shutdown) => "shutdown",
                    _ => "(did not end)",
                };
                if got != how {
                    fails.push(format!(
                        "line {ln}: expected the call to end by {how}, it ended by {got}"
                    ));
                }
            }
        }
    }
    fails
}

fn key_of(script: &ivr::Script, l: ivr::Loc, label: &str) -> (String, u32, u32, String) {
    let name = script.file_name(l.file);
    let file = std::fs::canonicalize(name)
        .map_or_else(|_| name.to_string(), |p| p.to_string_lossy().into_owned());
    (file, l.line, l.col, label.to_string())
}

pub(crate) fn run(a: TestArgs) -> i32 {
    let files = test_files(&a.paths);
    if files.is_empty() {
        eprintln!("ivrd test: no .test files found");
        return 2;
    }
    let (mut passed, mut failed) = (0, 0);
    let mut scripts: BTreeMap<PathBuf, std::sync::Arc<ivr::Script>> = BTreeMap::new();
    // Branches hit, by file, line, column and label: a flow shared through `include` counts as
    // covered for every script that includes it.
    let mut hits: BTreeSet<(String, u32, u32, String)> = BTreeSet::new();
    let mut broken = false;
    for f in files {
        let tf = match parse(&f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                broken = true;
                continue;
            }
        };
        let key = tf.script.clone();
        if !scripts.contains_key(&key) {
            let Some(s) = super::load_script(&tf.script) else {
                println!(
                    "FAIL {}: script {} is refused",
                    tf.path.display(),
                    tf.script.display()
                );
                failed += tf.cases.len().max(1);
                continue;
            };
            scripts.insert(key.clone(), std::sync::Arc::new(s));
        }
        let shop = match &tf.shop {
            Some(p) => match Shop::load(p) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    broken = true;
                    continue;
                }
            },
            None => Shop::default(),
        };
        let Some(script) = scripts.get(&key) else {
            continue;
        };
        let dir = super::default_prompts_dir(&tf.script);
        let lengths = super::prompt_lengths(script, dir.as_deref());
        let texts = super::prompt_texts(script, dir.as_deref());
        println!("{} ({})", tf.path.display(), tf.script.display());
        for case in &tf.cases {
            let mut engine = ivr::Engine::new_shared(script.clone());
            let mut shop = shop.clone();
            shop.forced = case.forced.clone();
            let cfg = SimConfig {
                prompt_lengths: lengths.clone(),
                prompt_texts: texts.clone(),
                ..case.cfg.clone()
            };
            let out = simulate(&mut engine, &cfg, &case.actions, &mut shop);
            hits.extend(out.branches.iter().map(|(l, lab)| key_of(script, *l, lab)));
            let fails = check_case(case, &out);
            if fails.is_empty() {
                passed += 1;
                println!("  PASS {}", case.name);
            } else {
                failed += 1;
                println!("  FAIL {} (line {})", case.name, case.line);
                for f in &fails {
                    println!("       {f}");
                }
            }
            if !fails.is_empty() || a.verbose {
                for l in &out.transcript {
                    println!("       | {l}");
                }
            }
        }
    }
    let mut low = false;
    println!();
    for (path, script) in &scripts {
        let all = script.branches();
        let covered = all
            .iter()
            .filter(|b| hits.contains(&key_of(script, b.loc, &b.label)))
            .count();
        let pct = if all.is_empty() {
            100
        } else {
            covered * 100 / all.len()
        };
        println!(
            "coverage {}: {covered}/{} branches ({pct}%)",
            path.display(),
            all.len()
        );
        for b in all
            .iter()
            .filter(|b| !hits.contains(&key_of(script, b.loc, &b.label)))
        {
            println!("    not covered: {} {}", script.locate(b.loc), b.label);
        }
        if (pct as u32) < a.min_coverage {
            low = true;
        }
    }
    println!("{passed} passed, {failed} failed");
    if broken {
        2
    } else if failed > 0 || low {
        1
    } else {
        0
    }
}
