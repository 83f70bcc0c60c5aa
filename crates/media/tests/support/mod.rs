//! A small harness: one channel stepped frame by frame in virtual time.
#![allow(dead_code, unreachable_pub)]

use media::{Config, ControlHandle, Frame, MediaCommand, MediaEvent, Pipeline, PromptTable};
use tel_types::{ChannelId, FRAME_SAMPLES, Law, LineEvent, PromptId, SampleTime};

/// Builds a leaked prompt table of constant-valued prompts `(value, samples)`.
pub fn prompt_table(prompts: &[(i16, usize)]) -> (&'static PromptTable, Vec<PromptId>) {
    let mut t = PromptTable::new();
    let ids = prompts.iter().map(|&(v, n)| t.push(&vec![v; n])).collect();
    (Box::leak(Box::new(t)), ids)
}

/// A frame counting from `start` by `step`.
pub fn ramp(start: i16, step: i16) -> Frame {
    let mut f = [0; FRAME_SAMPLES];
    for (i, s) in f.iter_mut().enumerate() {
        *s = start.wrapping_add(step.wrapping_mul(i as i16));
    }
    f
}

/// One channel and its control handle, with its own sample clock.
pub struct Chan {
    pub pipe: Pipeline,
    pub ctl: ControlHandle,
    pub now: SampleTime,
}

impl Chan {
    pub fn new(id: u16, prompts: &'static PromptTable) -> Self {
        Self::with(id, prompts, |_| {})
    }

    pub fn with(id: u16, prompts: &'static PromptTable, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut c = Config::new(ChannelId(id), prompts);
        c.law = Law::Linear;
        tweak(&mut c);
        let (pipe, ctl) = media::channel(c);
        Self {
            pipe,
            ctl,
            now: SampleTime::ZERO,
        }
    }

    pub fn send(&mut self, cmd: MediaCommand) {
        self.ctl.try_send(cmd).expect("command ring has room");
    }

    /// One frame received; returns what was transmitted.
    pub fn step(&mut self, rx: &Frame, peer: Option<&Frame>) -> Frame {
        let mut tx = [0; FRAME_SAMPLES];
        self.pipe.process(self.now, rx, &mut tx, peer);
        self.now += FRAME_SAMPLES as u64;
        tx
    }

    pub fn step_silent(&mut self) -> Frame {
        self.step(&[0; FRAME_SAMPLES], None)
    }

    pub fn line_event(&mut self, ev: LineEvent) {
        self.pipe.on_line_event(self.now, ev);
    }

    /// Every event queued so far.
    pub fn events(&mut self) -> Vec<MediaEvent> {
        std::iter::from_fn(|| self.ctl.poll_event()).collect()
    }
}
