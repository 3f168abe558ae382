"""A real, tiny OGG/Opus file made in memory in pure Python (no encoder on the test machines): Opus's 3-byte silent
CELT frame (``f8 ff fe``, 20 ms, 48 kHz mono) in Ogg pages with correct checksums and granule positions, so FFmpeg
(Qt Multimedia's backend) demuxes, decodes and plays it like a WhatsApp voice note."""

from __future__ import annotations

import struct

SILENT_FRAME = b"\xf8\xff\xfe"  # TOC: CELT-only, fullband, 20 ms, mono, one frame
PRE_SKIP = 312


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def _page(packets: list[bytes], granule: int, serial: int, seq: int, flags: int) -> bytes:
    lacing: list[int] = []
    for packet in packets:
        lacing += [255] * (len(packet) // 255) + [len(packet) % 255]
    head = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, serial, seq, 0, len(lacing)) + bytes(lacing)
    body = b"".join(packets)
    return head[:22] + struct.pack("<I", ogg_crc(head + body)) + head[26:] + body


def silent_ogg_opus(seconds: float = 1.0, serial: int = 0x5EED) -> bytes:
    """``seconds`` of silence as an OGG/Opus file (bytes)."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRE_SKIP, 48000, 0, 0)
    vendor = b"parley-tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_page([head], 0, serial, 0, 0x02), _page([tags], 0, serial, 1, 0)]
    frames, done, seq = round(seconds * 50), 0, 2
    while done < frames:
        n = min(50, frames - done)
        done += n
        pages.append(_page([SILENT_FRAME] * n, PRE_SKIP + done * 960, serial, seq, 0x04 if done == frames else 0))
        seq += 1
    return b"".join(pages)
