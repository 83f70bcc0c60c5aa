//! DTMF receiver throughput, compared with spandsp's `dtmf_rx` on the same audio.
//!
//! Three signals, each 60 s: an IVR-like line (key presses in low noise, the common case),
//! loud white noise where every slot must be analysed, and speech (the talk-off test
//! recordings, looped). For each
//! it prints our samples per second on one core, spandsp's, and the ratio. spandsp runs
//! through a small C program (`benches/spandsp-shim/dtmf_rx_bench.c`) compiled here with
//! `cc -lspandsp` when `libspandsp-dev` is installed; otherwise that column is skipped.
//!
//! Run: `cargo bench -p benches --bench dsp_dtmf`

use benches::signals::{Rng, dtmf_line, noise_line};
use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;
use tel_types::SampleTime;

const TARGET: f64 = 2.6e8;

fn ours(audio: &[i16], reps: usize) -> (f64, String) {
    let mut best = f64::MAX;
    let mut digits = String::new();
    for _ in 0..reps {
        let mut rx = DtmfReceiver::new(DtmfConfig::default());
        digits.clear();
        let mut t = SampleTime::ZERO;
        let start = Instant::now();
        for f in audio.chunks_exact(160) {
            rx.process(std::hint::black_box(f), t);
            t += 160;
            while let Some(e) = rx.poll_event() {
                if let DtmfEvent::Down(d) = e {
                    digits.push(d.digit.as_char());
                }
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    ((audio.len() / 160 * 160) as f64 / best, digits)
}

fn spandsp_shim() -> Result<PathBuf, String> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spandsp-shim/dtmf_rx_bench.c");
    let out = std::env::temp_dir().join(format!("dtmf_rx_bench_{}", std::process::id()));
    let status = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .args(["-lspandsp", "-lm"])
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !status.status.success() {
        return Err(format!(
            "libspandsp-dev not usable (cc failed: {})",
            String::from_utf8_lossy(&status.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    Ok(out)
}

fn spandsp(shim: &PathBuf, audio: &[i16], reps: usize) -> Result<(f64, String), String> {
    let file = std::env::temp_dir().join(format!("dtmf_bench_{}.raw", std::process::id()));
    let bytes: Vec<u8> = audio.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
    let out = Command::new(shim)
        .arg(&file)
        .arg(reps.to_string())
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sps = None;
    let mut digits = String::new();
    for part in text.split_whitespace() {
        if let Some(v) = part.strip_prefix("samples_per_sec=") {
            sps = v.parse::<f64>().ok();
        } else if let Some(v) = part.strip_prefix("digits=") {
            digits = v.to_string();
        }
    }
    sps.map(|s| (s, digits))
        .ok_or_else(|| format!("shim printed {text:?}"))
}

fn main() {
    let mut rng = Rng(0xD7_3F);
    let (line, want) = dtmf_line(&mut rng, 60 * 8000);
    let noisy = noise_line(&mut rng, 60 * 8000, -20.0);
    let speech = benches::signals::speech_loop(60 * 8000);
    let shim = spandsp_shim();
    if let Err(e) = &shim {
        println!("note: spandsp column skipped: {e}");
    }
    println!(
        "{:<34} {:>14} {:>14} {:>7}  digits (ours / spandsp)",
        "signal (60 s each)", "ours smp/s", "spandsp smp/s", "ratio"
    );
    for (name, audio, want) in [
        ("keys in low noise (IVR line)", &line, want.as_str()),
        ("loud white noise, no keys", &noisy, ""),
        ("speech (talk-off files), no keys", &speech, ""),
    ] {
        let (sps, got) = ours(audio, 7);
        let ok = if got == want { "ok" } else { "MISMATCH" };
        match shim.as_ref().ok().map(|s| spandsp(s, audio, 7)) {
            Some(Ok((ssps, sgot))) => println!(
                "{name:<34} {sps:>14.3e} {ssps:>14.3e} {:>7.2}  {} {ok} / {} {}",
                sps / ssps,
                got.len(),
                sgot.len(),
                if sgot == want { "ok" } else { "differs" }
            ),
            Some(Err(e)) => println!("{name:<34} {sps:>14.3e}  (spandsp failed: {e})  {ok}"),
            None => println!(
                "{name:<34} {sps:>14.3e} {:>14} {:>7}  {} {ok}",
                "-",
                "-",
                got.len()
            ),
        }
        if sps < TARGET {
            println!("  below the {TARGET:.1e} samples/s goal");
        }
    }
    if let Ok(s) = shim {
        let _ = std::fs::remove_file(s);
    }
}
