//! Real-time promotion of the audio thread: SCHED_FIFO and locked memory, best effort.
//!
//! SCHED_FIFO goes through the `thread-priority` crate, because `nix` has no safe wrapper
//! for `pthread_setschedparam` and this crate is `forbid(unsafe_code)`. Locking memory is
//! `nix::sys::mman::mlockall`. Either may be refused (no `CAP_SYS_NICE`, `RLIMIT_RTPRIO` or
//! `RLIMIT_MEMLOCK` too low): audio still runs, with more risk of late frames. Under
//! systemd, `LimitRTPRIO=` and `LimitMEMLOCK=infinity` (or `AmbientCapabilities=
//! CAP_SYS_NICE CAP_IPC_LOCK`) let the daemon have both without running as root.

use nix::sys::mman::{MlockAllFlags, mlockall};
use thread_priority::{
    RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

/// What real-time promotion achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtOutcome {
    /// SCHED_FIFO is in force.
    pub(crate) fifo: bool,
    /// All memory is locked.
    pub(crate) locked: bool,
}

/// Asks for SCHED_FIFO at `priority` and for locked memory, on the calling thread, and
/// logs once (before the caller's loop) what was refused.
pub(crate) fn enter_realtime(priority: Option<u8>, lock_memory: bool) -> RtOutcome {
    let mut refused: Vec<String> = Vec::new();
    let fifo = match priority {
        None => false,
        Some(p) => match set_fifo(p) {
            Ok(()) => true,
            Err(e) => {
                refused.push(format!("SCHED_FIFO priority {p} ({e})"));
                false
            }
        },
    };
    let locked = lock_memory && {
        match mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
            Ok(()) => true,
            Err(e) => {
                refused.push(format!("mlockall ({e})"));
                false
            }
        }
    };
    if refused.is_empty() {
        log::info!("audio thread: real-time (SCHED_FIFO {fifo}, memory locked {locked})");
    } else {
        log::warn!(
            "audio thread: refused {}; audio runs at normal priority and may be late under load \
             (give the daemon CAP_SYS_NICE/CAP_IPC_LOCK or raise RLIMIT_RTPRIO/RLIMIT_MEMLOCK)",
            refused.join(", ")
        );
    }
    RtOutcome { fifo, locked }
}

fn set_fifo(priority: u8) -> Result<(), String> {
    let value = ThreadPriorityValue::try_from(priority.clamp(1, 99)).map_err(|e| e.to_string())?;
    set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    )
    .map_err(|e| e.to_string())
}
