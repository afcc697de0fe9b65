"""Video decoding with PyAV, sampled as vPDQ does: the only module that imports PyAV.

Sampling (Meta's vPDQ, ``vpdq/cpp/hashing/filehasher.cpp``): frames are numbered in decode output
order from 0; with ``fps`` the stream's average frame rate (else its base rate), frame ``n`` is
sampled when ``n % max(1, int(seconds_per_hash * fps)) == 0`` and stamped ``t = n / fps``. Each
sampled frame is converted to full-resolution RGB24 (libswscale), which vPDQ hashes with PDQ.
The per-frame hashes agree with Meta's within a few bits (colour-conversion rounding differs).
As in vPDQ, a container's display rotation (phone videos) is not applied: the stored frames are
hashed, and the dihedral query variants cover rotated copies.

Safety:
- the demuxer is forced from the sniffed format ("mov" for MP4/MOV, "matroska" for WebM), so
  FFmpeg never probes for playlist or image-sequence demuxers that could open other files;
- "pixels" is checked from the stream's declared size before decoding and on every sampled frame;
- "seconds": the declared duration before decoding, then every decoded frame's ``t``;
- "decode_seconds" after every decoded frame;
- "memory": ``video_cost`` (the decoder's frames, the RGB copy and PDQ's buffers of one sampled
  frame, from the declared size and pixel format) is reserved from the decode budget before
  the first frame is decoded. The decoder is told to refuse frames larger than the declared
  size (FFmpeg's ``max_pixels``, with room for its alignment padding), so a stream cannot grow
  past what was paid for; such a frame ends the video as damaged. Frame threading (one more
  frame per thread) is used only for frames up to ``FRAME_THREADING_PIXELS``; larger ones are
  decoded with slice threads.
A decoding error after at least one sampled frame ends the video early and sets
``VideoInfo.partial`` (a damaged copy of a known video should still match); before any sampled
frame, the file is ``CorruptMedia``. Every PyAV/FFmpeg error is translated here.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from rempart.errors import CorruptMedia, MediaLimitExceeded, RempartError, UnsupportedMedia
from rempart.signals.budget import UNLIMITED, MemoryBudget
from rempart.signals.limits import Deadline, Limits
from rempart.signals.pdq import HASH_BYTES_PER_PIXEL

_DEMUXER = {"mp4": "mov", "mov": "mov", "webm": "matroska"}
#: frames a decoder may hold besides the one being decoded: the largest decoded picture buffer
#: of H.264 / HEVC (16 frames), the frame being output and two of FFmpeg's own
_DECODER_FRAMES = 16 + 4
#: rows and columns FFmpeg may add to a frame's buffers for alignment and edges
_PADDING = 128
_MIN_DECODER_PIXELS = 1 << 20
#: decoding threads; frame threading holds one more frame per thread, so it is kept for frames
#: up to 4K UHD, where it pays
THREADS = max(1, min(4, os.cpu_count() or 1))
FRAME_THREADING_PIXELS = 3840 * 2160
_FIXED_COST = 16 << 20


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration: float | None  # declared, seconds
    partial: bool  # decoding stopped early on a damaged stream


def decode_video(
    data: bytes,
    fmt: str,
    limits: Limits,
    deadline: Deadline,
    on_frame: Callable[[int, float, np.ndarray], None],
    *,
    seconds_per_hash: float = 1.0,
    budget: MemoryBudget = UNLIMITED,
) -> VideoInfo:
    """Decode the video in ``data`` and call ``on_frame(frame_number, t, rgb)`` for each sampled frame.

    Returns the stream's ``VideoInfo``. Raises ``CorruptMedia``, ``UnsupportedMedia`` (no video
    stream), ``MediaLimitExceeded`` or, from ``budget``, ``Overloaded``; never a PyAV error.
    Errors raised by ``on_frame`` pass through.
    """
    demuxer = _DEMUXER.get(fmt)
    if demuxer is None:
        raise UnsupportedMedia(f"not a video format: {fmt}")
    try:
        container = av.open(io.BytesIO(data), mode="r", format=demuxer, metadata_errors="ignore")
    except Exception as exc:  # FFmpeg errors, and anything else PyAV raises on hostile bytes
        raise CorruptMedia(f"{fmt} does not open: {type(exc).__name__}: {exc}") from None
    with container:
        return _decode(container, fmt, limits, deadline, on_frame, seconds_per_hash, budget)


def video_cost(width: int, height: int, pixel_format: str | None, *, frame_threads: int = 0) -> int:
    """An upper bound of the bytes decoding and hashing one sampled frame holds at once.

    The decoder's frames (``_DECODER_FRAMES``, plus one per frame thread), each at most
    ``decoder_pixels`` in the stream's pixel format (8 bytes per pixel when unknown), the RGB
    copy (3 bytes per pixel) and PDQ's buffers.
    """
    frames = _DECODER_FRAMES + frame_threads
    frame = int(decoder_pixels(width, height) * _bytes_per_pixel(width, height, pixel_format))
    return frame * frames + width * height * (3 + HASH_BYTES_PER_PIXEL) + _FIXED_COST


def decoder_pixels(width: int, height: int) -> int:
    """FFmpeg's ``max_pixels`` for a stream declaring ``width x height``: room for alignment and
    edges, and for the fixed-size scratch pictures some decoders (MPEG-4 part 2) check too."""
    return max((width + _PADDING) * (height + _PADDING), _MIN_DECODER_PIXELS)


def _bytes_per_pixel(width: int, height: int, pixel_format: str | None) -> float:
    try:
        fmt = av.VideoFormat(pixel_format, width, height)
        total = sum(c.width * c.height * -(-c.bits // 8) for c in fmt.components)
        return total / max(1, width * height)
    except Exception:  # unknown or missing format: assume the widest common one
        return 8.0


def _decode(
    container: av.container.InputContainer,
    fmt: str,
    limits: Limits,
    deadline: Deadline,
    on_frame: Callable[[int, float, np.ndarray], None],
    seconds_per_hash: float,
    budget: MemoryBudget,
) -> VideoInfo:
    """Check the declared limits and cost, then decode the first video stream."""
    stream, width, height, duration, fps = _video_stream(container, fmt)
    limits.check_pixels(width, height)
    if duration is not None and duration > limits.max_video_seconds:
        raise MediaLimitExceeded("seconds", round(duration, 3), limits.max_video_seconds)
    frame_threads = _set_up_decoder(stream, width, height)
    cost = video_cost(width, height, _pixel_format(stream), frame_threads=frame_threads)
    with budget.reserve(cost):
        return _sampled(container, stream, fmt, (width, height, duration, fps), limits, deadline,
                        on_frame, seconds_per_hash)


def _sampled(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    fmt: str,
    declared: tuple[int, int, float | None, float],
    limits: Limits,
    deadline: Deadline,
    on_frame: Callable[[int, float, np.ndarray], None],
    seconds_per_hash: float,
) -> VideoInfo:
    """Decode ``stream``, sampling as vPDQ does (see the module docstring); ``declared`` is the
    stream's (width, height, duration, fps)."""
    width, height, duration, fps = declared
    frame_mod = max(1, int(seconds_per_hash * fps))
    sampled, partial = 0, False
    frames = container.decode(stream)
    number = 0
    while True:
        try:
            frame = next(frames, None)
        except RempartError:
            raise
        except Exception as exc:  # a damaged packet: keep what was decoded, if anything
            if sampled == 0:
                raise CorruptMedia(f"{fmt} does not decode: {type(exc).__name__}: {exc}") from None
            partial = True
            break
        if frame is None:
            break
        deadline.check()
        t = number / fps
        if t > limits.max_video_seconds:
            raise MediaLimitExceeded("seconds", round(t, 3), limits.max_video_seconds)
        if number % frame_mod == 0:
            limits.check_pixels(frame.width, frame.height)
            on_frame(number, t, _to_rgb(frame, fmt))
            sampled += 1
        number += 1
    if sampled == 0:
        raise CorruptMedia(f"{fmt} video has no decodable frame")
    return VideoInfo(width, height, fps, duration, partial)


def _video_stream(container: av.container.InputContainer, fmt: str):
    """The first video stream, its declared width, height, duration and frame rate.

    Raises ``UnsupportedMedia`` when there is no video stream, ``CorruptMedia`` when it has no
    decoder or no frame rate, or when PyAV fails on the damaged headers.
    """
    if not container.streams.video:
        raise UnsupportedMedia(f"{fmt} file has no video stream")
    try:
        stream = container.streams.video[0]
        codec = stream.codec_context
        if codec is None:
            raise CorruptMedia(f"{fmt} video stream has no decoder")
        fps = _frame_rate(stream)
        if fps is None:
            raise CorruptMedia(f"{fmt} video stream has no frame rate")
        return stream, codec.width, codec.height, _declared_duration(container, stream), fps
    except RempartError:
        raise
    except Exception as exc:  # PyAV on damaged stream headers
        raise CorruptMedia(f"{fmt} stream is unreadable: {type(exc).__name__}: {exc}") from None


def _set_up_decoder(stream: av.video.stream.VideoStream, width: int, height: int) -> int:
    """Threads, and no frame larger than declared; returns how many threads hold a frame each."""
    frame_threading = width * height <= FRAME_THREADING_PIXELS
    try:
        codec = stream.codec_context
        codec.thread_count = THREADS
        stream.thread_type = "AUTO" if frame_threading else "SLICE"
        codec.options = {**codec.options, "max_pixels": str(decoder_pixels(width, height))}
    except Exception as exc:  # PyAV on a context it cannot set up
        raise CorruptMedia(f"video decoder cannot be set up: {type(exc).__name__}") from None
    return THREADS if frame_threading else 0


def _pixel_format(stream: av.video.stream.VideoStream) -> str | None:
    """The stream's declared pixel format; None when PyAV cannot tell (the cost assumes the
    widest)."""
    try:
        fmt = stream.codec_context.format
    except Exception:  # PyAV on a damaged stream header
        return None
    return fmt.name if fmt is not None else None


def _to_rgb(frame: av.VideoFrame, fmt: str) -> np.ndarray:
    try:
        return frame.to_ndarray(format="rgb24")
    except Exception as exc:
        raise CorruptMedia(f"{fmt} frame does not convert: {type(exc).__name__}: {exc}") from None


def _frame_rate(stream: av.video.stream.VideoStream) -> float | None:
    """vPDQ's choice: the average frame rate, else the base (r_frame_rate) one; None if neither."""
    for rate in (stream.average_rate, stream.base_rate):
        if isinstance(rate, Fraction) and rate > 0:
            return float(rate)
    return None


def _declared_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float | None:
    """The stream's duration, else the container's, in seconds; None when neither is declared."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None
