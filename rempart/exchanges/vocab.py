"""The closed vocabulary of exchanges (pure)."""

from __future__ import annotations

import re

#: the kinds of source a bank can be synced from
KINDS = ("ncmec", "threatexchange", "stopncii", "rempart")
#: what an upstream record asks: add (or update: the same, counted apart) or delete (withdrawn)
OPS = ("add", "update", "delete")
#: a reviewer's opinion sent back to an exchange
OPINIONS = ("confirmed", "false_positive")
#: the kinds whose protocol takes feedback (ThreatExchange reactions, NCMEC feedback, StopNCII)
FEEDBACK_KINDS = ("ncmec", "threatexchange", "stopncii")
#: the transparency log's ``source_type`` of an automatic block on an exchange's entry
SOURCE_TYPES = {kind: f"shared_list_{kind}" for kind in KINDS}
NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")
