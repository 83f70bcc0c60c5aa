//! `ivrd audio-check`: placeholder replaced below.
