"""Why stage 2 misses an edited copy: one line per missed copy of bench/pdq_misses.py's recall run.

For each (edit, source) that stage 2 misses, where it is lost:

- ``rank``      the true item's rank by weighted votes (``-`` : no vote at all), ``votes`` its raw
                votes, ``screen`` the prescreen's inliers (``MIN_SCREEN`` to pass), ``listed``
                whether the shortlist passed it to verification;
- ``banked``    the banked item's points, ``inview`` how many of them fall in the part of the
                banked picture the query shows (under the true fit when there is one);
- ``ratio``     pairs passing the ratio test in verification, ``inl`` RANSAC's inliers, ``spread``
                / ``cells`` / ``area`` the spread rules' readings (see ``feature_index``);
- ``lost at``   the first step that fails: shortlist, ratio, ransac, spread, area.

Nothing here changes what is matched; it reads the same index the matcher holds.

Usage: python bench/pdq_misses_why.py [--bank 1000] [--edits crop-20,watermark]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import edits  # noqa: E402
from bench.pdq_misses import Bank, stages_found  # noqa: E402
from rempart.matching import feature_index as fi  # noqa: E402
from rempart.matching.matcher import query_sets as matcher_sets  # noqa: E402
from rempart.signals import fingerprint  # noqa: E402
from rempart.signals.features import Features  # noqa: E402


def query_sets(data: bytes) -> tuple[Features, Features] | None:
    """(verification points, shortlist probe) as ``Matcher._feature_candidates`` builds them."""
    fp = fingerprint(data)
    if not fp.features:
        return None
    return matcher_sets(fp.features, fp.region_features)


def ranking(index: fi.FeatureIndex, probe: Features, item: int) -> tuple[str, int, int, bool]:
    """The true item's rank by weighted votes, its votes, its prescreen score, and whether the
    shortlist keeps it (``FeatureIndex.shortlist``'s steps, read out)."""
    votes = [index._main.votes(probe, index._stale)]
    if index._delta:
        votes.append(fi._tables(list(index._delta.items())).votes(probe, set()))
    q, o, r = (np.concatenate(v) for v in zip(*votes))
    listed = item in {i for i, _ in index.shortlist(probe)}
    if not np.any(o == item):
        return "-", 0, 0, listed
    items, where, counts = np.unique(o, return_inverse=True, return_counts=True)
    weight = 1.0 / np.bincount(q)[q]
    score = np.bincount(where, weights=weight, minlength=len(items))
    order = np.lexsort((items, -score))
    k = int(np.flatnonzero(items == item)[0])
    rank = int(np.flatnonzero(order == k)[0]) + 1
    mine = o == item
    screen = fi._prescreen(index._items[item].xy[r[mine]], probe.xy[q[mine]], probe)
    return str(rank), int(counts[k]), int(screen), listed


def in_view(banked: Features, query: Features) -> int:
    """Banked points inside the part of the banked picture the query shows, under the fit of
    all ratio-test pairs (0 when there is none)."""
    rows, good = fi.pairs_of(banked, query)
    if len(good) < 4:
        return 0
    import cv2
    m, mask = cv2.estimateAffinePartial2D(banked.xy[rows], query.xy[good], method=cv2.RANSAC,
                                          ransacReprojThreshold=fi._tolerance(query))
    if m is None:
        return 0
    seen = fi._seen(m, banked, query)
    if len(seen) < 3:
        return 0
    return sum(cv2.pointPolygonTest(seen.astype(np.float32), (float(x), float(y)), False) >= 0
               for x, y in banked.xy)


def why(bank: Bank, item_entry: dict[int, int], data: bytes, item: int) -> dict:
    sets = query_sets(data)
    index = bank.matcher._features
    entry = item_entry.get(item)
    if sets is None or entry is None:
        return {"lost": "no features" if sets is None else "not banked"}
    query, probe = sets
    banked = index._items[entry]
    rank, votes, screen, listed = ranking(index, probe, entry)
    ratio = len(fi.pairs_of(banked, query)[1])
    v = fi.verify(banked, query)
    if not listed:
        lost = "shortlist"
    elif ratio < fi.MIN_INLIERS:
        lost = "ratio"
    elif v.inliers < fi.MIN_INLIERS:
        lost = "ransac"
    elif v.spread < fi.MIN_SPREAD or v.cells < fi.MIN_CELLS:
        lost = "spread"
    elif v.area < fi.MIN_AREA:
        lost = "area"
    else:
        lost = "matched?"
    return {"rank": rank, "votes": votes, "screen": screen, "listed": listed,
            "banked": len(banked), "inview": in_view(banked, query), "query": len(query),
            "ratio": ratio, "inl": v.inliers, "spread": round(v.spread, 3), "cells": v.cells,
            "area": round(v.area, 3), "lost": lost}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bank", type=int, default=1000, help="distinct banked pictures")
    ap.add_argument("--edits", default=",".join(edits.EDITS), help="comma-separated edit names")
    args = ap.parse_args()
    sources = edits.sources()
    right = edits.tiles(168, "right")
    bank = Bank()
    for i, (_, rgb) in enumerate(sources):
        bank.add(i, edits.encode(rgb, 92))
    for j, (_, rgb) in enumerate(edits.distinct_pictures(args.bank, 1, right[:len(right) // 2])):
        bank.add(len(sources) + j, edits.encode(rgb, 92))
    orb_ids = set(bank.matcher._features._items)
    item_entry = {bank.owner[e]: e for e in orb_ids}
    cols = ("rank", "votes", "screen", "listed", "banked", "inview", "query", "ratio", "inl",
            "spread", "cells", "area", "lost")
    print(f"{'edit':20s} {'source':26s} " + " ".join(f"{c:>7s}" for c in cols))
    for name in args.edits.split(","):
        for i, (src, rgb) in enumerate(sources):
            data = edits.edited(rgb, name, i)
            if i in stages_found(bank, data)["stage1+2"]:
                continue
            row = why(bank, item_entry, data, i)
            print(f"{name:20s} {src:26s} " + " ".join(f"{str(row.get(c, '')):>7s}" for c in cols))


if __name__ == "__main__":
    main()
