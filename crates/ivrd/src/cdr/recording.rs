//! Call recordings as WAV files (8 kHz, mono, 16-bit linear PCM) via `hound`.
//!
//! A recording is written to `<dir>/<YYYY-MM-DD>/<call_id>.wav.part` and
//! renamed to `.wav` when it is finished, so a file without `.part` is always
//! complete and playable. [`Recordings::finish_all`] (shutdown; also run on
//! drop) finishes every open one. After a crash, [`repair_partials`] fixes
//! the headers of the `.part` files left behind and renames them: the audio
//! written before the crash is kept.
//!
//! Runs on a writer thread (it does file I/O); never on the audio thread.
//!
//! ```
//! use ivrd::cdr::recording::Recordings;
//! use tel_types::RecordingId;
//!
//! let dir = std::env::temp_dir().join(format!("ivrd-rec-doc-{}", std::process::id()));
//! let mut recs = Recordings::new(&dir);
//! let path = recs.start(RecordingId(1), "1700000000000-3", 1_700_000_000_000).unwrap();
//! recs.append(RecordingId(1), &[0i16; 160]).unwrap();
//! let done = recs.finish(RecordingId(1)).unwrap();
//! assert_eq!((done.path, done.samples), (path, 160));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tel_types::{RecordingId, SAMPLE_RATE_HZ};

/// The one format recordings use: 8 kHz mono 16-bit PCM.
pub const SPEC: hound::WavSpec = hound::WavSpec {
    channels: 1,
    sample_rate: SAMPLE_RATE_HZ,
    bits_per_sample: 16,
    sample_format: hound::SampleFormat::Int,
};

/// A recording error, naming the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordingError {
    /// Creating, writing, finalising or renaming the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// `hound` refused (e.g. the file grew past the 4 GiB WAV limit).
    Wav {
        /// The file.
        path: PathBuf,
        /// hound's error.
        source: hound::Error,
    },
    /// No recording with this id is open.
    NotOpen(RecordingId),
    /// A recording with this id is already open.
    AlreadyOpen(RecordingId),
    /// The call id cannot be used in a file name.
    BadName(String),
}

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "recording {}: {source}", path.display()),
            Self::Wav { path, source } => write!(f, "recording {}: {source}", path.display()),
            Self::NotOpen(id) => write!(f, "recording {} is not open", id.0),
            Self::AlreadyOpen(id) => write!(f, "recording {} is already open", id.0),
            Self::BadName(n) => write!(f, "call id {n:?} cannot be used as a file name"),
        }
    }
}

impl std::error::Error for RecordingError {}

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The complete `.wav` file.
    pub path: PathBuf,
    /// Samples in it (8000 a second).
    pub samples: u64,
}

struct Open {
    writer: hound::WavWriter<BufWriter<File>>,
    part: PathBuf,
    done: PathBuf,
    samples: u64,
    checkpointed: u64,
}

impl fmt::Debug for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Open")
            .field("part", &self.part)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}

/// The open recordings of the daemon.
#[derive(Debug)]
pub struct Recordings {
    dir: PathBuf,
    open: HashMap<RecordingId, Open>,
}

fn part_path(done: &Path) -> PathBuf {
    let mut p = done.as_os_str().to_owned();
    p.push(".part");
    PathBuf::from(p)
}

/// How much audio [`Recordings::append`] buffers before it writes it out and
/// updates the header: one second.
pub const CHECKPOINT_SAMPLES: u64 = SAMPLE_RATE_HZ as u64;

fn checkpoint(o: &mut Open) -> Result<(), RecordingError> {
    o.writer.flush().map_err(|source| RecordingError::Wav {
        path: o.part.clone(),
        source,
    })?;
    o.checkpointed = o.samples;
    Ok(())
}

impl Recordings {
    /// Recordings under `dir` (created on the first recording if missing).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            open: HashMap::new(),
        }
    }

    /// Number of recordings open.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Starts recording `id` for call `call_id` that started at `start_ms`;
    /// returns the path the finished file will have (for the CDR).
    ///
    /// # Errors
    ///
    /// [`RecordingError::BadName`] if `call_id` has a path separator or is
    /// empty, [`RecordingError::AlreadyOpen`], or the file error.
    pub fn start(
        &mut self,
        id: RecordingId,
        call_id: &str,
        start_ms: i64,
    ) -> Result<PathBuf, RecordingError> {
        if call_id.is_empty() || call_id.starts_with('.') || call_id.contains(['/', '\\', '\0']) {
            return Err(RecordingError::BadName(call_id.to_owned()));
        }
        if self.open.contains_key(&id) {
            return Err(RecordingError::AlreadyOpen(id));
        }
        let (y, m, d) = super::civil_from_days(start_ms.div_euclid(86_400_000));
        let day = self.dir.join(format!("{y:04}-{m:02}-{d:02}"));
        fs::create_dir_all(&day).map_err(|source| RecordingError::Io {
            path: day.clone(),
            source,
        })?;
        let done = day.join(format!("{call_id}.wav"));
        let part = part_path(&done);
        let writer =
            hound::WavWriter::create(&part, SPEC).map_err(|source| RecordingError::Wav {
                path: part.clone(),
                source,
            })?;
        self.open.insert(
            id,
            Open {
                writer,
                part,
                done: done.clone(),
                samples: 0,
                checkpointed: 0,
            },
        );
        Ok(done)
    }

    /// Appends linear 16-bit samples to recording `id`.
    ///
    /// # Errors
    ///
    /// [`RecordingError::NotOpen`] or the write error (the recording stays
    /// open; finish it to keep what was written).
    pub fn append(&mut self, id: RecordingId, samples: &[i16]) -> Result<(), RecordingError> {
        let o = self.open.get_mut(&id).ok_or(RecordingError::NotOpen(id))?;
        let mut w = o.writer.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w.write_sample(s);
        }
        w.flush().map_err(|source| RecordingError::Wav {
            path: o.part.clone(),
            source,
        })?;
        o.samples += samples.len() as u64;
        if o.samples - o.checkpointed >= CHECKPOINT_SAMPLES {
            checkpoint(o)?;
        }
        Ok(())
    }

    /// Writes recording `id`'s buffered audio to the file and updates its
    /// header, so a crash afterwards keeps everything up to here. [`append`]
    /// does this on its own every [`CHECKPOINT_SAMPLES`].
    ///
    /// [`append`]: Self::append
    ///
    /// # Errors
    ///
    /// [`RecordingError::NotOpen`] or the write error.
    pub fn checkpoint(&mut self, id: RecordingId) -> Result<(), RecordingError> {
        let o = self.open.get_mut(&id).ok_or(RecordingError::NotOpen(id))?;
        checkpoint(o)
    }

    /// Finalises recording `id` (header sizes, flush, fsync) and renames it
    /// to its `.wav` name.
    ///
    /// # Errors
    ///
    /// [`RecordingError::NotOpen`] or the file error; on error the `.part`
    /// file is left for [`repair_partials`].
    pub fn finish(&mut self, id: RecordingId) -> Result<Finished, RecordingError> {
        let o = self.open.remove(&id).ok_or(RecordingError::NotOpen(id))?;
        let Open {
            writer,
            part,
            done,
            samples,
            ..
        } = o;
        writer.finalize().map_err(|source| RecordingError::Wav {
            path: part.clone(),
            source,
        })?;
        let io_err = |source| RecordingError::Io {
            path: part.clone(),
            source,
        };
        File::open(&part)
            .and_then(|f| f.sync_all())
            .map_err(io_err)?;
        fs::rename(&part, &done).map_err(io_err)?;
        Ok(Finished {
            path: done,
            samples,
        })
    }

    /// Finishes every open recording (shutdown). Returns one result each.
    pub fn finish_all(&mut self) -> Vec<Result<Finished, RecordingError>> {
        let ids: Vec<RecordingId> = self.open.keys().copied().collect();
        ids.into_iter().map(|id| self.finish(id)).collect()
    }
}

impl Drop for Recordings {
    fn drop(&mut self) {
        for r in self.finish_all() {
            if let Err(e) = r {
                log::error!("{e}");
            }
        }
    }
}

/// Repairs the `.wav.part` files a crash left under `dir` (one level of
/// date folders): sets the RIFF and data sizes from the file length and
/// renames them to `.wav`. Returns the repaired files.
///
/// # Errors
///
/// The first I/O error (files repaired before it stay repaired).
pub fn repair_partials(dir: &Path) -> Result<Vec<PathBuf>, RecordingError> {
    let mut repaired = Vec::new();
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| RecordingError::Io { path, source }
    };
    let days = match fs::read_dir(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(repaired),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for day in days {
        let day = day.map_err(io_err(dir))?.path();
        if !day.is_dir() {
            continue;
        }
        for f in fs::read_dir(&day).map_err(io_err(&day))? {
            let part = f.map_err(io_err(&day))?.path();
            let Some(name) = part.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(done_name) = name.strip_suffix(".part") else {
                continue;
            };
            if !done_name.ends_with(".wav") {
                continue;
            }
            fix_header(&part).map_err(io_err(&part))?;
            let done = part.with_file_name(done_name);
            fs::rename(&part, &done).map_err(io_err(&part))?;
            repaired.push(done);
        }
    }
    Ok(repaired)
}

/// Rewrites the RIFF and `data` chunk sizes of a WAV file from its length.
fn fix_header(path: &Path) -> io::Result<()> {
    let mut f = OpenOptions::new().read(true).write(true).open(path)?;
    let mut len = f.metadata()?.len();
    let mut head = [0u8; 12];
    f.read_exact(&mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a WAV file"));
    }
    // Walk the chunks to the data chunk.
    let mut pos = 12u64;
    loop {
        let mut ch = [0u8; 8];
        f.seek(SeekFrom::Start(pos))?;
        f.read_exact(&mut ch)?;
        let size = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        if &ch[0..4] == b"data" {
            // Whole 16-bit samples only.
            let mut data = len.saturating_sub(pos + 8);
            if data % 2 == 1 {
                data -= 1;
                len -= 1;
                f.set_len(len)?;
            }
            let data = u32::try_from(data)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "over 4 GiB"))?;
            f.seek(SeekFrom::Start(pos + 4))?;
            f.write_all(&data.to_le_bytes())?;
            break;
        }
        pos += 8 + size + (size & 1);
        if pos >= len {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no data chunk"));
        }
    }
    let riff = u32::try_from(len - 8)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "over 4 GiB"))?;
    f.seek(SeekFrom::Start(4))?;
    f.write_all(&riff.to_le_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ivrd-rec-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn finished_file_is_8k_mono_16bit_with_the_samples() {
        let dir = tmp("finish");
        let mut r = Recordings::new(&dir);
        let p = r.start(RecordingId(7), "c1", 0).unwrap();
        assert_eq!(p, dir.join("1970-01-01").join("c1.wav"));
        let tone: Vec<i16> = (0..800).map(|i| (i * 37 % 2000) as i16).collect();
        r.append(RecordingId(7), &tone).unwrap();
        r.append(RecordingId(7), &tone).unwrap();
        assert!(part_path(&p).exists() && !p.exists());
        let f = r.finish(RecordingId(7)).unwrap();
        assert_eq!(f.samples, 1600);
        assert!(!part_path(&p).exists());
        let mut rd = hound::WavReader::open(&p).unwrap();
        assert_eq!(rd.spec(), SPEC);
        let got: Vec<i16> = rd.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(&got[..800], &tone[..]);
        assert_eq!(got.len(), 1600);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_problem() {
        let dir = tmp("errors");
        let mut r = Recordings::new(&dir);
        assert!(matches!(
            r.start(RecordingId(1), "../etc/x", 0),
            Err(RecordingError::BadName(_))
        ));
        assert!(matches!(
            r.append(RecordingId(9), &[1]),
            Err(RecordingError::NotOpen(RecordingId(9)))
        ));
        r.start(RecordingId(1), "a", 0).unwrap();
        let e = r.start(RecordingId(1), "b", 0).unwrap_err();
        assert_eq!(e.to_string(), "recording 1 is already open");
        drop(r); // finishes "a"
        assert!(dir.join("1970-01-01/a.wav").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shutdown_finishes_every_open_recording() {
        let dir = tmp("all");
        let mut r = Recordings::new(&dir);
        for i in 0..3 {
            r.start(RecordingId(i), &format!("call{i}"), 86_400_000)
                .unwrap();
            r.append(RecordingId(i), &[100; 160]).unwrap();
        }
        let res = r.finish_all();
        assert_eq!(res.len(), 3);
        assert!(res.iter().all(Result::is_ok));
        assert_eq!(r.open_count(), 0);
        for i in 0..3 {
            let p = dir.join(format!("1970-01-02/call{i}.wav"));
            assert_eq!(hound::WavReader::open(&p).unwrap().len(), 160);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_crash_keeps_the_audio_up_to_the_last_checkpoint() {
        let dir = tmp("crash");
        let mut r = Recordings::new(&dir);
        let p = r.start(RecordingId(1), "lost", 0).unwrap();
        // 1.5 s: one automatic checkpoint at 1 s, half a second still buffered.
        r.append(RecordingId(1), &[1234; 12_000]).unwrap();
        // Crash: the writer is never finalised, the file never renamed.
        std::mem::forget(r);
        // A torn half sample at the end, as a crash mid-write could leave.
        OpenOptions::new()
            .append(true)
            .open(part_path(&p))
            .unwrap()
            .write_all(&[7])
            .unwrap();
        assert_eq!(repair_partials(&dir).unwrap(), vec![p.clone()]);
        let mut rd = hound::WavReader::open(&p).unwrap();
        assert_eq!(rd.spec(), SPEC);
        assert!(rd.len() >= 8000, "kept {} samples", rd.len());
        assert!(rd.samples::<i16>().all(|s| s.unwrap() == 1234));
        assert_eq!(repair_partials(&dir).unwrap(), Vec::<PathBuf>::new());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn repair_rewrites_zero_sizes_from_the_file_length() {
        let dir = tmp("zero");
        let day = dir.join("2024-01-01");
        fs::create_dir_all(&day).unwrap();
        let done = day.join("z.wav");
        let mut w = hound::WavWriter::create(&done, SPEC).unwrap();
        for i in 0..500 {
            w.write_sample(i as i16).unwrap();
        }
        w.finalize().unwrap();
        // What an unfinalised header looks like: both sizes zero.
        let mut f = OpenOptions::new().write(true).open(&done).unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(&[0; 4]).unwrap();
        f.seek(SeekFrom::Start(40)).unwrap();
        f.write_all(&[0; 4]).unwrap();
        drop(f);
        fs::rename(&done, part_path(&done)).unwrap();
        assert_eq!(repair_partials(&dir).unwrap(), vec![done.clone()]);
        let mut rd = hound::WavReader::open(&done).unwrap();
        let got: Vec<i16> = rd.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(got, (0..500).collect::<Vec<i16>>());
        fs::remove_dir_all(&dir).unwrap();
    }
}
