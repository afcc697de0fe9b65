"""Message links in the platform's own format (pure): ``[hotline] message_link`` in the settings.

A format is a URL with the placeholders ``{account}``, ``{space}`` and ``{message}`` (each at
most once, ``{message}`` required), e.g. ``https://chat.example/c/{space}/m/{message}``. A link
parses when it is exactly the format with each placeholder replaced by 1-200 characters other
than ``/``, ``?`` and ``#``; anything else is refused (a link elsewhere names nothing here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rempart.errors import InvalidInput

PLACEHOLDERS = ("account", "space", "message")
_PART = r"[^/?#\s]{1,200}"
DEFAULT_FORMAT = "https://platform.example/{space}/{message}"


@dataclass(frozen=True)
class LinkFormat:
    template: str

    def __post_init__(self) -> None:
        found = re.findall(r"\{([a-z]+)\}", self.template)
        if "message" not in found or any(f not in PLACEHOLDERS for f in found) \
                or len(set(found)) != len(found):
            raise InvalidInput("a message link format has {message} and optionally {account} "
                               "and {space}, each once, and no other placeholder")
        if not self.template.startswith(("https://", "http://")):
            raise InvalidInput("a message link format is an http(s) URL")

    @property
    def pattern(self) -> re.Pattern[str]:
        out, pos = "", 0
        for m in re.finditer(r"\{([a-z]+)\}", self.template):
            out += re.escape(self.template[pos:m.start()]) + f"(?P<{m.group(1)}>{_PART})"
            pos = m.end()
        return re.compile(out + re.escape(self.template[pos:]))

    def parse(self, link: str) -> dict[str, str]:
        """{"account"?, "space"?, "message"} of ``link``; ``InvalidInput`` if it is not one."""
        m = self.pattern.fullmatch(link.strip())
        if m is None:
            raise InvalidInput(f"not a message link of the form {self.template}")
        return {k: v for k, v in m.groupdict().items() if v}
