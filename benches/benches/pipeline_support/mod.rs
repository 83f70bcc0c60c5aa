//! Shared by the pipeline benchmarks: synthetic caller audio and prompts, and a bank of
//! fully loaded channels driven the way the audio loop drives them.
#![allow(dead_code, unreachable_pub)]

use dsp::dtmf_gen::{DtmfGenConfig, DtmfGenerator};
use media::{Config, ControlHandle, Pipeline, PromptTable, TapConsumer};
use tel_types::{
    ChannelId, DigitSet, FRAME_SAMPLES, Law, MediaCommand, PromptId, RecordingId, SampleTime,
};

/// Speech-like audio: harmonics of a gliding pitch, syllable-rate envelope, pauses.
pub fn speech(samples: usize, seed: u32) -> Vec<i16> {
    (0..samples)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let pitch = 120.0 + 40.0 * (t * 0.7 + seed as f32).sin();
            let syllable = (t * 4.0 * std::f32::consts::TAU).sin().max(0.0);
            let pause = if (t + seed as f32 * 0.37) % 3.0 < 2.2 {
                1.0
            } else {
                0.0
            };
            let phase = std::f32::consts::TAU * pitch * t;
            let voice: f32 = (1..=5).map(|h| (phase * h as f32).sin() / h as f32).sum();
            (6000.0 * syllable * pause * voice) as i16
        })
        .collect()
}

/// Ten seconds of caller audio in A-law: speech with a DTMF key every two seconds.
pub fn caller_audio() -> Vec<u8> {
    let mut lin = speech(80_000, 1);
    let mut dtmf = DtmfGenerator::new(DtmfGenConfig::default());
    for (k, key) in ["1", "2", "3", "4", "#"].iter().enumerate() {
        dtmf.push_str(key);
        let at = 12_000 + k * 16_000;
        let mut burst = [0i16; 1600];
        dtmf.fill(&mut burst);
        lin[at..at + 1600].copy_from_slice(&burst);
    }
    let mut coded = vec![0u8; lin.len()];
    dsp::g711::encode_slice(Law::ALaw, &lin, &mut coded);
    coded
}

/// A leaked table of four speech prompts of 3–4.5 s.
pub fn prompts() -> (&'static PromptTable, Vec<PromptId>) {
    let mut table = PromptTable::new();
    let ids = (0..4)
        .map(|k| table.push(&speech(24_000 + 4_000 * k, k as u32 + 7)))
        .collect();
    (Box::leak(Box::new(table)), ids)
}

/// One loaded channel.
pub struct Chan {
    pub pipe: Pipeline,
    pub ctl: ControlHandle,
    pub tap: TapConsumer,
    pub peer: Option<usize>,
    pub pos: usize,
}

/// `n` channels with every receiver on, a recording tap each, half of them bridged in
/// pairs and the other half playing prompts.
pub struct Bank {
    pub chans: Vec<Chan>,
    pub audio: Vec<u8>,
    pub prompts: Vec<PromptId>,
    pub now: SampleTime,
    /// Samples per tick: 160 (20 ms frames, `process_coded`) or 80 (DAHDI's 10 ms blocks,
    /// `process_block_coded`).
    pub block: usize,
}

impl Bank {
    pub fn new(n: usize) -> Self {
        Self::with_block(n, FRAME_SAMPLES)
    }

    /// As [`Bank::new`], ticking in blocks of `block` samples (80: 10 ms).
    pub fn with_block(n: usize, block: usize) -> Self {
        let (table, prompts) = prompts();
        let audio = caller_audio();
        let half = n / 2;
        let mut chans: Vec<Chan> = (0..n)
            .map(|i| {
                let mut c = Config::new(ChannelId(i as u16 + 1), table);
                c.law = Law::ALaw;
                c.record_tap_frames = 8;
                c.listen_tap_frames = 0;
                c.event_capacity = 64;
                c.progress_detection = std::env::var_os("NO_CPD").is_none();
                let (pipe, mut ctl) = media::channel(c);
                let tap = ctl.take_record_tap().expect("tap");
                // In a call (answered): the FSK caller-ID receiver listens only on-hook,
                // between rings; `ON_HOOK=1` keeps it running on every channel.
                if std::env::var_os("ON_HOOK").is_none() {
                    ctl.try_send(MediaCommand::SetHook(tel_types::Hook::OffHook))
                        .expect("ring");
                }
                ctl.try_send(MediaCommand::StartRecording {
                    slot: RecordingId(i as u32),
                    max_ms: 0,
                    end_on_silence_ms: 0,
                    stop_keys: DigitSet::EMPTY,
                })
                .expect("ring");
                Chan {
                    pipe,
                    ctl,
                    tap,
                    peer: None,
                    pos: (i * 7919) % audio.len(),
                }
            })
            .collect();
        for i in (0..half.saturating_sub(1)).step_by(2) {
            let peer_id = chans[i + 1].pipe.id();
            let my_id = chans[i].pipe.id();
            chans[i]
                .ctl
                .try_send(MediaCommand::Bridge(peer_id))
                .expect("ring");
            chans[i + 1].pipe.set_peer(Some(my_id));
            chans[i].peer = Some(i + 1);
            chans[i + 1].peer = Some(i);
        }
        for (i, ch) in chans.iter_mut().enumerate().skip(half) {
            ch.ctl
                .try_send(MediaCommand::Play {
                    prompt: prompts[i % prompts.len()],
                    barge_in: DigitSet::EMPTY,
                })
                .expect("ring");
        }
        Self {
            chans,
            audio,
            prompts,
            now: SampleTime::ZERO,
            block,
        }
    }

    /// The audio thread's work for one tick (a 20 ms frame, or a 10 ms block): every
    /// channel's frame or block through its pipeline, as `ivrd`'s loop does it (the bridged
    /// peer's pipeline borrowed beside the channel's, its audio not copied).
    pub fn tick(&mut self) {
        if self.block != FRAME_SAMPLES {
            return self.tick_block();
        }
        let mut tx = [0u8; FRAME_SAMPLES];
        for i in 0..self.chans.len() {
            let (ch, peer) = chan_and_peer(&mut self.chans, i);
            if ch.pos + FRAME_SAMPLES > self.audio.len() {
                ch.pos = 0;
            }
            let rx = &self.audio[ch.pos..ch.pos + FRAME_SAMPLES];
            ch.pos += FRAME_SAMPLES;
            ch.pipe
                .process_coded(self.now, rx, &mut tx, peer.map(Pipeline::last_rx));
            std::hint::black_box(&tx);
            while ch.pipe.poll_line_control().is_some() {}
        }
        self.now += FRAME_SAMPLES as u64;
    }

    fn tick_block(&mut self) {
        let block = self.block;
        let mut tx = [0u8; FRAME_SAMPLES];
        for i in 0..self.chans.len() {
            let (ch, peer) = chan_and_peer(&mut self.chans, i);
            if ch.pos + block > self.audio.len() {
                ch.pos = 0;
            }
            let rx = &self.audio[ch.pos..ch.pos + block];
            ch.pos += block;
            ch.pipe.process_block_coded(
                self.now,
                rx,
                &mut tx[..block],
                peer.map(Pipeline::bridge_audio),
            );
            std::hint::black_box(&tx);
            while ch.pipe.poll_line_control().is_some() {}
        }
        self.now += block as u64;
    }

    /// The other threads' work (not timed): writers drain taps, control drains events and
    /// keeps prompts playing.
    pub fn control(&mut self) -> u64 {
        let mut events = 0;
        for (i, ch) in self.chans.iter_mut().enumerate() {
            while ch.tap.pop().is_some() {}
            while let Some(ev) = ch.ctl.poll_event() {
                events += 1;
                if let media::MediaEvent::PlaybackDone { .. } = ev {
                    let _ = ch.ctl.try_send(MediaCommand::Play {
                        prompt: self.prompts[i % self.prompts.len()],
                        barge_in: DigitSet::EMPTY,
                    });
                }
            }
        }
        events
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Puts the calling thread on SCHED_FIFO (as the daemon's audio thread), so other
/// processes on a shared machine do not preempt the measurement; `false` if refused.
pub fn realtime() -> bool {
    use thread_priority::*;
    ThreadPriorityValue::try_from(50u8)
        .ok()
        .and_then(|v| {
            set_thread_priority_and_policy(
                thread_native_id(),
                ThreadPriority::Crossplatform(v),
                ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
            )
            .ok()
        })
        .is_some()
}

/// Holds the CPUs' wake-up latency at `us` while the returned file is open (the kernel's PM
/// QoS request through `/dev/cpu_dma_latency`, as `ivrd` does with
/// `daemon.cpu_wakeup_latency_us`); `None` if refused (not root).
pub fn hold_cpu_latency(us: i32) -> Option<std::fs::File> {
    use std::io::Write;
    let mut file = std::fs::File::options()
        .write(true)
        .open("/dev/cpu_dma_latency")
        .ok()?;
    file.write_all(&us.to_ne_bytes()).ok()?;
    Some(file)
}

/// Channel `i`, mutable, and its bridged peer's pipeline, shared (as `ivrd`'s loop borrows
/// them: no copy of the peer's audio).
fn chan_and_peer(chans: &mut [Chan], i: usize) -> (&mut Chan, Option<&Pipeline>) {
    match chans[i].peer.filter(|&j| j != i) {
        Some(j) if i < j => {
            let (lo, hi) = chans.split_at_mut(j);
            (&mut lo[i], Some(&hi[0].pipe))
        }
        Some(j) => {
            let (lo, hi) = chans.split_at_mut(i);
            (&mut hi[0], Some(&lo[j].pipe))
        }
        None => (&mut chans[i], None),
    }
}
