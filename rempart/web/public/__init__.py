"""The public's pages on ``rempart serve``: ``/report`` (the form, no JavaScript needed),
``/report/hash`` (pictures hashed on the reporter's own device: only hashes are sent) and
``/report/status`` (follow a report with its receipt code). ``create_public(runtime)`` builds the
app that ``rempart.api.app.create_app`` mounts at ``PUBLIC_PATH``."""

from rempart.web.public.app import PUBLIC_PATH, create_public

__all__ = ["PUBLIC_PATH", "create_public"]
