"""The daily report as an HTML page with charts (server-side CSS bars and SVG, no JavaScript).

Rendered from a report summary (``reports.report_summary``), so it shows only what the log
says; the operator side (``db.publish``) writes it as ``reports/<day>.html``. Charts: banned
items, banned spaces and decisions per day (the last days' report leaves), today's bans by
source and by category (items, spaces, accounts), the time-to-action distribution with its
median, and every decision by each leaf field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jinja2


class DayPoint(NamedTuple):
    """One day of the history charts, from that day's report leaf counts."""

    day: str
    decisions: int
    banned_items: int
    banned_spaces: int


TTA_LABELS = {"immediate": "immediate (blocked at upload)", "under_1h": "under 1 hour",
              "1h_to_24h": "1 to 24 hours", "1d_to_7d": "1 to 7 days", "over_7d": "over 7 days"}
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["tta"] = lambda name: TTA_LABELS.get(name, name)
_PAGE = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Transparency report {{ s.day }} — {{ s.origin }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%}td,th{padding:.2rem .5rem;text-align:left;vertical-align:middle}
.bar{background:#2b6cb0;height:.9rem;min-width:1px}.n{text-align:right;width:4rem}
.bar.space{background:#c05621}.bar.account{background:#6b46c1}.bar.median{background:#2f855a}
.muted{color:#666;font-size:.9rem}.key span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
svg.days{width:100%;height:8rem;border-bottom:1px solid #999}svg.days rect{fill:#2b6cb0}
svg.days.space rect{fill:#c05621}svg.days.all rect{fill:#718096}
code{font-size:.85rem;word-break:break-all}
</style></head><body>
<h1>Enforcement on {{ s.day }} (UTC)</h1>
<p><strong>{{ s.banned.content }}</strong> item(s) banned, <strong>{{ s.banned.space }}</strong> space(s)
(groups, channels) banned, <strong>{{ s.banned.account }}</strong> account(s) suspended or terminated;
median time to action: <strong id="median">{{ s.time_to_action.median|tta if s.time_to_action.median else "no bans" }}</strong>.</p>
<p><strong>{{ s.decisions }}</strong> decision(s) logged, leaves
{% if s.first is not none %}{{ s.first }}–{{ s.last }}{% else %}none{% endif %};
report leaf {{ s.leaf_index }}; previous report leaf {{ s.previous if s.previous is not none else "none" }}.
Every number on this page can be recounted from the public log.</p>
{% macro days(title, key, cls) %}{% set top = history|map(attribute=key)|max %}
<h3>{{ title }}</h3>
<svg class="days {{ cls }}" viewBox="0 0 {{ history|length * 10 }} 100" preserveAspectRatio="none" role="img" aria-label="{{ title }}">
{% for p in history %}{% set h = (100 * p[key] / top)|round(2) if top else 0 %}<rect x="{{ loop.index0 * 10 + 1 }}" y="{{ 100 - h }}" width="8" height="{{ h }}"><title>{{ p.day }}: {{ p[key] }}</title></rect>
{% endfor %}</svg>
<p class="muted">{{ history[0].day }} to {{ history[-1].day }}; highest {{ top }}</p>{% endmacro %}
{% if history %}<h2>Per day</h2>
{{ days("Banned items per day", "banned_items", "") }}
{{ days("Banned spaces per day", "banned_spaces", "space") }}
{{ days("Decisions logged per day", "decisions", "all") }}{% endif %}
{% for title, key in bans %}<h2>Bans by {{ title }}</h2>
{% set rows = s[key] %}{% set ns = namespace(top=0) %}{% for r in rows.values() %}{% for n in r.values() %}{% if n > ns.top %}{% set ns.top = n %}{% endif %}{% endfor %}{% endfor %}
<table><tr><th></th><th class="n">items</th><th></th><th class="n">spaces</th><th></th><th class="n">accounts</th><th></th></tr>
{% for name, r in rows.items() %}<tr><th>{{ name|replace("_", " ") }}</th>
{% for t, cls in (("content", ""), ("space", "space"), ("account", "account")) %}<td class="n">{{ r[t] }}</td><td><div class="bar {{ cls }}" style="width:{{ (100 * r[t] / ns.top)|round(1) if ns.top else 0 }}%"></div></td>{% endfor %}</tr>
{% else %}<tr><td>none</td></tr>{% endfor %}</table>
{% endfor %}
<h2>Time to action</h2>
<p class="muted">From when the platform learned of the content (upload, notice, flag) to the ban taking effect, for the day's bans.</p>
{% set dist = s.time_to_action.distribution %}{% set top = dist.values()|max if dist else 0 %}
<table>{% for name, n in dist.items() %}<tr><th>{{ name|tta }}{% if name == s.time_to_action.median %} (median){% endif %}</th><td class="n">{{ n }}</td>
<td><div class="bar{% if name == s.time_to_action.median %} median{% endif %}" style="width:{{ (100 * n / top)|round(1) if top else 0 }}%"></div></td></tr>{% endfor %}</table>
{% for title, key in breakdowns %}<h2>All decisions by {{ title }}</h2>
{% set rows = s["by_" ~ key] %}{% set top = rows.values()|max if rows else 0 %}
<table>{% for name, n in rows.items() %}<tr><th>{{ name|replace("_", " ") }}</th><td class="n">{{ n }}</td>
<td><div class="bar" style="width:{{ (100 * n / top)|round(1) }}%"></div></td></tr>{% else %}<tr><td>none</td></tr>{% endfor %}</table>
{% endfor %}
<h2>Verify it yourself</h2>
<p>Statements of reasons (DSA Transparency Database format): <a href="{{ s.files.statements_of_reasons }}">{{ s.files.statements_of_reasons }}</a>;
report data: <a href="{{ s.day }}.json">{{ s.day }}.json</a>.</p>
<pre>rempart verify report {{ s.day }} --log &lt;this site&gt; --vkey &lt;the log's verifier key&gt;</pre>
<p class="muted">Log {{ s.origin }}. No content, personal data or hash of any content is published:
each decision carries only categories, a day, a region, a coarse time to action and a salted commitment.</p>
</body></html>
""")

_TITLES = (("source", "source_type"), ("category", "category"), ("decision", "decision"),
           ("target", "target"), ("time to action", "time_to_action"),
           ("content type", "content_type"), ("automated detection", "automated_detection"))
_BANS = (("source", "banned_by_source_type"), ("category", "banned_by_category"))


def render_html(summary: dict, history: Sequence[DayPoint] = ()) -> str:
    """The report page; ``history`` (oldest first) feeds the per-day charts."""
    return _PAGE.render(s=summary, history=[DayPoint(*p) for p in history], bans=_BANS, breakdowns=_TITLES)
