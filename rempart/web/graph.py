"""The blast-radius picture as SVG, drawn on the server (pure: a graph dict in, markup out).

Layout: the source item in the centre, accounts on an inner ring, spaces on an outer ring, each
ring in the order given (closest first). Edges: item -> account (uploaded a match, labelled with
the distance), account -> space (shared a match there). Labels are escaped; the picture carries
only names the reviewer may already see in the list next to it.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 520
INNER, OUTER = 140, 230
MAX_NODES = 60  # beyond this the list is the view; the picture would be unreadable
COLOURS = {"item": "#b3261e", "account": "#1d4ed8", "space": "#047857"}


Point = tuple[float, float]


def _ring(ids: list[str], radius: float, cx: float, cy: float, phase: float) -> dict[str, Point]:
    n = max(len(ids), 1)
    return {nid: (cx + radius * math.cos(phase + 2 * math.pi * i / n),
                  cy + radius * math.sin(phase + 2 * math.pi * i / n)) for i, nid in enumerate(ids)}


def blast_svg(graph: dict) -> str:
    """SVG for ``BlastRadius.graph()`` (``nodes``: id/type/label, ``edges``: source/target/kind)."""
    nodes = graph.get("nodes", [])[:MAX_NODES]
    kept = {n["id"] for n in nodes}
    cx, cy = WIDTH / 2, HEIGHT / 2
    pos: dict[str, Point] = {}
    for n in nodes:
        if n["type"] == "item":
            pos[n["id"]] = (cx, cy)
    accounts = [n["id"] for n in nodes if n["type"] == "account"]
    spaces = [n["id"] for n in nodes if n["type"] == "space"]
    pos.update(_ring(accounts, INNER, cx, cy, -math.pi / 2))
    pos.update(_ring(spaces, OUTER, cx, cy, -math.pi / 3))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Blast radius graph" '
           f'class="graph">']
    for e in graph.get("edges", []):
        if e["source"] not in kept or e["target"] not in kept:
            continue
        (x1, y1), (x2, y2) = pos[e["source"]], pos[e["target"]]
        dash = ' stroke-dasharray="4 3"' if e["kind"] == "shared_in" else ""
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                   f'stroke="#888" stroke-width="1.5"{dash}/>')
        if e["kind"] == "uploaded_match":
            out.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2:.1f}" font-size="11" '
                       f'fill="#555">d={int(e.get("min_distance", 0))}</text>')
    for n in nodes:
        x, y = pos[n["id"]]
        r = 14 if n["type"] == "item" else 9
        label = escape(str(n["label"]))[:40]
        extra = f' ({int(n["items"])})' if "items" in n else ""
        out.append(f'<g class="node {escape(n["type"])}"><title>{escape(n["type"])} {label}'
                   f'{extra}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" '
                   f'fill="{COLOURS.get(n["type"], "#444")}"/>'
                   f'<text x="{x + r + 3:.1f}" y="{y + 4:.1f}" font-size="12">{label}{extra}'
                   '</text></g>')
    if len(graph.get("nodes", [])) > MAX_NODES:
        out.append(f'<text x="10" y="{HEIGHT - 10}" font-size="12">first {MAX_NODES} of '
                   f'{len(graph["nodes"])} nodes; see the list</text>')
    out.append("</svg>")
    return "".join(out)
