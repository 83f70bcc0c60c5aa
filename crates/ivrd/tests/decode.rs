//! `ivrd decode`: batch output format, errors that name the file, and the batch going on.

use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use dsp::wav::{Encoding, write_header};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ivrd-decode-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn keys_audio(keys: &str, hold_ms: u32) -> Vec<i16> {
    let mut g = DtmfGenerator::new(DtmfGenConfig {
        on_ms: hold_ms,
        off_ms: 80,
        ..DtmfGenConfig::default()
    });
    g.push_str(keys);
    let mut a = vec![0i16; 2000];
    let mut body = vec![0i16; 8 * (hold_ms as usize + 80) * keys.len() + 4000];
    g.fill(&mut body);
    a.extend(body);
    a
}

fn write_wav(path: &PathBuf, enc: Encoding, samples: &[i16]) {
    let data: Vec<u8> = match enc {
        Encoding::Linear16 => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        Encoding::ALaw => samples.iter().map(|&s| dsp::g711::alaw_encode(s)).collect(),
        Encoding::MuLaw => samples.iter().map(|&s| dsp::g711::ulaw_encode(s)).collect(),
    };
    let mut h = [0u8; 46];
    let n = write_header(enc, data.len() as u32, &mut h);
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(&h[..n]).unwrap();
    f.write_all(&data).unwrap();
}

fn ivrd(args: &[&str], stdin: &str) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivrd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn batch_prints_path_tab_digits_and_goes_on_after_bad_files() {
    let d = dir("batch");
    let linear = d.join("linear.wav");
    write_wav(&linear, Encoding::Linear16, &keys_audio("123#", 80));
    let alaw = d.join("alaw.wav");
    // A key held for a second counts once.
    write_wav(&alaw, Encoding::ALaw, &keys_audio("*0", 1000));
    let ulaw = d.join("ulaw.wav");
    write_wav(&ulaw, Encoding::MuLaw, &keys_audio("ABCD9", 60));
    let quiet = d.join("quiet.wav");
    write_wav(&quiet, Encoding::ALaw, &[0i16; 8000]);
    let wide = d.join("wide.wav");
    let mut h = [0u8; 46];
    let n = write_header(Encoding::Linear16, 4, &mut h);
    h[24..28].copy_from_slice(&16000u32.to_le_bytes());
    std::fs::write(&wide, [&h[..n], &[0, 0, 0, 0][..]].concat()).unwrap();
    let text = d.join("notes.wav");
    std::fs::write(&text, "this is not audio").unwrap();
    let missing = d.join("missing.wav");

    let input = [&linear, &wide, &alaw, &text, &missing, &ulaw, &quiet]
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let (out, err, code) = ivrd(&["decode", "-b"], &input);
    let want = format!(
        "{}\t123#\n{}\t*0\n{}\tABCD9\n{}\t\n",
        linear.display(),
        alaw.display(),
        ulaw.display(),
        quiet.display()
    );
    assert_eq!(out, want);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].contains(&*wide.display().to_string()) && lines[0].contains("16000 Hz"),
        "{err}"
    );
    assert!(
        lines[1].contains(&*text.display().to_string()) && lines[1].contains("not a RIFF/WAVE"),
        "{err}"
    );
    assert!(
        lines[2].contains(&*missing.display().to_string()) && lines[2].contains("cannot read"),
        "{err}"
    );
    assert_eq!(code, 1);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn report_lists_digits_caller_id_and_tones_with_times() {
    let d = dir("report");
    // DTMF caller ID, then China's busy tone.
    let mut a = keys_audio("A13800138000C", 70);
    let cn = dsp::zones::ToneZone::by_code("cn").unwrap();
    let mut busy = dsp::tone::ToneGenerator::new(cn.busy, -20.0);
    let mut b = vec![0i16; 8000 * 3];
    busy.fill(&mut b);
    a.extend(b);
    let f = d.join("call.wav");
    write_wav(&f, Encoding::ALaw, &a);
    let (out, err, code) = ivrd(&["decode", f.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("A-law"), "{out}");
    assert!(out.contains("DTMF A"), "{out}");
    assert!(
        out.contains("CALLER ID (DTMF)  number 13800138000"),
        "{out}"
    );
    assert!(out.contains("TONE busy tone"), "{out}");
    assert!(out.contains("digits: A13800138000C"), "{out}");
    // Timestamps: the first key starts 250 ms in.
    assert!(out.contains("    0.250s  DTMF A"), "{out}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn report_shows_fsk_caller_id_from_a_mu_law_file() {
    let d = dir("fsk");
    let cid = tel_types::CallerId {
        number: tel_types::FixedStr::new_truncated("02087654321"),
        name: tel_types::FixedStr::new_truncated("CHEN"),
        datetime: tel_types::FixedStr::new_truncated("11221005"),
        presentation: tel_types::CallerIdPresentation::Available,
    };
    let mut tx = dsp::callerid::CallerIdSender::new(&cid, dsp::fsk::FskModem::V23, true, -13.0);
    let mut a = vec![0i16; 4000];
    let mut burst = vec![0i16; 12000];
    tx.fill(&mut burst);
    a.extend(burst);
    let f = d.join("cid.wav");
    write_wav(&f, Encoding::MuLaw, &a);
    let (out, err, code) = ivrd(&["decode", f.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("µ-law"), "{out}");
    assert!(
        out.contains("CALLER ID (FSK MDMF)  number 02087654321, name \"CHEN\", date/time 11221005"),
        "{out}"
    );
    std::fs::remove_dir_all(&d).ok();
}
