//! 10 ms board blocks (`Pipeline::process_block`): commands take effect at the next block,
//! the receive side still analyses whole 20 ms frames, and for the same input and commands
//! the events and the audio are those of 20 ms processing. Virtual time.

mod support;

use dsp::dtmf_gen::{DtmfBurst, DtmfGenConfig, DtmfGenerator};
use media::{Gain, MediaCommand, MediaEvent, TapFrame};
use support::{Chan, prompt_table, ramp};
use tel_types::{
    CallerId, ChannelId, Digit, DigitSet, FRAME_SAMPLES, Law, LineEvent, RecordingId, SampleTime,
    Tone,
};

const BLOCK: usize = 80;

/// One block received at the channel's clock; returns what was transmitted. The clock
/// advances by the block.
fn block(ch: &mut Chan, rx: &[i16], peer: Option<&[i16]>) -> [i16; BLOCK] {
    let mut tx = [0; BLOCK];
    ch.pipe.process_block(ch.now, rx, &mut tx, peer);
    ch.now += BLOCK as u64;
    tx
}

/// A whole frame as two blocks; returns the frame transmitted.
fn frame_in_blocks(ch: &mut Chan, rx: &[i16; FRAME_SAMPLES]) -> [i16; FRAME_SAMPLES] {
    let mut out = [0; FRAME_SAMPLES];
    out[..BLOCK].copy_from_slice(&block(ch, &rx[..BLOCK], None));
    out[BLOCK..].copy_from_slice(&block(ch, &rx[BLOCK..], None));
    out
}

fn drain_tap(tap: &mut media::TapConsumer) -> Vec<TapFrame> {
    std::iter::from_fn(|| tap.pop()).collect()
}

#[test]
fn play_queued_between_the_blocks_of_a_frame_starts_in_the_second_block() {
    let (table, ids) = prompt_table(&[(1234, 300)]);
    let mut ch = Chan::new(1, table);
    let mut line = Vec::new();
    line.extend(frame_in_blocks(&mut ch, &[0; FRAME_SAMPLES]));
    line.extend(block(&mut ch, &[0; BLOCK], None));
    // The control thread sends the prompt now, 10 ms into frame 1.
    let sent_at = ch.now;
    assert_eq!(sent_at, SampleTime(240));
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    line.extend(block(&mut ch, &[0; BLOCK], None));
    for _ in 0..3 {
        line.extend(frame_in_blocks(&mut ch, &[0; FRAME_SAMPLES]));
    }
    // The first sample of the prompt is the first sample of the next block: line sample
    // 240, not the next frame's 320.
    let start = sent_at.0 as usize;
    assert!(line[..start].iter().all(|&s| s == 0));
    assert!(line[start..start + 300].iter().all(|&s| s == 1234));
    assert!(line[start + 300..].iter().all(|&s| s == 0));
    assert_eq!(
        ch.events(),
        vec![MediaEvent::PlaybackDone {
            prompt: ids[0],
            played_samples: 300,
            barged_in_by: None
        }]
    );
    assert_eq!(ch.ctl.stats().frames, 5, "frames are counted whole");
}

#[test]
fn a_tone_and_a_stop_take_effect_at_the_next_block() {
    let (table, ids) = prompt_table(&[(500, 8000)]);
    let mut ch = Chan::new(1, table);
    frame_in_blocks(&mut ch, &[0; FRAME_SAMPLES]);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    let a = block(&mut ch, &[0; BLOCK], None);
    assert!(a.iter().all(|&s| s == 500));
    ch.send(MediaCommand::StopPlayback);
    let b = block(&mut ch, &[0; BLOCK], None);
    assert!(b.iter().all(|&s| s == 0), "stopped at the block boundary");
    assert_eq!(
        ch.events(),
        vec![MediaEvent::PlaybackDone {
            prompt: ids[0],
            played_samples: 80,
            barged_in_by: None
        }]
    );
    ch.send(MediaCommand::PlayTone {
        tone: Tone::Dial,
        duration_ms: 0,
    });
    let c = block(&mut ch, &[0; BLOCK], None);
    assert!(
        c.iter().any(|&s| s != 0),
        "dial tone from the next block on"
    );
}

#[test]
fn a_board_key_barges_in_at_the_next_block_with_the_exact_position() {
    let (table, ids) = prompt_table(&[(100, 8000), (200, 800)]);
    let mut ch = Chan::new(1, table);
    for &p in &ids {
        ch.send(MediaCommand::Play {
            prompt: p,
            barge_in: DigitSet::from_keys("5"),
        });
    }
    frame_in_blocks(&mut ch, &[0; FRAME_SAMPLES]);
    block(&mut ch, &[0; BLOCK], None);
    // 240 samples played; the board's detector reports a key before the next block.
    ch.line_event(LineEvent::DtmfDown(Digit::D5));
    let tx = block(&mut ch, &[0; BLOCK], None);
    assert!(tx.iter().all(|&s| s == 0));
    let ev = ch.events();
    assert_eq!(
        ev[1..],
        [
            MediaEvent::PlaybackDone {
                prompt: ids[0],
                played_samples: 240,
                barged_in_by: Some(Digit::D5)
            },
            MediaEvent::PlaybackDone {
                prompt: ids[1],
                played_samples: 0,
                barged_in_by: Some(Digit::D5)
            },
        ]
    );
    assert_eq!(
        ev[0],
        MediaEvent::Line {
            at: SampleTime(240),
            event: LineEvent::DtmfDown(Digit::D5)
        }
    );
}

/// Caller audio for the golden comparison: quiet speech-like noise, two in-band keys, then
/// China's busy tone (the far end hung up) from 2 s on.
fn caller_audio(frames: usize) -> Vec<[i16; FRAME_SAMPLES]> {
    let mut lin: Vec<i16> = (0..frames * FRAME_SAMPLES)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let speech = 900.0 * (2.0 * std::f64::consts::PI * 310.0 * t).sin()
                + 500.0 * (2.0 * std::f64::consts::PI * 733.0 * t).sin();
            if i >= 16_000 {
                let busy = (t * 1000.0) as u64 % 700 < 350;
                if busy {
                    (5000.0 * (2.0 * std::f64::consts::PI * 450.0 * t).sin()) as i16
                } else {
                    0
                }
            } else {
                speech as i16
            }
        })
        .collect();
    let cfg = DtmfGenConfig {
        off_ms: 0,
        ..DtmfGenConfig::default()
    };
    for (key, at) in [(Digit::D3, 2_345), (Digit::Hash, 9_871)] {
        let mut g = DtmfGenerator::new(DtmfGenConfig::default());
        g.push_burst(DtmfBurst::for_digit(key, &cfg));
        g.mix(&mut lin[at..at + 800]);
    }
    lin.chunks_exact(FRAME_SAMPLES)
        .map(|c| c.try_into().expect("frame"))
        .collect()
}

/// Commands the control side sends before frame `k` (the same for both channels).
fn commands_before(k: usize, ids: &[tel_types::PromptId]) -> Vec<MediaCommand> {
    match k {
        0 => vec![
            MediaCommand::SetHook(tel_types::Hook::OffHook),
            MediaCommand::Play {
                prompt: ids[0],
                barge_in: DigitSet::EMPTY,
            },
            MediaCommand::Play {
                prompt: ids[1],
                barge_in: DigitSet::EMPTY,
            },
            MediaCommand::StartRecording {
                slot: RecordingId(3),
                max_ms: 0,
                end_on_silence_ms: 0,
                stop_keys: DigitSet::EMPTY,
            },
        ],
        7 => vec![MediaCommand::PlayTone {
            tone: Tone::Dtmf(Digit::D9),
            duration_ms: 90,
        }],
        30 => vec![MediaCommand::PlayTone {
            tone: Tone::Ringback,
            duration_ms: 1_333,
        }],
        60 => vec![MediaCommand::SendCallerId(CallerId {
            number: tel_types::FixedStr::new_truncated("4008001234"),
            ..CallerId::default()
        })],
        90 => vec![MediaCommand::StopRecording],
        _ => vec![],
    }
}

#[test]
fn ten_ms_blocks_give_the_events_audio_and_taps_of_twenty_ms_frames() {
    let (table, ids) = prompt_table(&[(700, 2_345), (-650, 3_001)]);
    let config = |c: &mut media::Config| {
        c.law = Law::ALaw;
        c.tx_gain = Gain::from_db(-3.0);
        c.rx_gain = Gain::from_db(2.0);
    };
    let mut whole = Chan::with(1, table, config);
    let mut blocks = Chan::with(1, table, config);
    let mut taps = [&mut whole, &mut blocks].map(|ch| {
        assert!(ch.ctl.set_listen(true));
        (
            ch.ctl.take_record_tap().expect("record tap"),
            ch.ctl.take_listen_tap().expect("listen tap"),
        )
    });
    let audio = caller_audio(200);
    let (mut tx_whole, mut tx_blocks) = (Vec::new(), Vec::new());
    let (mut rec, mut lis) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for (k, rx) in audio.iter().enumerate() {
        for ch in [&mut whole, &mut blocks] {
            for c in commands_before(k, &ids) {
                ch.send(c);
            }
            if k == 70 {
                // A station's ring burst ends: caller ID 600 ms later.
                ch.line_event(LineEvent::RingerOff);
            }
        }
        // Coded frames, as the board moves them.
        let mut coded = [0u8; FRAME_SAMPLES];
        dsp::g711::encode_slice(Law::ALaw, rx, &mut coded);
        let mut out = [0u8; FRAME_SAMPLES];
        assert_eq!(
            whole.pipe.process_coded(whole.now, &coded, &mut out, None),
            160
        );
        whole.now += 160;
        tx_whole.extend_from_slice(&out);
        for half in coded.chunks_exact(BLOCK) {
            let mut out = [0u8; BLOCK];
            let n = blocks
                .pipe
                .process_block_coded(blocks.now, half, &mut out, None);
            assert_eq!(n, BLOCK);
            blocks.now += BLOCK as u64;
            tx_blocks.extend_from_slice(&out);
        }
        for (i, (r, l)) in taps.iter_mut().enumerate() {
            rec[i].extend(drain_tap(r));
            lis[i].extend(drain_tap(l));
        }
    }
    let (ev_whole, ev_blocks) = (whole.events(), blocks.events());
    // The scenario exercises every part: keys, busy tone, both prompts ending, recording.
    let count = |f: fn(&MediaEvent) -> bool| ev_whole.iter().filter(|e| f(e)).count();
    assert_eq!(count(|e| matches!(e, MediaEvent::Digit(_))), 2);
    assert!(count(|e| matches!(e, MediaEvent::Progress { .. })) >= 1);
    assert_eq!(count(|e| matches!(e, MediaEvent::PlaybackDone { .. })), 2);
    assert_eq!(count(|e| matches!(e, MediaEvent::RecordingDone { .. })), 1);
    assert_eq!(
        ev_whole, ev_blocks,
        "same events with the same sample times"
    );
    assert_eq!(tx_whole.len(), tx_blocks.len());
    let first_diff = tx_whole.iter().zip(&tx_blocks).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "the same transmitted audio");
    // The caller ID went out (FSK from frame 100 on) and was compared above.
    assert!(tx_whole[101 * 160..110 * 160].iter().any(|&b| b != 0xD5));
    assert_eq!(rec[0].len(), 91, "90 frames and the end marker");
    assert!(rec[0] == rec[1], "the same recording");
    assert_eq!(lis[0].len(), 200);
    assert!(lis[0] == lis[1], "the same listen-in frames");
    assert_eq!(whole.ctl.stats().frames, 200);
    assert_eq!(blocks.ctl.stats().frames, 200);
}

#[test]
fn bridged_blocks_carry_every_sample_once_in_either_service_order() {
    for a_first in [true, false] {
        let (table, _) = prompt_table(&[]);
        let clamp_off = |c: &mut media::Config| c.dtmf_clamp = false;
        let mut a = Chan::with(1, table, clamp_off);
        let mut b = Chan::with(2, table, clamp_off);
        a.pipe.set_peer(Some(ChannelId(2)));
        b.pipe.set_peer(Some(ChannelId(1)));
        // A ramp that never repeats within the run: each sample says where it came from.
        let from_a: Vec<i16> = (0..1600).map(|i| i as i16 + 1).collect();
        let from_b: Vec<i16> = (0..1600).map(|i| -(i as i16) - 1).collect();
        let (mut heard_by_a, mut heard_by_b) = (Vec::new(), Vec::new());
        for k in 0..20 {
            let blk = k * BLOCK..(k + 1) * BLOCK;
            // The loop copies the peer's block before serving a channel.
            if a_first {
                let p: Vec<i16> = b.pipe.bridge_audio().to_vec();
                heard_by_a.extend(block(&mut a, &from_a[blk.clone()], Some(&p)));
                let p: Vec<i16> = a.pipe.bridge_audio().to_vec();
                heard_by_b.extend(block(&mut b, &from_b[blk], Some(&p)));
            } else {
                let p: Vec<i16> = a.pipe.bridge_audio().to_vec();
                heard_by_b.extend(block(&mut b, &from_b[blk.clone()], Some(&p)));
                let p: Vec<i16> = b.pipe.bridge_audio().to_vec();
                heard_by_a.extend(block(&mut a, &from_a[blk], Some(&p)));
            }
        }
        // Whoever goes second hears the first one frame late; the first hears the second
        // a block later still. Nothing is skipped or repeated.
        let (first_heard, first_delay, second_heard, second_delay, first_src, second_src) =
            if a_first {
                (&heard_by_a, 240, &heard_by_b, 160, &from_b, &from_a)
            } else {
                (&heard_by_b, 240, &heard_by_a, 160, &from_a, &from_b)
            };
        assert!(first_heard[..first_delay].iter().all(|&s| s == 0));
        assert!(
            first_heard[first_delay..] == first_src[..1600 - first_delay],
            "a_first {a_first}"
        );
        assert!(second_heard[..second_delay].iter().all(|&s| s == 0));
        assert!(
            second_heard[second_delay..] == second_src[..1600 - second_delay],
            "a_first {a_first}"
        );
    }
}

#[test]
fn bridged_blocks_mix_the_peers_previous_frame_as_twenty_ms_frames_do() {
    // With 20 ms frames, a channel served before its peer mixes the peer's previous frame;
    // with blocks, a channel served after its peer does (one block more the other way).
    let (table, _) = prompt_table(&[]);
    let (mut a20, mut b20) = (Chan::new(1, table), Chan::new(2, table));
    let (mut a10, mut b10) = (Chan::new(1, table), Chan::new(2, table));
    for (x, peer) in [(&mut a20, 2), (&mut b20, 1), (&mut a10, 2), (&mut b10, 1)] {
        x.pipe.set_peer(Some(ChannelId(peer)));
    }
    let (mut out20, mut out10) = (Vec::new(), Vec::new());
    for k in 0..12i16 {
        let (ra, rb) = (ramp(k * 100, 3), ramp(-k * 50, -2));
        let prev_b = *b20.pipe.last_rx();
        out20.extend(a20.step(&ra, Some(&prev_b)));
        b20.step(&rb, None);
        for h in 0..2 {
            let half = h * BLOCK..(h + 1) * BLOCK;
            block(&mut b10, &rb[half.clone()], None);
            let p: Vec<i16> = b10.pipe.bridge_audio().to_vec();
            out10.extend(block(&mut a10, &ra[half], Some(&p)));
        }
    }
    assert!(out20.iter().any(|&s| s != 0));
    assert!(out20 == out10, "the same mix");
}

#[test]
fn listen_tap_gets_whole_frames_of_both_directions_from_blocks() {
    let (table, ids) = prompt_table(&[(1000, 120)]);
    let mut ch = Chan::with(1, table, |c| c.dtmf_clamp = false);
    let mut tap = ch.ctl.take_listen_tap().expect("listen tap configured");
    frame_in_blocks(&mut ch, &[0; FRAME_SAMPLES]);
    block(&mut ch, &[20; BLOCK], None);
    // Listening starts and a prompt is sent mid-frame: the tap gets no part-frame; it
    // hears from the next frame on, whole, with what was sent in both of its blocks.
    assert!(ch.ctl.set_listen(true));
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    block(&mut ch, &[20; BLOCK], None);
    assert!(
        tap.pop().is_none(),
        "no frame begun before the listener came"
    );
    block(&mut ch, &[30; BLOCK], None);
    block(&mut ch, &[-5; BLOCK], None);
    let f = tap.pop().expect("the next frame");
    assert!(f.first && f.len as usize == FRAME_SAMPLES, "{f:?}");
    assert!(
        f.audio()[..40].iter().all(|&s| s == 1030),
        "received 30 with the prompt's last 40 samples (1000)"
    );
    assert!(f.audio()[40..BLOCK].iter().all(|&s| s == 30));
    assert!(f.audio()[BLOCK..].iter().all(|&s| s == -5));
    assert!(tap.pop().is_none(), "one tap frame per 20 ms");
    // Listening off mid-frame: that frame is not sent either.
    block(&mut ch, &[7; BLOCK], None);
    assert!(ch.ctl.set_listen(false));
    block(&mut ch, &[7; BLOCK], None);
    assert!(tap.pop().is_none());
}

#[test]
fn a_block_channel_bridged_to_a_frame_channel_mixes_the_matching_half() {
    let (table, _) = prompt_table(&[]);
    let clamp_off = |c: &mut media::Config| c.dtmf_clamp = false;
    let mut blocks = Chan::with(1, table, clamp_off);
    let mut frames = Chan::with(2, table, clamp_off);
    blocks.pipe.set_peer(Some(ChannelId(2)));
    let mut heard = Vec::new();
    for k in 0..4i16 {
        frames.step(&ramp(k * 1000, 1), None);
        let peer: Vec<i16> = frames.pipe.bridge_audio().to_vec();
        assert_eq!(peer.len(), FRAME_SAMPLES);
        heard.extend(block(&mut blocks, &[0; BLOCK], Some(&peer)));
        heard.extend(block(&mut blocks, &[0; BLOCK], Some(&peer)));
    }
    let sent: Vec<i16> = (0..4i16).flat_map(|k| ramp(k * 1000, 1)).collect();
    assert!(heard == sent, "each block its half of the peer's frame");
}
