"""From matches to a verdict: ``block``, ``review`` or ``allow``.

- any counted match in a ``block`` bank blocks, unless its only evidence is a low-quality
  perceptual hash (quality < 50: flat or tiny pictures collide easily), which goes to review;
- otherwise any counted match (a ``review`` bank, or a low-quality block match) sends it to review;
- no counted match allows it. Safelist-cancelled matches never count.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.matching.matcher import Match


def verdict_for(matches: Iterable[Match]) -> str:
    verdict = "allow"
    for m in matches:
        if m.safelist:
            continue
        if m.action == "block" and not m.low_quality:
            return "block"
        verdict = "review"
    return verdict
