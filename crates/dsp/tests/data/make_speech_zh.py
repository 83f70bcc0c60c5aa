#!/usr/bin/env python3
"""Rebuilds speech_zh_recorded.wav and speech_zh_voicebank.wav (see README.md).

Inputs, unpacked with `dpkg-deb -x` from Debian 12 (bookworm) main:
  gcin-voice 0~20170223-3              -> GCIN   = .../usr/share/gcin-voice/ogg
  tuxpaint-stamps-default 2022.06.04-1 -> TUXNUM = .../usr/share/tuxpaint/stamps/symbols/math
Needs sox, numpy and pypinyin (only to spell the phrases in zhuyin; gcin-voice files are
named by zhuyin syllable and tone).

    python3 make_speech_zh.py GCIN TUXNUM OUTDIR
"""
import os
import subprocess
import sys

import numpy as np
from pypinyin import Style, pinyin

GCIN, TUXNUM, OUT = sys.argv[1:4]
SR = 8000
PHRASES = {
    # gcin-voice `*/3.ogg`: recorded male speaker.
    "3": [
        "您好，欢迎致电客服中心。",
        "请输入您的订单号码，然后按井号键。",
        "查询物流信息请按一，退货退款请按二，转人工服务请按零。",
        "我想问一下我昨天买的衣服什么时候到。",
    ],
    # gcin-voice `*/5.ogg`: female voicebank rendered by a singing synthesiser.
    "5": [
        "您的订单已经发货，预计三天内送达。",
        "我的手机号码是一三八零零一二三四五六七。",
        "好的，谢谢你，麻烦你帮我查一下。",
        "感谢您的来电，再见。",
        "欧洲的订单请按三。",
    ],
}
# gcin-voice directory suffix per zhuyin tone mark (first tone: none, neutral: 1).
TONE = {"ˊ": "2", "ˇ": "3", "ˋ": "4", "˙": "1"}
XF = 80  # 10 ms cross-fade between the syllables of a phrase


def load(path):
    raw = subprocess.run(
        ["sox", path, "-t", "raw", "-r", str(SR), "-e", "floating-point", "-b", "32",
         "-c", "1", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(float)


def trim(x, thr_db=-40):
    """Cuts the silence around a syllable (10 ms energy below -40 dB of its peak)."""
    e = np.convolve(x * x, np.ones(80) / 80, "same")
    idx = np.where(e > e.max() * 10 ** (thr_db / 10))[0]
    return x[max(idx[0] - 40, 0):idx[-1] + 40]


def build(voice):
    out = []

    def join(seg):
        if out and len(out[-1]) > XF and out[-1][-XF:].any():
            r = np.linspace(0, 1, XF)
            prev = out[-1]
            out[-1] = np.concatenate([prev[:-XF], prev[-XF:] * (1 - r) + seg[:XF] * r, seg[XF:]])
        else:
            out.append(seg)

    for phrase in PHRASES[voice]:
        for (s,) in pinyin(phrase, style=Style.BOPOMOFO, errors="ignore"):
            tone = ""
            if s[-1] in TONE:
                s, tone = s[:-1], TONE[s[-1]]
            path = f"{GCIN}/{s}{tone}/{voice}.ogg"
            if not os.path.exists(path):
                sys.exit(f"missing {path}")
            join(trim(load(path)))
        out.append(np.zeros(int(SR * 0.35)))
    if voice == "3":
        # Tux Paint's recorded numbers 0-9 (Taiwan Mandarin), as a caller reads digits.
        for d in range(10):
            out.append(trim(load(f"{TUXNUM}/{d}_zh_tw.ogg")))
            out.append(np.zeros(int(SR * 0.15)))
    y = np.concatenate(out)
    return y / np.abs(y).max() * 10 ** (-6 / 20)  # peaks at -6 dBFS


for voice, name, db in [("3", "speech_zh_recorded.wav", 0.0),
                        ("5", "speech_zh_voicebank.wav", -4.5)]:
    y = build(voice)
    subprocess.run(
        ["sox", "-D", "-t", "raw", "-r", str(SR), "-e", "floating-point", "-b", "32", "-c", "1",
         "-", "-e", "a-law", "-b", "8", os.path.join(OUT, name), "vol", f"{db}dB"],
        input=np.clip(y, -1, 1).astype("<f4").tobytes(), check=True)
