//! What the simulated people hear: personas that listen before they act, and the timeline
//! tests use to assert "heard the prompt, then 3 s of silence, then busy tone".

mod common;

use common::{Line, call, first, profiles};
use simboard::{Heard, NoteKind, Persona, PortType, Speech, Step};
use tel_types::board::VoiceChannel;
use tel_types::{Hook, LineEvent, Tone};

fn speech() -> Speech {
    Speech::recorded_english().unwrap_or_else(|e| panic!("{e}"))
}

/// A prompt: the first `ms` of the speech recordings.
fn prompt(ms: usize) -> Vec<i16> {
    speech().samples()[..ms * 8].to_vec()
}

fn answered_line(persona: Persona) -> (Line, u16, u64) {
    let (_, profile) = profiles()
        .into_iter()
        .find(|(p, _)| p.ends_with("analog-8fxo-8fxs.toml"))
        .unwrap();
    let trunk = first(&profile, PortType::is_trunk).unwrap();
    let mut line = Line::new(profile, trunk);
    line.board
        .offer_call(trunk, call(persona, "13912345678"))
        .unwrap();
    line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
    line.ch.set_hook(Hook::OffHook).unwrap();
    let t = line.board.now_ms();
    (line, trunk, t)
}

#[test]
fn a_caller_waits_for_the_end_of_the_prompt_before_pressing() {
    let mut p = Persona::new(
        "listener",
        vec![
            Step::WaitForSilence {
                silence_ms: 700,
                timeout_ms: 20_000,
            },
            Step::press("1"),
            Step::Wait(500),
            Step::HangUp,
        ],
    );
    p.give_up_ringing_ms = 60_000;
    let (mut line, _, answered) = answered_line(p);
    // The greeting: 3 s of real speech (with its own short pauses).
    line.tx.extend(prompt(3_000));
    line.run(8_000);
    let rec = &line.board.finished_calls()[0];
    let (_, pressed, _) = rec.key_log[0];
    // The last loud frame of the prompt, as heard by the persona.
    let tl = rec.hearing.timeline();
    let last_sound = tl
        .spans
        .iter()
        .filter(|s| s.what == Heard::Sound)
        .map(|s| s.end_ms)
        .max()
        .unwrap();
    assert!(last_sound <= answered + 3_040, "{last_sound} {answered}");
    assert!(
        // The persona judges whole 20 ms frames, so the gap is 700 ms give or take a frame.
        pressed + 20 >= last_sound + 700 && pressed <= last_sound + 760,
        "pressed at {pressed}, prompt ended {last_sound}\n{tl}"
    );
}

#[test]
fn the_timeline_shows_prompt_silence_busy_tone_and_keys() {
    let mut p = Persona::new("listener", vec![Step::Wait(9_000), Step::HangUp]);
    p.give_up_ringing_ms = 60_000;
    let (mut line, _, answered) = answered_line(p);
    // Prompt 2 s, 3 s of silence, 2.8 s of the zone's busy tone, then the key 5.
    line.tx.extend(prompt(2_000));
    line.tx.extend(std::iter::repeat_n(0, 3 * 8000));
    let busy = dsp::zones::ToneZone::by_code("cn")
        .unwrap()
        .tone(Tone::Busy)
        .unwrap();
    let mut g = dsp::tone::ToneGenerator::new(busy, -10.0);
    let mut tone = vec![0i16; 2_800 * 8];
    g.fill(&mut tone);
    line.tx.extend(tone);
    let mut key = dsp::dtmf_gen::DtmfGenerator::new(Default::default());
    key.push_str("5");
    let mut k = vec![0i16; 300 * 8];
    key.fill(&mut k);
    line.tx.extend(k);
    line.run(10_000);
    let rec = &line.board.finished_calls()[0];
    assert_eq!(rec.hearing.first(NoteKind::Answered), Some(answered));
    let tl = rec.hearing.timeline();
    // Heard the prompt (sound within its 2 s) ...
    let first_sound = tl.find(answered, |h| *h == Heard::Sound).unwrap();
    assert!(first_sound.start_ms < answered + 500, "{tl}");
    // ... then at least 3 s of silence ...
    let silence = tl
        .spans
        .iter()
        .find(|s| s.what == Heard::Silence && s.len_ms() >= 3_000)
        .unwrap_or_else(|| panic!("no 3 s silence\n{tl}"));
    assert!(silence.start_ms <= answered + 2_020 && silence.start_ms >= answered + 1_000);
    // ... then the busy cadence: 350 ms bursts every 700 ms ...
    let bursts: Vec<_> = tl
        .spans
        .iter()
        .filter(|s| {
            s.what == Heard::Sound && s.start_ms >= silence.end_ms && s.start_ms < answered + 7_800
        })
        .collect();
    assert!(bursts.len() >= 4, "{tl}");
    for w in bursts.windows(2) {
        assert!(w[0].len_ms().abs_diff(350) <= 20, "{tl}");
        assert_eq!(w[1].start_ms - w[0].start_ms, 700, "{tl}");
    }
    // ... which the DSP crate's detector calls busy tone ...
    let (busy_at, t) = tl
        .tone_after(silence.end_ms)
        .unwrap_or_else(|| panic!("{tl}"));
    assert_eq!(t, tel_types::ProgressTone::Busy, "{tl}");
    assert!(
        busy_at >= silence.end_ms && busy_at < silence.end_ms + 100,
        "{tl}"
    );
    // ... then the key.
    assert_eq!(tl.digits(), "5", "{tl}");
    let five = tl.find(0, |h| matches!(h, Heard::Dtmf(_))).unwrap();
    assert!(five.start_ms >= answered + 7_800, "{tl}");
}

#[test]
fn which_prompt_was_heard_and_when() {
    let mut p = Persona::new("listener", vec![Step::Wait(9_000), Step::HangUp]);
    p.give_up_ringing_ms = 60_000;
    let (mut line, _, answered) = answered_line(p);
    let all = speech();
    let s = all.samples();
    let (a, b, c) = (&s[..16_000], &s[40_000..56_000], &s[100_000..116_000]);
    // Prompt A at once, 1 s of silence, prompt B; prompt C is never played.
    line.tx.extend(a);
    line.tx.extend(std::iter::repeat_n(0, 8000));
    line.tx.extend(b);
    line.run(10_000);
    let rec = &line.board.finished_calls()[0];
    let at_a = rec.hearing.heard_prompt(a).expect("prompt A heard");
    let at_b = rec.hearing.heard_prompt(b).expect("prompt B heard");
    assert!(
        at_a.abs_diff(answered) <= 20,
        "A at {at_a}, answered {answered}"
    );
    assert!(at_b.abs_diff(answered + 3_000) <= 20, "B at {at_b}");
    assert_eq!(rec.hearing.heard_prompt(c), None, "C was never played");
}
