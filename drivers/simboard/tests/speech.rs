//! Real speech from the simulated callers.

mod common;

use common::{Line, call, first, power, profiles};
use simboard::{Persona, PortType, Speech, Step};
use tel_types::board::VoiceChannel;
use tel_types::{Hook, LineEvent};

fn speech() -> Speech {
    Speech::recorded_english().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn recorded_speech_is_real_speech_at_8khz() {
    let s = speech();
    let x = s.samples();
    // 20 s of recordings.
    assert!((15 * 8000..25 * 8000).contains(&x.len()), "{}", x.len());
    // Speech has pauses and syllables: frame levels spread over more than 30 dB.
    let mut levels: Vec<f64> = x
        .chunks(160)
        .map(|f| 10.0 * power(f).max(1.0).log10())
        .collect();
    levels.sort_by(f64::total_cmp);
    let (quiet, loud) = (levels[levels.len() / 10], levels[levels.len() * 95 / 100]);
    assert!(loud - quiet > 30.0, "{quiet:.1} .. {loud:.1} dB");
}

#[test]
fn a_caller_who_talks_is_heard_at_speech_level() {
    let (_, profile) = profiles().into_iter().next().unwrap();
    let trunk = first(&profile, PortType::is_trunk).unwrap();
    let mut line = Line::new(profile, trunk);
    let mut p = Persona::new(
        "talker",
        vec![Step::Say(4_000), Step::Wait(1_000), Step::HangUp],
    );
    p.speech = Some(speech());
    p.give_up_ringing_ms = 60_000;
    line.board.offer_call(trunk, call(p, "1")).unwrap();
    line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
    line.ch.set_hook(Hook::OffHook).unwrap();
    let t = line.board.now_ms();
    line.run(6_000);
    let talk = line.rx_between(t, t + 4_000);
    let after = line.rx_between(t + 4_100, t + 4_900);
    let (pt, pa) = (power(talk), power(after));
    assert!(pt > 100.0 * pa, "talk {pt:.0} vs after {pa:.0}");
    let dbm0 = 10.0 * (pt / f64::from(dsp::level::zero_dbm0_power())).log10();
    assert!((-35.0..-5.0).contains(&dbm0), "speech at {dbm0:.1} dBm0");
}

#[test]
fn a_talking_caller_sends_no_digits_on_any_profile() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let zone = profile.zone;
        let mut line = Line::new(profile, trunk);
        let mut p = Persona::new("talker", vec![Step::Say(20_000), Step::HangUp]);
        p.speech = Some(speech());
        p.give_up_ringing_ms = 60_000;
        line.board.offer_call(trunk, call(p, "1")).unwrap();
        line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
        line.ch.set_hook(Hook::OffHook).unwrap();
        let t = line.board.now_ms();
        line.run(21_000);
        let digits = common::decode_digits(line.rx_between(t, t + 20_500), zone.name());
        assert!(digits.is_empty(), "{}: talk-off {digits:?}", path.display());
    }
}
