"""Fingerprints of media: exact hashes, PDQ for images, per-frame PDQ for video."""

from rempart.signals.budget import MemoryBudget, return_freed_memory
from rempart.signals.compare import compare_videos
from rempart.signals.fingerprint import fingerprint, fingerprint_file, query_variants
from rempart.signals.limits import DEFAULT_LIMITS, Limits
from rempart.signals.model import VARIANT_NAMES, FrameHash, Fingerprint, VideoComparison
from rempart.signals.pdq import DEFAULT_THRESHOLD, DIHEDRAL_NAMES, LOW_QUALITY, hamming
from rempart.signals.sniff import IMAGE_FORMATS, VIDEO_FORMATS
from rempart.signals.types import (
    EXACT_TYPES,
    MD5,
    PDQ,
    SHA1,
    SHA256,
    SIGNAL_TYPES,
    SignalType,
    signal_type,
    validate_signal,
)

__all__ = [
    "EXACT_TYPES", "MD5", "PDQ", "SHA1", "SHA256", "SIGNAL_TYPES", "SignalType",
    "signal_type", "validate_signal",
    "DEFAULT_LIMITS", "DEFAULT_THRESHOLD", "DIHEDRAL_NAMES", "IMAGE_FORMATS", "LOW_QUALITY", "VARIANT_NAMES",
    "VIDEO_FORMATS", "Fingerprint", "FrameHash", "Limits", "VideoComparison",
    "compare_videos", "fingerprint", "fingerprint_file", "hamming", "query_variants",
    "MemoryBudget", "return_freed_memory",
]
