"""A broadcast-like mono soundtrack: crowd murmur, racket hits, bounces, applause."""

from __future__ import annotations

import numpy as np


def soundtrack(rng: np.random.Generator, seconds: float, rate: int, events: list[tuple[float, str]]) -> np.ndarray:
    """Float32 samples in [-1, 1] for ``seconds`` at ``rate`` Hz; ``events`` are ``(time_s, type)``."""
    n = max(1, int(round(seconds * rate)))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = np.exp(-(((np.log(np.maximum(freqs, 1.0)) - np.log(600.0)) / 1.0) ** 2))
    murmur = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * band, n)
    murmur *= 0.03 / max(float(np.sqrt(np.mean(murmur**2))), 1e-9)
    t = np.arange(n) / rate
    out = murmur * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.28)))
    for time_s, kind in events:
        i0 = int(round(time_s * rate))
        if i0 >= n:
            continue
        if kind in ("hit", "bounce"):
            if kind == "hit":  # a sharp, higher crack
                dur, f, amp, decay = 0.08, rng.uniform(550, 900), 0.45, 0.012
            else:  # a dull thud
                dur, f, amp, decay = 0.06, rng.uniform(180, 320), 0.15, 0.02
            tt = np.arange(int(dur * rate)) / rate
            burst = amp * np.exp(-tt / decay) * (np.sin(2 * np.pi * f * tt) + 0.4 * rng.standard_normal(tt.size))
        elif kind == "rally_end":
            tt = np.arange(int(2.5 * rate)) / rate
            env = np.minimum(tt / 0.25, 1.0) * np.exp(-tt / 1.2)
            claps = rng.standard_normal(tt.size) * (rng.random(tt.size) < 0.3)
            burst = 0.18 * env * claps
        else:
            continue
        seg = burst[: n - i0]
        out[i0 : i0 + seg.size] += seg
    return np.clip(out, -1, 1).astype(np.float32)
