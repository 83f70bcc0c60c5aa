//! The load generator driving a whole board, with a minimal answering responder: arrivals
//! at the asked rate, every answered call ending with the caller's hangup and busy tone, and
//! the same seed giving the same calls.

use std::path::Path;

use simboard::{
    BoardOptions, HoldTime, LoadGenerator, LoadProfile, Outcome, Profile, SimBoard, personas,
};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{Hook, LineEvent};

/// Runs `hours` of the E1 profile at `cph` calls/hour; returns (board, per-call summary).
/// Per call: arrival ms, channel, outcome, keys, end ms.
type Summary = Vec<(u64, u16, Outcome, String, u64)>;

fn run(seed: u64, cph: f64, hours: f64) -> (SimBoard, Summary) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-stubs/e1-30ch.toml");
    let mut board = SimBoard::with_options(
        Profile::load(path).unwrap(),
        BoardOptions {
            capture_audio: false,
            seed,
        },
    );
    board.set_load(LoadGenerator::new(LoadProfile {
        calls_per_hour: cph,
        hold: HoldTime::Exponential { mean_s: 90.0 },
        mix: vec![
            (personas::order_status_caller("20241122", None), 3.0),
            (personas::impatient(), 1.0),
        ],
        patience: None,
        seed,
    }));
    let mut chans = board.take_all_channels();
    let mut rings = vec![0u32; chans.len()];
    let mut answered = vec![false; chans.len()];
    let law = board.profile().law;
    let silence = vec![0xD5u8; law.frame_bytes()];
    let mut buf = [0u8; 320];
    let end = (hours * 3_600_000.0) as u64;
    while board.now_ms() < end {
        board.advance_ms(20);
        for (k, ch) in chans.iter_mut().enumerate() {
            loop {
                match ch.read_frame(&mut buf).unwrap() {
                    ReadOutcome::Data(_) => {}
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::EventPending => {
                        if ch.next_event().unwrap() == Some(LineEvent::RingOffHook) {
                            rings[k] += 1;
                            // Answer on the second ring, after caller ID.
                            if rings[k] == 2 {
                                ch.set_hook(Hook::OffHook).unwrap();
                                answered[k] = true;
                            }
                        }
                    }
                }
            }
            if answered[k] {
                assert_ne!(
                    ch.write_frame(&silence).unwrap(),
                    WriteOutcome::EventPending
                );
                if board.far_end_gone(ch.number()) {
                    ch.set_hook(Hook::OnHook).unwrap();
                    answered[k] = false;
                    rings[k] = 0;
                }
            } else if rings[k] > 0 && board.active_call(ch.number()).is_none() {
                rings[k] = 0;
            }
        }
    }
    let calls = board
        .finished_calls()
        .iter()
        .map(|c| {
            (
                c.arrived_ms,
                c.channel,
                c.outcome,
                c.keys_sent.clone(),
                c.ended_ms.unwrap_or(0),
            )
        })
        .collect();
    (board, calls)
}

#[test]
fn minutes_of_peak_load_are_offered_answered_and_cleared_deterministically() {
    let (board, calls) = run(11, 1800.0, 5.0 / 60.0);
    let stats = board.stats();
    // 150 expected; Poisson sd about 12.
    assert!((115..=185).contains(&stats.offered), "{stats:?}");
    assert!(stats.blocked < 25, "{stats:?}");
    let abandoned = calls.iter().filter(|c| c.2 == Outcome::Abandoned).count();
    let hung = calls
        .iter()
        .filter(|c| c.2 == Outcome::FarEndHungUp)
        .count();
    // Impatient callers give up after 8 s of ringing, but the second ring (when the
    // responder answers) comes at 5 s: every call is answered.
    assert_eq!(abandoned, 0);
    assert!(
        hung as u64 + 40 >= stats.offered,
        "{hung} of {}",
        stats.offered
    );
    assert!(
        calls
            .iter()
            .filter(|c| c.2 == Outcome::FarEndHungUp && c.3.starts_with('1'))
            .count()
            > 35
    );
    assert_eq!(stats.tx_underruns, 0);
    // Same seed, same calls; another seed, other calls.
    let (_, a) = run(5, 1800.0, 1.5 / 60.0);
    let (_, b) = run(5, 1800.0, 1.5 / 60.0);
    assert!(a.len() > 20);
    assert_eq!(a, b);
    let (_, other) = run(6, 1800.0, 1.5 / 60.0);
    assert_ne!(a, other);
}
