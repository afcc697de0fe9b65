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
- "decode_seconds" after every decoded frame.
A decoding error after at least one sampled frame ends the video early and sets
``VideoInfo.partial`` (a damaged copy of a known video should still match); before any sampled
frame, the file is ``CorruptMedia``. Every PyAV/FFmpeg error is translated here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from rempart.errors import CorruptMedia, MediaLimitExceeded, RempartError, UnsupportedMedia
from rempart.signals.limits import Deadline, Limits

_DEMUXER = {"mp4": "mov", "mov": "mov", "webm": "matroska"}


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
) -> VideoInfo:
    """Decode the video in ``data`` and call ``on_frame(frame_number, t, rgb)`` for each sampled frame.

    Returns the stream's ``VideoInfo``. Raises ``CorruptMedia``, ``UnsupportedMedia`` (no video
    stream) or ``MediaLimitExceeded``; never a PyAV error. Errors raised by ``on_frame`` pass through.
    """
    demuxer = _DEMUXER.get(fmt)
    if demuxer is None:
        raise UnsupportedMedia(f"not a video format: {fmt!r}")
    try:
        container = av.open(io.BytesIO(data), mode="r", format=demuxer, metadata_errors="ignore")
    except Exception as exc:  # FFmpeg errors, and anything else PyAV raises on hostile bytes
        raise CorruptMedia(f"{fmt} does not open: {type(exc).__name__}: {exc}") from None
    with container:
        return _decode(container, fmt, limits, deadline, on_frame, seconds_per_hash)


def _decode(
    container: av.container.InputContainer,
    fmt: str,
    limits: Limits,
    deadline: Deadline,
    on_frame: Callable[[int, float, np.ndarray], None],
    seconds_per_hash: float,
) -> VideoInfo:
    """Check the declared limits, then decode the first video stream (see ``decode_video``)."""
    stream, width, height, duration, fps = _video_stream(container, fmt)
    limits.check_pixels(width, height)
    if duration is not None and duration > limits.max_video_seconds:
        raise MediaLimitExceeded("seconds", round(duration, 3), limits.max_video_seconds)
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
        stream.thread_type = "AUTO"
        return stream, codec.width, codec.height, _declared_duration(container, stream), fps
    except RempartError:
        raise
    except Exception as exc:  # PyAV on damaged stream headers
        raise CorruptMedia(f"{fmt} stream is unreadable: {type(exc).__name__}: {exc}") from None


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
