//! The load soak of issue 8: the whole daemon (simulated 120-port card, audio loop, media
//! pipelines, controller, bundled scripts, sample shop in SQLite, CDR writer) in virtual
//! time for 24 hours at 1,800 calls/hour of 2-minute calls, with the hotline's simulated
//! callers (a fifth of them talk to an agent who hangs up after a lognormal talk time of
//! 3.5 minutes on average; the others are served by the IVR).
//!
//! Two modes, `SOAK_HOURS=open` (the default) or `SOAK_HOURS=shop`:
//!
//! - `open`: the load for all 24 hours. The hotline is staffed round the clock
//!   (`ivrd demo --hours open`: the scripts' `open(service_hours)` is true at every hour),
//!   so every hour carries 1,800 calls of the opening-hours mix, about 2 minutes each;
//! - `shop`: the shop's real day (the scripts' service hours: closed 21:00-09:00 on
//!   weekdays); after hours nobody reaches an agent, the callers check orders, ask for a
//!   callback or leave a voice message for the shop, and those calls are shorter.
//!
//! It runs the release `ivrd demo --virtual` binary (nothing may depend on the `ivrd`
//! crate, so the bench drives its command line, as an operator would), shows its status
//! lines, reads its summary and checks:
//!
//! - no lost call (every call that rang on a free trunk was answered) and no call blocked
//!   because every trunk was busy;
//! - no stuck channel at the end, no command ring full;
//! - one CDR per call, every CDR written to the store, a caller ID for every answered call;
//! - the mean handling time (answer to release) of the calls in opening hours is 2 minutes
//!   (115-130 s); with `open` that is every call of the 24 hours. With `shop` the after-hours
//!   calls are shorter and the 24-hour mean lower; all three are printed;
//! - when the run reaches after hours, voice messages were filed (the shop's callback
//!   tasks), counted from the CDRs' paths, and none was lost to the caller hanging up (the
//!   script's `on hangup` files a message ended by a hang-up);
//! - the run took under 10 minutes of wall time (the bound; the margin is printed).
//!
//! It prints the load average of the machine while the soak ran (sampled every 2 s) with the
//! wall and CPU time: the soak is one thread (plus the CDR writer), so on a busy machine its
//! wall time grows while its CPU time does not.
//!
//! It prints the disk the run's data folder took (the sample shop, the CDR store; in
//! virtual time the recordings are not written: the audio is not kept) before deleting it.
//!
//! Run: `[SOAK_HOURS=open|shop] cargo bench -p benches --bench ivrd_soak [-- HOURS
//! [CALLS_PER_HOUR]]` (defaults 24 and 1800). `IVRD_BIN` names a prebuilt binary; otherwise
//! the bench builds `target/release/ivrd` first. Exit status 0 only if every check passed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The figures of the demo's summary this bench checks.
#[derive(Debug, Default)]
struct Summary {
    offered: u64,
    blocked: u64,
    answered: u64,
    self_served: u64,
    transferred: u64,
    abandoned: u64,
    unanswered: u64,
    failed: u64,
    cut_at_end: u64,
    lookups: u64,
    digits: u64,
    caller_ids: u64,
    aht_s: f64,
    aht_open_s: f64,
    calls_open: u64,
    aht_closed_s: f64,
    calls_closed: u64,
    agents_answered: u64,
    lost: u64,
    out_of_service: u64,
    ring_full: u64,
    cdrs_produced: u64,
    cdrs_written: u64,
    stuck: u64,
    demo_ok: bool,
    /// Voice messages filed, of them with the order number, callers who hung up before
    /// theirs was filed, callbacks booked without a message.
    night: (u64, u64, u64, u64),
}

/// The number right after `label` in `line`.
fn after(line: &str, label: &str) -> Option<f64> {
    let rest = &line[line.find(label)? + label.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').parse().ok()
}

fn parse(out: &str) -> Option<Summary> {
    let start = out.find("---- summary ----")?;
    let mut s = Summary::default();
    let n = |line: &str, label: &str| after(line, label).map(|v| v as u64);
    let mut seen = 0;
    for line in out[start..].lines() {
        if line.starts_with("calls offered by the callers ") {
            s.offered = n(line, "callers ")?;
            s.blocked = n(line, "all trunks busy ")?;
            seen += 1;
        } else if line.starts_with("answered ") {
            s.answered = n(line, "answered ")?;
            seen += 1;
        } else if line.starts_with("by outcome: ") {
            s.self_served = n(line, "self-served ")?;
            s.transferred = n(line, "transferred ")?;
            s.abandoned = n(line, "abandoned ")?;
            s.unanswered = n(line, "unanswered ")?;
            s.failed = n(line, "failed ")?;
            s.cut_at_end = n(line, "end of the run: ")?;
            seen += 1;
        } else if line.starts_with("order lookups ") {
            s.lookups = n(line, "order lookups ")?;
            s.digits = n(line, "digits ")?;
            s.caller_ids = n(line, "caller IDs ")?;
            seen += 1;
        } else if line.starts_with("average handling time ") {
            s.aht_s = after(line, "average handling time ")?;
            s.agents_answered = n(line, "agents answered ")?;
            seen += 1;
        } else if line.starts_with("handling time in opening hours ") {
            s.aht_open_s = after(line, "opening hours ")?;
            s.calls_open = n(line, "s over ")?;
            let tail = &line[line.find("after hours ")?..];
            s.aht_closed_s = after(tail, "after hours ")?;
            s.calls_closed = n(tail, "s over ")?;
            seen += 1;
        } else if line.starts_with("after hours: voice messages filed ") {
            s.night = (
                n(line, "messages filed ")?,
                n(line, "order number ")?,
                n(line, "before filing ")?,
                n(line, "callbacks booked ")?,
            );
        } else if line.starts_with("lost calls ") {
            s.lost = n(line, "lost calls ")?;
            s.out_of_service = n(line, "out of service ")?;
            s.ring_full = n(line, "command ring full ")?;
            seen += 1;
        } else if line.starts_with("CDRs produced ") {
            s.cdrs_produced = n(line, "CDRs produced ")?;
            s.cdrs_written = n(line, "written ")?;
            s.stuck = n(line, "stuck channels at the end ")?;
            seen += 1;
        } else if line.starts_with("checks: ") {
            s.demo_ok = line == "checks: ok";
            seen += 1;
        }
    }
    (seen == 9).then_some(s)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The release `ivrd` binary: `IVRD_BIN`, or built now.
fn ivrd_bin() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("IVRD_BIN") {
        return Ok(PathBuf::from(p));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "ivrd", "--bin", "ivrd"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release -p ivrd: {status}"));
    }
    let dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    Ok(dir.join("release/ivrd"))
}

/// CPU seconds (user + system) of this process's waited-for children, from /proc.
fn children_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses); cutime and cstime are the
    // 16th and 17th fields, in clock ticks (100 a second on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(13)?.parse::<f64>().ok()? + f.get(14)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Files and bytes under `dir`.
fn du(dir: &Path) -> (u64, u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let mut total = (0, 0);
    for e in rd.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            let (f, b) = du(&e.path());
            total = (total.0 + f, total.1 + b);
        } else {
            total = (total.0 + 1, total.1 + m.len());
        }
    }
    total
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The 1-minute load average now.
fn load1() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Samples the 1-minute load average every 2 s until `stop`; (mean, max) of the samples.
fn sample_load(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(f64, f64)> {
    std::thread::spawn(move || {
        let (mut sum, mut max, mut n) = (0.0, 0.0f64, 0u32);
        while !stop.load(Ordering::Relaxed) {
            if let Some(l) = load1() {
                sum += l;
                max = max.max(l);
                n += 1;
            }
            for _ in 0..20 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        (if n == 0 { 0.0 } else { sum / f64::from(n) }, max)
    })
}

/// The soak's mode: the load round the clock, or the shop's real day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Staffed round the clock: every hour at the load.
    Open,
    /// The scripts' service hours: closed 21:00-09:00, night callers.
    Shop,
}

impl Mode {
    fn from_env() -> Result<Self, String> {
        match std::env::var("SOAK_HOURS").as_deref() {
            Err(_) | Ok("" | "open") => Ok(Self::Open),
            Ok("shop") => Ok(Self::Shop),
            Ok(other) => Err(format!("SOAK_HOURS={other:?}: use `open` or `shop`")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Shop => "shop",
        }
    }

    /// The demo's `--hours`.
    fn demo_hours(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Shop => "script",
        }
    }
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hours = args.first().copied().unwrap_or(24.0);
    let rate = args.get(1).copied().unwrap_or(1800.0);
    let mode = match Mode::from_env() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("ivrd_soak: {e}");
            std::process::exit(2);
        }
    };
    let bin = match ivrd_bin() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("ivrd_soak: {e}");
            std::process::exit(2);
        }
    };
    let data = std::env::temp_dir().join(format!("ivrd-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let seconds = (hours * 3600.0) as u64;
    println!(
        "ivrd soak ({}): {hours} h of virtual time at {rate} calls/hour on firmware-stubs/install-120.toml \
         (docs/config/ivrd-sim.toml), {}; load average before: {}",
        mode.name(),
        match mode {
            Mode::Open => "the hotline staffed round the clock",
            Mode::Shop => "the shop's service hours (closed 21:00-09:00 on weekdays)",
        },
        loadavg()
    );
    let cpu0 = children_cpu_s().unwrap_or(0.0);
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = sample_load(Arc::clone(&stop_sampling));
    let t0 = Instant::now();
    let mut child = match Command::new(&bin)
        .args([
            "demo",
            "--virtual",
            "--hours",
            mode.demo_hours(),
            "--calls-per-hour",
        ])
        .arg(rate.to_string())
        .arg("--seconds")
        .arg(seconds.to_string())
        // Let the last calls end on their own (an agent call lasts a few minutes).
        .args(["--drain-s", "1800", "--status-every", "3600", "--data-dir"])
        .arg(&data)
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ivrd_soak: {}: {e}", bin.display());
            std::process::exit(2);
        }
    };
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("  | {line}");
            out.push_str(&line);
            out.push('\n');
        }
    }
    let status = child.wait();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = children_cpu_s().map(|c| c - cpu0);
    stop_sampling.store(true, Ordering::Relaxed);
    let (load_mean, load_max) = sampler.join().unwrap_or((0.0, 0.0));
    let (files, bytes) = du(&data);
    let _ = std::fs::remove_dir_all(&data);
    let Some(s) = parse(&out) else {
        eprintln!("ivrd_soak: no summary from the demo ({status:?})");
        std::process::exit(1);
    };
    let calls = s.answered + s.unanswered;
    println!();
    println!(
        "| {hours} h virtual at {rate} calls/h, mode {} | |",
        mode.name()
    );
    println!("|---|---|");
    println!(
        "| calls offered / blocked (all trunks busy) | {} / {} |",
        s.offered, s.blocked
    );
    println!("| answered | {} |", s.answered);
    println!(
        "| by outcome | self-served {}, transferred {}, abandoned {}, unanswered {}, failed {} |",
        s.self_served, s.transferred, s.abandoned, s.unanswered, s.failed
    );
    println!("| cut by the end of the run | {} |", s.cut_at_end);
    println!(
        "| order lookups, digits, caller IDs | {}, {}, {} |",
        s.lookups, s.digits, s.caller_ids
    );
    println!("| agents answered | {} |", s.agents_answered);
    println!(
        "| mean handling time (answer to release), all day | {:.1} s |",
        s.aht_s
    );
    println!(
        "| ... in opening hours / after hours | {:.1} s over {} calls / {:.1} s over {} calls |",
        s.aht_open_s, s.calls_open, s.aht_closed_s, s.calls_closed
    );
    println!(
        "| after hours: voice messages filed (with the order) / hung up before filing / callbacks booked | {} ({}) / {} / {} |",
        s.night.0, s.night.1, s.night.2, s.night.3
    );
    println!("| lost calls | {} |", s.lost);
    println!(
        "| stuck channels / out of service / ring full | {} / {} / {} |",
        s.stuck, s.out_of_service, s.ring_full
    );
    println!(
        "| CDRs: calls / produced / written | {calls} / {} / {} |",
        s.cdrs_produced, s.cdrs_written
    );
    println!(
        "| wall time / CPU time of the demo | {wall:.1} s / {} |",
        cpu.map_or("?".into(), |c| format!("{c:.1} s"))
    );
    println!(
        "| load average during the run (1 min, every 2 s): mean / max; after | {load_mean:.2} / {load_max:.2}; {} |",
        loadavg()
    );
    println!(
        "| disk used (data folder: shop, CDRs, recordings) | {:.1} MB in {files} files |",
        bytes as f64 / 1e6
    );
    let checks = [
        ("no lost call", s.lost == 0),
        ("no call blocked", s.blocked == 0),
        ("no stuck channel", s.stuck == 0 && s.out_of_service == 0),
        ("no command ring full", s.ring_full == 0),
        (
            "one CDR per call, all written",
            s.cdrs_produced == calls && s.cdrs_written == s.cdrs_produced,
        ),
        (
            "a caller ID for every answered call",
            s.caller_ids >= s.answered,
        ),
        (
            "mean handling time in opening hours 115-130 s (2-minute calls)",
            (115.0..=130.0).contains(&s.aht_open_s),
        ),
        (
            "open mode: every call in opening hours (shop mode: not checked)",
            mode == Mode::Shop || s.calls_closed == 0,
        ),
        (
            "voice messages filed after hours (if any call came after hours)",
            s.calls_closed == 0 || s.night.0 > 0,
        ),
        ("no voice message lost to a hang-up", s.night.2 == 0),
        ("under 10 minutes of wall time", wall < 600.0),
        ("the demo's own checks", s.demo_ok),
    ];
    println!(
        "soak result ({}, {hours} h at {rate} calls/h): calls {calls}, lost/blocked/stuck {}/{}/{}, \
         CDRs {}/{} written, caller IDs {}, mean handling time opening hours {:.1} s ({} calls) / \
         after hours {:.1} s ({} calls) / all {:.1} s, wall {wall:.1} s ({:.0} % of the 600 s bound), \
         CPU {}, load average during the run {load_mean:.2} (max {load_max:.2})",
        mode.name(),
        s.lost,
        s.blocked,
        s.stuck,
        s.cdrs_written,
        s.cdrs_produced,
        s.caller_ids,
        s.aht_open_s,
        s.calls_open,
        s.aht_closed_s,
        s.calls_closed,
        s.aht_s,
        wall / 6.0,
        cpu.map_or("?".into(), |c| format!("{c:.1} s")),
    );
    let mut ok = true;
    for (what, pass) in checks {
        println!("check: {what}: {}", if pass { "ok" } else { "FAILED" });
        ok &= pass;
    }
    std::process::exit(i32::from(!ok));
}
