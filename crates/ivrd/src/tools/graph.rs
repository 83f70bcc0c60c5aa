//! `ivrd graph`: the call flow as Graphviz DOT, and SVG when `dot` is installed.

use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Draw a script's call flow (DOT on stdout, or SVG/DOT files with --out).
#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The script.
    script: PathBuf,
    /// Write here instead of stdout; a name ending in `.svg` is rendered with Graphviz `dot`.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub(crate) fn run(a: GraphArgs) -> i32 {
    let Some(script) = super::load_script(&a.script) else {
        return 1;
    };
    let dot = script.to_dot();
    let Some(out) = a.out else {
        print!("{dot}");
        return 0;
    };
    if out.extension().is_some_and(|e| e == "svg") {
        let child = Command::new("dot")
            .arg("-Tsvg")
            .arg("-o")
            .arg(&out)
            .stdin(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            let alt = out.with_extension("dot");
            eprintln!(
                "ivrd graph: Graphviz `dot` is not installed (apt install graphviz); writing DOT to {}",
                alt.display()
            );
            return write_file(&alt, &dot);
        };
        if let Some(mut stdin) = child.stdin.take() {
            if stdin.write_all(dot.as_bytes()).is_err() {
                eprintln!("ivrd graph: could not feed `dot`");
                return 2;
            }
        }
        match child.wait() {
            Ok(s) if s.success() => {
                println!("wrote {}", out.display());
                0
            }
            _ => {
                eprintln!("ivrd graph: `dot` failed to render {}", out.display());
                2
            }
        }
    } else {
        write_file(&out, &dot)
    }
}

fn write_file(path: &PathBuf, text: &str) -> i32 {
    match std::fs::write(path, text) {
        Ok(()) => {
            println!("wrote {}", path.display());
            0
        }
        Err(e) => {
            eprintln!("ivrd graph: cannot write {}: {e}", path.display());
            2
        }
    }
}
