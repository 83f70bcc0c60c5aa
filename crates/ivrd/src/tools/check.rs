//! `ivrd check`: every error and warning of a script, with `file:line:col` and a hint.

use clap::Args;
use std::path::PathBuf;

/// Check scripts: syntax, labels, variables, reachability, loops, menus, hooks, prompts.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Script files (`.ivr`) or folders whose `*.ivr` files to check.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The prompt pack (`<dir>/<language>/<name>.wav`); default: `prompts/` beside the script.
    #[arg(long)]
    prompts: Option<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
}

/// The `.ivr` files named by `paths` (folders: their `*.ivr` files, sorted).
pub(crate) fn script_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "ivr"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

pub(crate) fn run(a: CheckArgs) -> i32 {
    let files = match script_files(&a.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ivrd check: {e}");
            return 2;
        }
    };
    let (mut errors, mut warnings) = (0, 0);
    for f in &files {
        let name = f.to_string_lossy().to_string();
        let (script, mut diags) = ivr::check_with(&name, super::read_file);
        if let Some(s) = &script {
            let dir = a.prompts.clone().or_else(|| super::default_prompts_dir(f));
            match dir {
                Some(dir) => diags.extend(super::prompts::missing_diagnostics(s, &dir)),
                None => diags.push(ivr::Diagnostic {
                    severity: ivr::Severity::Warning,
                    file: name.clone(),
                    loc: ivr::Loc {
                        file: 0,
                        line: 1,
                        col: 1,
                    },
                    message: "no prompt pack found, prompt files not checked".into(),
                    hint: Some(
                        "put the pack in prompts/ beside the script or pass --prompts DIR".into(),
                    ),
                }),
            }
        }
        let e = diags
            .iter()
            .filter(|d| d.severity == ivr::Severity::Error)
            .count();
        let w = diags.len() - e;
        for d in &diags {
            println!("{d}");
        }
        let verdict = if e > 0 { "REFUSED" } else { "ok" };
        println!("{name}: {verdict}, {e} error(s), {w} warning(s)");
        errors += e;
        warnings += w;
    }
    if errors > 0 || (a.deny_warnings && warnings > 0) {
        1
    } else {
        0
    }
}
