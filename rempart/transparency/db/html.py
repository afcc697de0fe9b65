"""The daily report as an HTML page with CSS bar charts (server-side, no JavaScript).

Rendered from a report summary (``reports.report_summary``), so it shows only what the log
says; the operator side (``db.publish``) writes it as ``reports/<day>.html``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2

_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Transparency report {{ s.day }} — {{ s.origin }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{padding:.2rem .5rem;text-align:left;vertical-align:middle}
.bar{background:#2b6cb0;height:.9rem;min-width:1px}.n{text-align:right;width:4rem}
.hist{display:flex;align-items:flex-end;gap:2px;height:8rem;border-bottom:1px solid #999}
.hist div{background:#2b6cb0;flex:1;min-height:1px}.muted{color:#666;font-size:.9rem}
code{font-size:.85rem;word-break:break-all}
</style></head><body>
<h1>Enforcement on {{ s.day }} (UTC)</h1>
<p><strong>{{ s.decisions }}</strong> decision(s) logged, leaves
{% if s.first is not none %}{{ s.first }}–{{ s.last }}{% else %}none{% endif %};
report leaf {{ s.leaf_index }}; previous report leaf {{ s.previous if s.previous is not none else "none" }}.
Every number on this page can be recounted from the public log.</p>
{% if history %}<h2>Decisions per day</h2>
<div class="hist">{% for day, n in history %}<div title="{{ day }}: {{ n }}" style="height:{{ (100 * n / hmax)|round(1) if hmax else 0 }}%"></div>{% endfor %}</div>
<p class="muted">{{ history[0][0] }} to {{ history[-1][0] }}</p>{% endif %}
{% for title, key in breakdowns %}<h2>By {{ title }}</h2>
{% set rows = s["by_" ~ key] %}{% set top = rows.values()|max if rows else 0 %}
<table>{% for name, n in rows.items() %}<tr><th>{{ name|replace("_", " ") }}</th><td class="n">{{ n }}</td>
<td><div class="bar" style="width:{{ (100 * n / top)|round(1) }}%"></div></td></tr>{% else %}<tr><td>none</td></tr>{% endfor %}</table>
{% endfor %}
<h2>Verify it yourself</h2>
<p>Statements of reasons (DSA Transparency Database format): <a href="{{ s.files.statements_of_reasons }}">{{ s.files.statements_of_reasons }}</a>;
report data: <a href="{{ s.day }}.json">{{ s.day }}.json</a>.</p>
<pre>rempart verify report {{ s.day }} --log &lt;this site&gt; --vkey &lt;the log's verifier key&gt;</pre>
<p class="muted">Log {{ s.origin }}. No content, personal data or hash of any content is published:
each decision carries only categories, a day, a region and a salted commitment.</p>
</body></html>
""")

_TITLES = (("source", "source_type"), ("category", "category"), ("decision", "decision"),
           ("content type", "content_type"), ("automated detection", "automated_detection"))


def render_html(summary: dict, history: Sequence[tuple[str, int]] = ()) -> str:
    """The report page: breakdowns as CSS bars, and decisions per day for ``history`` (day, total)."""
    hmax = max((n for _, n in history), default=0)
    return _PAGE.render(s=summary, history=list(history), hmax=hmax, breakdowns=_TITLES)
