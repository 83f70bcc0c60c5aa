//! The designers' tools: `ivrd check`, `simulate`, `test`, `graph` and `prompts`.
//!
//! Each returns the process exit code: 0 success, 1 the script (or a test) failed, 2 the
//! command could not run (a file is missing, bad arguments).

pub(crate) mod check;
pub(crate) mod graph;
pub(crate) mod prompts;
pub(crate) mod shop;
pub(crate) mod simulate;
pub(crate) mod testcases;

use std::path::{Path, PathBuf};

/// Reads script files from disk for `ivr::Script::load`.
pub(crate) fn read_file(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// The default prompt directory of a script: `prompts/` beside it (or one level up for
/// scripts in a sub-folder such as `tests/`).
pub(crate) fn default_prompts_dir(script: &Path) -> Option<PathBuf> {
    let dir = script.parent().unwrap_or(Path::new("."));
    [dir.join("prompts"), dir.join("../prompts")]
        .into_iter()
        .find(|p| p.is_dir())
}

/// Loads a script, printing every diagnostic; `None` if it was refused.
pub(crate) fn load_script(path: &Path) -> Option<ivr::Script> {
    match ivr::Script::load(&path.to_string_lossy(), read_file) {
        Ok(s) => Some(s),
        Err(e) => {
            for d in &e.diagnostics {
                eprintln!("{d}");
            }
            None
        }
    }
}

/// Local time parsed from `2026-11-23 10:00`.
pub(crate) fn parse_local(date: &str, time: &str) -> Option<ivr::LocalTime> {
    let mut d = date.split('-');
    let (y, m, dd) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (h, mi) = time.split_once(':')?;
    let (hour, minute): (u8, u8) = (h.parse().ok()?, mi.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) || hour > 23 || minute > 59 {
        return None;
    }
    Some(ivr::LocalTime {
        year: y,
        month: m,
        day: dd,
        hour,
        minute,
    })
}

/// Prompt lengths from the WAV files of the prompt pack (for realistic timing), by id.
pub(crate) fn prompt_lengths(script: &ivr::Script, dir: Option<&Path>) -> Vec<ivr::Duration> {
    script
        .prompts()
        .iter()
        .map(|p| {
            let ms = dir
                .map(|d| d.join(&p.language).join(format!("{}.wav", p.name)))
                .and_then(|f| hound::WavReader::open(f).ok())
                .map(|r| {
                    let s = r.spec();
                    u64::from(r.duration()) * 1000 / u64::from(s.sample_rate.max(1))
                })
                .unwrap_or(if p.used_at.is_some() { 1500 } else { 400 });
            ivr::Duration::from_millis(ms)
        })
        .collect()
}

/// What each prompt says, by id: script prompts from `<pack>/prompts.<language>.txt`
/// (`name<TAB>text` lines), say-back fragments from the built-in rules.
pub(crate) fn prompt_texts(script: &ivr::Script, dir: Option<&Path>) -> Vec<Option<String>> {
    let mut lists: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        std::collections::HashMap::new();
    for lang in script.languages() {
        let map = dir
            .and_then(|d| std::fs::read_to_string(d.join(format!("prompts.{lang}.txt"))).ok())
            .map(|t| {
                t.lines()
                    .filter(|l| !l.starts_with('#'))
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(n, t)| (n.trim().to_string(), t.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        lists.insert(lang.clone(), map);
    }
    script
        .prompts()
        .iter()
        .map(|p| {
            lists
                .get(&p.language)
                .and_then(|m| m.get(&p.name).cloned())
                .or_else(|| ivr::say::fragment_text(&p.language, &p.name).map(str::to_string))
        })
        .collect()
}
