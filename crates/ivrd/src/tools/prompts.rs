//! `ivrd prompts`: checks prompt packs, converts any WAV to 8 kHz mono 16-bit, lists missing
//! prompts per script and language, and prints the say-back fragments' texts.

use clap::{Args, Subcommand};
use rubato::{FftFixedIn, Resampler};
use std::path::{Path, PathBuf};

/// Check and convert prompt files.
#[derive(Debug, Args)]
pub(crate) struct PromptsArgs {
    #[command(subcommand)]
    cmd: PromptsCmd,
}

#[derive(Debug, Subcommand)]
enum PromptsCmd {
    /// Check every WAV of a pack is 8 kHz mono 16-bit, and list the prompts each script is missing.
    Check {
        /// The pack: `<dir>/<language>/<name>.wav`.
        dir: PathBuf,
        /// Scripts (or folders of scripts) whose prompts must be in the pack.
        scripts: Vec<PathBuf>,
    },
    /// Convert WAV files (any rate, mono or stereo, 8-32 bit integer or float) to 8 kHz mono
    /// 16-bit. With a folder, converts every `.wav` under it into the output folder.
    Convert {
        /// A WAV file or a folder.
        input: PathBuf,
        /// The output file or folder.
        output: PathBuf,
    },
    /// Print the say-back fragments of a language as `name<TAB>text` (for building packs).
    Texts {
        /// `zh-CN` or `en`.
        language: String,
    },
}

/// Why a prompt file cannot be used or converted.
#[derive(Debug)]
pub(crate) enum PromptError {
    Open(PathBuf, hound::Error),
    Format(PathBuf, String),
    Resample(PathBuf, String),
    Write(PathBuf, String),
}

impl std::fmt::Display for PromptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open(p, e) => write!(f, "{}: not a readable WAV file: {e}", p.display()),
            Self::Format(p, m) => write!(f, "{}: {m}", p.display()),
            Self::Resample(p, m) => write!(f, "{}: resampling failed: {m}", p.display()),
            Self::Write(p, m) => write!(f, "{}: cannot write: {m}", p.display()),
        }
    }
}

/// What is wrong with a pack file for playing as is (`None` if it is 8 kHz mono 16-bit PCM).
pub(crate) fn problem(path: &Path) -> Option<String> {
    let r = match hound::WavReader::open(path) {
        Ok(r) => r,
        Err(e) => return Some(format!("{}: not a readable WAV file: {e}", path.display())),
    };
    let s = r.spec();
    let mut why = Vec::new();
    if s.sample_rate != 8000 {
        why.push(format!("{} Hz (needs 8000)", s.sample_rate));
    }
    if s.channels != 1 {
        why.push(format!("{} channels (needs mono)", s.channels));
    }
    if s.bits_per_sample != 16 || s.sample_format != hound::SampleFormat::Int {
        why.push(format!(
            "{}-bit {:?} (needs 16-bit integer)",
            s.bits_per_sample, s.sample_format
        ));
    }
    if r.duration() == 0 {
        why.push("no audio".into());
    }
    (!why.is_empty()).then(|| {
        format!(
            "{}: {}; fix with `ivrd prompts convert`",
            path.display(),
            why.join(", ")
        )
    })
}

/// Reads any WAV as mono f32 in -1..1 and its sample rate.
fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), PromptError> {
    let mut r = hound::WavReader::open(path).map_err(|e| PromptError::Open(path.into(), e))?;
    let s = r.spec();
    if s.channels == 0 || s.sample_rate == 0 {
        return Err(PromptError::Format(
            path.into(),
            "no channels or no sample rate".into(),
        ));
    }
    let ch = usize::from(s.channels);
    let inter: Vec<f32> = match (s.sample_format, s.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => r
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| PromptError::Open(path.into(), e))?,
        (hound::SampleFormat::Int, b @ 8..=32) => {
            let scale = 1.0 / (1u64 << (b - 1)) as f32;
            r.samples::<i32>()
                .map(|v| v.map(|x| x as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| PromptError::Open(path.into(), e))?
        }
        (f, b) => {
            return Err(PromptError::Format(
                path.into(),
                format!("unsupported sample format: {b}-bit {f:?}"),
            ));
        }
    };
    let mono = inter
        .chunks(ch)
        .map(|f| f.iter().sum::<f32>() / ch as f32)
        .collect();
    Ok((mono, s.sample_rate))
}

/// Resamples to 8 kHz with rubato's FFT resampler (band-limited, so no aliasing).
fn to_8k(path: &Path, x: Vec<f32>, rate: u32) -> Result<Vec<f32>, PromptError> {
    if rate == 8000 {
        return Ok(x);
    }
    let err = |e: &dyn std::fmt::Display| PromptError::Resample(path.into(), e.to_string());
    let mut rs = FftFixedIn::<f32>::new(rate as usize, 8000, 1024, 2, 1).map_err(|e| err(&e))?;
    let want = (x.len() as u64 * 8000).div_ceil(u64::from(rate)) as usize;
    let delay = rs.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + 2048);
    let mut pos = 0;
    while pos + rs.input_frames_next() <= x.len() {
        let n = rs.input_frames_next();
        let o = rs.process(&[&x[pos..pos + n]], None).map_err(|e| err(&e))?;
        out.extend_from_slice(&o[0]);
        pos += n;
    }
    if pos < x.len() {
        let o = rs
            .process_partial(Some(&[&x[pos..]]), None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&o[0]);
    }
    while out.len() < want + delay {
        let o = rs
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| err(&e))?;
        if o[0].is_empty() {
            break;
        }
        out.extend_from_slice(&o[0]);
    }
    let end = (delay + want).min(out.len());
    Ok(out[delay.min(end)..end].to_vec())
}

/// Converts one WAV file to 8 kHz mono 16-bit PCM.
pub(crate) fn convert(input: &Path, output: &Path) -> Result<usize, PromptError> {
    let (x, rate) = read_mono(input)?;
    if x.is_empty() {
        return Err(PromptError::Format(input.into(), "no audio".into()));
    }
    let y = to_8k(input, x, rate)?;
    if let Some(d) = output.parent() {
        std::fs::create_dir_all(d).map_err(|e| PromptError::Write(output.into(), e.to_string()))?;
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(output, spec)
        .map_err(|e| PromptError::Write(output.into(), e.to_string()))?;
    for v in &y {
        w.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(|e| PromptError::Write(output.into(), e.to_string()))?;
    }
    w.finalize()
        .map_err(|e| PromptError::Write(output.into(), e.to_string()))?;
    Ok(y.len())
}

/// Missing prompt files of a script as check diagnostics (errors: the caller would hear
/// silence), one per language and prompt, at the prompt's first use.
pub(crate) fn missing_diagnostics(script: &ivr::Script, dir: &Path) -> Vec<ivr::Diagnostic> {
    let mut v = Vec::new();
    for p in script.prompts() {
        let f = dir.join(&p.language).join(format!("{}.wav", p.name));
        let (file, loc) = p.used_at.clone().unwrap_or_else(|| {
            (
                script.name().to_string(),
                ivr::Loc {
                    file: 0,
                    line: 1,
                    col: 1,
                },
            )
        });
        let what = if p.used_at.is_some() {
            "prompt"
        } else {
            "say-back fragment"
        };
        if !f.is_file() {
            v.push(ivr::Diagnostic {
                severity: ivr::Severity::Error,
                file,
                loc,
                message: format!("{what} \"{}\" has no {} file ({})", p.name, p.language, f.display()),
                hint: Some("record or generate it (ivr-scripts/prompts/generate.sh) and convert with `ivrd prompts convert`".into()),
            });
        } else if let Some(why) = problem(&f) {
            v.push(ivr::Diagnostic {
                severity: ivr::Severity::Error,
                file,
                loc,
                message: why,
                hint: None,
            });
        }
    }
    v
}

fn wavs(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut v: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        v.sort();
        for p in v {
            if p.is_dir() {
                wavs(&p, out);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) {
                out.push(p);
            }
        }
    }
}

pub(crate) fn run(a: PromptsArgs) -> i32 {
    match a.cmd {
        PromptsCmd::Texts { language } => {
            if !ivr::say::LANGUAGES.contains(&language.as_str()) {
                eprintln!(
                    "ivrd prompts: no say-back rules for `{language}` (have: {})",
                    ivr::say::LANGUAGES.join(", ")
                );
                return 2;
            }
            for (n, t) in ivr::say::all_fragments(&language) {
                println!("{n}\t{t}");
            }
            0
        }
        PromptsCmd::Convert { input, output } => {
            let pairs: Vec<(PathBuf, PathBuf)> = if input.is_dir() {
                let mut files = Vec::new();
                wavs(&input, &mut files);
                files
                    .into_iter()
                    .map(|f| {
                        let rel = f.strip_prefix(&input).unwrap_or(&f).to_path_buf();
                        (f, output.join(rel))
                    })
                    .collect()
            } else {
                vec![(input, output)]
            };
            let mut bad = 0;
            for (i, o) in pairs {
                match convert(&i, &o) {
                    Ok(n) => println!("{} -> {} ({} ms)", i.display(), o.display(), n / 8),
                    Err(e) => {
                        eprintln!("{e}");
                        bad += 1;
                    }
                }
            }
            i32::from(bad > 0)
        }
        PromptsCmd::Check { dir, scripts } => {
            let mut bad = 0;
            let mut files = Vec::new();
            wavs(&dir, &mut files);
            for f in &files {
                if let Some(p) = problem(f) {
                    println!("{p}");
                    bad += 1;
                }
            }
            println!(
                "{}: {} prompt file(s), {bad} unusable",
                dir.display(),
                files.len()
            );
            let scripts = match super::check::script_files(&scripts) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("ivrd prompts: {e}");
                    return 2;
                }
            };
            for s in scripts {
                let Some(script) = super::load_script(&s) else {
                    bad += 1;
                    continue;
                };
                for lang in script.languages() {
                    let missing: Vec<&str> = script
                        .prompts()
                        .iter()
                        .filter(|p| {
                            &p.language == lang
                                && !dir.join(lang).join(format!("{}.wav", p.name)).is_file()
                        })
                        .map(|p| p.name.as_str())
                        .collect();
                    if missing.is_empty() {
                        println!("{} [{lang}]: all prompts present", s.display());
                    } else {
                        println!(
                            "{} [{lang}]: {} missing: {}",
                            s.display(),
                            missing.len(),
                            missing.join(", ")
                        );
                        bad += 1;
                    }
                }
            }
            i32::from(bad > 0)
        }
    }
}
