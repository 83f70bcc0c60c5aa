//! Arbitrary bytes as a script (with an include of itself): the loader must return a script
//! or diagnostics, never panic, and every diagnostic must point inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let lines = text.lines().count() as u32 + 1;
    let (script, diags) = ivr::check_with("f.ivr", |p| {
        if p == "f.ivr" || p == "g.ivr" {
            Ok(text.clone())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    });
    for d in &diags {
        assert!(d.loc.line <= lines, "{d}");
    }
    if let Some(s) = script {
        let _ = s.to_dot();
    }
});
