//! Board profiles: every shipped profile loads and has what the issue asks for; bad fields are
//! refused with file, line, column and, for named values, the allowed ones.

mod common;

use simboard::{CallerIdStandard, PortType, Profile, ProfileErrorKind};
use tel_types::Law;

#[test]
fn shipped_profiles_cover_the_required_boards() {
    let all = common::profiles();
    let find = |name: &str| {
        all.iter()
            .find(|(p, _)| p.file_name().unwrap() == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .1
            .clone()
    };
    let a16 = find("analog-8fxo-8fxs.toml");
    assert_eq!(a16.count(PortType::FxoTrunk), 8);
    assert_eq!(a16.count(PortType::FxsStation), 8);
    assert_eq!(a16.law, Law::ALaw);
    assert_eq!(a16.caller_id.standard, CallerIdStandard::FskBell202);
    let a4 = find("analog-4port.toml");
    assert_eq!(a4.ports().count(), 4);
    assert_eq!(a4.caller_id.standard, CallerIdStandard::Dtmf);
    let e1 = find("e1-30ch.toml");
    assert_eq!(e1.count(PortType::E1Bchannel), 30);
    assert!(
        e1.ports()
            .all(|p| p.2.noise_dbm0 < -150.0 && p.2.gain_db == 0.0)
    );
    let big = find("install-120.toml");
    assert_eq!(big.ports().count(), 120);
    assert!(big.cards.len() >= 3);
    let numbers: Vec<u16> = big.ports().map(|p| p.0).collect();
    assert_eq!(numbers, (1..=120).collect::<Vec<u16>>());
}

fn bad(original: &str, from: &str, to: &str) -> simboard::ProfileError {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware-stubs")
        .join(original);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {original}");
    let text = text.replacen(from, to, 1);
    Profile::parse(&text, &path).unwrap_err()
}

fn line_of(original: &str, needle: &str) -> u32 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware-stubs")
        .join(original);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1
}

#[test]
fn a_bad_enum_value_names_file_line_and_allowed_values() {
    let f = "analog-8fxo-8fxs.toml";
    let e = bad(f, "law = \"alaw\"", "law = \"pcma\"");
    assert_eq!(e.line, line_of(f, "law = \"alaw\""));
    let msg = e.to_string();
    assert!(msg.contains("analog-8fxo-8fxs.toml:"), "{msg}");
    for allowed in ["alaw", "ulaw", "linear"] {
        assert!(msg.contains(allowed), "{msg}");
    }
    let e = bad(f, "kind = \"fxs-station\"", "kind = \"fxs\"");
    assert_eq!(e.line, line_of(f, "kind = \"fxs-station\""));
    let msg = e.to_string();
    assert!(
        msg.contains("fxo-trunk") && msg.contains("e1-bchannel"),
        "{msg}"
    );
    let e = bad(f, "standard = \"fsk-bell202\"", "standard = \"fsk\"");
    assert!(
        e.to_string().contains("fsk-v23") && e.to_string().contains("dtmf"),
        "{e}"
    );
    let e = bad("e1-30ch.toml", "zone = \"cn\"", "zone = \"china\"");
    assert_eq!(e.line, line_of("e1-30ch.toml", "zone = \"cn\""));
    assert!(e.to_string().contains("`sg`"), "{e}");
}

#[test]
fn numbers_out_of_range_and_unknown_fields_are_located() {
    let f = "analog-4port.toml";
    let e = bad(f, "noise_dbm0 = -55.0", "noise_dbm0 = 5.0");
    assert_eq!((e.line, e.column), (line_of(f, "noise_dbm0"), 14));
    assert!(
        matches!(
            e.kind,
            ProfileErrorKind::OutOfRange {
                field: "noise_dbm0",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("allowed -200 to -20"), "{e}");
    let e = bad(f, "echo_delay_ms = 4", "echo_delay_ms = 400");
    assert_eq!(e.line, line_of(f, "echo_delay_ms"));
    let e = bad(f, "gain_db = -6.0", "gian_db = -6.0");
    assert_eq!(e.line, line_of(f, "gain_db"));
    assert!(e.to_string().contains("gian_db"), "{e}");
    let e = bad(f, "delay_ms = 500", "delay_ms = \"soon\"");
    assert_eq!(e.line, line_of(f, "delay_ms"));
}

#[test]
fn unusable_cadences_are_refused() {
    let f = "e1-30ch.toml";
    let e = bad(
        f,
        "[caller_id]",
        "[ring]\ncadence_ms = [1000, 4010]\n\n[caller_id]",
    );
    assert_eq!(e.line, line_of(f, "[caller_id]") + 1);
    assert!(e.to_string().contains("multiple of 20"), "{e}");
    let e = bad(
        f,
        "[caller_id]",
        "[ring]\ncadence_ms = [1000, 1000]\n\n[caller_id]",
    );
    assert!(e.to_string().contains("too short for caller ID"), "{e}");
    let e = bad(
        f,
        "[caller_id]",
        "[ring]\ncadence_ms = [1000]\n\n[caller_id]",
    );
    assert!(e.to_string().contains("on/off pairs"), "{e}");
    let missing = Profile::load("/nonexistent/board.toml").unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/board.toml: cannot read")
    );
}

#[test]
fn shipped_load_profiles_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-stubs/load");
    let speech = simboard::Speech::recorded_english().unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let l = simboard::LoadProfile::load(&path, Some(&speech)).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.calls_per_hour > 0.0 && !l.mix.is_empty());
        assert!(l.mix.iter().any(|(p, _)| p.speech.is_some()));
        n += 1;
    }
    assert!(n >= 1);
}
