//! Channels on 80-sample (10 ms) blocks, as DAHDI with `DAHDI_SET_BLOCKSIZE 80`, in
//! virtual time: one block each way per 10 ms of board time, the same line audio, events
//! and calls as on 20 ms frames.

mod common;

use std::sync::Arc;

use common::{Line, call, first, profiles};
use simboard::{Outcome, Persona, PortType, Profile, SimBoard, SimError, Speech, Step};
use tel_types::board::{ReadOutcome, VoiceChannel, WriteOutcome};
use tel_types::{Hook, LineEvent};

/// What one whole call looked like from the board's user and from the caller.
#[derive(Debug)]
struct CallRun {
    rx: Vec<i16>,
    events: Vec<(u64, LineEvent)>,
    event_samples: Vec<usize>,
    answered: u64,
    outcome: Outcome,
    answered_ms: Option<u64>,
    ended_ms: Option<u64>,
    keys_sent: String,
    key_log: Vec<(tel_types::Digit, u64, u32)>,
    heard_prompt_at: Option<u64>,
    heard: Vec<i16>,
    /// Receive samples the user had read at each 10 ms of board time after answer.
    read_at: Vec<(u64, usize)>,
}

fn greeting() -> Vec<i16> {
    let speech = Speech::recorded_english().unwrap_or_else(|e| panic!("{e}"));
    speech.samples()[..16_000].to_vec()
}

/// Rings trunk `trunk` of `profile`, answers on ring detection, plays a 2 s greeting, lets
/// the caller (who waits for the end of it) key an order number and hang up, and releases
/// on the busy tone that follows; the channel runs `block`-sample blocks.
fn whole_call(profile: &Profile, trunk: u16, block: usize) -> CallRun {
    let mut line = Line::with_block(profile.clone(), trunk, block);
    let mut p = Persona::new(
        "caller",
        vec![
            Step::WaitForSilence {
                silence_ms: 600,
                timeout_ms: 10_000,
            },
            Step::press("20241122#"),
            Step::Wait(700),
            Step::HangUp,
        ],
    );
    p.give_up_ringing_ms = 120_000;
    line.board
        .offer_call(trunk, call(p, "13800138000"))
        .unwrap();
    line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
    line.ch.set_hook(Hook::OffHook).unwrap();
    let answered = line.board.now_ms();
    line.tx.extend(greeting());
    let mut read_at = Vec::new();
    let step = block as u64 / 8;
    for _ in 0..8_000 / step {
        line.run(step);
        read_at.push((line.board.now_ms(), line.rx.len()));
    }
    assert!(line.board.far_end_gone(trunk), "the caller hung up");
    line.ch.set_hook(Hook::OnHook).unwrap();
    line.run(200);
    let rec = &line.board.finished_calls()[0];
    let (t0, heard) = rec.hearing.audio();
    assert!(t0 <= answered);
    CallRun {
        rx: line.rx.clone(),
        events: line.events.clone(),
        event_samples: line.event_samples.clone(),
        answered,
        outcome: rec.outcome,
        answered_ms: rec.answered_ms,
        ended_ms: rec.ended_ms,
        keys_sent: rec.keys_sent.clone(),
        key_log: rec.key_log.clone(),
        heard_prompt_at: rec.hearing.heard_prompt(&greeting()),
        heard: heard.to_vec(),
        read_at,
    }
}

#[test]
fn a_whole_call_on_10_ms_blocks_goes_as_on_20_ms_frames_on_every_profile() {
    for (path, profile) in profiles() {
        let Some(trunk) = first(&profile, PortType::is_trunk) else {
            continue;
        };
        let name = path.display();
        let frames = whole_call(&profile, trunk, 160);
        let blocks = whole_call(&profile, trunk, 80);

        // The caller's side: the same call, to the ms.
        assert_eq!(blocks.outcome, Outcome::FarEndHungUp, "{name}");
        assert_eq!(blocks.outcome, frames.outcome, "{name}");
        assert_eq!(blocks.answered, frames.answered, "{name}");
        assert_eq!(blocks.answered_ms, frames.answered_ms, "{name}");
        assert_eq!(blocks.ended_ms, frames.ended_ms, "{name}");
        assert_eq!(blocks.keys_sent, "20241122#", "{name}");
        assert_eq!(blocks.key_log, frames.key_log, "{name}");
        // The caller heard our greeting, from the answer on, exactly as written.
        let at = blocks.heard_prompt_at.expect("the greeting was heard");
        assert!(at.abs_diff(blocks.answered) <= 20, "{name}: heard at {at}");
        assert_eq!(blocks.heard_prompt_at, frames.heard_prompt_at, "{name}");
        assert!(
            blocks.heard == frames.heard,
            "{name}: the caller heard something else"
        );

        // Our side: the same line events, each before the same receive sample, and the same
        // received audio sample for sample, 10 ms of it still held in the 10 ms channel's
        // last frame.
        assert_eq!(blocks.events, frames.events, "{name}");
        assert_eq!(blocks.event_samples, frames.event_samples, "{name}");
        assert_eq!(blocks.rx.len() + 80, frames.rx.len(), "{name}");
        assert!(
            blocks.rx[..] == frames.rx[..blocks.rx.len()],
            "{name}: received audio differs"
        );
        // One 80-sample block every 10 ms of board time; a 20 ms frame's first half 10 ms
        // before its second.
        for &(t, n) in &blocks.read_at {
            assert_eq!(n, (t as usize - 10) * 8, "{name}: at {t} ms");
        }
        for &(t, n) in &frames.read_at {
            assert_eq!(n, t as usize * 8, "{name}: at {t} ms");
        }
        // The keys are in what we received after the answer, at the sample times the caller
        // pressed them (sample `i` of the stream is board time `i / 8` ms).
        let a = blocks.answered;
        let got = common::decode_digits(&blocks.rx[a as usize * 8..], profile.zone.name());
        let keys: String = got.iter().map(|d| d.0).collect();
        assert_eq!(keys, "20241122#", "{name}");
        for ((_, at), (_, pressed, _)) in got.iter().zip(&blocks.key_log) {
            assert!(
                (a + at).abs_diff(*pressed) <= 10,
                "{name}: key at {}, pressed {pressed}",
                a + at
            );
        }
    }
}

fn linear_pair() -> (SimBoard, u16, u16) {
    let profile = Profile::parse(
        r#"
        [board]
        name = "linear pair"
        zone = "cn"
        law = "linear"
        [[cards]]
        model = "t"
        ports = [{ kind = "fxs-station", count = 1 }, { kind = "fxo-trunk", count = 1 }]
        "#,
        "pair.toml",
    )
    .unwrap();
    let mut board = SimBoard::from_profile(profile);
    board.wire_pair(1, 2).unwrap();
    (board, 1, 2)
}

/// A counting ramp, 1, 2, 3, ..., as 80-sample blocks of little-endian linear audio.
fn ramp_block(k: usize) -> [u8; 160] {
    let mut b = [0u8; 160];
    for (j, c) in b.chunks_exact_mut(2).enumerate() {
        let v = (k * 80 + j + 1) as i16;
        c.copy_from_slice(&v.to_le_bytes());
    }
    b
}

fn read_all(ch: &mut simboard::SimChannel, out: &mut Vec<i16>) {
    let mut buf = [0u8; 320];
    loop {
        match ch.read_frame(&mut buf).unwrap() {
            ReadOutcome::Data(n) => out.extend(
                buf[..n]
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]])),
            ),
            ReadOutcome::WouldBlock => break,
            ReadOutcome::EventPending => {
                ch.next_event().unwrap();
            }
        }
    }
}

#[test]
fn blocks_written_reach_the_far_end_in_order_without_gap_or_repeat() {
    // Written every 10 ms, or four at a time every 40 ms (the buffer takes them): the far
    // end hears the ramp whole, one sample after the other.
    for burst in [1, 4] {
        for far_block in [160, 80] {
            let (mut board, station, trunk) = linear_pair();
            let mut ours = board.take_channel(trunk).unwrap();
            let mut far = board.take_channel(station).unwrap();
            ours.set_io_block(80).unwrap();
            far.set_io_block(far_block).unwrap();
            // Off-hook, so a block missing when the board takes one would count.
            ours.set_hook(Hook::OffHook).unwrap();
            let mut heard = Vec::new();
            let mut k = 0;
            for step in 0..300 {
                if step % burst == 0 {
                    for _ in 0..burst {
                        assert_eq!(
                            ours.write_frame(&ramp_block(k)).unwrap(),
                            WriteOutcome::Written(160)
                        );
                        k += 1;
                    }
                }
                board.advance_ms(10);
                read_all(&mut far, &mut heard);
                let mut sink = Vec::new();
                read_all(&mut ours, &mut sink);
            }
            let from = heard
                .iter()
                .position(|&s| s == 1)
                .expect("the ramp arrived");
            assert!(heard[..from].iter().all(|&s| s == 0));
            let ramp = &heard[from..];
            assert!(ramp.len() >= 280 * 80, "{} samples", ramp.len());
            for (j, &s) in ramp.iter().enumerate() {
                assert_eq!(s, (j + 1) as i16, "burst {burst}, far end on {far_block}");
            }
            assert_eq!(board.stats().tx_underruns, 0);
        }
    }
}

#[test]
fn events_hold_back_10_ms_reads_and_writes_until_taken() {
    let profile = Profile::parse(
        r#"
        [board]
        name = "one trunk"
        zone = "cn"
        [[cards]]
        model = "t"
        ports = [{ kind = "fxo-trunk", count = 1 }]
        "#,
        "t.toml",
    )
    .unwrap();
    let mut board = SimBoard::from_profile(profile);
    let mut ch = board.take_channel(1).unwrap();
    ch.set_io_block(80).unwrap();
    let caller = Arc::new(Persona::new("c", vec![Step::Wait(500), Step::HangUp]));
    board.offer_call(1, call_spec(caller));
    board.advance_ms(20);
    let mut buf = [0u8; 80];
    assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::EventPending);
    assert_eq!(ch.write_frame(&buf).unwrap(), WriteOutcome::EventPending);
    assert_eq!(ch.next_event().unwrap(), Some(LineEvent::RingBegin));
    assert_eq!(ch.read_frame(&mut buf).unwrap(), ReadOutcome::Data(80));
    assert_eq!(ch.write_frame(&buf).unwrap(), WriteOutcome::Written(80));
    // A frame's worth is the wrong size now, either way.
    let mut frame = [0u8; 160];
    assert_eq!(ch.read_frame(&mut frame).unwrap(), ReadOutcome::WouldBlock);
    assert!(matches!(
        ch.write_frame(&frame),
        Err(SimError::BadFrameLength {
            got: 160,
            want: 80,
            ..
        })
    ));
    assert_eq!(
        ch.set_io_block(120),
        Err(SimError::BlockNotSupported {
            channel: 1,
            samples: 120
        })
    );
    assert_eq!(ch.block_samples(), 80);
}

fn call_spec(persona: Arc<Persona>) -> simboard::CallSpec {
    simboard::CallSpec {
        persona,
        caller_id: tel_types::CallerId::default(),
        hold_ms: None,
        give_up_ms: None,
        seed: 3,
    }
}

#[test]
fn switching_blocks_mid_call_keeps_the_received_stream_whole() {
    let (_, profile) = profiles()
        .into_iter()
        .find(|(p, _)| p.ends_with("analog-8fxo-8fxs.toml"))
        .unwrap();
    let trunk = first(&profile, PortType::is_trunk).unwrap();
    let run = |switch: bool| {
        let mut line = Line::new(profile.clone(), trunk);
        let p = Persona::new("c", vec![Step::Say(3_000), Step::HangUp]);
        line.board.offer_call(trunk, call(p, "1")).unwrap();
        line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
        line.ch.set_hook(Hook::OffHook).unwrap();
        for k in 0..8 {
            if switch {
                line.ch
                    .set_io_block(if k % 2 == 0 { 80 } else { 160 })
                    .unwrap();
            }
            line.run(500);
        }
        line.run(20);
        (line.rx, line.events)
    };
    let (plain, plain_events) = run(false);
    let (switched, switched_events) = run(true);
    assert_eq!(switched_events, plain_events);
    assert!(switched.len() + 160 >= plain.len() && switched.len() <= plain.len());
    assert!(
        switched[..] == plain[..switched.len()],
        "the stream differs"
    );
}
