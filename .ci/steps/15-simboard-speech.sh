# simboard's simulated callers speak real recorded speech: the human-voice recordings
# Debian's alsa-utils installs in /usr/share/sounds/alsa (read in place, not copied: GPL-2).
need_packages alsa-utils
export SIMBOARD_SPEECH_DIR=/usr/share/sounds/alsa
