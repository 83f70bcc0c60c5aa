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

/// Channel → (call id, start ms) of the call being recorded whole; the controller inserts
/// at answer and removes at release (the writer then finishes the file).
pub(crate) type CallNames = Arc<Mutex<HashMap<u16, (String, i64)>>>;

/// Slot numbers of whole-call recordings (script slots are small numbers).
const CALL_SLOT: u32 = u32::MAX;

/// How often the writer empties the taps (a tap holds a second of audio).
const POLL: Duration = Duration::from_millis(100);

/// The running writer.
#[derive(Debug)]
pub(crate) struct Recorder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn finish(recs: &mut Recordings, id: RecordingId, what: &str) -> u64 {
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
    recs: &mut Recordings,
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
    recs: &mut Recordings,
    keys: &mut HashMap<(u16, u32), RecordingId>,
) -> u64 {
    let mut finished = 0;
    for tap in taps.iter_mut() {
        while let Some(f) = tap.pop() {
            let key = (f.channel.0, f.slot.0);
            let next = RecordingId(keys.len() as u32 + 1);
            if f.first {
                let id = *keys.entry(key).or_insert(next);
                let now = wall_ms();
                let name = format!("{now}-ch{}-rec{}", f.channel.0, f.slot.0);
                if let Err(e) = recs.start(id, &name, now) {
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
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("rec-writer".into())
            .spawn(move || {
                let mut taps = taps;
                let mut calls = calls;
                let mut call_keys = HashMap::new();
                let mut next = 0;
                let mut recs = Recordings::new(&dir);
                let mut keys = HashMap::new();
                let mut finished = 0;
                while !flag.load(Ordering::Relaxed) {
                    finished += drain(&mut taps, &mut recs, &mut keys);
                    finished +=
                        drain_calls(&mut calls, &mut recs, &mut call_keys, &names, &mut next);
                    std::thread::sleep(POLL);
                }
                finished += drain(&mut taps, &mut recs, &mut keys);
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
            thread: Some(thread),
        })
    }

    /// Drains the taps, finishes every open recording and returns how many were written.
    pub(crate) fn shutdown(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap_or(0))
    }
}
