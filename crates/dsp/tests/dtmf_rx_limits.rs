//! The DTMF receiver against the ITU-T Q.24 limits, with signals generated on both sides of
//! every limit, in virtual time.

mod common;

use common::*;
use dsp::dtmf_rx::DtmfConfig;
use tel_types::{Digit, Law};

const LAWS: [Law; 3] = [Law::Linear, Law::ALaw, Law::MuLaw];

/// 60 ms of silence, the burst, 60 ms of silence.
fn framed(b: &[f64]) -> Vec<f64> {
    let mut v = silence(480);
    v.extend_from_slice(b);
    v.extend(silence(480));
    v
}

fn detects(b: &[f64], law: Law) -> String {
    keys(DtmfConfig::default(), &to_pcm(&framed(b), law))
}

#[test]
fn all_sixteen_digits_nominal() {
    for law in LAWS {
        for d in Digit::ALL {
            let (downs, ups) = run_rx(
                DtmfConfig::default(),
                &to_pcm(&framed(&key(d, -10.0, -8.0, 60)), law),
            );
            assert_eq!(downs.len(), 1, "{d} {law:?}");
            assert_eq!(ups.len(), 1, "{d} {law:?}");
            assert_eq!(downs[0].digit, d);
            assert_eq!(ups[0].digit, d);
        }
    }
}

#[test]
fn frequency_offsets_within_1_5_percent_are_accepted() {
    for d in Digit::ALL {
        let (lo, hi) = d.frequencies_hz();
        for (sl, sh) in [
            (1.0, 0.0),
            (-1.0, 0.0),
            (0.0, 1.0),
            (0.0, -1.0),
            (1.0, 1.0),
            (-1.0, -1.0),
            (1.0, -1.0),
            (-1.0, 1.0),
        ] {
            let b = burst(
                lo as f64 * (1.0 + 0.015 * sl),
                hi as f64 * (1.0 + 0.015 * sh),
                -10.0,
                -10.0,
                400,
            );
            assert_eq!(detects(&b, Law::ALaw), d.to_string(), "{d} {sl} {sh}");
        }
    }
}

#[test]
fn frequency_offsets_beyond_3_5_percent_are_rejected() {
    for d in Digit::ALL {
        let (lo, hi) = d.frequencies_hz();
        for (sl, sh) in [
            (1.0, 0.0),
            (-1.0, 0.0),
            (0.0, 1.0),
            (0.0, -1.0),
            (1.0, 1.0),
            (-1.0, -1.0),
            (1.0, -1.0),
            (-1.0, 1.0),
        ] {
            let b = burst(
                lo as f64 * (1.0 + 0.035 * sl),
                hi as f64 * (1.0 + 0.035 * sh),
                -10.0,
                -10.0,
                800,
            );
            assert_eq!(detects(&b, Law::ALaw), "", "{d} {sl} {sh}");
        }
    }
}

#[test]
fn twist_limits_low_louder_8db_high_louder_4db() {
    for d in Digit::ALL {
        // Accepted: 8 dB with the low group louder, 4 dB with the high group louder.
        assert_eq!(detects(&key(d, -10.0, -18.0, 50), Law::ALaw), d.to_string());
        assert_eq!(detects(&key(d, -14.0, -10.0, 50), Law::ALaw), d.to_string());
        // Rejected: 2 dB beyond each limit.
        assert_eq!(detects(&key(d, -10.0, -20.0, 50), Law::ALaw), "", "{d}");
        assert_eq!(detects(&key(d, -16.0, -10.0, 50), Law::ALaw), "", "{d}");
    }
}

#[test]
fn twist_presets_are_configurable() {
    let b = to_pcm(&framed(&key(Digit::D5, -10.0, -17.0, 60)), Law::ALaw);
    assert_eq!(keys(DtmfConfig::q24(), &b), "5");
    assert_eq!(keys(DtmfConfig::ntt(), &b), "");
    assert_eq!(DtmfConfig::for_country("jp"), DtmfConfig::ntt());
    assert_eq!(DtmfConfig::for_country("cn"), DtmfConfig::q24());
}

#[test]
fn sensitivity_minus_40_dbm0_per_tone_through_every_law() {
    for law in LAWS {
        for d in Digit::ALL {
            assert_eq!(
                detects(&key(d, -40.0, -40.0, 50), law),
                d.to_string(),
                "{d} {law:?}"
            );
        }
    }
    // Well below the floor nothing is reported.
    for d in Digit::ALL {
        assert_eq!(detects(&key(d, -52.0, -52.0, 100), Law::ALaw), "");
    }
}

#[test]
fn loud_tones_up_to_0_dbm0() {
    for law in LAWS {
        for d in Digit::ALL {
            assert_eq!(detects(&key(d, -3.0, -3.0, 50), law), d.to_string());
        }
    }
}

#[test]
fn tones_of_40ms_accepted_20ms_rejected_at_every_alignment() {
    for d in [Digit::D1, Digit::D0, Digit::Hash, Digit::D] {
        for shift in 0..20 {
            let lead = silence(480 + shift * 2);
            for law in [Law::Linear, Law::ALaw] {
                let mut long = lead.clone();
                long.extend(key(d, -20.0, -18.0, 40));
                long.extend(silence(480));
                assert_eq!(
                    keys(DtmfConfig::default(), &to_pcm(&long, law)),
                    d.to_string()
                );
                let mut short = lead.clone();
                short.extend(key(d, -20.0, -18.0, 20));
                short.extend(silence(480));
                assert_eq!(keys(DtmfConfig::default(), &to_pcm(&short, law)), "");
            }
        }
    }
}

#[test]
fn a_40ms_pause_separates_two_presses_of_the_same_key() {
    for d in [Digit::D5, Digit::Star, Digit::D9] {
        for shift in 0..20 {
            let mut v = silence(400 + shift * 2);
            v.extend(key(d, -15.0, -13.0, 40));
            v.extend(silence(320));
            v.extend(key(d, -15.0, -13.0, 40));
            v.extend(silence(480));
            let want: String = [d.as_char(), d.as_char()].iter().collect();
            assert_eq!(keys(DtmfConfig::default(), &to_pcm(&v, Law::ALaw)), want);
        }
    }
}

#[test]
fn a_10ms_dropout_inside_a_tone_is_not_a_new_digit() {
    for d in [Digit::D2, Digit::Hash, Digit::C] {
        for shift in 0..20 {
            let mut v = silence(400 + shift * 2);
            v.extend(key(d, -15.0, -13.0, 50));
            v.extend(silence(80));
            v.extend(key(d, -15.0, -13.0, 50));
            v.extend(silence(480));
            assert_eq!(
                keys(DtmfConfig::default(), &to_pcm(&v, Law::ALaw)),
                d.to_string(),
                "{d} shift {shift}"
            );
        }
    }
}

#[test]
fn reports_start_end_levels_twist_and_snr() {
    let mut rng = Rng(7);
    let mut v = silence(1000);
    v.extend(key(Digit::D8, -12.0, -9.0, 80));
    v.extend(silence(1000));
    let n = noise(&mut rng, v.len(), -35.0);
    mix_at(&mut v, &n, 0);
    let (downs, ups) = run_rx(DtmfConfig::default(), &to_pcm(&v, Law::Linear));
    assert_eq!(downs.len(), 1);
    assert_eq!(ups.len(), 1);
    let t0 = 1_000_000u64;
    let up = ups[0];
    // Start and end within 1 ms of the truth.
    assert!(
        (up.start.0 as i64 - (t0 + 1000) as i64).abs() <= 8,
        "{up:?}"
    );
    assert!((up.end.0 as i64 - (t0 + 1640) as i64).abs() <= 8, "{up:?}");
    assert_eq!(downs[0].start, up.start);
    // Accepted within 45 ms of the start.
    assert!(downs[0].end.0 - downs[0].start.0 <= 360, "{:?}", downs[0]);
    assert!((up.low_dbm0 - -12.0).abs() < 0.5, "{up:?}");
    assert!((up.high_dbm0 - -9.0).abs() < 0.5, "{up:?}");
    assert!((up.twist_db() - 3.0).abs() < 0.5);
    // Tones at -7.2 dBm0 total over noise at -35 dBm0: SNR 27.8 dB.
    assert!((up.snr_db - 27.8).abs() < 2.0, "{up:?}");
}

/// SNR as total DTMF power over total noise power in the 0–4 kHz band.
fn noisy_run(
    rng: &mut Rng,
    snr_db: f32,
    digits: usize,
    twist: (f32, f32),
    law: Law,
) -> (String, String) {
    let mut v = silence(800);
    let mut want = String::new();
    for _ in 0..digits {
        let d = Digit::ALL[rng.below(16)];
        want.push(d.as_char());
        v.extend(key(d, -20.0 + twist.0, -20.0 + twist.1, 50));
        v.extend(silence(400));
    }
    let tone_p =
        dsp::level::dbm0_to_power(-20.0 + twist.0) + dsp::level::dbm0_to_power(-20.0 + twist.1);
    let noise_dbm0 = dsp::level::power_to_dbm0(tone_p) - snr_db;
    let n = noise(rng, v.len(), noise_dbm0);
    mix_at(&mut v, &n, 0);
    (keys(DtmfConfig::default(), &to_pcm(&v, law)), want)
}

#[test]
fn full_detection_in_white_noise_at_10db_snr() {
    let mut rng = Rng(0x5eed);
    for law in [Law::Linear, Law::ALaw] {
        let (got, want) = noisy_run(&mut rng, 10.0, 300, (0.0, 0.0), law);
        assert_eq!(got, want, "{law:?}");
        let (got, want) = noisy_run(&mut rng, 10.0, 100, (0.0, 2.0), law);
        assert_eq!(got, want, "{law:?}");
    }
}

#[test]
fn full_detection_at_10db_snr_with_twist_at_both_limits() {
    let mut rng = Rng(0x7157);
    for twist in [(0.0, -8.0), (-4.0, 0.0)] {
        let (got, want) = noisy_run(&mut rng, 10.0, 150, twist, Law::ALaw);
        assert_eq!(got, want, "twist {twist:?}");
    }
}
