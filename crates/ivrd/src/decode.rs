//! `ivrd decode`: what a technician runs on a recording from a line. For each WAV file
//! (8 kHz mono; 16-bit linear, A-law or µ-law) it prints, with timestamps, the DTMF digits,
//! caller-ID messages (FSK and DTMF) and call-progress tones it finds. With `-b` it reads
//! paths on standard input, one per line, and prints `PATH<TAB>DIGITS` per file as it goes.
//! A file that cannot be read or is not 8 kHz mono gets an error on standard error naming
//! it and the problem; the others are still decoded, and the exit status is 1.

use dsp::callerid::{CallerIdReceiver, DtmfCallerIdParser};
use dsp::dtmf_rx::{DtmfConfig, DtmfEvent, DtmfReceiver};
use dsp::fsk::FskModem;
use dsp::progress::{CallProgress, CallProgressDetector};
use dsp::wav::{self, Encoding};
use dsp::zones::ToneZone;
use std::fmt;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use tel_types::{CallerId, CallerIdPresentation, SampleTime};

/// Arguments of `ivrd decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// WAV files to decode (8 kHz mono: 16-bit linear, A-law or µ-law).
    files: Vec<PathBuf>,
    /// Batch mode: read WAV paths from standard input, one per line, and print
    /// `PATH<TAB>DIGITS` for each (a held key counts once; empty if none).
    #[arg(short = 'b', long)]
    batch: bool,
    /// Tone zone for call-progress tones (cn, us, gb, de, fr, jp, au, in, ru, hk, tw, sg).
    #[arg(long, default_value = "cn")]
    zone: String,
}

/// Why a file could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// The file could not be read.
    Read(std::io::Error),
    /// The file is not usable WAV audio.
    Wav(wav::WavError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "cannot read: {e}"),
            Self::Wav(e) => write!(f, "{e}"),
        }
    }
}

/// One thing heard in a file.
#[derive(Debug)]
enum Found {
    Digit {
        at: SampleTime,
        ev: tel_types::DigitEvent,
    },
    CallerId {
        at: SampleTime,
        how: &'static str,
        cid: CallerId,
    },
    Tone {
        at: SampleTime,
        tone: CallProgress,
        since: SampleTime,
    },
}

struct Decoded {
    encoding: Encoding,
    samples: usize,
    found: Vec<Found>,
    digits: String,
}

fn decode_file(path: &Path, zone: &'static ToneZone) -> Result<Decoded, DecodeError> {
    let bytes = std::fs::read(path).map_err(DecodeError::Read)?;
    let w = wav::parse(&bytes).map_err(DecodeError::Wav)?;
    w.check_telephony().map_err(DecodeError::Wav)?;
    let mut pcm = vec![0i16; w.frames()];
    w.decode_into(&mut pcm);

    let mut dtmf = DtmfReceiver::new(DtmfConfig::for_country(zone.code));
    let mut cpd = CallProgressDetector::new(zone);
    // The V.23 receiver also reads Bell 202 (their tones are 100 Hz apart).
    let mut fsk = CallerIdReceiver::new(FskModem::V23);
    let mut dtmf_cid = DtmfCallerIdParser::default();
    let mut found = Vec::new();
    let mut digits = String::new();
    let mut t = SampleTime::ZERO;
    let mut frames = pcm.chunks(160).peekable();
    while let Some(f) = frames.next() {
        dtmf.process(f, t);
        if frames.peek().is_none() {
            dtmf.finish_key();
        }
        while let Some(e) = dtmf.poll_event() {
            match e {
                DtmfEvent::Down(ev) => {
                    digits.push(ev.digit.as_char());
                    if let Some(cid) = dtmf_cid.push(ev.digit) {
                        found.push(Found::CallerId {
                            at: ev.end,
                            how: "DTMF",
                            cid,
                        });
                    }
                }
                // Reported when the key ends, with its full length.
                DtmfEvent::Up(ev) => found.push(Found::Digit { at: ev.start, ev }),
            }
        }
        if let Some(e) = fsk.process(f, t) {
            let how = if e.kind == dsp::callerid::MDMF {
                "FSK MDMF"
            } else {
                "FSK SDMF"
            };
            found.push(Found::CallerId {
                at: e.at,
                how,
                cid: e.caller_id,
            });
        }
        if let Some(e) = cpd.process(f, t) {
            found.push(Found::Tone {
                at: e.at,
                tone: e.tone,
                since: e.since,
            });
        }
        t += f.len() as u64;
    }
    Ok(Decoded {
        encoding: w.encoding,
        samples: pcm.len(),
        found,
        digits,
    })
}

fn tone_name(t: CallProgress) -> &'static str {
    match t {
        CallProgress::Silence => "silence",
        CallProgress::Voice => "voice",
        CallProgress::Dial => "dial tone",
        CallProgress::Busy => "busy tone",
        CallProgress::Ringback => "ringback",
        CallProgress::Congestion => "congestion",
        CallProgress::SpecialInfo => "special information tone",
    }
}

fn describe_cid(c: &CallerId) -> String {
    let mut s = match c.presentation {
        CallerIdPresentation::Available => format!("number {}", c.number),
        CallerIdPresentation::Private => "number withheld (P)".to_string(),
        CallerIdPresentation::Unavailable => "number unavailable (O)".to_string(),
    };
    if !c.name.is_empty() {
        s += &format!(", name \"{}\"", c.name);
    }
    if !c.datetime.is_empty() {
        s += &format!(", date/time {}", c.datetime);
    }
    s
}

fn print_report(out: &mut impl Write, path: &Path, d: &Decoded) -> std::io::Result<()> {
    let enc = match d.encoding {
        Encoding::Linear16 => "16-bit linear",
        Encoding::ALaw => "A-law",
        Encoding::MuLaw => "µ-law",
    };
    writeln!(
        out,
        "{}: 8000 Hz mono {enc}, {}",
        path.display(),
        SampleTime(d.samples as u64)
    )?;
    let mut found: Vec<&Found> = d.found.iter().collect();
    found.sort_by_key(|f| match f {
        Found::Digit { at, .. } | Found::CallerId { at, .. } | Found::Tone { at, .. } => *at,
    });
    for f in found {
        match f {
            Found::Digit { at, ev } => writeln!(
                out,
                "  {:>9}  DTMF {}  {} ms, low {:.1} dBm0, high {:.1} dBm0, twist {:+.1} dB, SNR {:.0} dB",
                at.to_string(),
                ev.digit,
                (ev.end.0.saturating_sub(ev.start.0)) / 8,
                ev.low_dbm0,
                ev.high_dbm0,
                ev.twist_db(),
                ev.snr_db
            )?,
            Found::CallerId { at, how, cid } => writeln!(
                out,
                "  {:>9}  CALLER ID ({how})  {}",
                at.to_string(),
                describe_cid(cid)
            )?,
            Found::Tone { at, tone, since } => writeln!(
                out,
                "  {:>9}  TONE {}  (since {since})",
                at.to_string(),
                tone_name(*tone)
            )?,
        }
    }
    writeln!(out, "  digits: {}", d.digits)
}

/// Runs `ivrd decode`. Returns whether every file was decoded.
pub(crate) fn run(args: DecodeArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let zone = ToneZone::by_code(&args.zone)
        .ok_or_else(|| format!("unknown tone zone {:?}", args.zone))?;
    let stdout = std::io::stdout();
    let mut ok = true;
    if args.batch {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let line = line?;
            let p = line.trim_end_matches('\r');
            if p.is_empty() {
                continue;
            }
            match decode_file(Path::new(p), zone) {
                Ok(d) => {
                    let mut o = stdout.lock();
                    writeln!(o, "{p}\t{}", d.digits)?;
                    o.flush()?;
                }
                Err(e) => {
                    eprintln!("ivrd decode: {p}: {e}");
                    ok = false;
                }
            }
        }
    }
    for path in &args.files {
        match decode_file(path, zone) {
            Ok(d) => {
                let mut o = stdout.lock();
                print_report(&mut o, path, &d)?;
                o.flush()?;
            }
            Err(e) => {
                eprintln!("ivrd decode: {}: {e}", path.display());
                ok = false;
            }
        }
    }
    Ok(ok)
}
