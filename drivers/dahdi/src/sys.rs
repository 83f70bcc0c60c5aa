//! The kernel boundary: `#[repr(C)]` mirrors of `include/dahdi/user.h`, the ioctl request
//! numbers, and thin wrappers that turn each ioctl into a `nix::Result`.
//!
//! This is the only module of the workspace with `unsafe`. Every block has a `// SAFETY:`
//! comment. The request numbers and struct sizes are pinned against the real header of
//! DAHDI 2.11.1 (Debian `dahdi-dkms` 1:2.11.1.0.20170917~dfsg-8.4, x86_64) by compile-time
//! asserts and the unit tests at the bottom; `docs/dahdi-abi.md` lists each value and its
//! source.
//!
//! DAHDI reads every `int` argument through a pointer (`get_user`), so even "write an int"
//! ioctls pass a pointer (`ioctl_write_ptr_bad!`), never the value itself.
#![allow(unsafe_code)]

use core::mem::{align_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd};

use libc::{c_char, c_int};
use nix::sys::ioctl::ioctl_num_type;
use nix::{request_code_none, request_code_read, request_code_readwrite, request_code_write};

/// `DAHDI_CODE`, the ioctl "type" byte of every DAHDI request.
const DAHDI_CODE: u8 = 0xDA;

// ---------------------------------------------------------------------------------------------
// Struct mirrors
// ---------------------------------------------------------------------------------------------

/// Mirror of `struct dahdi_params` (GET_PARAMS / SET_PARAMS).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct DahdiParams {
    pub(crate) channo: c_int,
    pub(crate) spanno: c_int,
    pub(crate) chanpos: c_int,
    pub(crate) sigtype: c_int,
    pub(crate) sigcap: c_int,
    pub(crate) rxisoffhook: c_int,
    pub(crate) rxbits: c_int,
    pub(crate) txbits: c_int,
    pub(crate) txhooksig: c_int,
    pub(crate) rxhooksig: c_int,
    pub(crate) curlaw: c_int,
    pub(crate) idlebits: c_int,
    pub(crate) name: [c_char; 40],
    pub(crate) prewinktime: c_int,
    pub(crate) preflashtime: c_int,
    pub(crate) winktime: c_int,
    pub(crate) flashtime: c_int,
    pub(crate) starttime: c_int,
    pub(crate) rxwinktime: c_int,
    pub(crate) rxflashtime: c_int,
    pub(crate) debouncetime: c_int,
    pub(crate) pulsebreaktime: c_int,
    pub(crate) pulsemaketime: c_int,
    pub(crate) pulseaftertime: c_int,
    pub(crate) chan_alarms: u32,
}
const _: () = assert!(size_of::<DahdiParams>() == 136);
const _: () = assert!(core::mem::offset_of!(DahdiParams, name) == 48);
const _: () = assert!(core::mem::offset_of!(DahdiParams, chan_alarms) == 132);

/// Mirror of `struct dahdi_bufferinfo` (GET_BUFINFO / SET_BUFINFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DahdiBufferInfo {
    pub(crate) txbufpolicy: c_int,
    pub(crate) rxbufpolicy: c_int,
    pub(crate) numbufs: c_int,
    pub(crate) bufsize: c_int,
    pub(crate) readbufs: c_int,
    pub(crate) writebufs: c_int,
}
const _: () = assert!(size_of::<DahdiBufferInfo>() == 24);

/// Mirror of `struct dahdi_confinfo` (GETCONF / SETCONF / CONFLINK).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DahdiConfInfo {
    pub(crate) chan: c_int,
    pub(crate) confno: c_int,
    pub(crate) confmode: c_int,
}
const _: () = assert!(size_of::<DahdiConfInfo>() == 12);

/// Mirror of `struct dahdi_spaninfo` (SPANSTAT). Packed in the header, so packed here.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) struct DahdiSpanInfo {
    pub(crate) spanno: c_int,
    pub(crate) name: [c_char; 20],
    pub(crate) desc: [c_char; 40],
    pub(crate) alarms: c_int,
    pub(crate) txlevel: c_int,
    pub(crate) rxlevel: c_int,
    pub(crate) bpvcount: c_int,
    pub(crate) crc4count: c_int,
    pub(crate) ebitcount: c_int,
    pub(crate) fascount: c_int,
    pub(crate) fecount: u32,
    pub(crate) cvcount: u32,
    pub(crate) becount: u32,
    pub(crate) prbs: u32,
    pub(crate) errsec: u32,
    pub(crate) irqmisses: c_int,
    pub(crate) syncsrc: c_int,
    pub(crate) numchans: c_int,
    pub(crate) totalchans: c_int,
    pub(crate) totalspans: c_int,
    pub(crate) lbo: c_int,
    pub(crate) lineconfig: c_int,
    pub(crate) lboname: [c_char; 40],
    pub(crate) location: [c_char; 40],
    pub(crate) manufacturer: [c_char; 40],
    pub(crate) devicetype: [c_char; 40],
    pub(crate) irq: c_int,
    pub(crate) linecompat: c_int,
    pub(crate) spantype: [c_char; 6],
}
const _: () = assert!(size_of::<DahdiSpanInfo>() == 314);
const _: () = assert!(align_of::<DahdiSpanInfo>() == 1);
const _: () = assert!(core::mem::offset_of!(DahdiSpanInfo, fecount) == 92);
const _: () = assert!(core::mem::offset_of!(DahdiSpanInfo, irqmisses) == 112);
const _: () = assert!(core::mem::offset_of!(DahdiSpanInfo, lboname) == 140);
const _: () = assert!(core::mem::offset_of!(DahdiSpanInfo, spantype) == 308);

impl DahdiSpanInfo {
    pub(crate) const fn zeroed() -> Self {
        Self {
            spanno: 0,
            name: [0; 20],
            desc: [0; 40],
            alarms: 0,
            txlevel: 0,
            rxlevel: 0,
            bpvcount: 0,
            crc4count: 0,
            ebitcount: 0,
            fascount: 0,
            fecount: 0,
            cvcount: 0,
            becount: 0,
            prbs: 0,
            errsec: 0,
            irqmisses: 0,
            syncsrc: 0,
            numchans: 0,
            totalchans: 0,
            totalspans: 0,
            lbo: 0,
            lineconfig: 0,
            lboname: [0; 40],
            location: [0; 40],
            manufacturer: [0; 40],
            devicetype: [0; 40],
            irq: 0,
            linecompat: 0,
            spantype: [0; 6],
        }
    }
}

impl DahdiParams {
    pub(crate) const fn zeroed() -> Self {
        Self {
            channo: 0,
            spanno: 0,
            chanpos: 0,
            sigtype: 0,
            sigcap: 0,
            rxisoffhook: 0,
            rxbits: 0,
            txbits: 0,
            txhooksig: 0,
            rxhooksig: 0,
            curlaw: 0,
            idlebits: 0,
            name: [0; 40],
            prewinktime: 0,
            preflashtime: 0,
            winktime: 0,
            flashtime: 0,
            starttime: 0,
            rxwinktime: 0,
            rxflashtime: 0,
            debouncetime: 0,
            pulsebreaktime: 0,
            pulsemaketime: 0,
            pulseaftertime: 0,
            chan_alarms: 0,
        }
    }
}

/// Mirror of `struct dahdi_versioninfo` (GETVERSION).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct DahdiVersionInfo {
    pub(crate) version: [c_char; 80],
    pub(crate) echo_canceller: [c_char; 80],
}
const _: () = assert!(size_of::<DahdiVersionInfo>() == 160);

/// Mirror of `struct dahdi_dialoperation` (DIAL).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct DahdiDialOperation {
    pub(crate) op: c_int,
    pub(crate) dialstr: [c_char; DAHDI_MAX_DTMF_BUF],
}
const _: () = assert!(size_of::<DahdiDialOperation>() == 260);

/// `DAHDI_MAX_DTMF_BUF`: size of the dial string buffer, NUL included.
pub(crate) const DAHDI_MAX_DTMF_BUF: usize = 256;

/// Mirror of `struct dahdi_gains` (GETGAINS / SETGAINS).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct DahdiGains {
    pub(crate) chan: c_int,
    pub(crate) rxgain: [u8; 256],
    pub(crate) txgain: [u8; 256],
}
const _: () = assert!(size_of::<DahdiGains>() == 516);

/// Mirror of `struct dahdi_echocanparams` (the header ECHOCANCEL_PARAMS's size is taken from).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DahdiEchoCanParams {
    pub(crate) tap_length: u32,
    pub(crate) param_count: u32,
}
const _: () = assert!(size_of::<DahdiEchoCanParams>() == 8);

/// Mirror of `struct dahdi_echocanparam`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DahdiEchoCanParam {
    pub(crate) name: [c_char; 16],
    pub(crate) value: i32,
}
const _: () = assert!(size_of::<DahdiEchoCanParam>() == 20);

/// `DAHDI_MAX_ECHOCANPARAMS`.
pub(crate) const DAHDI_MAX_ECHOCANPARAMS: usize = 8;

/// What ECHOCANCEL_PARAMS really reads: the header followed by `param_count` parameters
/// (the kernel copies up to `DAHDI_MAX_ECHOCANPARAMS` of them from right after the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EchoCanBlock {
    pub(crate) header: DahdiEchoCanParams,
    pub(crate) params: [DahdiEchoCanParam; DAHDI_MAX_ECHOCANPARAMS],
}
const _: () = assert!(size_of::<EchoCanBlock>() == 8 + 8 * 20);

// ---------------------------------------------------------------------------------------------
// Request numbers (x86_64 values in the tests below and in docs/dahdi-abi.md)
// ---------------------------------------------------------------------------------------------

type Req = ioctl_num_type;
const INT: usize = size_of::<c_int>();

pub(crate) const GET_BLOCKSIZE: Req = request_code_read!(DAHDI_CODE, 1, INT);
pub(crate) const SET_BLOCKSIZE: Req = request_code_write!(DAHDI_CODE, 1, INT);
pub(crate) const FLUSH: Req = request_code_write!(DAHDI_CODE, 3, INT);
pub(crate) const GET_PARAMS: Req = request_code_readwrite!(DAHDI_CODE, 5, size_of::<DahdiParams>());
pub(crate) const HOOK: Req = request_code_write!(DAHDI_CODE, 7, INT);
pub(crate) const GETEVENT: Req = request_code_read!(DAHDI_CODE, 8, INT);
pub(crate) const IOMUX: Req = request_code_readwrite!(DAHDI_CODE, 9, INT);
pub(crate) const SPANSTAT: Req =
    request_code_readwrite!(DAHDI_CODE, 10, size_of::<DahdiSpanInfo>());
pub(crate) const GETCONF: Req = request_code_readwrite!(DAHDI_CODE, 12, size_of::<DahdiConfInfo>());
pub(crate) const SETCONF: Req = request_code_readwrite!(DAHDI_CODE, 13, size_of::<DahdiConfInfo>());
pub(crate) const CONFLINK: Req = request_code_write!(DAHDI_CODE, 14, size_of::<DahdiConfInfo>());
pub(crate) const GETGAINS: Req = request_code_readwrite!(DAHDI_CODE, 16, size_of::<DahdiGains>());
pub(crate) const SETGAINS: Req = request_code_write!(DAHDI_CODE, 16, size_of::<DahdiGains>());
pub(crate) const SENDTONE: Req = request_code_write!(DAHDI_CODE, 21, INT);
pub(crate) const GET_BUFINFO: Req =
    request_code_read!(DAHDI_CODE, 27, size_of::<DahdiBufferInfo>());
pub(crate) const SET_BUFINFO: Req =
    request_code_write!(DAHDI_CODE, 27, size_of::<DahdiBufferInfo>());
pub(crate) const DIAL: Req = request_code_write!(DAHDI_CODE, 31, size_of::<DahdiDialOperation>());
pub(crate) const ECHOCANCEL_PARAMS: Req =
    request_code_write!(DAHDI_CODE, 33, size_of::<DahdiEchoCanParams>());
pub(crate) const DIALING: Req = request_code_read!(DAHDI_CODE, 35, INT);
pub(crate) const SPECIFY: Req = request_code_write!(DAHDI_CODE, 38, INT);
pub(crate) const SETLAW: Req = request_code_write!(DAHDI_CODE, 39, INT);
pub(crate) const SETLINEAR: Req = request_code_write!(DAHDI_CODE, 40, INT);
pub(crate) const TIMERCONFIG: Req = request_code_write!(DAHDI_CODE, 47, INT);
pub(crate) const TIMERACK: Req = request_code_write!(DAHDI_CODE, 48, INT);
pub(crate) const TIMERPING: Req = request_code_none!(DAHDI_CODE, 52);
pub(crate) const TIMERPONG: Req = request_code_none!(DAHDI_CODE, 53);
pub(crate) const GETVERSION: Req =
    request_code_read!(DAHDI_CODE, 57, size_of::<DahdiVersionInfo>());
pub(crate) const BUFFER_EVENTS: Req = request_code_write!(DAHDI_CODE, 105, INT);

/// The raw `unsafe fn`s, generated by nix from the request numbers above (so the functions
/// and the golden tests use the same numbers).
mod raw {
    #![allow(unreachable_pub)]
    use super::*;

    nix::ioctl_read_bad!(get_blocksize, GET_BLOCKSIZE, c_int);
    nix::ioctl_write_ptr_bad!(set_blocksize, SET_BLOCKSIZE, c_int);
    nix::ioctl_write_ptr_bad!(flush, FLUSH, c_int);
    nix::ioctl_readwrite_bad!(get_params, GET_PARAMS, DahdiParams);
    nix::ioctl_write_ptr_bad!(hook, HOOK, c_int);
    nix::ioctl_read_bad!(getevent, GETEVENT, c_int);
    nix::ioctl_readwrite_bad!(iomux, IOMUX, c_int);
    nix::ioctl_readwrite_bad!(spanstat, SPANSTAT, DahdiSpanInfo);
    nix::ioctl_readwrite_bad!(getconf, GETCONF, DahdiConfInfo);
    nix::ioctl_readwrite_bad!(setconf, SETCONF, DahdiConfInfo);
    nix::ioctl_write_ptr_bad!(conflink, CONFLINK, DahdiConfInfo);
    nix::ioctl_readwrite_bad!(getgains, GETGAINS, DahdiGains);
    nix::ioctl_write_ptr_bad!(setgains, SETGAINS, DahdiGains);
    nix::ioctl_write_ptr_bad!(sendtone, SENDTONE, c_int);
    nix::ioctl_read_bad!(get_bufinfo, GET_BUFINFO, DahdiBufferInfo);
    nix::ioctl_write_ptr_bad!(set_bufinfo, SET_BUFINFO, DahdiBufferInfo);
    nix::ioctl_write_ptr_bad!(dial, DIAL, DahdiDialOperation);
    nix::ioctl_write_ptr_bad!(echocancel_params, ECHOCANCEL_PARAMS, EchoCanBlock);
    nix::ioctl_read_bad!(dialing, DIALING, c_int);
    nix::ioctl_write_ptr_bad!(specify, SPECIFY, c_int);
    nix::ioctl_write_ptr_bad!(setlaw, SETLAW, c_int);
    nix::ioctl_write_ptr_bad!(setlinear, SETLINEAR, c_int);
    nix::ioctl_write_ptr_bad!(timerconfig, TIMERCONFIG, c_int);
    nix::ioctl_write_ptr_bad!(timerack, TIMERACK, c_int);
    nix::ioctl_none_bad!(timerping, TIMERPING);
    nix::ioctl_none_bad!(timerpong, TIMERPONG);
    nix::ioctl_read_bad!(getversion, GETVERSION, DahdiVersionInfo);
    nix::ioctl_write_ptr_bad!(buffer_events, BUFFER_EVENTS, c_int);
}

// ---------------------------------------------------------------------------------------------
// Safe wrappers. Each borrows the fd (so it stays open for the call) and passes a pointer to a
// live, correctly sized local or caller-owned value of exactly the type the request number
// encodes, which is what the kernel copies in or out.
// ---------------------------------------------------------------------------------------------

/// Writes one `int` through a pointer (DAHDI's `get_user` convention).
macro_rules! int_in {
    ($(#[$m:meta])* $name:ident => $raw:ident) => {
        $(#[$m])*
        pub(crate) fn $name(fd: BorrowedFd<'_>, value: c_int) -> nix::Result<()> {
            // SAFETY: `fd` is borrowed for the call; the request encodes `int` and the
            // kernel reads exactly one `int` from the pointer, which points at `value`.
            unsafe { raw::$raw(fd.as_raw_fd(), &value) }.map(drop)
        }
    };
}

/// Reads one `int` from the kernel.
macro_rules! int_out {
    ($(#[$m:meta])* $name:ident => $raw:ident) => {
        $(#[$m])*
        pub(crate) fn $name(fd: BorrowedFd<'_>) -> nix::Result<c_int> {
            let mut value: c_int = 0;
            // SAFETY: `fd` is borrowed for the call; the request encodes `int` and the
            // kernel writes exactly one `int` to the pointer, which points at `value`.
            unsafe { raw::$raw(fd.as_raw_fd(), &mut value) }?;
            Ok(value)
        }
    };
}

int_out!(
    /// Wraps `DAHDI_GET_BLOCKSIZE`.
    get_blocksize => get_blocksize
);
int_in!(
    /// Wraps `DAHDI_SET_BLOCKSIZE` (samples per read/write).
    set_blocksize => set_blocksize
);
int_in!(
    /// Wraps `DAHDI_FLUSH` (`DAHDI_FLUSH_*` bits).
    flush => flush
);
int_in!(
    /// Wraps `DAHDI_HOOK` (`DAHDI_ONHOOK` ... `DAHDI_RINGOFF`).
    hook => hook
);
int_out!(
    /// Wraps `DAHDI_GETEVENT`; 0 is `DAHDI_EVENT_NONE`.
    getevent => getevent
);
int_in!(
    /// Wraps `DAHDI_SENDTONE` (`DAHDI_TONE_*`, -1 stops).
    sendtone => sendtone
);
int_out!(
    /// Wraps `DAHDI_DIALING` (1 while a dial string is being sent).
    dialing => dialing
);
int_in!(
    /// Wraps `DAHDI_SPECIFY`: binds a `/dev/dahdi/channel` fd to a channel number.
    specify => specify
);
int_in!(
    /// Wraps `DAHDI_SETLAW` (`DAHDI_LAW_*`).
    setlaw => setlaw
);
int_in!(
    /// Wraps `DAHDI_SETLINEAR` (1: reads/writes are 16-bit linear).
    setlinear => setlinear
);
int_in!(
    /// Wraps `DAHDI_TIMERCONFIG` (period in samples).
    timerconfig => timerconfig
);
int_in!(
    /// Wraps `DAHDI_TIMERACK` (how many expiries to acknowledge).
    timerack => timerack
);
int_in!(
    /// Wraps `DAHDI_BUFFER_EVENTS` (1: report READ_OVERRUN/WRITE_UNDERRUN).
    buffer_events => buffer_events
);

/// Wraps `DAHDI_IOMUX`: waits for the conditions in `mask`, returns the ones that hold.
pub(crate) fn iomux(fd: BorrowedFd<'_>, mask: c_int) -> nix::Result<c_int> {
    let mut value = mask;
    // SAFETY: `fd` is borrowed for the call; the request encodes `int` and the kernel reads
    // and writes one `int` through the pointer, which points at `value`.
    unsafe { raw::iomux(fd.as_raw_fd(), &mut value) }?;
    Ok(value)
}

/// Wraps `DAHDI_GET_PARAMS`.
pub(crate) fn get_params(fd: BorrowedFd<'_>) -> nix::Result<DahdiParams> {
    let mut p = DahdiParams::zeroed();
    // SAFETY: `fd` is borrowed for the call; `p` is a live `DahdiParams`, whose size (136,
    // asserted above) is the one the request encodes, so the kernel copies within it.
    unsafe { raw::get_params(fd.as_raw_fd(), &mut p) }?;
    Ok(p)
}

/// Wraps `DAHDI_SPANSTAT` for span `spanno`.
pub(crate) fn spanstat(fd: BorrowedFd<'_>, spanno: c_int) -> nix::Result<DahdiSpanInfo> {
    let mut s = DahdiSpanInfo::zeroed();
    s.spanno = spanno;
    // SAFETY: `fd` is borrowed for the call; `s` is a live packed `DahdiSpanInfo` of the
    // 314 bytes the request encodes; the kernel copies it in and out with copy_*_user, which
    // has no alignment requirement.
    unsafe { raw::spanstat(fd.as_raw_fd(), &mut s) }?;
    Ok(s)
}

/// Wraps `DAHDI_GETCONF`.
pub(crate) fn getconf(fd: BorrowedFd<'_>, ci: &mut DahdiConfInfo) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; `ci` is an exclusive reference to a live
    // `DahdiConfInfo` of the 12 bytes the request encodes.
    unsafe { raw::getconf(fd.as_raw_fd(), ci) }.map(drop)
}

/// Wraps `DAHDI_SETCONF` (the kernel writes back the conference number it chose).
pub(crate) fn setconf(fd: BorrowedFd<'_>, ci: &mut DahdiConfInfo) -> nix::Result<()> {
    // SAFETY: as for `getconf`: a live, exclusively borrowed 12-byte `DahdiConfInfo`.
    unsafe { raw::setconf(fd.as_raw_fd(), ci) }.map(drop)
}

/// Wraps `DAHDI_CONFLINK`.
pub(crate) fn conflink(fd: BorrowedFd<'_>, ci: &DahdiConfInfo) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the kernel only reads the 12-byte
    // `DahdiConfInfo` behind the shared reference.
    unsafe { raw::conflink(fd.as_raw_fd(), ci) }.map(drop)
}

/// Wraps `DAHDI_GETGAINS` (channel 0: the fd's own channel).
pub(crate) fn getgains(fd: BorrowedFd<'_>) -> nix::Result<DahdiGains> {
    let mut g = DahdiGains {
        chan: 0,
        rxgain: [0; 256],
        txgain: [0; 256],
    };
    // SAFETY: `fd` is borrowed for the call; `g` is a live 516-byte `DahdiGains`, the size
    // the request encodes.
    unsafe { raw::getgains(fd.as_raw_fd(), &mut g) }?;
    Ok(g)
}

/// Wraps `DAHDI_SETGAINS`.
pub(crate) fn setgains(fd: BorrowedFd<'_>, g: &DahdiGains) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the kernel only reads the 516-byte `DahdiGains`
    // behind the shared reference.
    unsafe { raw::setgains(fd.as_raw_fd(), g) }.map(drop)
}

/// Wraps `DAHDI_GET_BUFINFO`.
pub(crate) fn get_bufinfo(fd: BorrowedFd<'_>) -> nix::Result<DahdiBufferInfo> {
    let mut b = DahdiBufferInfo::default();
    // SAFETY: `fd` is borrowed for the call; `b` is a live 24-byte `DahdiBufferInfo`, the
    // size the request encodes.
    unsafe { raw::get_bufinfo(fd.as_raw_fd(), &mut b) }?;
    Ok(b)
}

/// Wraps `DAHDI_SET_BUFINFO`.
pub(crate) fn set_bufinfo(fd: BorrowedFd<'_>, b: &DahdiBufferInfo) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the kernel only reads the 24-byte
    // `DahdiBufferInfo` behind the shared reference.
    unsafe { raw::set_bufinfo(fd.as_raw_fd(), b) }.map(drop)
}

/// Wraps `DAHDI_DIAL`.
pub(crate) fn dial(fd: BorrowedFd<'_>, op: &DahdiDialOperation) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the kernel only reads the 260-byte
    // `DahdiDialOperation` behind the shared reference (the caller NUL-terminates `dialstr`).
    unsafe { raw::dial(fd.as_raw_fd(), op) }.map(drop)
}

/// Wraps `DAHDI_ECHOCANCEL_PARAMS` (`tap_length` 0 disables the canceller).
pub(crate) fn echocancel_params(fd: BorrowedFd<'_>, block: &EchoCanBlock) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the kernel reads the 8-byte header and then up
    // to `param_count` (at most DAHDI_MAX_ECHOCANPARAMS) parameters that follow it, all of
    // which lie inside `block`.
    unsafe { raw::echocancel_params(fd.as_raw_fd(), block) }.map(drop)
}

/// Wraps `DAHDI_TIMERPING`.
pub(crate) fn timerping(fd: BorrowedFd<'_>) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the request takes no argument.
    unsafe { raw::timerping(fd.as_raw_fd()) }.map(drop)
}

/// Wraps `DAHDI_TIMERPONG`.
pub(crate) fn timerpong(fd: BorrowedFd<'_>) -> nix::Result<()> {
    // SAFETY: `fd` is borrowed for the call; the request takes no argument.
    unsafe { raw::timerpong(fd.as_raw_fd()) }.map(drop)
}

/// Wraps `DAHDI_GETVERSION`.
pub(crate) fn getversion(fd: BorrowedFd<'_>) -> nix::Result<DahdiVersionInfo> {
    let mut v = DahdiVersionInfo {
        version: [0; 80],
        echo_canceller: [0; 80],
    };
    // SAFETY: `fd` is borrowed for the call; `v` is a live 160-byte `DahdiVersionInfo`, the
    // size the request encodes.
    unsafe { raw::getversion(fd.as_raw_fd(), &mut v) }?;
    Ok(v)
}

/// `read(2)` on a DAHDI fd, keeping the raw errno (nix has no name for DAHDI's 500).
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, c_int> {
    // SAFETY: `fd` is borrowed for the call; the kernel writes at most `buf.len()` bytes to
    // `buf`, which is an exclusively borrowed, live slice.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(last_errno())
    } else {
        Ok(n as usize)
    }
}

/// `write(2)` on a DAHDI fd, keeping the raw errno.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, c_int> {
    // SAFETY: `fd` is borrowed for the call; the kernel reads at most `buf.len()` bytes from
    // `buf`, a live slice.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(last_errno())
    } else {
        Ok(n as usize)
    }
}

/// The calling thread's errno (no allocation: an OS error is stored inline).
fn last_errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The text of a NUL-terminated C `char` array (lossy UTF-8, up to the first NUL).
pub(crate) fn c_str(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Constants from user.h
// ---------------------------------------------------------------------------------------------

/// `DAHDI_ONHOOK` ... `DAHDI_RINGOFF`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod hookval {
    pub(crate) const ONHOOK: i32 = 0;
    pub(crate) const OFFHOOK: i32 = 1;
    pub(crate) const WINK: i32 = 2;
    pub(crate) const FLASH: i32 = 3;
    pub(crate) const START: i32 = 4;
    pub(crate) const RING: i32 = 5;
    pub(crate) const RINGOFF: i32 = 6;
}

/// `DAHDI_LAW_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod law {
    pub(crate) const DEFAULT: i32 = 0;
    pub(crate) const MULAW: i32 = 1;
    pub(crate) const ALAW: i32 = 2;
}

/// `DAHDI_FLUSH_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod flushval {
    pub(crate) const READ: i32 = 1;
    pub(crate) const WRITE: i32 = 2;
    pub(crate) const EVENT: i32 = 4;
}

/// `DAHDI_POLICY_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod policy {
    pub(crate) const IMMEDIATE: i32 = 0;
    pub(crate) const WHEN_FULL: i32 = 1;
    pub(crate) const HALF_FULL: i32 = 2;
}

/// `DAHDI_DIAL_OP_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod dialop {
    pub(crate) const APPEND: i32 = 1;
    pub(crate) const REPLACE: i32 = 2;
    pub(crate) const CANCEL: i32 = 3;
}

/// `DAHDI_IOMUX_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod iomuxval {
    pub(crate) const READ: i32 = 1;
    pub(crate) const WRITE: i32 = 2;
    pub(crate) const WRITEEMPTY: i32 = 4;
    pub(crate) const SIGEVENT: i32 = 8;
    pub(crate) const NOWAIT: i32 = 0x100;
}

/// `DAHDI_TONE_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod tone {
    pub(crate) const STOP: i32 = -1;
    pub(crate) const DIALTONE: i32 = 0;
    pub(crate) const BUSY: i32 = 1;
    pub(crate) const RINGTONE: i32 = 2;
    pub(crate) const CONGESTION: i32 = 3;
    pub(crate) const CALLWAIT: i32 = 4;
    pub(crate) const DIALRECALL: i32 = 5;
    pub(crate) const RECORDTONE: i32 = 6;
    pub(crate) const INFO: i32 = 7;
    pub(crate) const STUTTER: i32 = 10;
    pub(crate) const DTMF_BASE: i32 = 64;
}

/// `DAHDI_CONF_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod conf {
    pub(crate) const NORMAL: i32 = 0;
    pub(crate) const MONITOR: i32 = 1;
    pub(crate) const MONITORTX: i32 = 2;
    pub(crate) const MONITORBOTH: i32 = 3;
    pub(crate) const CONF: i32 = 4;
    pub(crate) const CONFANN: i32 = 5;
    pub(crate) const CONFMON: i32 = 6;
    pub(crate) const CONFANNMON: i32 = 7;
    pub(crate) const REALANDPSEUDO: i32 = 8;
    pub(crate) const DIGITALMON: i32 = 9;
    pub(crate) const LISTENER: i32 = 0x100;
    pub(crate) const TALKER: i32 = 0x200;
}

/// `DAHDI_SIG_*` (the ones we name).
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod sig {
    pub(crate) const NONE: i32 = 0;
    pub(crate) const FXSLS: i32 = 0x2001;
    pub(crate) const FXSGS: i32 = 0x2002;
    pub(crate) const FXSKS: i32 = 0x2004;
    pub(crate) const FXOLS: i32 = 0x1008;
    pub(crate) const FXOGS: i32 = 0x1010;
    pub(crate) const FXOKS: i32 = 0x1020;
    pub(crate) const EM: i32 = 0x40;
    pub(crate) const CLEAR: i32 = 0x80;
    pub(crate) const HDLCRAW: i32 = 0x180;
    pub(crate) const HDLCFCS: i32 = 0x380;
    pub(crate) const HDLCNET: i32 = 0x780;
    pub(crate) const SLAVE: i32 = 0x800;
    pub(crate) const SF: i32 = 0x4000;
    pub(crate) const CAS: i32 = 0x8000;
    pub(crate) const DACS: i32 = 0x10080;
    pub(crate) const EM_E1: i32 = 0x20000;
    pub(crate) const DACS_RBS: i32 = 0x50000;
    pub(crate) const HARDHDLC: i32 = 0x80080;
    pub(crate) const MTP2: i32 = 0x100380;
    /// `__DAHDI_SIG_FXO` / `__DAHDI_SIG_FXS` class bits.
    pub(crate) const FXO_CLASS: i32 = 1 << 12;
    pub(crate) const FXS_CLASS: i32 = 1 << 13;
}

/// `DAHDI_EVENT_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod event {
    pub(crate) const NONE: i32 = 0;
    pub(crate) const ONHOOK: i32 = 1;
    pub(crate) const RINGOFFHOOK: i32 = 2;
    pub(crate) const WINKFLASH: i32 = 3;
    pub(crate) const ALARM: i32 = 4;
    pub(crate) const NOALARM: i32 = 5;
    pub(crate) const ABORT: i32 = 6;
    pub(crate) const OVERRUN: i32 = 7;
    pub(crate) const BADFCS: i32 = 8;
    pub(crate) const DIALCOMPLETE: i32 = 9;
    pub(crate) const RINGERON: i32 = 10;
    pub(crate) const RINGEROFF: i32 = 11;
    pub(crate) const HOOKCOMPLETE: i32 = 12;
    pub(crate) const BITSCHANGED: i32 = 13;
    pub(crate) const PULSE_START: i32 = 14;
    pub(crate) const TIMER_EXPIRED: i32 = 15;
    pub(crate) const TIMER_PING: i32 = 16;
    pub(crate) const POLARITY: i32 = 17;
    pub(crate) const RINGBEGIN: i32 = 18;
    pub(crate) const EC_DISABLED: i32 = 19;
    pub(crate) const REMOVED: i32 = 20;
    pub(crate) const NEONMWI_ACTIVE: i32 = 21;
    pub(crate) const NEONMWI_INACTIVE: i32 = 22;
    pub(crate) const TX_CED_DETECTED: i32 = 23;
    pub(crate) const RX_CED_DETECTED: i32 = 24;
    pub(crate) const TX_CNG_DETECTED: i32 = 25;
    pub(crate) const RX_CNG_DETECTED: i32 = 26;
    pub(crate) const EC_NLP_DISABLED: i32 = 27;
    pub(crate) const EC_NLP_ENABLED: i32 = 28;
    pub(crate) const READ_OVERRUN: i32 = 29;
    pub(crate) const WRITE_UNDERRUN: i32 = 30;
    pub(crate) const PULSEDIGIT: i32 = 1 << 16;
    pub(crate) const DTMFDOWN: i32 = 1 << 17;
    pub(crate) const DTMFUP: i32 = 1 << 18;
}

/// `DAHDI_ALARM_*`.
#[cfg_attr(not(test), allow(dead_code))] // the full table is checked in the tests
pub(crate) mod alarm {
    pub(crate) const RECOVER: u32 = 1;
    pub(crate) const LOOPBACK: u32 = 2;
    pub(crate) const YELLOW: u32 = 4;
    pub(crate) const RED: u32 = 8;
    pub(crate) const BLUE: u32 = 16;
    pub(crate) const NOTOPEN: u32 = 32;
    pub(crate) const LOS: u32 = 256;
    pub(crate) const LFA: u32 = 512;
    pub(crate) const LMFA: u32 = 1024;
}

/// errno DAHDI returns from read()/write() while a signalling event is pending (`ELAST`).
pub(crate) const ELAST: i32 = 500;

/// Every request number and constant by its C name, for the golden tests and for the
/// comparison with a dump compiled from the real header.
#[cfg(test)]
pub(crate) fn abi_table() -> Vec<(&'static str, i64)> {
    let mut t: Vec<(&'static str, i64)> = vec![
        ("DAHDI_GET_BLOCKSIZE", GET_BLOCKSIZE as i64),
        ("DAHDI_SET_BLOCKSIZE", SET_BLOCKSIZE as i64),
        ("DAHDI_FLUSH", FLUSH as i64),
        ("DAHDI_GET_PARAMS", GET_PARAMS as i64),
        ("DAHDI_HOOK", HOOK as i64),
        ("DAHDI_GETEVENT", GETEVENT as i64),
        ("DAHDI_IOMUX", IOMUX as i64),
        ("DAHDI_SPANSTAT", SPANSTAT as i64),
        ("DAHDI_GETCONF", GETCONF as i64),
        ("DAHDI_SETCONF", SETCONF as i64),
        ("DAHDI_CONFLINK", CONFLINK as i64),
        ("DAHDI_GETGAINS", GETGAINS as i64),
        ("DAHDI_SETGAINS", SETGAINS as i64),
        ("DAHDI_SENDTONE", SENDTONE as i64),
        ("DAHDI_GET_BUFINFO", GET_BUFINFO as i64),
        ("DAHDI_SET_BUFINFO", SET_BUFINFO as i64),
        ("DAHDI_DIAL", DIAL as i64),
        ("DAHDI_ECHOCANCEL_PARAMS", ECHOCANCEL_PARAMS as i64),
        ("DAHDI_DIALING", DIALING as i64),
        ("DAHDI_SPECIFY", SPECIFY as i64),
        ("DAHDI_SETLAW", SETLAW as i64),
        ("DAHDI_SETLINEAR", SETLINEAR as i64),
        ("DAHDI_TIMERCONFIG", TIMERCONFIG as i64),
        ("DAHDI_TIMERACK", TIMERACK as i64),
        ("DAHDI_TIMERPING", TIMERPING as i64),
        ("DAHDI_TIMERPONG", TIMERPONG as i64),
        ("DAHDI_GETVERSION", GETVERSION as i64),
        ("DAHDI_BUFFER_EVENTS", BUFFER_EVENTS as i64),
        (
            "sizeof(struct dahdi_params)",
            size_of::<DahdiParams>() as i64,
        ),
        (
            "sizeof(struct dahdi_bufferinfo)",
            size_of::<DahdiBufferInfo>() as i64,
        ),
        (
            "sizeof(struct dahdi_confinfo)",
            size_of::<DahdiConfInfo>() as i64,
        ),
        (
            "sizeof(struct dahdi_spaninfo)",
            size_of::<DahdiSpanInfo>() as i64,
        ),
        (
            "sizeof(struct dahdi_versioninfo)",
            size_of::<DahdiVersionInfo>() as i64,
        ),
        (
            "sizeof(struct dahdi_dialoperation)",
            size_of::<DahdiDialOperation>() as i64,
        ),
        ("sizeof(struct dahdi_gains)", size_of::<DahdiGains>() as i64),
        (
            "sizeof(struct dahdi_echocanparams)",
            size_of::<DahdiEchoCanParams>() as i64,
        ),
        (
            "sizeof(struct dahdi_echocanparam)",
            size_of::<DahdiEchoCanParam>() as i64,
        ),
        ("DAHDI_ONHOOK", hookval::ONHOOK.into()),
        ("DAHDI_OFFHOOK", hookval::OFFHOOK.into()),
        ("DAHDI_WINK", hookval::WINK.into()),
        ("DAHDI_FLASH", hookval::FLASH.into()),
        ("DAHDI_START", hookval::START.into()),
        ("DAHDI_RING", hookval::RING.into()),
        ("DAHDI_RINGOFF", hookval::RINGOFF.into()),
        ("DAHDI_LAW_DEFAULT", law::DEFAULT.into()),
        ("DAHDI_LAW_MULAW", law::MULAW.into()),
        ("DAHDI_LAW_ALAW", law::ALAW.into()),
        ("DAHDI_FLUSH_READ", flushval::READ.into()),
        ("DAHDI_FLUSH_WRITE", flushval::WRITE.into()),
        ("DAHDI_FLUSH_EVENT", flushval::EVENT.into()),
        ("DAHDI_POLICY_IMMEDIATE", policy::IMMEDIATE.into()),
        ("DAHDI_POLICY_WHEN_FULL", policy::WHEN_FULL.into()),
        ("DAHDI_POLICY_HALF_FULL", policy::HALF_FULL.into()),
        ("DAHDI_DIAL_OP_APPEND", dialop::APPEND.into()),
        ("DAHDI_DIAL_OP_REPLACE", dialop::REPLACE.into()),
        ("DAHDI_DIAL_OP_CANCEL", dialop::CANCEL.into()),
        ("DAHDI_IOMUX_READ", iomuxval::READ.into()),
        ("DAHDI_IOMUX_WRITE", iomuxval::WRITE.into()),
        ("DAHDI_IOMUX_WRITEEMPTY", iomuxval::WRITEEMPTY.into()),
        ("DAHDI_IOMUX_SIGEVENT", iomuxval::SIGEVENT.into()),
        ("DAHDI_IOMUX_NOWAIT", iomuxval::NOWAIT.into()),
        ("DAHDI_TONE_STOP", tone::STOP.into()),
        ("DAHDI_TONE_DIALTONE", tone::DIALTONE.into()),
        ("DAHDI_TONE_BUSY", tone::BUSY.into()),
        ("DAHDI_TONE_RINGTONE", tone::RINGTONE.into()),
        ("DAHDI_TONE_CONGESTION", tone::CONGESTION.into()),
        ("DAHDI_TONE_CALLWAIT", tone::CALLWAIT.into()),
        ("DAHDI_TONE_DIALRECALL", tone::DIALRECALL.into()),
        ("DAHDI_TONE_RECORDTONE", tone::RECORDTONE.into()),
        ("DAHDI_TONE_INFO", tone::INFO.into()),
        ("DAHDI_TONE_STUTTER", tone::STUTTER.into()),
        ("DAHDI_TONE_DTMF_BASE", tone::DTMF_BASE.into()),
        ("DAHDI_CONF_NORMAL", conf::NORMAL.into()),
        ("DAHDI_CONF_MONITOR", conf::MONITOR.into()),
        ("DAHDI_CONF_MONITORTX", conf::MONITORTX.into()),
        ("DAHDI_CONF_MONITORBOTH", conf::MONITORBOTH.into()),
        ("DAHDI_CONF_CONF", conf::CONF.into()),
        ("DAHDI_CONF_CONFANN", conf::CONFANN.into()),
        ("DAHDI_CONF_CONFMON", conf::CONFMON.into()),
        ("DAHDI_CONF_CONFANNMON", conf::CONFANNMON.into()),
        ("DAHDI_CONF_REALANDPSEUDO", conf::REALANDPSEUDO.into()),
        ("DAHDI_CONF_DIGITALMON", conf::DIGITALMON.into()),
        ("DAHDI_CONF_LISTENER", conf::LISTENER.into()),
        ("DAHDI_CONF_TALKER", conf::TALKER.into()),
        ("DAHDI_SIG_NONE", sig::NONE.into()),
        ("DAHDI_SIG_FXSLS", sig::FXSLS.into()),
        ("DAHDI_SIG_FXSGS", sig::FXSGS.into()),
        ("DAHDI_SIG_FXSKS", sig::FXSKS.into()),
        ("DAHDI_SIG_FXOLS", sig::FXOLS.into()),
        ("DAHDI_SIG_FXOGS", sig::FXOGS.into()),
        ("DAHDI_SIG_FXOKS", sig::FXOKS.into()),
        ("DAHDI_SIG_EM", sig::EM.into()),
        ("DAHDI_SIG_CLEAR", sig::CLEAR.into()),
        ("DAHDI_SIG_HDLCRAW", sig::HDLCRAW.into()),
        ("DAHDI_SIG_HDLCFCS", sig::HDLCFCS.into()),
        ("DAHDI_SIG_HDLCNET", sig::HDLCNET.into()),
        ("DAHDI_SIG_SLAVE", sig::SLAVE.into()),
        ("DAHDI_SIG_SF", sig::SF.into()),
        ("DAHDI_SIG_CAS", sig::CAS.into()),
        ("DAHDI_SIG_DACS", sig::DACS.into()),
        ("DAHDI_SIG_EM_E1", sig::EM_E1.into()),
        ("DAHDI_SIG_DACS_RBS", sig::DACS_RBS.into()),
        ("DAHDI_SIG_HARDHDLC", sig::HARDHDLC.into()),
        ("DAHDI_SIG_MTP2", sig::MTP2.into()),
        ("__DAHDI_SIG_FXO", sig::FXO_CLASS.into()),
        ("__DAHDI_SIG_FXS", sig::FXS_CLASS.into()),
        ("DAHDI_ALARM_RECOVER", alarm::RECOVER.into()),
        ("DAHDI_ALARM_LOOPBACK", alarm::LOOPBACK.into()),
        ("DAHDI_ALARM_YELLOW", alarm::YELLOW.into()),
        ("DAHDI_ALARM_RED", alarm::RED.into()),
        ("DAHDI_ALARM_BLUE", alarm::BLUE.into()),
        ("DAHDI_ALARM_NOTOPEN", alarm::NOTOPEN.into()),
        ("DAHDI_ALARM_LOS", alarm::LOS.into()),
        ("DAHDI_ALARM_LFA", alarm::LFA.into()),
        ("DAHDI_ALARM_LMFA", alarm::LMFA.into()),
        ("DAHDI_MAX_DTMF_BUF", DAHDI_MAX_DTMF_BUF as i64),
        ("DAHDI_MAX_ECHOCANPARAMS", DAHDI_MAX_ECHOCANPARAMS as i64),
    ];
    let events: [(&'static str, i32); 34] = [
        ("DAHDI_EVENT_NONE", event::NONE),
        ("DAHDI_EVENT_ONHOOK", event::ONHOOK),
        ("DAHDI_EVENT_RINGOFFHOOK", event::RINGOFFHOOK),
        ("DAHDI_EVENT_WINKFLASH", event::WINKFLASH),
        ("DAHDI_EVENT_ALARM", event::ALARM),
        ("DAHDI_EVENT_NOALARM", event::NOALARM),
        ("DAHDI_EVENT_ABORT", event::ABORT),
        ("DAHDI_EVENT_OVERRUN", event::OVERRUN),
        ("DAHDI_EVENT_BADFCS", event::BADFCS),
        ("DAHDI_EVENT_DIALCOMPLETE", event::DIALCOMPLETE),
        ("DAHDI_EVENT_RINGERON", event::RINGERON),
        ("DAHDI_EVENT_RINGEROFF", event::RINGEROFF),
        ("DAHDI_EVENT_HOOKCOMPLETE", event::HOOKCOMPLETE),
        ("DAHDI_EVENT_BITSCHANGED", event::BITSCHANGED),
        ("DAHDI_EVENT_PULSE_START", event::PULSE_START),
        ("DAHDI_EVENT_TIMER_EXPIRED", event::TIMER_EXPIRED),
        ("DAHDI_EVENT_TIMER_PING", event::TIMER_PING),
        ("DAHDI_EVENT_POLARITY", event::POLARITY),
        ("DAHDI_EVENT_RINGBEGIN", event::RINGBEGIN),
        ("DAHDI_EVENT_EC_DISABLED", event::EC_DISABLED),
        ("DAHDI_EVENT_REMOVED", event::REMOVED),
        ("DAHDI_EVENT_NEONMWI_ACTIVE", event::NEONMWI_ACTIVE),
        ("DAHDI_EVENT_NEONMWI_INACTIVE", event::NEONMWI_INACTIVE),
        ("DAHDI_EVENT_TX_CED_DETECTED", event::TX_CED_DETECTED),
        ("DAHDI_EVENT_RX_CED_DETECTED", event::RX_CED_DETECTED),
        ("DAHDI_EVENT_TX_CNG_DETECTED", event::TX_CNG_DETECTED),
        ("DAHDI_EVENT_RX_CNG_DETECTED", event::RX_CNG_DETECTED),
        ("DAHDI_EVENT_EC_NLP_DISABLED", event::EC_NLP_DISABLED),
        ("DAHDI_EVENT_EC_NLP_ENABLED", event::EC_NLP_ENABLED),
        ("DAHDI_EVENT_READ_OVERRUN", event::READ_OVERRUN),
        ("DAHDI_EVENT_WRITE_UNDERRUN", event::WRITE_UNDERRUN),
        ("DAHDI_EVENT_PULSEDIGIT", event::PULSEDIGIT),
        ("DAHDI_EVENT_DTMFDOWN", event::DTMFDOWN),
        ("DAHDI_EVENT_DTMFUP", event::DTMFUP),
    ];
    t.extend(events.iter().map(|&(n, v)| (n, i64::from(v))));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden request numbers: the values gcc computes from the real `user.h` of DAHDI
    /// 2.11.1 (Debian dahdi-dkms 1:2.11.1.0.20170917~dfsg-8.4) on x86_64. See
    /// docs/dahdi-abi.md.
    #[test]
    fn request_numbers_match_the_header() {
        let golden: [(Req, u32); 28] = [
            (GET_BLOCKSIZE, 0x8004_DA01),
            (SET_BLOCKSIZE, 0x4004_DA01),
            (FLUSH, 0x4004_DA03),
            (GET_PARAMS, 0xC088_DA05),
            (HOOK, 0x4004_DA07),
            (GETEVENT, 0x8004_DA08),
            (IOMUX, 0xC004_DA09),
            (SPANSTAT, 0xC13A_DA0A),
            (GETCONF, 0xC00C_DA0C),
            (SETCONF, 0xC00C_DA0D),
            (CONFLINK, 0x400C_DA0E),
            (GETGAINS, 0xC204_DA10),
            (SETGAINS, 0x4204_DA10),
            (SENDTONE, 0x4004_DA15),
            (GET_BUFINFO, 0x8018_DA1B),
            (SET_BUFINFO, 0x4018_DA1B),
            (DIAL, 0x4104_DA1F),
            (ECHOCANCEL_PARAMS, 0x4008_DA21),
            (DIALING, 0x8004_DA23),
            (SPECIFY, 0x4004_DA26),
            (SETLAW, 0x4004_DA27),
            (SETLINEAR, 0x4004_DA28),
            (TIMERCONFIG, 0x4004_DA2F),
            (TIMERACK, 0x4004_DA30),
            (TIMERPING, 0x0000_DA34),
            (TIMERPONG, 0x0000_DA35),
            (GETVERSION, 0x80A0_DA39),
            (BUFFER_EVENTS, 0x4004_DA69),
        ];
        for (i, (ours, want)) in golden.iter().enumerate() {
            assert_eq!(*ours as u32, *want, "entry {i}: {ours:#x} != {want:#x}");
        }
    }

    /// Golden struct sizes (also asserted at compile time above).
    #[test]
    fn struct_sizes_match_the_header() {
        assert_eq!(size_of::<DahdiParams>(), 136);
        assert_eq!(size_of::<DahdiBufferInfo>(), 24);
        assert_eq!(size_of::<DahdiConfInfo>(), 12);
        assert_eq!(size_of::<DahdiSpanInfo>(), 314);
        assert_eq!(size_of::<DahdiVersionInfo>(), 160);
        assert_eq!(size_of::<DahdiDialOperation>(), 260);
        assert_eq!(size_of::<DahdiGains>(), 516);
        assert_eq!(size_of::<DahdiEchoCanParams>(), 8);
        assert_eq!(size_of::<DahdiEchoCanParam>(), 20);
    }

    /// The DAHDI ioctls that share a number with another one and differ only in size or
    /// direction; the kernel switches on the full value, so these must differ.
    #[test]
    fn look_alike_requests_differ() {
        // DAHDI_ECHOCANCEL is _IOW(0xDA, 33, int): 0x4004DA21.
        assert_ne!(ECHOCANCEL_PARAMS as u32, 0x4004_DA21);
        // DAHDI_GET_PARAMS_V1 is _IOR(0xDA, 5, struct dahdi_params): 0x8088DA05.
        assert_ne!(GET_PARAMS as u32, 0x8088_DA05);
        // DAHDI_SPANSTAT_V1 is 296 bytes: 0xC128DA0A.
        assert_ne!(SPANSTAT as u32, 0xC128_DA0A);
    }

    /// When `DAHDI_ABI_DUMP` names a file of `NAME VALUE` lines printed by a program
    /// compiled against the real header (`hil-tests/vm/abi-dump.c`), every entry of ours must
    /// appear there with the same value. Skipped when the variable is unset.
    #[test]
    fn abi_matches_header_dump() {
        let Ok(path) = std::env::var("DAHDI_ABI_DUMP") else {
            println!("skipped: DAHDI_ABI_DUMP not set (the hil-vm CI step sets it)");
            return;
        };
        let text = std::fs::read_to_string(&path).expect("read DAHDI_ABI_DUMP");
        let dump: std::collections::HashMap<&str, i64> = text
            .lines()
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.trim(), value.trim().parse().ok()?))
            })
            .collect();
        let mut checked = 0;
        for (name, ours) in abi_table() {
            let theirs = dump
                .get(name)
                .unwrap_or_else(|| panic!("{name} missing from {path}"));
            assert_eq!(ours, *theirs, "{name}: ours {ours:#x}, header {theirs:#x}");
            checked += 1;
        }
        println!("{checked} values match {path}");
    }
}
