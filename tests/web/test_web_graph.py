"""The blast-radius picture: every entity drawn, edges between them, names escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from rempart.web.graph import MAX_NODES, blast_svg

SVG = "{http://www.w3.org/2000/svg}"


def _graph(n_accounts=2):
    nodes = [{"id": "item:1", "type": "item", "label": "item 1"}]
    edges = []
    for i in range(n_accounts):
        nodes.append({"id": f"account:a{i}", "type": "account", "label": f"a{i}", "items": 1,
                      "min_distance": i})
        edges.append({"source": "item:1", "target": f"account:a{i}", "kind": "uploaded_match",
                      "items": 1, "min_distance": i})
    nodes.append({"id": "space:<script>alert(1)</script>", "type": "space",
                  "label": "<script>alert(1)</script>", "items": 2, "min_distance": 0})
    edges.append({"source": "account:a0", "target": "space:<script>alert(1)</script>",
                  "kind": "shared_in", "items": 1})
    return {"nodes": nodes, "edges": edges}


def test_nodes_and_edges_are_drawn_and_names_escaped():
    svg = blast_svg(_graph())
    root = ET.fromstring(svg)  # well-formed XML
    assert len(root.findall(f".//{SVG}circle")) == 4
    assert len(root.findall(f".//{SVG}line")) == 3
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "d=1" in svg  # distance label on the item -> account edge


def test_large_radii_are_capped_with_a_note():
    svg = blast_svg(_graph(MAX_NODES + 5))
    root = ET.fromstring(svg)
    assert len(root.findall(f".//{SVG}circle")) == MAX_NODES
    assert "see the list" in svg
