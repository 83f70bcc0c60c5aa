//! Scenario tests of one or two pipelines in virtual time: each frame is one `step`.

mod support;

use media::{Gain, LineControl, MediaCommand, MediaEvent, SendError, Sent};
use support::{Chan, prompt_table, ramp};
use tel_types::{ChannelId, Digit, DigitSet, Hook, LineEvent, PromptId, RecordingId, SampleTime};

#[test]
fn prompts_play_in_queue_order_without_gaps_then_silence() {
    let (table, ids) = prompt_table(&[(100, 250), (200, 100), (300, 30)]);
    let mut ch = Chan::new(1, table);
    for &p in &ids {
        ch.send(MediaCommand::Play {
            prompt: p,
            barge_in: DigitSet::EMPTY,
        });
    }
    let tx1 = ch.step_silent();
    let tx2 = ch.step_silent();
    let tx3 = ch.step_silent();
    let mut out: Vec<i16> = [tx1, tx2, tx3].concat();
    // 250 samples of prompt 0, then 100 of prompt 1, 30 of prompt 2, then silence.
    assert!(out[..250].iter().all(|&s| s == 100));
    assert!(out[250..350].iter().all(|&s| s == 200));
    assert!(out[350..380].iter().all(|&s| s == 300));
    assert!(out.drain(380..).all(|s| s == 0), "underrun must be silence");
    let done: Vec<_> = ch.events();
    assert_eq!(
        done,
        vec![
            MediaEvent::PlaybackDone {
                prompt: ids[0],
                played_samples: 250,
                barged_in_by: None
            },
            MediaEvent::PlaybackDone {
                prompt: ids[1],
                played_samples: 100,
                barged_in_by: None
            },
            MediaEvent::PlaybackDone {
                prompt: ids[2],
                played_samples: 30,
                barged_in_by: None
            },
        ]
    );
}

#[test]
fn play_command_reaches_the_line_in_the_next_frame() {
    let (table, ids) = prompt_table(&[(1234, 1600)]);
    let mut ch = Chan::new(1, table);
    assert!(ch.step_silent().iter().all(|&s| s == 0));
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::ALL,
    });
    let tx = ch.step_silent();
    assert_eq!(tx[0], 1234, "first sample of the frame after the command");
}

#[test]
fn play_sent_between_the_receive_and_transmit_halves_is_heard_in_that_frame() {
    let (table, ids) = prompt_table(&[(1234, 1600), (-777, 1600)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::from_keys("#"),
    });
    ch.step_silent();
    // The caller presses # (the board's detector): the prompt stops, the control side
    // sees the key and answers with the next prompt before the transmit half runs.
    ch.line_event(LineEvent::DtmfDown(Digit::Hash));
    let now = ch.now;
    ch.pipe.process_rx(now, &[0; 160]);
    assert!(ch.events().iter().any(|e| matches!(
        e,
        MediaEvent::PlaybackDone {
            barged_in_by: Some(Digit::Hash),
            ..
        }
    )));
    ch.send(MediaCommand::Play {
        prompt: ids[1],
        barge_in: DigitSet::EMPTY,
    });
    let mut tx = [0i16; 160];
    ch.pipe.process_tx(now, &mut tx, None);
    assert_eq!(
        tx[0], -777,
        "the answer starts in the frame whose receive held the key"
    );
    assert!(tx.iter().all(|&s| s == -777));
}

#[test]
fn split_halves_give_the_same_audio_and_events_as_process() {
    let (table, ids) = prompt_table(&[(300, 500), (-300, 900)]);
    let mut whole = Chan::new(1, table);
    let mut split = Chan::new(1, table);
    for ch in [&mut whole, &mut split] {
        ch.send(MediaCommand::Play {
            prompt: ids[0],
            barge_in: DigitSet::EMPTY,
        });
        ch.send(MediaCommand::Play {
            prompt: ids[1],
            barge_in: DigitSet::EMPTY,
        });
    }
    for k in 0..12 {
        let rx = ramp(k * 10, 3);
        let a = whole.step(&rx, None);
        let mut b = [0i16; 160];
        split.pipe.process_rx(split.now, &rx);
        split.pipe.process_tx(split.now, &mut b, None);
        split.now += 160;
        assert_eq!(a, b, "frame {k}");
    }
    assert_eq!(whole.events(), split.events());
    assert_eq!(whole.ctl.stats().frames, 12);
    assert_eq!(split.ctl.stats().frames, 12);
}

#[test]
fn barge_in_key_in_the_set_stops_the_prompt_and_the_queue_and_reports_position() {
    let (table, ids) = prompt_table(&[(100, 8000), (200, 800)]);
    let mut ch = Chan::new(1, table);
    let barge = DigitSet::from_keys("#*");
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: barge,
    });
    ch.send(MediaCommand::Play {
        prompt: ids[1],
        barge_in: barge,
    });
    for _ in 0..10 {
        ch.step_silent();
    }
    // A key not in the set does nothing to playback.
    ch.line_event(LineEvent::DtmfDown(Digit::D5));
    ch.step_silent();
    ch.line_event(LineEvent::DtmfDown(Digit::Hash));
    let tx = ch.step_silent();
    assert!(
        tx.iter().all(|&s| s == 0),
        "stopped prompt must not be heard"
    );
    let ev = ch.events();
    let done: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, MediaEvent::PlaybackDone { .. }))
        .collect();
    assert_eq!(
        done,
        vec![
            &MediaEvent::PlaybackDone {
                prompt: ids[0],
                played_samples: 11 * 160,
                barged_in_by: Some(Digit::Hash)
            },
            &MediaEvent::PlaybackDone {
                prompt: ids[1],
                played_samples: 0,
                barged_in_by: Some(Digit::Hash)
            },
        ]
    );
}

#[test]
fn uninterruptible_prompt_ignores_keys_and_stop_command_reports_position() {
    let (table, ids) = prompt_table(&[(100, 8000)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    ch.step_silent();
    ch.line_event(LineEvent::DtmfDown(Digit::D1));
    assert_eq!(ch.step_silent()[0], 100);
    ch.send(MediaCommand::StopPlayback);
    assert_eq!(ch.step_silent()[0], 0);
    assert!(ch.events().contains(&MediaEvent::PlaybackDone {
        prompt: ids[0],
        played_samples: 320,
        barged_in_by: None
    }));
}

#[test]
fn unknown_prompt_is_reported_done_at_once_and_counted() {
    let (table, _) = prompt_table(&[(1, 10)]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::Play {
        prompt: PromptId(99),
        barge_in: DigitSet::EMPTY,
    });
    ch.step_silent();
    assert_eq!(
        ch.events(),
        vec![MediaEvent::PlaybackDone {
            prompt: PromptId(99),
            played_samples: 0,
            barged_in_by: None
        }]
    );
    assert_eq!(ch.ctl.stats().bad_commands, 1);
}

#[test]
fn tx_gain_scales_and_saturates() {
    let (table, ids) = prompt_table(&[(10000, 320)]);
    let mut ch = Chan::new(1, table);
    assert!(ch.ctl.set_tx_gain(Gain::from_db(6.0206)));
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    assert!(ch.step_silent().iter().all(|&s| s == 20000));
    assert!(ch.ctl.set_tx_gain(Gain::from_db(12.0)));
    assert!(ch.step_silent().iter().all(|&s| s == i16::MAX));
}

#[test]
fn hook_commands_come_out_for_the_loop_in_order() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.send(MediaCommand::SetHook(Hook::OffHook));
    ch.send(MediaCommand::SetHook(Hook::Flash));
    ch.step_silent();
    assert_eq!(
        ch.pipe.poll_line_control(),
        Some(LineControl::Hook(Hook::OffHook))
    );
    assert_eq!(
        ch.pipe.poll_line_control(),
        Some(LineControl::Hook(Hook::Flash))
    );
    assert_eq!(ch.pipe.poll_line_control(), None);
}

#[test]
fn line_events_are_forwarded_with_their_sample_time() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    ch.step_silent();
    ch.line_event(LineEvent::RingBegin);
    assert!(ch.pipe.take_wake());
    assert_eq!(
        ch.events(),
        vec![MediaEvent::Line {
            at: SampleTime(160),
            event: LineEvent::RingBegin
        }]
    );
}

#[test]
fn bridge_carries_audio_both_ways_and_unbridge_stops_it() {
    let (table, _) = prompt_table(&[]);
    let mut a = Chan::new(1, table);
    let mut b = Chan::new(2, table);
    a.send(MediaCommand::Bridge(ChannelId(2)));
    a.step_silent();
    // The loop's side of it: link B back to A.
    assert_eq!(
        a.pipe.poll_line_control(),
        Some(LineControl::Bridge(ChannelId(2)))
    );
    b.pipe.set_peer(Some(ChannelId(1)));

    let from_a = ramp(0, 3);
    let from_b = ramp(5000, -7);
    let mut heard_by_b = Vec::new();
    let mut heard_by_a = Vec::new();
    for _ in 0..5 {
        let (a_rx, b_rx) = (*a.pipe.last_rx(), *b.pipe.last_rx());
        heard_by_a.extend(a.step(&from_a, Some(&b_rx)));
        heard_by_b.extend(b.step(&from_b, Some(&a_rx)));
    }
    // Clamping delays bridged audio by two frames, the loop's exchange by one more.
    assert!(heard_by_b[..3 * 160].iter().all(|&s| s == 0));
    assert_eq!(&heard_by_b[3 * 160..4 * 160], &from_a[..]);
    assert!(heard_by_a[..3 * 160].iter().all(|&s| s == 0));
    assert_eq!(&heard_by_a[3 * 160..4 * 160], &from_b[..]);

    a.send(MediaCommand::Unbridge);
    let b_rx = *b.pipe.last_rx();
    assert!(a.step(&from_a, Some(&b_rx)).iter().all(|&s| s == 0));
    assert_eq!(
        a.pipe.poll_line_control(),
        Some(LineControl::Unbridge(ChannelId(2)))
    );
}

#[test]
fn recording_tap_carries_clean_rx_and_stops_at_max_time() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let mut tap = ch.ctl.take_record_tap().expect("tap configured");
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(7),
        max_ms: 50,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::EMPTY,
    });
    let audio = ramp(-400, 5);
    for _ in 0..5 {
        ch.step(&audio, None);
    }
    let frames: Vec<_> = std::iter::from_fn(|| tap.pop()).collect();
    // 400 samples = 50 ms: two full frames, a partial one of 80, then the end marker.
    let lens: Vec<_> = frames
        .iter()
        .map(|f| (f.seq, f.first, f.last, f.len))
        .collect();
    assert_eq!(
        lens,
        vec![
            (0, true, false, 160),
            (1, false, false, 160),
            (2, false, false, 80),
            (3, false, true, 0)
        ]
    );
    assert!(frames.iter().all(|f| f.slot == RecordingId(7)));
    // With clamping on, the tap is two frames behind: first the silence before.
    assert!(frames[0].audio().iter().all(|&s| s == 0));
    assert!(frames[1].audio().iter().all(|&s| s == 0));
    assert_eq!(frames[2].audio(), &audio[..80]);
    assert!(ch.events().contains(&MediaEvent::RecordingDone {
        slot: RecordingId(7),
        samples: 400,
        stopped_by: None
    }));
}

#[test]
fn recording_stops_on_a_stop_key() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let mut tap = ch.ctl.take_record_tap().expect("tap configured");
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(1),
        max_ms: 0,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::from_keys("#"),
    });
    ch.step_silent();
    ch.step_silent();
    ch.line_event(LineEvent::DtmfDown(Digit::Hash));
    ch.step_silent();
    let frames: Vec<_> = std::iter::from_fn(|| tap.pop()).collect();
    assert_eq!(frames.len(), 3);
    assert!(frames[2].last);
    assert!(ch.events().contains(&MediaEvent::RecordingDone {
        slot: RecordingId(1),
        samples: 320,
        stopped_by: Some(Digit::Hash)
    }));
}

#[test]
fn a_slow_writer_loses_frames_counted_and_still_gets_the_end_marker() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::with(1, table, |c| c.record_tap_frames = 4);
    let mut tap = ch.ctl.take_record_tap().expect("tap configured");
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(3),
        max_ms: 0,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::EMPTY,
    });
    for _ in 0..10 {
        ch.step_silent();
    }
    ch.send(MediaCommand::StopRecording);
    ch.step_silent();
    assert_eq!(ch.ctl.stats().record_frames_dropped, 6);
    let first: Vec<_> = std::iter::from_fn(|| tap.pop()).map(|f| f.seq).collect();
    assert_eq!(first, vec![0, 1, 2, 3]);
    ch.step_silent(); // the end marker goes out once there is room
    let last = tap.pop().expect("end marker");
    assert!(last.last && last.seq == 10);
}

#[test]
fn full_event_ring_is_counted_and_reported_never_a_panic() {
    let (table, ids) = prompt_table(&[(1, 1)]);
    let mut ch = Chan::with(1, table, |c| c.event_capacity = 4);
    for _ in 0..10 {
        ch.line_event(LineEvent::RingBegin);
    }
    assert_eq!(ch.ctl.stats().events_lost, 6);
    let first: Vec<_> = ch.events();
    assert_eq!(first.len(), 4);
    // The next event that fits is preceded by the count of those lost.
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    ch.step_silent();
    assert_eq!(
        ch.events(),
        vec![
            MediaEvent::EventsLost { count: 6 },
            MediaEvent::PlaybackDone {
                prompt: ids[0],
                played_samples: 1,
                barged_in_by: None
            }
        ]
    );
}

#[test]
fn full_command_ring_hands_the_command_back() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::with(1, table, |c| c.command_capacity = 2);
    ch.send(MediaCommand::StopTone);
    ch.send(MediaCommand::StopTone);
    assert_eq!(
        ch.ctl.try_send(MediaCommand::StopPlayback),
        Err(SendError::Full(MediaCommand::StopPlayback))
    );
    ch.step_silent();
    assert!(ch.ctl.try_send(MediaCommand::StopPlayback).is_ok());
}

#[test]
fn a_full_command_ring_loses_no_command_and_keeps_their_order() {
    let (table, ids) = prompt_table(&[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]);
    let mut ch = Chan::with(1, table, |c| c.command_capacity = 2);
    let sent: Vec<Sent> = ids
        .iter()
        .map(|&prompt| {
            ch.ctl.send(MediaCommand::Play {
                prompt,
                barge_in: DigitSet::EMPTY,
            })
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            Sent::Now,
            Sent::Now,
            Sent::Deferred,
            Sent::Deferred,
            Sent::Deferred
        ]
    );
    assert_eq!((ch.ctl.backlog(), ch.ctl.deferred()), (3, 3));
    // A hang-up sent now waits behind the prompts, never ahead of them and never lost.
    assert_eq!(
        ch.ctl.send(MediaCommand::SetHook(Hook::OnHook)),
        Sent::Deferred
    );
    let mut done = Vec::new();
    let mut hooks = Vec::new();
    for _ in 0..10 {
        ch.ctl.pump();
        ch.step_silent();
        while let Some(l) = ch.pipe.poll_line_control() {
            hooks.push(l);
        }
        for ev in ch.events() {
            if let MediaEvent::PlaybackDone { prompt, .. } = ev {
                done.push(prompt);
            }
        }
    }
    assert_eq!(done, ids, "every prompt played, in order");
    assert_eq!(hooks, vec![LineControl::Hook(Hook::OnHook)]);
    assert_eq!(ch.ctl.backlog(), 0);
}

#[test]
fn a_full_event_ring_keeps_hook_changes_faults_and_completions() {
    let (table, ids) = prompt_table(&[(1, 1), (2, 1)]);
    let mut ch = Chan::with(1, table, |c| c.event_capacity = 4);
    for _ in 0..4 {
        ch.line_event(LineEvent::RingBegin);
    }
    // The ring is full. What follows must not be lost (or is reported).
    ch.line_event(LineEvent::OnHook);
    ch.line_event(LineEvent::RingOffHook);
    ch.line_event(LineEvent::DtmfDown(Digit::D5));
    ch.line_event(LineEvent::OnHook);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    ch.send(MediaCommand::Play {
        prompt: ids[1],
        barge_in: DigitSet::EMPTY,
    });
    ch.step_silent();
    let stats = ch.ctl.stats();
    assert_eq!(stats.digits_lost, 1, "{stats:?}");
    assert!(stats.held_events >= 4, "{stats:?}");
    let first = ch.events();
    assert_eq!(first.len(), 4, "the ring's own four");
    // Room again: the next frame delivers what was kept, in a defined order.
    ch.step_silent();
    let kept: Vec<MediaEvent> = ch
        .events()
        .into_iter()
        .map(|e| match e {
            MediaEvent::Line { event, .. } => MediaEvent::Line {
                at: SampleTime::ZERO,
                event,
            },
            e => e,
        })
        .collect();
    let line = |event| MediaEvent::Line {
        at: SampleTime::ZERO,
        event,
    };
    assert_eq!(
        kept,
        vec![
            // The digit and the superseded first on-hook and first completion.
            MediaEvent::EventsLost { count: 3 },
            // The last change of each kind, in the order they happened: the line ends on-hook.
            line(LineEvent::RingOffHook),
            line(LineEvent::OnHook),
            // The latest completion also completes the prompts before it.
            MediaEvent::PlaybackDone {
                prompt: ids[1],
                played_samples: 1,
                barged_in_by: None
            },
        ]
    );
    // Nothing is left over.
    ch.step_silent();
    assert!(ch.events().is_empty());
}

#[test]
fn another_prompt_table_stops_playback_and_plays_from_then_on() {
    let (old, ids) = prompt_table(&[(100, 800)]);
    let (new, _) = prompt_table(&[(-300, 800)]);
    let mut ch = Chan::new(1, old);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    assert_eq!(ch.step_silent()[0], 100);
    assert_eq!(ch.ctl.send_prompt_table(new), Sent::Now);
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    let tx = ch.step_silent();
    assert_eq!(tx[0], -300, "the same id now plays from the new table");
    let done: Vec<_> = ch
        .events()
        .into_iter()
        .filter_map(|e| match e {
            MediaEvent::PlaybackDone { played_samples, .. } => Some(played_samples),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec![160], "the old prompt was stopped where it was");
    assert!(std::ptr::eq(ch.pipe.prompt_table(), new));
}

#[test]
fn new_line_settings_change_the_gains_and_receivers() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::with(1, table, |c| c.progress_detection = false);
    let s = media::LineSettings::new(Gain::UNITY, Gain::from_db(6.0206), true, None);
    assert_eq!(ch.ctl.send_line_settings(s), Sent::Now);
    ch.step_silent();
    // The transmit gain applies to a tone we send.
    ch.send(MediaCommand::PlayTone {
        tone: tel_types::Tone::Beep,
        duration_ms: 100,
    });
    let loud = ch.step_silent();
    let peak = loud.iter().map(|s| s.unsigned_abs()).max().unwrap();
    let s = media::LineSettings::new(Gain::UNITY, Gain::UNITY, true, None);
    let _ = ch.ctl.send_line_settings(s);
    ch.step_silent();
    ch.send(MediaCommand::PlayTone {
        tone: tel_types::Tone::Beep,
        duration_ms: 100,
    });
    let normal = ch.step_silent();
    let peak1 = normal.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(
        (f64::from(peak) / f64::from(peak1) - 2.0).abs() < 0.05,
        "{peak} vs {peak1}"
    );
}

#[test]
fn listen_tap_hears_both_directions() {
    let (table, ids) = prompt_table(&[(1000, 1600)]);
    let mut ch = Chan::with(1, table, |c| c.dtmf_clamp = false);
    let mut tap = ch.ctl.take_listen_tap().expect("listen tap configured");
    ch.step_silent();
    assert!(tap.pop().is_none(), "off until asked");
    assert!(ch.ctl.set_listen(true));
    ch.send(MediaCommand::Play {
        prompt: ids[0],
        barge_in: DigitSet::EMPTY,
    });
    ch.step(&[20; 160], None);
    let f = tap.pop().expect("one frame");
    assert!(f.first && f.audio().iter().all(|&s| s == 1020));
    assert!(ch.ctl.set_listen(false));
    ch.step(&[20; 160], None);
    assert!(tap.pop().is_none());
}

#[test]
fn recording_ends_when_the_line_goes_on_hook() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::new(1, table);
    let _tap = ch.ctl.take_record_tap().expect("tap");
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(4),
        max_ms: 0,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::EMPTY,
    });
    ch.step_silent();
    ch.line_event(LineEvent::OnHook);
    assert!(ch.events().contains(&MediaEvent::RecordingDone {
        slot: RecordingId(4),
        samples: 160,
        stopped_by: None
    }));
}

#[test]
fn recording_without_a_tap_is_refused_at_once() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::with(1, table, |c| c.record_tap_frames = 0);
    ch.send(MediaCommand::StartRecording {
        slot: RecordingId(5),
        max_ms: 1000,
        end_on_silence_ms: 0,
        stop_keys: DigitSet::EMPTY,
    });
    ch.step_silent();
    assert_eq!(
        ch.events(),
        vec![MediaEvent::RecordingDone {
            slot: RecordingId(5),
            samples: 0,
            stopped_by: None
        }]
    );
    assert_eq!(ch.ctl.stats().bad_commands, 1);
}

#[test]
fn rx_gain_applies_to_what_is_recorded_and_bridged() {
    let (table, _) = prompt_table(&[]);
    let mut ch = Chan::with(1, table, |c| c.dtmf_clamp = false);
    assert!(ch.ctl.set_rx_gain(Gain::from_db(-6.0206)));
    ch.step(&[1000; 160], None);
    assert!(ch.pipe.last_rx().iter().all(|&s| s == 500));
}
