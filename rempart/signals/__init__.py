"""Fingerprints of media: exact hashes, PDQ for images, per-frame PDQ for video."""

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
]
