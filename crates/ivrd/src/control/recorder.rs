//! The recording writer thread: it owns the channels' recording taps and writes what the
//! scripts record (`record` statements) as WAV files through [`Recordings`], so the audio
//! and control threads never touch a file. On stop it drains the taps and finishes every
//! open file, so nothing recorded is lost on shutdown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ivrd::cdr::recording::Recordings;
use media::TapConsumer;
use tel_types::RecordingId;

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
    /// Starts the `rec-writer` thread over `taps`, writing under `dir`.
    pub(crate) fn spawn(taps: Vec<TapConsumer>, dir: &Path) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("rec-writer".into())
            .spawn(move || {
                let mut taps = taps;
                let mut recs = Recordings::new(&dir);
                let mut keys = HashMap::new();
                let mut finished = 0;
                while !flag.load(Ordering::Relaxed) {
                    finished += drain(&mut taps, &mut recs, &mut keys);
                    std::thread::sleep(POLL);
                }
                finished += drain(&mut taps, &mut recs, &mut keys);
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
