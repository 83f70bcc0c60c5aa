//! `ivrd simulate`: runs a script against a simulated caller and prints the transcript.

use super::shop::Shop;
use clap::Args;
use ivr::sim::{Action, SimConfig, simulate};
use std::path::PathBuf;

/// Run a script against a simulated caller and print what is played, said and looked up.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// The script.
    script: PathBuf,
    /// The caller's number (empty for a withheld number).
    #[arg(long, default_value = "13800138000")]
    caller: String,
    /// The dialled number.
    #[arg(long, default_value = "4008001234")]
    dialled: String,
    /// Local date and time of the call, `2026-11-23 10:00`.
    #[arg(long, default_value = "2026-11-23 10:00")]
    at: String,
    /// What the caller does, in order, separated by spaces: keys such as `1` or `2026112201#`
    /// (pressed when the IVR waits for keys), `!123` (pressed at once, barging in), `wait:5s`,
    /// `hangup`.
    #[arg(long, default_value = "")]
    keys: String,
    /// The sample shop file (default: `tests/shop.toml` beside the script).
    #[arg(long)]
    shop: Option<PathBuf>,
    /// Place the call as an outbound call (no answer needed).
    #[arg(long)]
    outbound: bool,
    /// The language the call starts in, as a trunk's `language` would set it (default:
    /// the script's first language).
    #[arg(long, default_value = "")]
    language: String,
    /// Show every say-back fragment as a play line.
    #[arg(long, short)]
    verbose: bool,
}

/// Parses `wait:5s`, `500ms`, `2min` into a duration.
pub(crate) fn parse_duration(s: &str) -> Option<ivr::Duration> {
    let (n, mul) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix("min") {
        (n, 60_000)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else {
        return None;
    };
    n.parse::<u64>()
        .ok()
        .map(|v| ivr::Duration::from_millis(v * mul))
}

/// Parses the caller's action list.
pub(crate) fn parse_actions(s: &str) -> Result<Vec<Action>, String> {
    s.split_whitespace()
        .map(|w| {
            if w == "hangup" {
                Ok(Action::Hangup)
            } else if let Some(d) = w.strip_prefix("wait:") {
                parse_duration(d)
                    .map(Action::Wait)
                    .ok_or_else(|| format!("bad wait `{w}`: write wait:5s"))
            } else if let Some(k) = w.strip_prefix('!') {
                Ok(Action::PressNow(k.to_string()))
            } else if w.chars().all(|c| tel_types::Digit::from_char(c).is_some()) {
                Ok(Action::Press(w.to_string()))
            } else {
                Err(format!("`{w}` is not keys, wait:5s, !keys or hangup"))
            }
        })
        .collect()
}

pub(crate) fn run(a: SimulateArgs) -> i32 {
    let Some(script) = super::load_script(&a.script) else {
        return 1;
    };
    let actions = match parse_actions(&a.keys) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("ivrd simulate: {e}");
            return 2;
        }
    };
    let shop_path = a.shop.clone().unwrap_or_else(|| {
        a.script
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("tests/shop.toml")
    });
    let mut shop = if shop_path.exists() {
        match Shop::load(&shop_path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("ivrd simulate: {e}");
                return 2;
            }
        }
    } else {
        eprintln!(
            "ivrd simulate: no shop file at {}, every lookup finds nothing",
            shop_path.display()
        );
        Shop::default()
    };
    let (d, t) = a.at.split_once(' ').unwrap_or((&a.at, "10:00"));
    let Some(local) = super::parse_local(d, t) else {
        eprintln!(
            "ivrd simulate: bad --at `{}`: write \"2026-11-23 10:00\"",
            a.at
        );
        return 2;
    };
    let dir = super::default_prompts_dir(&a.script);
    let mut cfg = SimConfig {
        prompt_lengths: super::prompt_lengths(&script, dir.as_deref()),
        prompt_texts: super::prompt_texts(&script, dir.as_deref()),
        verbose: a.verbose,
        ..SimConfig::default()
    };
    cfg.call = ivr::CallInfo {
        caller_id: a.caller,
        dialled: a.dialled,
        trunk: "sim".into(),
        local,
        outbound: a.outbound,
        language: a.language,
    };
    let mut engine = ivr::Engine::new(script);
    let out = simulate(&mut engine, &cfg, &actions, &mut shop);
    for l in &out.transcript {
        println!("{l}");
    }
    if out.errors.is_empty() { 0 } else { 1 }
}
