//! DTMF and tone generators: frequencies, levels and cadences as specified.

use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use dsp::level::power_to_dbm0;
use dsp::tone::ToneGenerator;
use dsp::zones::ToneZone;
use tel_types::{Digit, Tone};

/// Level in dBm0 of the component of `x` at `hz` (single-bin DFT).
fn component_dbm0(x: &[i16], hz: f64) -> f32 {
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, &s) in x.iter().enumerate() {
        let w = 2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0;
        re += s as f64 * w.cos();
        im += s as f64 * w.sin();
    }
    let amp = 2.0 * (re * re + im * im).sqrt() / x.len() as f64;
    power_to_dbm0((amp * amp / 2.0) as f32)
}

#[test]
fn every_digit_has_its_q23_frequencies_at_the_configured_levels() {
    let cfg = DtmfGenConfig::default();
    for d in Digit::ALL {
        let mut g = DtmfGenerator::new(cfg);
        assert!(g.push(d));
        let mut buf = vec![0i16; 1600];
        assert_eq!(g.fill(&mut buf), 1600);
        let on = &buf[..800];
        let (lo, hi) = d.frequencies_hz();
        assert!(
            (component_dbm0(on, lo as f64) - cfg.low_dbm0).abs() < 0.2,
            "{d}"
        );
        assert!(
            (component_dbm0(on, hi as f64) - cfg.high_dbm0).abs() < 0.2,
            "{d}"
        );
        // The tone lasts exactly on_ms, then silence.
        assert!(on[790..].iter().any(|&s| s != 0));
        assert!(buf[800..].iter().all(|&s| s == 0));
        assert!(g.is_idle());
    }
}

#[test]
fn keys_queue_in_order_with_exact_timing() {
    let mut g = DtmfGenerator::new(DtmfGenConfig {
        on_ms: 50,
        off_ms: 30,
        ..DtmfGenConfig::default()
    });
    assert_eq!(g.push_str("1x2"), 2);
    let mut buf = vec![1i16; 2000];
    assert_eq!(g.fill(&mut buf), 2 * 640);
    assert!(buf[400..640].iter().all(|&s| s == 0));
    assert!(buf[640..650].iter().any(|&s| s != 0));
    assert!(buf[1280..].iter().all(|&s| s == 0));
}

#[test]
fn all_required_zones_have_every_tone() {
    for code in [
        "cn", "us", "gb", "de", "fr", "jp", "au", "in", "ru", "hk", "tw", "sg",
    ] {
        let z = ToneZone::by_code(code).unwrap_or_else(|| panic!("zone {code}"));
        for t in [
            Tone::Dial,
            Tone::Busy,
            Tone::Ringback,
            Tone::Congestion,
            Tone::CallWaiting,
            Tone::SpecialInfo,
        ] {
            let spec = z.tone(t).unwrap();
            assert!(!spec.segments.is_empty());
            let mut g = ToneGenerator::new(spec, -10.0);
            let mut buf = vec![0i16; 8000];
            g.fill(&mut buf);
            assert!(buf.iter().any(|&s| s != 0), "{code} {t:?} is silent");
        }
    }
    assert_eq!(ToneZone::default_zone().code, "cn");
    assert_eq!(ToneZone::by_code("UK").unwrap().code, "gb");
}

#[test]
fn china_busy_tone_is_450hz_350_on_350_off() {
    let z = ToneZone::by_code("cn").unwrap();
    let mut g = ToneGenerator::new(z.busy, -10.0);
    let mut buf = vec![0i16; 5600];
    assert_eq!(g.fill(&mut buf), 5600);
    assert!((component_dbm0(&buf[..2800], 450.0) - -10.0).abs() < 0.2);
    assert!(buf[2800..5600].iter().all(|&s| s == 0));
    assert!(buf[2790..2800].iter().any(|&s| s != 0));
    // The cadence repeats.
    let mut next = vec![0i16; 2800];
    g.fill(&mut next);
    assert!((component_dbm0(&next, 450.0) - -10.0).abs() < 0.2);
}

#[test]
fn a_once_tone_ends_and_reports_it() {
    let mut g = ToneGenerator::new(dsp::zones::BEEP, -10.0);
    let mut buf = vec![7i16; 8000];
    assert_eq!(g.fill(&mut buf), 4000);
    assert!(g.is_done());
    assert!(buf[4000..].iter().all(|&s| s == 7));
}
