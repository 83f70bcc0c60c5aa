//! Random sequences of everything a user and the simulation can do, from fixed seeds: the
//! board never panics, every channel keeps DAHDI semantics, and every call ends.

mod common;

use std::sync::Arc;

use simboard::{CallSpec, Outcome, Persona, Rng, SimBoard, Step};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{CallerId, Hook};

const HOOKS: [Hook; 7] = [
    Hook::OnHook,
    Hook::OffHook,
    Hook::Flash,
    Hook::Ring,
    Hook::RingOff,
    Hook::Wink,
    Hook::Start,
];

#[test]
fn random_operations_keep_the_contract_on_every_profile() {
    random_operations(false);
}

/// As above, channels also switched between 20 ms frames and 80-sample blocks at random.
#[test]
fn random_operations_and_block_switches_keep_the_contract_on_every_profile() {
    random_operations(true);
}

fn random_operations(switch_blocks: bool) {
    for (path, profile) in common::profiles() {
        for seed in 0..3u64 {
            let mut rng = Rng::new(seed);
            let mut board = SimBoard::from_profile(profile.clone());
            let numbers: Vec<u16> = profile.ports().map(|p| p.0).take(12).collect();
            if seed % 2 == 1 {
                // Sometimes wire the first station to the first trunk.
                let st = profile
                    .ports()
                    .find(|p| p.1 == simboard::PortType::FxsStation);
                let tr = profile.ports().find(|p| p.1.is_trunk());
                if let (Some(s), Some(t)) = (st, tr) {
                    board.wire_pair(s.0, t.0).unwrap();
                }
            }
            let mut chans: Vec<_> = numbers
                .iter()
                .map(|&n| board.take_channel(n).unwrap())
                .collect();
            let law = profile.law;
            let mut buf = [0u8; 320];
            let frame = vec![0xD5u8; law.frame_bytes()];
            for _ in 0..1_500 {
                if switch_blocks && rng.range_u32(0, 9) == 0 {
                    let k = rng.range_u32(0, chans.len() as u32 - 1) as usize;
                    let block = if rng.range_u32(0, 1) == 0 { 80 } else { 160 };
                    chans[k].set_io_block(block).unwrap();
                }
                match rng.range_u32(0, 9) {
                    0 => {
                        let k = rng.range_u32(0, chans.len() as u32 - 1) as usize;
                        let h = HOOKS[rng.range_u32(0, 6) as usize];
                        let _ = chans[k].set_hook(h); // refusals are fine; panics are not
                    }
                    1 => {
                        let n = numbers[rng.range_u32(0, numbers.len() as u32 - 1) as usize];
                        let steps = match rng.range_u32(0, 3) {
                            0 => vec![Step::press("12#"), Step::HangUp],
                            1 => vec![Step::Say(500), Step::Flash, Step::Wait(300), Step::HangUp],
                            2 => vec![Step::WaitForSilence {
                                silence_ms: 300,
                                timeout_ms: 2_000,
                            }],
                            _ => vec![],
                        };
                        let mut p = Persona::new("r", steps);
                        p.give_up_ringing_ms = rng.range_u32(100, 20_000);
                        board.offer_call(
                            n,
                            CallSpec {
                                persona: Arc::new(p),
                                caller_id: CallerId::default(),
                                hold_ms: Some(rng.range_u32(100, 30_000)),
                                give_up_ms: None,
                                seed,
                            },
                        );
                    }
                    2 => {
                        let n = numbers[rng.range_u32(0, numbers.len() as u32 - 1) as usize];
                        let p = Persona::new("dial", vec![Step::press("0"), Step::HangUp]);
                        board.lift_handset(n, Arc::new(p), seed);
                    }
                    3 if rng.range_u32(0, 3) == 0 => {
                        let n = numbers[rng.range_u32(0, numbers.len() as u32 - 1) as usize];
                        board.set_alarm(n, rng.range_u32(0, 1) == 1);
                    }
                    _ => board.advance_ms(u64::from(rng.range_u32(1, 200))),
                }
                for ch in chans.iter_mut() {
                    let bytes = ch.block_samples() * law.bytes_per_sample();
                    // Up to 200 ms of blocks and events (twice as many blocks of 80).
                    for _ in 0..if switch_blocks { 40 } else { 20 } {
                        match ch.read_frame(&mut buf).unwrap() {
                            ReadOutcome::Data(n) => assert_eq!(n, bytes),
                            ReadOutcome::WouldBlock => break,
                            ReadOutcome::EventPending => {
                                assert!(ch.next_event().unwrap().is_some(), "{}", path.display());
                                assert!(!matches!(
                                    ch.write_frame(&frame[..bytes]).unwrap(),
                                    WriteOutcome::Written(0)
                                ));
                            }
                        }
                    }
                    let _ = ch.write_frame(&frame[..bytes]).unwrap();
                }
            }
            // Release everything; within 40 s every call has ended.
            for ch in chans.iter_mut() {
                let _ = ch.set_hook(Hook::OnHook);
                let _ = ch.set_hook(Hook::RingOff);
            }
            board.advance_ms(40_000);
            for &n in &numbers {
                if let Some(c) = board.active_call(n) {
                    panic!(
                        "{}: seed {seed}: call {} on {n} never ended",
                        path.display(),
                        c.id
                    );
                }
            }
            assert!(
                board
                    .finished_calls()
                    .iter()
                    .all(|c| c.outcome != Outcome::InProgress)
            );
        }
    }
}
