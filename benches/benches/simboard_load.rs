//! How fast the simulated card runs a 120-port install under peak load, in virtual time on
//! one core.
//!
//! The board is `firmware-stubs/install-120.toml` (90 E1 B-channels, 4 FXO trunks, 26 FXS
//! stations) with the load generator offering `firmware-stubs/load/peak.toml`: 1,800
//! calls/hour, lognormal hold (median 2 min), a mix of speaking and key-pressing personas.
//! The "IVR side" is a minimal responder written here, since the real IVR is not wired to
//! the card yet: it reads every frame of every channel (and
//! decodes it), takes every event, answers a trunk on its second ring, plays a 1 kHz tone
//! for 2 s then silence, and hangs up when the simulator reports the far end gone (the real
//! pipeline detects the busy tone instead). Audio capture is off, as in soak runs.
//!
//! Run: `cargo bench -p benches --bench simboard_load` (optionally `-- <virtual hours>`).
//! Prints virtual time, wall time and the speed-up over real time (goal: at least 100x).

use std::path::Path;
use std::time::Instant;

use simboard::Speech;
use simboard::{BoardOptions, LoadGenerator, LoadProfile, Profile, SimBoard, SimChannel};
use tel_types::board::{PortKind, ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{FRAME_SAMPLES, Hook, Law, LineEvent};

#[derive(Default)]
struct Responder {
    rings: u32,
    answered_at: Option<u64>,
    tone_phase: f32,
}

fn main() {
    let hours: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1.0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let profile = Profile::load(root.join("firmware-stubs/install-120.toml")).expect("profile");
    let law = profile.law;
    let mut board = SimBoard::with_options(
        profile,
        BoardOptions {
            capture_audio: false,
            seed: 2024,
        },
    );
    let speech = Speech::recorded_english().expect("speech");
    let load = LoadProfile::load(root.join("firmware-stubs/load/peak.toml"), Some(&speech))
        .expect("load profile");
    board.set_load(LoadGenerator::new(load));
    let mut channels = board.take_all_channels();
    let mut state: Vec<Responder> = channels.iter().map(|_| Responder::default()).collect();
    let total_ms = (hours * 3_600_000.0) as u64;
    let mut buf = [0u8; 2 * FRAME_SAMPLES];
    let mut out = [0u8; 2 * FRAME_SAMPLES];
    let mut pcm = [0i16; FRAME_SAMPLES];
    let mut energy = 0f64;
    let mut frames_read = 0u64;
    let mut busy_channels_peak = 0usize;

    let wall = Instant::now();
    let cpu0 = cpu_ns();
    while board.now_ms() < total_ms {
        board.advance_ms(20);
        let now = board.now_ms();
        let mut busy = 0;
        for (ch, st) in channels.iter_mut().zip(state.iter_mut()) {
            // Events and audio in.
            loop {
                match ch.read_frame(&mut buf).expect("read") {
                    ReadOutcome::Data(n) => {
                        frames_read += 1;
                        dsp::g711::decode_slice(law, &buf[..n], &mut pcm);
                        energy += pcm.iter().map(|&s| f64::from(s).abs()).sum::<f64>();
                    }
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::EventPending => {
                        if let Some(LineEvent::RingOffHook) = ch.next_event().expect("event") {
                            st.rings += 1;
                            if st.rings == 2 && st.answered_at.is_none() {
                                ch.set_hook(Hook::OffHook).expect("answer");
                                st.answered_at = Some(now);
                            }
                        }
                    }
                }
            }
            if let Some(at) = st.answered_at {
                busy += 1;
                respond(ch, law, now - at, st, &mut out);
                if board.far_end_gone(ch.number()) {
                    ch.set_hook(Hook::OnHook).expect("hang up");
                    *st = Responder::default();
                }
            } else if st.rings > 0 && board.active_call(ch.number()).is_none() {
                // The caller gave up while it rang.
                *st = Responder::default();
            }
        }
        busy_channels_peak = busy_channels_peak.max(busy);
        if board.finished_calls().len() > 10_000 {
            board.take_finished();
        }
    }
    let secs = wall.elapsed().as_secs_f64();
    let cpu = cpu_ns().zip(cpu0).map(|(b, a)| (b - a) as f64 / 1e9);
    let stats = board.stats();
    let virtual_s = total_ms as f64 / 1000.0;
    println!("simboard_load: install-120 (120 ports), 1800 calls/h, lognormal hold median 120 s");
    println!(
        "  virtual {virtual_s:.0} s in {secs:.2} s wall: {:.0}x real time",
        virtual_s / secs
    );
    if let Some(cpu) = cpu {
        println!(
            "  CPU time on its one core {cpu:.2} s: {:.0}x real time per core (the figure that \
             counts on a shared machine)",
            virtual_s / cpu
        );
    }
    println!(
        "  offered {} answered {} abandoned {} blocked {}; peak answered channels {}; frames read {}",
        stats.offered,
        stats.answered,
        stats.abandoned,
        stats.blocked,
        busy_channels_peak,
        frames_read
    );
    println!(
        "  rx overruns {} tx underruns {} (checksum {:.3e})",
        stats.rx_overruns, stats.tx_underruns, energy
    );
}

/// Plays 2 s of 1 kHz at about -10 dBm0 after answer, then silence; keeps one frame queued.
fn respond(ch: &mut SimChannel, law: Law, since_answer: u64, st: &mut Responder, out: &mut [u8]) {
    if ch.port_kind() == PortKind::FxsStation {
        return;
    }
    let fb = law.frame_bytes();
    let mut pcm = [0i16; FRAME_SAMPLES];
    if since_answer < 2_000 {
        for s in pcm.iter_mut() {
            *s = (7_000.0 * st.tone_phase.sin()) as i16;
            st.tone_phase = (st.tone_phase + std::f32::consts::TAU / 8.0) % std::f32::consts::TAU;
        }
    }
    dsp::g711::encode_slice(law, &pcm, &mut out[..fb]);
    match ch.write_frame(&out[..fb]).expect("write") {
        WriteOutcome::Written(_) | WriteOutcome::WouldBlock | WriteOutcome::EventPending => {}
    }
}

/// CPU time this (single-threaded) process has run, in ns, from `/proc/self/schedstat`.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
