//! The designers' tools as a designer runs them: exit codes and what they print.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ivrd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivrd"))
        .args(args)
        .output()
        .expect("run ivrd")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ivr-scripts")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ivrd-tools-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn check_reports_a_broken_script_at_file_line_col_and_exits_1() {
    let d = tmp("check");
    let f = d.join("broken.ivr");
    std::fs::write(
        &f,
        "flow main\n  answer\n  menu m\n    greeting \"hi\"\n    key 1: goto nowhere\n  end\nend\n",
    )
    .unwrap();
    let o = ivrd(&["check", f.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!(
            "{}:5:12: error: `goto nowhere`: no label `nowhere:` in flow `main`",
            f.display()
        )),
        "{t}"
    );
    assert!(t.contains("REFUSED"), "{t}");
}

#[test]
fn check_passes_the_bundled_scripts_with_their_prompts() {
    let o = ivrd(&["check", "--deny-warnings", scripts().to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("shop-hotline.ivr: ok, 0 error(s), 0 warning(s)"),
        "{t}"
    );
}

#[test]
fn check_lists_missing_prompt_files_per_language() {
    let d = tmp("prompts");
    std::fs::create_dir_all(d.join("prompts/zh-CN")).unwrap();
    let f = d.join("p.ivr");
    std::fs::write(
        &f,
        "languages zh-CN, en\nflow main\n  play \"hello\"\n  hangup\nend\n",
    )
    .unwrap();
    let o = ivrd(&["check", f.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(":3:8: error: prompt \"hello\" has no zh-CN file"),
        "{t}"
    );
    assert!(t.contains("prompt \"hello\" has no en file"), "{t}");
}

#[test]
fn simulate_prints_the_transcript() {
    let s = scripts().join("order-status.ivr");
    let o = ivrd(&[
        "simulate",
        s.to_str().unwrap(),
        "--keys",
        "1 20261122001# 9",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("-> hook find_order(\"20261122001\")"), "{t}");
    assert!(t.contains("say money 128.50: 一百二十八元五角"), "{t}");
    assert!(
        t.contains("== call ended: Hangup, result \"order-status-said\""),
        "{t}"
    );
    let o = ivrd(&["simulate", s.to_str().unwrap(), "--keys", "1 oops"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_runs_the_cases_reports_coverage_and_fails_on_a_wrong_expectation() {
    let o = ivrd(&["test", scripts().to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("coverage"), "{t}");
    assert!(t.contains(" passed, 0 failed"), "{t}");

    let d = tmp("test");
    let f = d.join("bad.test");
    let script = scripts().join("order-status.ivr");
    let shop = scripts().join("tests/shop.toml");
    std::fs::write(
        &f,
        format!(
            "script {}\nshop {}\ncase \"wrong\"\n  press 1\n  press 20261122001#\n  expect \"say status delivered\"\nend\n",
            script.display(),
            shop.display()
        ),
    )
    .unwrap();
    let o = ivrd(&["test", f.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL wrong"), "{t}");
    assert!(t.contains("0 passed, 1 failed"), "{t}");
}

#[test]
fn graph_prints_dot() {
    let o = ivrd(&["graph", scripts().join("survey.ivr").to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(t.starts_with("digraph"), "{t}");
    assert!(t.contains("collect score"), "{t}");
}

fn write_wav(path: &Path, rate: u32, channels: u16, bits: u16, float: bool, freq: f64, secs: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (f64::from(rate) * secs) as usize;
    for i in 0..n {
        let v = 0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
        for _ in 0..channels {
            if float {
                w.write_sample(v as f32).unwrap();
            } else {
                let max = (1i64 << (bits - 1)) - 1;
                w.write_sample((v * max as f64) as i32).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

fn rms(path: &Path) -> (hound::WavSpec, usize, f64) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let s: Vec<f64> = r
        .samples::<i16>()
        .map(|v| f64::from(v.unwrap()) / 32768.0)
        .collect();
    let e = (s.iter().map(|v| v * v).sum::<f64>() / s.len() as f64).sqrt();
    (spec, s.len(), e)
}

#[test]
fn prompts_convert_any_wav_to_8k_mono_16_bit_without_aliasing() {
    let d = tmp("convert");
    for (name, rate, ch, bits, float) in [
        ("a", 44_100, 2, 24, false),
        ("b", 16_000, 1, 32, true),
        ("c", 48_000, 2, 8, false),
        ("d", 22_050, 1, 16, false),
    ] {
        let inp = d.join(format!("{name}.wav"));
        let out = d.join(format!("{name}-8k.wav"));
        // A 1 kHz tone survives at full level.
        write_wav(&inp, rate, ch, bits, float, 1000.0, 1.0);
        let o = ivrd(&[
            "prompts",
            "convert",
            inp.to_str().unwrap(),
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let (spec, n, e) = rms(&out);
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (8000, 1, 16)
        );
        assert!((7990..=8010).contains(&n), "{name}: {n} samples");
        assert!((e - 0.3536).abs() < 0.03, "{name}: rms {e}");
    }
    // A 6 kHz tone at 44.1 kHz is above 4 kHz: it must be filtered out, not folded to 2 kHz.
    let inp = d.join("hi.wav");
    let out = d.join("hi-8k.wav");
    write_wav(&inp, 44_100, 1, 16, false, 6000.0, 1.0);
    let o = ivrd(&[
        "prompts",
        "convert",
        inp.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let (_, _, e) = rms(&out);
    assert!(e < 0.01, "aliasing: rms {e}");
    // The converted file passes the pack check; the original does not.
    let o = ivrd(&["prompts", "check", d.to_str().unwrap()]);
    let t = text(&o);
    assert!(t.contains("hi.wav: 44100 Hz (needs 8000)"), "{t}");
    assert!(!t.contains("hi-8k.wav:"), "{t}");
}

#[test]
fn prompts_name_the_bad_file() {
    let d = tmp("bad");
    let f = d.join("junk.wav");
    std::fs::write(&f, b"RIFF this is not audio").unwrap();
    let o = ivrd(&[
        "prompts",
        "convert",
        f.to_str().unwrap(),
        d.join("out.wav").to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        t.contains(&format!("{}: not a readable WAV file", f.display())),
        "{t}"
    );
}

#[test]
fn the_bundled_prompt_packs_are_complete() {
    let o = ivrd(&[
        "prompts",
        "check",
        scripts().join("prompts").to_str().unwrap(),
        scripts().to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("0 unusable"), "{t}");
    assert!(!t.contains("missing"), "{t}");
}

#[test]
fn graph_renders_svg_with_graphviz_or_says_it_is_missing() {
    let d = tmp("svg");
    let out = d.join("hotline.svg");
    let o = ivrd(&[
        "graph",
        scripts().join("shop-hotline.ivr").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    let have_dot = Command::new("dot").arg("-V").output().is_ok();
    if have_dot {
        assert_eq!(o.status.code(), Some(0), "{t}");
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("main_menu"),
            "not an SVG of the flow"
        );
    } else {
        assert!(t.contains("`dot` is not installed"), "{t}");
        assert!(d.join("hotline.dot").is_file());
    }
}
