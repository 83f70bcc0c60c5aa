//! Real-time promotion of the audio thread: a CPU of its own (if configured), SCHED_FIFO,
//! locked memory and a CPU wake-up latency request, best effort.
//!
//! SCHED_FIFO goes through the `thread-priority` crate, because `nix` has no safe wrapper
//! for `pthread_setschedparam` and this crate is `forbid(unsafe_code)`. Locking memory is
//! `nix::sys::mman::mlockall`. Either may be refused (no `CAP_SYS_NICE`, `RLIMIT_RTPRIO` or
//! `RLIMIT_MEMLOCK` too low): audio still runs, with more risk of late frames. Under
//! systemd, `LimitRTPRIO=` and `LimitMEMLOCK=infinity` (or `AmbientCapabilities=
//! CAP_SYS_NICE CAP_IPC_LOCK`) let the daemon have both without running as root.
//!
//! The wake-up latency request is the kernel's PM QoS interface, `/dev/cpu_dma_latency`:
//! while the file stays open with a value written to it, no CPU enters an idle state that
//! takes longer than that to leave. It matters for the audio thread because it sleeps
//! between blocks: deep idle states (C6 on bare metal; on a virtual machine, halting the
//! virtual CPU, which hands the physical core to other work) empty the core's caches, so
//! every block starts by fetching the whole working set of every channel again. With 120
//! channels on 10 ms blocks that made the frame time's 99th percentile up to 1.7 times
//! what it is with the request on this project's test machine
//! (`benches/benches/pipeline.rs` measures both). The request ends when the file is closed,
//! so it goes with the process, however it ends. The file is root's (`0600`); under
//! systemd give the daemon write access to it, or run the latency request from a unit
//! of its own (`tuned`'s latency-performance profile does the same).

use std::fs::File;
use std::io::Write;

use nix::sys::mman::{MlockAllFlags, mlockall};
use thread_priority::{
    RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

/// The PM QoS device: the longest CPU wake-up latency the system tolerates.
const CPU_LATENCY_DEVICE: &str = "/dev/cpu_dma_latency";

/// What real-time promotion achieved. Keep it until the loop ends: it holds the CPU
/// wake-up latency request, which ends when it is dropped.
#[derive(Debug)]
pub(crate) struct RtOutcome {
    /// SCHED_FIFO is in force.
    pub(crate) fifo: bool,
    /// All memory is locked.
    pub(crate) locked: bool,
    /// The wake-up latency request in force, µs, and the open device that holds it.
    cpu_latency: Option<(u32, File)>,
    /// The CPU the thread is pinned to.
    pub(crate) pinned: Option<usize>,
}

impl RtOutcome {
    /// The CPU wake-up latency in force for as long as this lives, in µs.
    pub(crate) fn cpu_latency_us(&self) -> Option<u32> {
        self.cpu_latency.as_ref().map(|(us, _)| *us)
    }
}

/// Pins the calling thread to `cpu` (if any), asks for SCHED_FIFO at `priority`, for
/// locked memory and for CPUs that wake within `cpu_latency_us` (`None`: no request), and
/// logs once (before the caller's loop) what was refused.
pub(crate) fn enter_realtime(
    cpu: Option<usize>,
    priority: Option<u8>,
    lock_memory: bool,
    cpu_latency_us: Option<u32>,
) -> RtOutcome {
    let mut refused: Vec<String> = Vec::new();
    // Pinned first: the thread then never runs elsewhere, not even for a moment.
    let pinned = cpu.and_then(|n| match pin(n) {
        Ok(()) => Some(n),
        Err(e) => {
            let cpus = std::thread::available_parallelism().map_or(0, usize::from);
            refused.push(format!(
                "pinning to CPU {n} ({e}; this process may run on {cpus} CPUs, numbered from 0)"
            ));
            None
        }
    });
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
    let cpu_latency = cpu_latency_us.and_then(|us| match hold_cpu_latency(us) {
        Ok(file) => Some((us, file)),
        Err(e) => {
            refused.push(format!(
                "CPU wake-up latency {us} µs ({CPU_LATENCY_DEVICE}: {e})"
            ));
            None
        }
    });
    let held = match &cpu_latency {
        Some((us, _)) => format!("CPU wake-up latency held at {us} µs"),
        None => "no CPU wake-up latency request".to_owned(),
    };
    let on = match pinned {
        Some(n) => format!("pinned to CPU {n}"),
        None => "on any CPU".to_owned(),
    };
    if refused.is_empty() {
        log::info!(
            "audio thread: real-time (SCHED_FIFO {fifo}, memory locked {locked}, {held}, {on})"
        );
    } else {
        log::warn!(
            "audio thread: refused {}; audio runs with more risk of late or slow frames under \
             load (give the daemon CAP_SYS_NICE/CAP_IPC_LOCK, raise RLIMIT_RTPRIO/RLIMIT_MEMLOCK, \
             or let it write {CPU_LATENCY_DEVICE}; set daemon.cpu_wakeup_latency_us = \"off\" \
             to make no latency request)",
            refused.join(", ")
        );
    }
    RtOutcome {
        fifo,
        locked,
        cpu_latency,
        pinned,
    }
}

/// Restricts the calling thread to CPU `n`.
pub(crate) fn pin(n: usize) -> nix::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(n)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
}

/// Opens the PM QoS device and writes `us` to it (a 32-bit integer, as the kernel reads a
/// 4-byte write); the request holds while the returned file is open.
fn hold_cpu_latency(us: u32) -> std::io::Result<File> {
    let value = i32::try_from(us).unwrap_or(i32::MAX);
    let mut file = File::options().write(true).open(CPU_LATENCY_DEVICE)?;
    file.write_all(&value.to_ne_bytes())?;
    Ok(file)
}

pub(crate) fn set_fifo(priority: u8) -> Result<(), String> {
    let value = ThreadPriorityValue::try_from(priority.clamp(1, 99)).map_err(|e| e.to_string())?;
    set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    )
    .map_err(|e| e.to_string())
}
