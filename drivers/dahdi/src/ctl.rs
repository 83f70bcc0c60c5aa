//! `/dev/dahdi/ctl`: version and span status.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use libc::c_int;

use crate::channel::open_device;
use crate::error::{Error, Result, Target};
use crate::params::Alarms;
use crate::sys;

/// The DAHDI control device, for questions about the whole system.
#[derive(Debug)]
pub struct Ctl {
    fd: OwnedFd,
}

/// The running DAHDI version (`DAHDI_GETVERSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// e.g. `2.11.1.0.20170917`.
    pub version: String,
    /// The default echo canceller, e.g. `MG2`, or empty.
    pub echo_canceller: String,
}

/// A span's status (`struct dahdi_spaninfo` from `DAHDI_SPANSTAT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanStatus {
    /// Span number.
    pub span: u32,
    /// Short name, e.g. `WCTDM/0` or `DYN/loc/1:0`.
    pub name: String,
    /// Description.
    pub description: String,
    /// Current alarms.
    pub alarms: Alarms,
    /// Configured transmit level (digital spans).
    pub tx_level: i32,
    /// Current receive level (digital spans).
    pub rx_level: i32,
    /// Bipolar violations.
    pub bpv_count: i32,
    /// CRC-4 errors (E1).
    pub crc4_count: i32,
    /// E-bit errors (E1).
    pub ebit_count: i32,
    /// Frame alignment errors.
    pub fas_count: i32,
    /// Framing errors.
    pub fe_count: u32,
    /// Coding violations.
    pub cv_count: u32,
    /// Bit errors.
    pub be_count: u32,
    /// PRBS pattern detected.
    pub prbs: u32,
    /// Errored seconds.
    pub errored_seconds: u32,
    /// Interrupts the driver missed (timing trouble).
    pub irq_misses: i32,
    /// Span this one takes its clock from; 0 for free run.
    pub sync_source: i32,
    /// Configured channels.
    pub configured_channels: u32,
    /// Channels on the span.
    pub total_channels: u32,
    /// Spans in the whole system.
    pub total_spans: u32,
    /// Line build-out.
    pub lbo: i32,
    /// Framing/coding bits.
    pub line_config: i32,
    /// Line build-out in words.
    pub lbo_name: String,
    /// Where the device sits, e.g. a PCI address.
    pub location: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// Device type.
    pub device_type: String,
    /// The device's IRQ.
    pub irq: i32,
    /// Signalling the span supports as a whole (0 for analog spans).
    pub line_compat: i32,
    /// Span type in words, e.g. `E1`, `T1`, `FXS`, `DYNAM`.
    pub span_type: String,
}

impl Ctl {
    /// Opens `/dev/dahdi/ctl`.
    ///
    /// # Errors
    /// `ENOENT`: no DAHDI on this machine.
    ///
    /// ```no_run
    /// let ctl = dahdi::Ctl::open()?;
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn open() -> Result<Self> {
        Ok(Self {
            fd: open_device("ctl", Target::Ctl)?,
        })
    }

    /// The running DAHDI version (`DAHDI_GETVERSION`).
    ///
    /// # Errors
    /// The kernel refused.
    ///
    /// ```no_run
    /// let v = dahdi::Ctl::open()?.version()?;
    /// println!("DAHDI {} (echo canceller {})", v.version, v.echo_canceller);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn version(&self) -> Result<Version> {
        let v = sys::getversion(self.fd.as_fd())
            .map_err(|e| Error::sys("DAHDI_GETVERSION", Target::Ctl, e))?;
        Ok(Version {
            version: sys::c_str(&v.version),
            echo_canceller: sys::c_str(&v.echo_canceller),
        })
    }

    /// The status of span `span` (`DAHDI_SPANSTAT`; spans start at 1).
    ///
    /// # Errors
    /// `EINVAL`: no such span.
    ///
    /// ```no_run
    /// let ctl = dahdi::Ctl::open()?;
    /// let s = ctl.span_status(1)?;
    /// println!("span 1 {} {}: {} of {} channels, alarms {}", s.name, s.span_type,
    ///          s.configured_channels, s.total_channels, s.alarms);
    /// # Ok::<(), dahdi::Error>(())
    /// ```
    pub fn span_status(&self, span: u32) -> Result<SpanStatus> {
        let target = Target::Span(span);
        let n = c_int::try_from(span).map_err(|_| Error::Invalid {
            op: "DAHDI_SPANSTAT",
            target,
            reason: "span number out of range",
        })?;
        let s = sys::spanstat(self.fd.as_fd(), n)
            .map_err(|e| Error::sys("DAHDI_SPANSTAT", target, e))?;
        // Copy the packed fields out by value before use (no references into the struct).
        let (spanno, alarms, txlevel, rxlevel) = (s.spanno, s.alarms, s.txlevel, s.rxlevel);
        let (bpv, crc4, ebit, fas) = (s.bpvcount, s.crc4count, s.ebitcount, s.fascount);
        let (fe, cv, be, prbs, errsec) = (s.fecount, s.cvcount, s.becount, s.prbs, s.errsec);
        let (irqmisses, syncsrc, numchans) = (s.irqmisses, s.syncsrc, s.numchans);
        let (totalchans, totalspans, lbo, lineconfig) =
            (s.totalchans, s.totalspans, s.lbo, s.lineconfig);
        let (irq, linecompat) = (s.irq, s.linecompat);
        let (name, desc, lboname) = (s.name, s.desc, s.lboname);
        let (location, manufacturer, devicetype, spantype) =
            (s.location, s.manufacturer, s.devicetype, s.spantype);
        Ok(SpanStatus {
            span: spanno.max(0) as u32,
            name: sys::c_str(&name),
            description: sys::c_str(&desc),
            alarms: Alarms(alarms as u32),
            tx_level: txlevel,
            rx_level: rxlevel,
            bpv_count: bpv,
            crc4_count: crc4,
            ebit_count: ebit,
            fas_count: fas,
            fe_count: fe,
            cv_count: cv,
            be_count: be,
            prbs,
            errored_seconds: errsec,
            irq_misses: irqmisses,
            sync_source: syncsrc,
            configured_channels: numchans.max(0) as u32,
            total_channels: totalchans.max(0) as u32,
            total_spans: totalspans.max(0) as u32,
            lbo,
            line_config: lineconfig,
            lbo_name: sys::c_str(&lboname),
            location: sys::c_str(&location),
            manufacturer: sys::c_str(&manufacturer),
            device_type: sys::c_str(&devicetype),
            irq,
            line_compat: linecompat,
            span_type: sys::c_str(&spantype),
        })
    }
}

impl AsFd for Ctl {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Ctl {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
