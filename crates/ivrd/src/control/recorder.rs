//! The recording writer thread: it owns the channels' recording taps and writes what the
//! scripts record (`record` statements) as WAV files through [`Recordings`], so the audio
//! and control threads never touch a file. Whole calls on trunks with `record = true` come
//! from the listen tap (received and transmitted audio mixed, so an agent call has both
//! voices); the controller names each call's file through a [`CallNames`] table
//! (`<call_id>.wav`, the CDR's `recording`). On stop it drains the taps and finishes every
//! open file, so nothing recorded is lost on shutdown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use ivrd::cdr::recording::Recordings;
use media::TapConsumer;
use tel_types::RecordingId;

/// Channel → (call id, start ms) of the call in the IVR; the controller inserts at answer
/// and removes at release. A call recorded whole (`record = true`) is written to
/// `<call_id>.wav` and finished when its entry goes; a message a script records during the
/// call to `<call_id>-rec<slot>.wav` (the name the controller puts in the CDR and the
/// hooks, see `control::message_file`).
pub(crate) type CallNames = Arc<Mutex<HashMap<u16, (String, i64)>>>;

/// Taps of channels opened while the writer runs (script recordings, whole calls); the
/// writer takes them on its next round.
pub(crate) type NewTaps = Arc<Mutex<(Vec<TapConsumer>, Vec<TapConsumer>)>>;

/// Slot numbers of whole-call recordings (script slots are small numbers).
const CALL_SLOT: u32 = u32::MAX;

/// How often the writer empties the taps (a tap holds a second of audio).
const POLL: Duration = Duration::from_millis(100);

/// The running writer.
#[derive(Debug)]
pub(crate) struct Recorder {
    stop: Arc<AtomicBool>,
    dir: Arc<Mutex<std::path::PathBuf>>,
    new_taps: NewTaps,
    thread: Option<JoinHandle<u64>>,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The recording folders: new recordings start in the current one; those already open in
/// a folder a reload replaced finish there.
struct Writers {
    current: Recordings,
    /// Replaced folders with recordings still open, and those recordings.
    old: Vec<(Recordings, std::collections::HashSet<RecordingId>)>,
    /// The recordings open in `current`.
    open: std::collections::HashSet<RecordingId>,
    dir: std::path::PathBuf,
}

impl Writers {
    fn new(dir: &Path) -> Self {
        Self {
            current: Recordings::new(dir),
            old: Vec::new(),
            open: std::collections::HashSet::new(),
            dir: dir.to_path_buf(),
        }
    }

    /// Follows the folder the controller names (a reload may change it).
    fn follow(&mut self, dir: &Mutex<std::path::PathBuf>) {
        let want = dir.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if want != self.dir {
            log::info!("recordings: new ones go to {}", want.display());
            let old = std::mem::replace(&mut self.current, Recordings::new(&want));
            self.old.push((old, std::mem::take(&mut self.open)));
            self.dir = want;
        }
        self.old.retain(|r| r.0.open_count() > 0);
    }

    fn start(
        &mut self,
        id: RecordingId,
        name: &str,
        start_ms: i64,
    ) -> Result<std::path::PathBuf, ivrd::cdr::recording::RecordingError> {
        self.open.insert(id);
        self.current.start(id, name, start_ms)
    }

    fn owner(&mut self, id: RecordingId) -> &mut Recordings {
        match self.old.iter().position(|r| r.1.contains(&id)) {
            Some(k) => &mut self.old[k].0,
            None => &mut self.current,
        }
    }

    fn append(
        &mut self,
        id: RecordingId,
        samples: &[i16],
    ) -> Result<(), ivrd::cdr::recording::RecordingError> {
        self.owner(id).append(id, samples)
    }

    fn finish(
        &mut self,
        id: RecordingId,
    ) -> Result<ivrd::cdr::recording::Finished, ivrd::cdr::recording::RecordingError> {
        self.open.remove(&id);
        if let Some(k) = self.old.iter().position(|r| r.1.contains(&id)) {
            self.old[k].1.remove(&id);
            return self.old[k].0.finish(id);
        }
        self.current.finish(id)
    }

    fn finish_all(
        &mut self,
    ) -> Vec<Result<ivrd::cdr::recording::Finished, ivrd::cdr::recording::RecordingError>> {
        self.open.clear();
        let mut all = self.current.finish_all();
        for (r, ids) in &mut self.old {
            ids.clear();
            all.extend(r.finish_all());
        }
        all
    }
}

fn finish(recs: &mut Writers, id: RecordingId, what: &str) -> u64 {
    match recs.finish(id) {
        Ok(done) => {
            log::info!(
                "recording {} ({} samples)",
                done.path.display(),
                done.samples
            );
            1
        }
        Err(e) => {
            log::warn!("recording {what}: {e}");
            0
        }
    }
}

/// Empties the whole-call taps into `recs`, finishing the calls that ended.
fn drain_calls(
    taps: &mut [TapConsumer],
    recs: &mut Writers,
    keys: &mut HashMap<(u16, u32), RecordingId>,
    names: &CallNames,
    next: &mut u32,
) -> u64 {
    let mut finished = 0;
    let live = names.lock().unwrap_or_else(PoisonError::into_inner).clone();
    for tap in taps.iter_mut() {
        while let Some(f) = tap.pop() {
            let key = (f.channel.0, CALL_SLOT);
            if f.first {
                if let Some(id) = keys.remove(&key) {
                    finished += finish(recs, id, "call");
                }
                // The call may have started after `live` was taken: look it up afresh.
                let named = names
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&f.channel.0)
                    .cloned();
                let Some((call_id, start_ms)) = named else {
                    continue;
                };
                // Ids of whole-call recordings count up from 2^31 (script slots are below),
                // never reused while the process runs.
                *next += 1;
                let id = RecordingId(0x8000_0000 | *next);
                match recs.start(id, &call_id, start_ms) {
                    Ok(_) => {
                        keys.insert(key, id);
                    }
                    Err(e) => log::warn!("recording {call_id}: {e}"),
                }
            }
            if let Some(&id) = keys.get(&key) {
                let _ = recs.append(id, f.audio());
            }
        }
    }
    let ended: Vec<(u16, u32)> = keys
        .keys()
        .filter(|k| k.1 == CALL_SLOT && !live.contains_key(&k.0))
        .copied()
        .collect();
    for k in ended {
        if let Some(id) = keys.remove(&k) {
            finished += finish(recs, id, "call");
        }
    }
    finished
}

/// Empties every tap into `recs`; returns the recordings finished.
fn drain(
    taps: &mut [TapConsumer],
    recs: &mut Writers,
    keys: &mut HashMap<(u16, u32), RecordingId>,
    names: &CallNames,
) -> u64 {
    let mut finished = 0;
    for tap in taps.iter_mut() {
        while let Some(f) = tap.pop() {
            let key = (f.channel.0, f.slot.0);
            let next = RecordingId(keys.len() as u32 + 1);
            if f.first {
                let id = *keys.entry(key).or_insert(next);
                let call = names
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&f.channel.0)
                    .cloned();
                // Named after the call when the controller has it (always, in the daemon),
                // else after the time and the channel.
                let (name, start) = match call {
                    Some((call_id, start_ms)) => (format!("{call_id}-rec{}", f.slot.0), start_ms),
                    None => {
                        let now = wall_ms();
                        (format!("{now}-ch{}-rec{}", f.channel.0, f.slot.0), now)
                    }
                };
                if let Err(e) = recs.start(id, &name, start) {
                    log::warn!("recording {name}: {e}");
                }
            }
            let Some(&id) = keys.get(&key) else { continue };
            if f.len > 0 {
                let _ = recs.append(id, f.audio());
            }
            if f.last {
                match recs.finish(id) {
                    Ok(done) => {
                        finished += 1;
                        log::info!(
                            "recording {} ({} samples)",
                            done.path.display(),
                            done.samples
                        );
                    }
                    Err(e) => log::warn!("recording on channel {}: {e}", f.channel.0),
                }
            }
        }
    }
    finished
}

impl Recorder {
    /// Starts the `rec-writer` thread over the script recording `taps` and the whole-call
    /// `calls` taps, writing under `dir`.
    pub(crate) fn spawn(
        taps: Vec<TapConsumer>,
        calls: Vec<TapConsumer>,
        names: CallNames,
        dir: &Path,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let shared = Arc::new(Mutex::new(dir.to_path_buf()));
        let folder = Arc::clone(&shared);
        let dir = dir.to_path_buf();
        let new_taps = NewTaps::default();
        let inbox = Arc::clone(&new_taps);
        let thread = std::thread::Builder::new()
            .name("rec-writer".into())
            .spawn(move || {
                let mut taps = taps;
                let mut calls = calls;
                let mut call_keys = HashMap::new();
                let mut next = 0;
                let mut recs = Writers::new(&dir);
                let mut keys = HashMap::new();
                let mut finished = 0;
                while !flag.load(Ordering::Relaxed) {
                    {
                        let mut new = inbox.lock().unwrap_or_else(PoisonError::into_inner);
                        taps.append(&mut new.0);
                        calls.append(&mut new.1);
                    }
                    recs.follow(&folder);
                    finished += drain(&mut taps, &mut recs, &mut keys, &names);
                    finished +=
                        drain_calls(&mut calls, &mut recs, &mut call_keys, &names, &mut next);
                    std::thread::sleep(POLL);
                }
                finished += drain(&mut taps, &mut recs, &mut keys, &names);
                finished += drain_calls(&mut calls, &mut recs, &mut call_keys, &names, &mut next);
                for r in recs.finish_all() {
                    match r {
                        Ok(_) => finished += 1,
                        Err(e) => log::warn!("recording at shutdown: {e}"),
                    }
                }
                finished
            })?;
        Ok(Self {
            stop,
            dir: shared,
            new_taps,
            thread: Some(thread),
        })
    }

    /// Where the taps of a channel opened later go (see [`NewTaps`]).
    pub(crate) fn new_taps(&self) -> NewTaps {
        Arc::clone(&self.new_taps)
    }

    /// Recordings that start from now on go to `dir`; those open finish where they are.
    pub(crate) fn set_dir(&self, dir: &Path) {
        *self.dir.lock().unwrap_or_else(PoisonError::into_inner) = dir.to_path_buf();
    }

    /// Drains the taps, finishes every open recording and returns how many were written.
    pub(crate) fn shutdown(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tel_types::{ChannelId, DigitSet, LineEvent, MediaCommand, MediaEvent, SampleTime};

    /// A caller who hangs up mid-message: the pipeline ends the recording on the on-hook
    /// event and the writer closes the file complete (no `.part` left, the header's length
    /// is every sample recorded, the same count `RecordingDone` reported to the script).
    #[test]
    fn a_recording_ended_by_hanging_up_is_closed_complete() {
        let dir = std::env::temp_dir().join(format!("ivrd-rec-hangup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let table: &'static media::PromptTable = Box::leak(Box::new(media::PromptTable::new()));
        let (mut pipe, mut h) = media::channel(media::Config::new(ChannelId(3), table));
        let mut taps = vec![h.take_record_tap().expect("a record tap")];
        let names = CallNames::default();
        names
            .lock()
            .unwrap()
            .insert(3, ("call-42".to_string(), 1_794_967_200_000));
        let mut recs = Writers::new(&dir);
        let mut keys = HashMap::new();
        let _ = h.send(MediaCommand::StartRecording {
            slot: RecordingId(1),
            max_ms: 120_000,
            end_on_silence_ms: 0,
            stop_keys: DigitSet::EMPTY,
        });
        let mut now = SampleTime::ZERO;
        let mut tx = [0i16; tel_types::FRAME_SAMPLES];
        let mut finished = 0;
        // 3 s of a voice-like tone, the writer emptying the tap as it does every 100 ms.
        for k in 0..150u64 {
            let rx: [i16; tel_types::FRAME_SAMPLES] =
                std::array::from_fn(|n| (((k as usize * 160 + n) % 40) as i16 - 20) * 400);
            pipe.process(now, &rx, &mut tx, None);
            now += tel_types::FRAME_SAMPLES as u64;
            if k % 5 == 0 {
                finished += drain(&mut taps, &mut recs, &mut keys, &names);
            }
        }
        pipe.on_line_event(now, LineEvent::OnHook);
        finished += drain(&mut taps, &mut recs, &mut keys, &names);
        assert_eq!(finished, 1, "the file was closed at the hang-up");
        let reported = std::iter::from_fn(|| h.poll_event())
            .find_map(|e| match e {
                MediaEvent::RecordingDone {
                    slot: RecordingId(1),
                    samples,
                    ..
                } => Some(samples),
                _ => None,
            })
            .expect("RecordingDone after the on-hook");
        assert_eq!(reported, 150 * 160);
        let file = dir.join("2026-11-18").join("call-42-rec1.wav");
        let part: Vec<_> = std::fs::read_dir(dir.join("2026-11-18"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(part.is_empty(), "{part:?}");
        let rd = hound::WavReader::open(&file).unwrap();
        assert_eq!(rd.spec().sample_rate, 8000);
        assert_eq!(rd.len(), reported, "the header says every sample recorded");
        let got: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(got.len() as u32, reported);
        assert!(got.iter().any(|&s| s != 0), "the caller's audio is in it");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
