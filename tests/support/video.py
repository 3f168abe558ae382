"""A real short video for the player tests, and the lines Qt Multimedia logs while it plays on a test machine.

tests/data/clip_h264.mp4 (96×72, 2 s, 3 KB — WhatsApp's own codec and container) was made once with ``ffmpeg -f lavfi
-i testsrc=size=96x72:rate=10:duration=2 -c:v libx264 -pix_fmt yuv420p -crf 38 -movflags +faststart -an
-map_metadata -1 -fflags +bitexact clip_h264.mp4`` (the test machines have no ffmpeg, and Qt's recorder did not
accept frames from Python).
"""

from __future__ import annotations

from pathlib import Path

CLIP = Path(__file__).resolve().parent.parent / "data" / "clip_h264.mp4"

# No sound server and no GPU on the test machines: Qt Multimedia says so and plays against its null audio output,
# converting frames on the CPU. Its backend also reports what it cannot load (PipeWire, VA-API) and, for bytes that
# are no video, FFmpeg's error.
VIDEO_LOG = (
    "^PulseAudioService: pa_context_connect\\(\\) failed",
    "^No audio device detected",
    "^Couldn't (load|resolve) ",
    "^Could not open media",
    "No RHI backend",
    '^"?No HW decoder found',
)


def clip() -> bytes:
    return CLIP.read_bytes()
