"""rempart: a child-safety system that a platform runs beside its own service.

Packages, lowest first (data flows up this list, imports only go down it):
signals -> matching -> banks -> scanning -> store/api/web/cli. ``transparency`` is pure and
stands alone. See ``shared/DESIGN.md`` for the whole picture.
"""

__version__ = "0.1.0"
