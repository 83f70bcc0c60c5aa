//! Caller ID: FSK (Bell 202 and V.23, SDMF and MDMF) from -40 to 0 dBm0 at 20 dB SNR and
//! through A-law; DTMF caller ID in its A…C, D…C and absence forms; senders and receivers
//! agree.

mod common;

use common::*;
use dsp::callerid::*;
use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use dsp::dtmf_rx::DtmfConfig;
use dsp::fsk::FskModem;
use dsp::level::dbm0_to_power;
use tel_types::{CallerId, CallerIdPresentation, FixedStr, Law, SampleTime};

fn cid(number: &str, name: &str, dt: &str, p: CallerIdPresentation) -> CallerId {
    CallerId {
        number: FixedStr::new_truncated(number),
        name: FixedStr::new_truncated(name),
        datetime: FixedStr::new_truncated(dt),
        presentation: p,
    }
}

fn receive(modem: FskModem, pcm: &[i16]) -> Vec<CallerIdEvent> {
    let mut rx = CallerIdReceiver::new(modem);
    let mut out = Vec::new();
    let mut t = SampleTime(5000);
    for f in pcm.chunks(160) {
        if let Some(e) = rx.process(f, t) {
            out.push(e);
        }
        t += f.len() as u64;
    }
    out
}

#[test]
fn messages_round_trip_and_checksums_are_checked() {
    let cases = [
        cid(
            "13800138000",
            "",
            "03121530",
            CallerIdPresentation::Available,
        ),
        cid("", "", "12312359", CallerIdPresentation::Private),
        cid("", "", "01010000", CallerIdPresentation::Unavailable),
    ];
    for c in cases {
        let mut m = [0u8; 128];
        let n = encode_sdmf(&c, &mut m);
        assert_eq!(m[0], SDMF);
        assert_eq!(parse_message(&m[..n]).unwrap(), c);
        let n = encode_mdmf(&c, &mut m);
        assert_eq!(parse_message(&m[..n]).unwrap(), c);
        m[3] ^= 1;
        assert!(matches!(
            parse_message(&m[..n]),
            Err(CidError::BadChecksum(_))
        ));
    }
    let named = cid(
        "02512345678",
        "ZHANG SAN",
        "11220930",
        CallerIdPresentation::Available,
    );
    let mut m = [0u8; 128];
    let n = encode_mdmf(&named, &mut m);
    assert_eq!(parse_message(&m[..n]).unwrap(), named);
    assert!(matches!(
        parse_message(&m[..n - 1]),
        Err(CidError::BadLength { .. })
    ));
    assert_eq!(
        parse_message(&[0x07, 0, 0xF9]),
        Err(CidError::UnknownType(7))
    );
}

#[test]
fn fsk_from_minus_40_to_0_dbm0_at_20db_snr_through_alaw() {
    let mut rng = Rng(0xC1D);
    let c = cid(
        "13912345678",
        "LI SI",
        "06151200",
        CallerIdPresentation::Available,
    );
    for modem in [FskModem::Bell202, FskModem::V23] {
        for mdmf in [false, true] {
            for dbm0 in [-40.0f32, -30.0, -20.0, -10.0, 0.0] {
                for law in [Law::ALaw, Law::MuLaw, Law::Linear] {
                    let mut audio = vec![0i16; 16000];
                    let n = fsk_caller_id(&c, modem, mdmf, dbm0, &mut audio);
                    let mut sig = silence(2000);
                    sig.extend(audio[..n].iter().map(|&s| s as f64));
                    sig.extend(silence(2000));
                    // 20 dB SNR: noise power 20 dB below the FSK signal's.
                    let noise_dbm0 = dsp::level::power_to_dbm0(dbm0_to_power(dbm0)) - 20.0;
                    let nz = noise(&mut rng, sig.len(), noise_dbm0);
                    mix_at(&mut sig, &nz, 0);
                    let got = receive(modem, &to_pcm(&sig, law));
                    let want = if mdmf {
                        c
                    } else {
                        CallerId {
                            name: FixedStr::default(),
                            ..c
                        }
                    };
                    assert_eq!(got.len(), 1, "{modem:?} mdmf {mdmf} {dbm0} {law:?}");
                    assert_eq!(got[0].caller_id, want);
                }
            }
        }
    }
}

#[test]
fn fsk_private_and_unavailable() {
    for p in [
        CallerIdPresentation::Private,
        CallerIdPresentation::Unavailable,
    ] {
        let c = cid("", "", "01020304", p);
        for mdmf in [false, true] {
            let mut audio = vec![0i16; 16000];
            let n = fsk_caller_id(&c, FskModem::V23, mdmf, -13.0, &mut audio);
            let got = receive(
                FskModem::V23,
                &to_pcm(
                    &audio[..n].iter().map(|&s| s as f64).collect::<Vec<_>>(),
                    Law::ALaw,
                ),
            );
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].caller_id.presentation, p);
            assert!(got[0].caller_id.number.is_empty());
        }
    }
}

#[test]
fn speech_gives_nothing_and_the_modems_interwork() {
    // Bell 202 and V.23 tones are 100 Hz apart: each receiver also reads the other, as
    // lines in China carry both.
    let c = cid(
        "13912345678",
        "",
        "06151200",
        CallerIdPresentation::Available,
    );
    let mut audio = vec![0i16; 16000];
    let n = fsk_caller_id(&c, FskModem::Bell202, true, -13.0, &mut audio);
    assert_eq!(receive(FskModem::V23, &audio[..n])[0].caller_id, c);
    for name in SPEECH {
        let s = read_wav(name);
        assert!(receive(FskModem::V23, &s).is_empty());
        assert!(receive(FskModem::Bell202, &s).is_empty());
    }
}

fn dtmf_cid_through_receiver(keys: &str, law: Law) -> Option<CallerId> {
    let mut g = DtmfGenerator::new(DtmfGenConfig {
        on_ms: 70,
        off_ms: 70,
        ..DtmfGenConfig::default()
    });
    g.push_str(keys);
    let mut audio = vec![0i16; 8000 * 4];
    g.fill(&mut audio);
    let pcm = to_pcm(&audio.iter().map(|&s| s as f64).collect::<Vec<_>>(), law);
    let heard = keys_of(&pcm);
    parse_dtmf_caller_id(&heard)
}

fn keys_of(pcm: &[i16]) -> String {
    keys(DtmfConfig::default(), pcm)
}

#[test]
fn dtmf_caller_id_forms() {
    let n = |s: &str| Some(cid(s, "", "", CallerIdPresentation::Available));
    assert_eq!(parse_dtmf_caller_id("A13800138000C"), n("13800138000"));
    assert_eq!(parse_dtmf_caller_id("D02512345678C"), n("02512345678"));
    assert_eq!(parse_dtmf_caller_id("A4567#"), n("4567"));
    let p = |x| Some(cid("", "", "", x));
    assert_eq!(
        parse_dtmf_caller_id("B00C"),
        p(CallerIdPresentation::Private)
    );
    assert_eq!(
        parse_dtmf_caller_id("B10C"),
        p(CallerIdPresentation::Unavailable)
    );
    assert_eq!(
        parse_dtmf_caller_id("D1#"),
        p(CallerIdPresentation::Private)
    );
    assert_eq!(
        parse_dtmf_caller_id("D3#"),
        p(CallerIdPresentation::Unavailable)
    );
    assert_eq!(parse_dtmf_caller_id("123C"), None);
    assert_eq!(parse_dtmf_caller_id("AC"), None);
    // Over the air through the DTMF generator, the line codec and the receiver.
    for law in [Law::ALaw, Law::Linear] {
        let c = cid("13800138000", "", "", CallerIdPresentation::Available);
        for start in ['A', 'D'] {
            let keys = dtmf_caller_id_keys(&c, start);
            assert_eq!(dtmf_cid_through_receiver(keys.as_str(), law), Some(c));
        }
        let private = cid("", "", "", CallerIdPresentation::Private);
        let keys = dtmf_caller_id_keys(&private, 'A');
        assert_eq!(keys.as_str(), "B00C");
        assert_eq!(dtmf_cid_through_receiver(keys.as_str(), law), Some(private));
    }
}

#[test]
fn fsk_at_the_limits_many_times() {
    // -40 dBm0 at 20 dB SNR through A-law, 30 different messages per modem: all decoded.
    let mut rng = Rng(0x40DB);
    for modem in [FskModem::Bell202, FskModem::V23] {
        for k in 0..30 {
            let number: String = (0..11)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let c = cid(&number, "", "12251200", CallerIdPresentation::Available);
            let mut audio = vec![0i16; 16000];
            let n = fsk_caller_id(&c, modem, k % 2 == 0, -40.0, &mut audio);
            let mut sig = silence(800 + rng.below(800));
            sig.extend(audio[..n].iter().map(|&s| s as f64));
            sig.extend(silence(800));
            let nz = noise(&mut rng, sig.len(), -60.0);
            mix_at(&mut sig, &nz, 0);
            let got = receive(modem, &to_pcm(&sig, Law::ALaw));
            assert_eq!(got.len(), 1, "{modem:?} #{k}");
            assert_eq!(got[0].caller_id.number.as_str(), number);
        }
    }
}
