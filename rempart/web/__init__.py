"""The moderation console: server-rendered pages for reviewers, leads and admins.

``create_console(runtime)`` builds the console app; ``rempart.api.app.create_app`` mounts it at
``MOUNT_PATH``. Pages are Jinja2 templates with a little plain JavaScript of our own
(``static/console.js``: keyboard shortcuts, the statement-of-reasons preview); there is no
front-end build and no third-party script. Security lives in ``security`` (sessions, access
dependencies, CSRF); the pages call the moderation, people and audit services, which check
every permission again.
"""

from rempart.web.app import MOUNT_PATH, create_console

__all__ = ["MOUNT_PATH", "create_console"]
