"""rempart: a child-safety system that a platform runs beside its own service.

Packages, lowest first (data flows up this list, imports only go down it):
signals -> matching -> banks -> scanning -> store/api/web/cli. ``transparency`` stands alone:
its top-level modules are pure, its ``db`` subpackage stores and publishes the log. See ``shared/DESIGN.md`` for the whole picture.
"""

__version__ = "0.1.0"
