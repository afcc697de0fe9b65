"""The hotline: organisations (hotlines, NGOs, trusted flaggers) and the public send notices
(the API, the form at /report, fingerprints computed on the reporter's own device), get a
receipt, and hear what happened.

Pure modules: ``vocab``, ``errors``, ``notices`` (reading and checking a notice), ``links``
(message links), ``stats``. The services (``service``, ``orgs``, ``outcomes``, ``public``) take a
SQLAlchemy session and are imported from their modules; this package's ``__init__`` exports only
the vocabulary, errors and models, so that lower packages (people, tokens) can name an
organisation without importing the services.
"""

from rempart.hotline import models
from rempart.hotline.errors import InvalidNotice, TooManyNotices
from rempart.hotline.vocab import Channel, Classification, HashStatus, OrgKind, Status

__all__ = ["Channel", "Classification", "HashStatus", "InvalidNotice", "OrgKind", "Status",
           "TooManyNotices", "models"]
