//! The simulated lines on every shipped profile, in virtual time: ringing, answer, caller
//! keys, far-end hangup (busy tone, polarity only where the profile says), stations.

mod common;

use std::sync::Arc;

use common::{Line, call, first, on_off_runs, power, profiles, tone_power};
use simboard::{CallerIdStandard, CallerIdTiming, NoteKind, Outcome, Persona, PortType, Step};
use tel_types::board::VoiceChannel;
use tel_types::{Hook, LineEvent, Tone};

fn patient(steps: Vec<Step>) -> Persona {
    let mut p = Persona::new("caller", steps);
    p.give_up_ringing_ms = 120_000;
    p
}

/// Burst start offsets of a cadence: 0, on1+off1, ...
fn burst_gaps(cadence: &[u32]) -> Vec<u64> {
    cadence.chunks(2).map(|p| u64::from(p[0] + p[1])).collect()
}

#[test]
fn trunks_ring_with_the_zone_cadence_on_every_profile() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let cadence = profile.ring_cadence_ms.clone();
        assert_eq!(
            cadence,
            profile.zone.ring_cadence_ms(),
            "{}",
            path.display()
        );
        let mut line = Line::new(profile, trunk);
        line.board
            .offer_call(trunk, call(patient(vec![]), "13800138000"))
            .unwrap();
        let period: u64 = cadence.iter().map(|&x| u64::from(x)).sum();
        line.run(3 * period + 3000);
        let begins = line.times(LineEvent::RingBegin);
        let rings = line.times(LineEvent::RingOffHook);
        // DAHDI reports ring detection (RingOffHook) when a burst ends.
        let ons: Vec<u64> = cadence.iter().step_by(2).map(|&x| u64::from(x)).collect();
        assert!(rings.len() + 1 >= begins.len(), "{}", path.display());
        for (k, (b, r)) in begins.iter().zip(&rings).enumerate() {
            assert_eq!(r - b, ons[k % ons.len()], "{}: burst {k}", path.display());
        }
        assert!(begins.len() >= 3, "{}: {begins:?}", path.display());
        let want = burst_gaps(&cadence);
        for (k, w) in begins.windows(2).enumerate() {
            assert_eq!(
                w[1] - w[0],
                want[k % want.len()],
                "{}: burst {k} of {begins:?}, cadence {cadence:?}",
                path.display()
            );
        }
        assert!(
            line.events
                .iter()
                .all(|e| matches!(e.1, LineEvent::RingBegin | LineEvent::RingOffHook)),
            "{}: {:?}",
            path.display(),
            line.events
        );
    }
}

#[test]
fn caller_id_is_placed_before_the_first_ring_or_in_the_first_silence() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        // The trunk's own port group may set it (install-120's E1 spans: DTMF).
        let cid = profile.caller_id_of(trunk);
        if cid.standard == CallerIdStandard::None {
            continue;
        }
        let cadence = profile.ring_cadence_ms.clone();
        let zone = profile.zone;
        let mut line = Line::new(profile, trunk);
        line.board
            .offer_call(trunk, call(patient(vec![]), "13800138000"))
            .unwrap();
        line.run(16_000);
        let begins = line.times(LineEvent::RingBegin);
        let rec = line.board.active_call(trunk).unwrap();
        let sent = rec.hearing.first(NoteKind::CallerIdSent);
        let Some(sent) = sent else {
            panic!("{}: no caller ID was sent", path.display());
        };
        // Where the caller-ID signal is on the line (energy well above the line noise).
        let loud: Vec<usize> = line
            .rx
            .chunks(160)
            .enumerate()
            .filter(|(_, f)| power(f) > 1.0e5)
            .map(|(i, _)| i * 20)
            .collect();
        let (start, end) = (loud[0] as u64, *loud.last().unwrap() as u64 + 20);
        assert!(end <= sent + 40 && end + 40 >= sent, "{}", path.display());
        // The DSP crate's receivers decode the number from what we received.
        let got = match cid.standard {
            CallerIdStandard::Dtmf => {
                let keys: String = common::decode_digits(&line.rx, zone.name())
                    .iter()
                    .map(|d| d.0)
                    .collect();
                dsp::callerid::parse_dtmf_caller_id(&keys)
            }
            std => {
                let modem = if std == CallerIdStandard::FskV23 {
                    dsp::fsk::FskModem::V23
                } else {
                    dsp::fsk::FskModem::Bell202
                };
                let mut rx = dsp::callerid::CallerIdReceiver::new(modem);
                line.rx
                    .chunks(160)
                    .enumerate()
                    .find_map(|(k, f)| rx.process(f, tel_types::SampleTime(k as u64 * 160)))
                    .map(|e| e.caller_id)
            }
        };
        let got = got.unwrap_or_else(|| panic!("{}: caller ID not decoded", path.display()));
        assert_eq!(got.number.as_str(), "13800138000", "{}", path.display());
        match cid.timing {
            CallerIdTiming::BeforeFirstRing => {
                assert!(
                    end <= begins[0],
                    "{}: {start}..{end} vs ring {begins:?}",
                    path.display()
                );
                assert!(begins[0] - end >= u64::from(cid.delay_ms) - 20);
            }
            CallerIdTiming::AfterFirstRing => {
                let first_on: u64 = cadence[..cadence.len() - 1]
                    .iter()
                    .map(|&x| u64::from(x))
                    .sum();
                assert!(
                    start >= begins[0] + first_on + u64::from(cid.delay_ms) - 20,
                    "{}",
                    path.display()
                );
                assert!(
                    end + 200 <= begins[1],
                    "{}: {start}..{end} vs {begins:?}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn far_end_hangup_gives_busy_tone_and_polarity_only_where_the_profile_says() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let zone = dsp::zones::ToneZone::by_code(profile.zone.name()).unwrap();
        let busy = zone.tone(Tone::Busy).unwrap();
        let line_params = profile.ports().find(|p| p.0 == trunk).unwrap().2;
        let mut line = Line::new(profile, trunk);
        line.board
            .offer_call(
                trunk,
                call(patient(vec![Step::Wait(1000), Step::HangUp]), "1"),
            )
            .unwrap();
        line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
        line.ch.set_hook(Hook::OffHook).unwrap();
        let answered = line.board.now_ms();
        line.run(8_000);
        assert!(line.board.far_end_gone(trunk), "{}", path.display());
        let rec = &line.board.finished_calls()[0];
        assert_eq!(rec.outcome, Outcome::FarEndHungUp);
        let hung = rec.hearing.first(NoteKind::HungUp).unwrap();
        assert!(
            (answered + 1000..answered + 1100).contains(&hung),
            "{hung} {answered}"
        );
        // Signalling after the hangup: exactly what the profile enables.
        let after: Vec<LineEvent> = line
            .events
            .iter()
            .filter(|e| e.0 > answered)
            .map(|e| e.1)
            .collect();
        let mut want = Vec::new();
        if line_params.polarity_on_hangup {
            want.push(LineEvent::PolarityReversal);
        }
        if line_params.loop_drop_on_hangup {
            want.push(LineEvent::OnHook);
        }
        assert_eq!(after, want, "{}", path.display());
        // The audio after the hangup is the zone's busy tone: its frequencies, its cadence.
        let rx = line.rx_between(hung + 40, hung + 6_000);
        let (freqs, n) = busy.frequencies();
        let on_frames: Vec<&[i16]> = rx.chunks(160).filter(|f| power(f) > 1.0e5).collect();
        assert!(!on_frames.is_empty(), "{}: no busy tone", path.display());
        for f in &freqs[..n] {
            let p: f64 = on_frames
                .iter()
                .map(|x| tone_power(x, f64::from(*f)))
                .sum::<f64>();
            let total: f64 = on_frames.iter().map(|x| power(x)).sum();
            assert!(
                p > 0.8 * total / n as f64,
                "{}: {f} Hz weak",
                path.display()
            );
        }
        let runs = on_off_runs(rx, 1.0e5);
        let on_ms = u64::from(busy.segments[0].ms);
        let off_ms = u64::from(busy.segments[1].ms);
        let inner = &runs[1..runs.len() - 1];
        assert!(inner.len() >= 4, "{}: {runs:?}", path.display());
        for (on, ms) in inner {
            let want = if *on { on_ms } else { off_ms };
            assert!(
                ms.abs_diff(want) <= 20,
                "{}: {runs:?} vs {on_ms}/{off_ms}",
                path.display()
            );
        }
        // The DSP crate's call-progress detector, run on everything we received since the
        // answer, recognises busy tone soon after the hangup and nothing busy before it.
        let mut cpt = dsp::progress::CallProgressDetector::new(zone);
        let mut busy_at = None;
        for (k, f) in line
            .rx_between(answered, answered + 8_000)
            .chunks(160)
            .enumerate()
        {
            let now = tel_types::SampleTime::from_millis(answered + k as u64 * 20);
            if let Some(e) = cpt.process(f, now) {
                if e.tone == dsp::progress::CallProgress::Busy && busy_at.is_none() {
                    busy_at = Some(e.at.as_millis());
                }
            }
        }
        let busy_at = busy_at.unwrap_or_else(|| panic!("{}: busy not detected", path.display()));
        assert!(
            busy_at > hung && busy_at < hung + 3_000,
            "{}: busy at {busy_at}, hangup at {hung}",
            path.display()
        );
        // Hanging up clears the line.
        line.ch.set_hook(Hook::OnHook).unwrap();
        line.run(100);
        assert!(!line.board.far_end_gone(trunk));
    }
}

#[test]
fn caller_keys_arrive_in_band_with_the_persona_manner() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let zone = profile.zone;
        let line_params = profile.ports().find(|p| p.0 == trunk).unwrap().2;
        let mut line = Line::new(profile, trunk);
        let persona = patient(vec![
            Step::Wait(500),
            Step::press("20241122#"),
            Step::Wait(500),
            Step::HangUp,
        ]);
        line.board.offer_call(trunk, call(persona, "1")).unwrap();
        line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
        line.ch.set_hook(Hook::OffHook).unwrap();
        let answered = line.board.now_ms();
        line.run(5_000);
        let rec = &line.board.finished_calls()[0];
        assert_eq!(rec.keys_sent, "20241122#");
        // The DSP crate's receiver decodes exactly those keys from what we received, each
        // within a few ms of when the persona pressed it.
        let decoded =
            common::decode_digits(line.rx_between(answered, answered + 5_000), zone.name());
        let keys: String = decoded.iter().map(|d| d.0).collect();
        assert_eq!(keys, "20241122#", "{}", path.display());
        for ((_, at), (_, pressed, _)) in decoded.iter().zip(&rec.key_log) {
            assert!(
                (answered + at).abs_diff(*pressed) <= 10,
                "{}: {at} vs {pressed}",
                path.display()
            );
        }
        // The receiver measures each key's tones within the manner's levels (each tone
        // −12…−4 dBm0) less the line's gain, and the twist within +1…+3 dB.
        let gain = f64::from(line_params.gain_db);
        for d in
            common::decode_digit_events(line.rx_between(answered, answered + 5_000), zone.name())
        {
            let (lo, hi) = (f64::from(d.low_dbm0), f64::from(d.high_dbm0));
            for l in [lo, hi] {
                assert!(
                    l >= -12.0 + gain - 1.0 && l <= -4.0 + gain + 1.0,
                    "{}: {} at {lo:.1}/{hi:.1} dBm0, line gain {gain}",
                    path.display(),
                    d.digit
                );
            }
            let twist = f64::from(d.twist_db());
            assert!(
                (0.0..=4.0).contains(&twist),
                "{}: twist {twist:.1}",
                path.display()
            );
        }
        // Each key is on the line at its two frequencies for its duration, within the
        // manner's ranges.
        for &(d, at, dur) in &rec.key_log {
            assert!((50..=150).contains(&dur));
            let (lo, hi) = d.frequencies_hz();
            let x = line.rx_between(at + 5, at + u64::from(dur) - 5);
            // The persona's keys are off by up to ±1 %: take the strongest bin within ±1.5 %.
            let near = |f: u32| {
                let f = f64::from(f);
                (-15..=15)
                    .map(|k| tone_power(x, f * (1.0 + f64::from(k) / 1000.0)))
                    .fold(0.0, f64::max)
            };
            let (pl, ph) = (near(lo), near(hi));
            let peak = |dbm0: f32| f64::from(dsp::level::sine_peak_for_dbm0(dbm0));
            // Levels −12…−4 dBm0 per tone, minus up to 6 dB of line loss and 1 dB of window.
            let min = peak(-12.0 - 6.0 - 1.0).powi(2) / 2.0;
            assert!(
                pl > min && ph > min,
                "{}: {d} {pl:.0} {ph:.0}",
                path.display()
            );
            let other = tone_power(x, 1000.0);
            assert!(
                other < pl / 10.0,
                "{}: {d} not a clean pair",
                path.display()
            );
        }
    }
}

#[test]
fn unanswered_callers_give_up_and_the_ringing_stops() {
    for (_, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let mut line = Line::new(profile, trunk);
        let mut p = Persona::new("impatient", vec![]);
        p.give_up_ringing_ms = 9_000;
        line.board.offer_call(trunk, call(p, "1")).unwrap();
        line.run(30_000);
        let rec = &line.board.finished_calls()[0];
        assert_eq!(rec.outcome, Outcome::Abandoned);
        let last_ring = *line.times(LineEvent::RingBegin).last().unwrap();
        assert!(last_ring < 9_000, "{last_ring}");
        assert_eq!(line.board.stats().abandoned, 1);
    }
}

#[test]
fn stations_ring_answer_flash_and_hang_up() {
    for (path, profile) in profiles() {
        let Some(st) = first(&profile, |k| k == PortType::FxsStation) else {
            continue;
        };
        let cadence = profile.ring_cadence_ms.clone();
        let mut line = Line::new(profile, st);
        let mut agent = Persona::new(
            "agent",
            vec![
                Step::Wait(2_000),
                Step::Flash,
                Step::Wait(3_000),
                Step::HangUp,
            ],
        );
        agent.answer_after_ms = Some(12_000);
        assert!(line.board.set_agent(st, Arc::new(agent)));
        assert!(
            line.ch.set_hook(Hook::Flash).is_err(),
            "flash while on-hook"
        );
        assert!(line.ch.set_hook(Hook::Wink).is_err(), "wink on a station");
        line.ch.set_hook(Hook::Ring).unwrap();
        let t_ring = line.board.now_ms();
        let answered = line.run_until(LineEvent::RingOffHook, 20_000).unwrap();
        assert_eq!(answered - t_ring, 12_000 + 20, "{}", path.display());
        let on = line.times(LineEvent::RingerOn);
        let want = burst_gaps(&cadence);
        for (k, w) in on.windows(2).enumerate() {
            assert_eq!(
                w[1] - w[0],
                want[k % want.len()],
                "{}: {on:?}",
                path.display()
            );
        }
        let flash = line.run_until(LineEvent::WinkFlash, 5_000).unwrap();
        assert_eq!(flash - answered, 2_000, "{}", path.display());
        let hang = line.run_until(LineEvent::OnHook, 10_000).unwrap();
        assert_eq!(hang - flash, 3_000);
        // What the agent heard while off-hook is what we sent.
        let rec = &line.board.finished_calls()[0];
        assert_eq!(rec.outcome, Outcome::FarEndHungUp);
        assert_eq!(rec.hearing.count(NoteKind::Flash), 1);
    }
}

#[test]
fn e1_channels_are_clean_and_analog_lines_are_not() {
    for (path, profile) in profiles() {
        for (number, kind, params) in profile.ports().take(40) {
            if kind == PortType::FxsStation {
                continue;
            }
            let mut line = Line::new(profile.clone(), number);
            line.run(1_000);
            let p = power(&line.rx);
            if kind == PortType::E1Bchannel {
                assert!(
                    p < 100.0,
                    "{}: E1 ch {number} has noise {p}",
                    path.display()
                );
            } else {
                let want =
                    f64::from(dsp::level::sine_peak_for_dbm0(params.noise_dbm0)).powi(2) / 2.0;
                assert!(
                    p > want * 0.5 && p < want * 2.0 + 100.0,
                    "{}: {p} vs {want}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn stations_receive_the_caller_id_we_send_while_ringing() {
    for (path, profile) in profiles() {
        let Some(st) = first(&profile, |k| k == PortType::FxsStation) else {
            continue;
        };
        let standard = profile.caller_id.standard;
        let zone = profile.zone;
        let mut line = Line::new(profile, st);
        let mut agent = Persona::new("agent", vec![Step::Wait(1_000), Step::HangUp]);
        agent.answer_after_ms = Some(12_000);
        line.board.set_agent(st, Arc::new(agent));
        let cid = tel_types::CallerId {
            number: tel_types::FixedStr::new_truncated("075512345678"),
            name: tel_types::FixedStr::new_truncated("ZHANG"),
            datetime: tel_types::FixedStr::new_truncated("11221230"),
            ..Default::default()
        };
        let mut signal = vec![0i16; 16_000];
        if standard == CallerIdStandard::Dtmf {
            // DTMF caller ID goes before the first ring.
            let keys = dsp::callerid::dtmf_caller_id_keys(&cid, 'D');
            let mut g = dsp::dtmf_gen::DtmfGenerator::new(dsp::dtmf_gen::DtmfGenConfig {
                on_ms: 70,
                off_ms: 70,
                low_dbm0: -9.0,
                high_dbm0: -7.0,
            });
            g.push_str(keys.as_str());
            let n = keys.as_str().len() * 140 * 8;
            g.fill(&mut signal[..n]);
            line.tx.extend(&signal[..n]);
            line.run(n as u64 / 8 + 300);
            line.ch.set_hook(Hook::Ring).unwrap();
        } else {
            // FSK goes in the silence after the first ring.
            let modem = if standard == CallerIdStandard::FskV23 {
                dsp::fsk::FskModem::V23
            } else {
                dsp::fsk::FskModem::Bell202
            };
            let n = dsp::callerid::fsk_caller_id(&cid, modem, true, -13.5, &mut signal);
            line.ch.set_hook(Hook::Ring).unwrap();
            line.run_until(LineEvent::RingerOff, 5_000).unwrap();
            line.run(500);
            line.tx.extend(&signal[..n]);
        }
        line.run_until(LineEvent::OnHook, 20_000).unwrap();
        let rec = &line.board.finished_calls()[0];
        let tl = rec.hearing.timeline();
        let heard = tl.caller_id();
        let heard =
            heard.unwrap_or_else(|| panic!("{}: ({zone}) no caller ID heard", path.display()));
        assert_eq!(heard.number.as_str(), "075512345678", "{}", path.display());
    }
}

#[test]
fn an_agent_lifts_the_handset_and_dials() {
    for (path, profile) in profiles() {
        let Some(st) = first(&profile, |k| k == PortType::FxsStation) else {
            continue;
        };
        let zone = profile.zone;
        let mut line = Line::new(profile, st);
        line.run(100);
        let p = Persona::new(
            "dialler",
            vec![
                Step::Wait(1_500),
                Step::press("8001"),
                Step::Wait(2_000),
                Step::HangUp,
            ],
        );
        let id = line.board.lift_handset(st, Arc::new(p), 4).unwrap();
        let off = line.run_until(LineEvent::RingOffHook, 1_000).unwrap();
        let on = line.run_until(LineEvent::OnHook, 10_000).unwrap();
        let rec = line
            .board
            .finished_calls()
            .iter()
            .find(|c| c.id == id)
            .unwrap();
        assert_eq!(rec.outcome, Outcome::FarEndHungUp);
        let keys: String = common::decode_digits(line.rx_between(off, on), zone.name())
            .iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(keys, "8001", "{}", path.display());
    }
}

#[test]
fn seizing_an_idle_trunk_gives_the_zone_dial_tone() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let zone = dsp::zones::ToneZone::by_code(profile.zone.name()).unwrap();
        let mut line = Line::new(profile, trunk);
        line.run(100);
        line.ch.set_hook(Hook::OffHook).unwrap();
        let t = line.board.now_ms();
        line.run(3_000);
        let mut cpt = dsp::progress::CallProgressDetector::new(zone);
        let mut seen = None;
        for (k, f) in line.rx_between(t, t + 3_000).chunks(160).enumerate() {
            if let Some(e) = cpt.process(f, tel_types::SampleTime(k as u64 * 160)) {
                seen.get_or_insert(e.tone);
            }
        }
        assert_eq!(
            seen,
            Some(dsp::progress::CallProgress::Dial),
            "{}",
            path.display()
        );
        // No call can be offered on a seized trunk; releasing it makes it idle again.
        assert!(
            line.board
                .offer_call(trunk, call(patient(vec![]), "1"))
                .is_none()
        );
        line.ch.set_hook(Hook::OnHook).unwrap();
        line.run(40);
        assert!(
            line.board
                .offer_call(trunk, call(patient(vec![]), "1"))
                .is_some()
        );
    }
}

#[test]
fn a_linear_law_board_moves_320_byte_frames() {
    let profile = simboard::Profile::parse(
        r#"
        [board]
        name = "linear"
        zone = "cn"
        law = "linear"
        [caller_id]
        standard = "fsk-v23"
        [[cards]]
        model = "t"
        ports = [{ kind = "fxo-trunk", count = 1 }]
        "#,
        "linear.toml",
    )
    .unwrap();
    let mut line = Line::new(profile, 1);
    assert_eq!(line.ch.law(), tel_types::Law::Linear);
    let p = patient(vec![
        Step::Wait(300),
        Step::press("47#"),
        Step::Wait(300),
        Step::HangUp,
    ]);
    line.board.offer_call(1, call(p, "13800138000")).unwrap();
    line.run_until(LineEvent::RingOffHook, 2_000).unwrap();
    line.run_until(LineEvent::RingOffHook, 6_000).unwrap();
    line.ch.set_hook(Hook::OffHook).unwrap();
    let t = line.board.now_ms();
    line.run(3_000);
    let keys: String = common::decode_digits(line.rx_between(t, t + 3_000), "cn")
        .iter()
        .map(|d| d.0)
        .collect();
    assert_eq!(keys, "47#");
    let mut buf = [0u8; 160];
    assert!(
        line.ch.read_frame(&mut buf).is_err(),
        "a 160-byte buffer is too small"
    );
}

#[test]
fn our_own_prompt_comes_back_as_echo_at_the_profile_loss_and_delay() {
    for (path, profile) in profiles() {
        let trunk = first(&profile, PortType::is_trunk).unwrap();
        let params = profile.ports().find(|p| p.0 == trunk).unwrap().2;
        let mut line = Line::new(profile, trunk);
        line.board
            .offer_call(trunk, call(patient(vec![Step::Wait(10_000)]), "1"))
            .unwrap();
        line.run_until(LineEvent::RingOffHook, 10_000).unwrap();
        line.ch.set_hook(Hook::OffHook).unwrap();
        line.run(200);
        let t = line.board.now_ms();
        // A 1 kHz tone at -10 dBm0 from our side, starting on a frame boundary.
        let peak = f64::from(dsp::level::sine_peak_for_dbm0(-10.0));
        line.tx.extend((0..8_000).map(|n| {
            (peak * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(n) / 8000.0).sin()) as i16
        }));
        line.run(1_200);
        let x = line.rx_between(t + 100, t + 900);
        let sent = peak * peak / 2.0;
        let back = tone_power(x, 1000.0);
        let loss_db = 10.0 * (sent / back.max(1e-9)).log10();
        if params.echo_return_loss_db > 100.0 {
            assert!(
                loss_db > 60.0,
                "{}: echo on a digital line ({loss_db:.1} dB)",
                path.display()
            );
            continue;
        }
        assert!(
            (loss_db - f64::from(params.echo_return_loss_db)).abs() < 1.0,
            "{}: echo return loss {loss_db:.1} dB, profile {}",
            path.display(),
            params.echo_return_loss_db
        );
        // The echo starts echo_delay_ms after the tone.
        let onset = line
            .rx_between(t, t + 200)
            .iter()
            .position(|&s| {
                f64::from(s.unsigned_abs())
                    > peak * 10f64.powf(-f64::from(params.echo_return_loss_db) / 20.0) * 0.5
            })
            .unwrap() as u64
            / 8;
        assert!(
            onset.abs_diff(u64::from(params.echo_delay_ms)) <= 1,
            "{}: echo after {onset} ms, profile {} ms",
            path.display(),
            params.echo_delay_ms
        );
    }
}

#[test]
fn a_span_alarm_drops_its_calls_and_the_other_cards_keep_working() {
    let (_, profile) = profiles()
        .into_iter()
        .find(|(p, _)| p.ends_with("install-120.toml"))
        .unwrap();
    let mut board = simboard::SimBoard::from_profile(profile);
    let mut span1 = board.take_channel(1).unwrap();
    let mut span2 = board.take_channel(31).unwrap();
    let p = Arc::new(patient(vec![Step::Wait(60_000)]));
    let spec = |seed| simboard::CallSpec {
        persona: p.clone(),
        caller_id: tel_types::CallerId::default(),
        hold_ms: None,
        give_up_ms: None,
        seed,
    };
    board.offer_call(1, spec(1)).unwrap();
    board.offer_call(31, spec(2)).unwrap();
    board.advance_ms(1_100);
    span1.set_hook(Hook::OffHook).unwrap();
    span2.set_hook(Hook::OffHook).unwrap();
    board.advance_ms(1_000);
    let drain = |ch: &mut simboard::SimChannel| {
        let mut ev = Vec::new();
        while let Some(e) = ch.next_event().unwrap() {
            ev.push(e);
        }
        ev
    };
    drain(&mut span1);
    drain(&mut span2);
    // Span 1 (card 0) goes down.
    assert_eq!(board.set_card_alarm(0, true), 30);
    board.advance_ms(100);
    assert_eq!(drain(&mut span1), vec![LineEvent::Alarm]);
    assert_eq!(drain(&mut span2), vec![]);
    let rec = board
        .finished_calls()
        .iter()
        .find(|c| c.channel == 1)
        .unwrap();
    assert_eq!(rec.outcome, Outcome::LineDown);
    assert!(board.active_call(31).is_some(), "span 2's call goes on");
    // New calls land on span 2 and beyond, never on the dead span.
    for seed in 10..40 {
        if let Some(id) = board.offer_call_any(spec(seed)) {
            let c = board.active_call_by_id(id).expect("offered call is active");
            assert!(c.channel > 30, "call offered on dead channel {}", c.channel);
        }
    }
    assert!(board.offer_call(2, spec(99)).is_none());
    // The span comes back.
    assert_eq!(board.set_card_alarm(0, false), 30);
    board.advance_ms(20);
    assert_eq!(drain(&mut span1), vec![LineEvent::NoAlarm]);
}
