//! The prompt table shared by every channel, and each script version's mapping into it.
//!
//! Every WAV file of the prompt pack (`<dir>/<language>/<name>.wav`, 8 kHz mono 16-bit) is
//! decoded once at start into a `&'static` [`PromptTable`] (the audio thread borrows it and
//! never frees it). Scripts number their prompts themselves; a [`PromptMap`] translates a
//! script version's ids to table ids and back, so a reloaded script (with other ids) plays
//! from the same table.

use std::collections::HashMap;
use std::path::Path;

use media::PromptTable;
use tel_types::PromptId;

/// A prompt the script plays but the pack lacks is played as this much silence.
const MISSING_MS: usize = 200;

/// `(language, name)` → table id, for every prompt loaded at start.
#[derive(Debug, Default)]
pub(crate) struct PromptNames {
    ids: HashMap<(String, String), PromptId>,
    silence: Option<PromptId>,
}

/// One script version's prompt ids ↔ table ids.
#[derive(Debug, Default)]
pub(crate) struct PromptMap {
    to_table: Vec<Option<PromptId>>,
}

impl PromptMap {
    /// The table id of a script prompt.
    pub(crate) fn to_table(&self, script_id: PromptId) -> Option<PromptId> {
        self.to_table
            .get(usize::from(script_id.0))
            .copied()
            .flatten()
    }
}

impl PromptNames {
    /// The mapping for `script` (prompts not loaded map to silence).
    pub(crate) fn map_for(&self, script: &ivr::Script) -> PromptMap {
        let mut to_table = vec![None; script.prompts().len()];
        for p in script.prompts() {
            let id = self
                .ids
                .get(&(p.language.clone(), p.name.clone()))
                .copied()
                .or(self.silence);
            if let Some(slot) = to_table.get_mut(usize::from(p.id.0)) {
                *slot = id;
            }
        }
        PromptMap { to_table }
    }

    /// Prompts `script` uses (`used_at` set) that were not loaded.
    pub(crate) fn missing(&self, script: &ivr::Script) -> Vec<String> {
        script
            .prompts()
            .iter()
            .filter(|p| p.used_at.is_some())
            .filter(|p| !self.ids.contains_key(&(p.language.clone(), p.name.clone())))
            .map(|p| format!("{}/{}", p.language, p.name))
            .collect()
    }

    /// How many prompts were loaded.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Loads every WAV under `dir/<language>/` into a table (leaked: it lives as long as the
/// process) and returns it with the name index. Files that are not 8 kHz mono (16-bit,
/// A-law or µ-law; see [`ivrd::prompt_wav`]) are skipped with a warning naming the file.
pub(crate) fn load_pack(dir: &Path) -> (&'static PromptTable, PromptNames) {
    let mut table = PromptTable::new();
    let mut names = PromptNames {
        silence: Some(table.push(&[0; MISSING_MS * 8])),
        ..PromptNames::default()
    };
    let Ok(langs) = std::fs::read_dir(dir) else {
        log::warn!(
            "prompt directory {} not readable: every prompt is silence",
            dir.display()
        );
        return (Box::leak(Box::new(table)), names);
    };
    let mut langs: Vec<_> = langs
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    langs.sort();
    for lang_dir in langs {
        let lang = lang_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files = Vec::new();
        walk(&lang_dir, &mut files);
        files.sort();
        for f in files {
            let Ok(rel) = f.strip_prefix(&lang_dir) else {
                continue;
            };
            let name = rel.with_extension("").to_string_lossy().replace('\\', "/");
            match ivrd::prompt_wav::read(&f) {
                Ok(samples) => {
                    let id = table.push(&samples);
                    names.ids.insert((lang.clone(), name), id);
                }
                Err(e) => log::warn!("prompt skipped: {e}"),
            }
        }
    }
    (Box::leak(Box::new(table)), names)
}

/// What identifies a prompt pack's contents: every WAV under `dir` with its size and
/// modification time, sorted. A reload loads the pack again only if this changed (each
/// loaded pack stays in memory until a restart: the audio thread never frees memory).
pub(crate) type Fingerprint = Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)>;

/// The [`Fingerprint`] of the pack under `dir`.
pub(crate) fn fingerprint(dir: &Path) -> Fingerprint {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut out: Fingerprint = files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f).ok();
            let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            (f, len, modified)
        })
        .collect();
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "wav") {
            out.push(p);
        }
    }
}
