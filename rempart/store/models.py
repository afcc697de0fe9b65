"""Imports every domain's models so that one metadata describes the whole schema (for Alembic)."""

from rempart.api import models as _api  # noqa: F401
from rempart.banks import models as _banks  # noqa: F401
from rempart.exchanges import models as _exchanges  # noqa: F401
from rempart.hotline import models as _hotline  # noqa: F401
from rempart.legal.db import models as _legal  # noqa: F401
from rempart.moderation import models as _moderation  # noqa: F401
from rempart.scanning import models as _scanning  # noqa: F401
from rempart.transparency.db import models as _transparency  # noqa: F401
from rempart.workers import models as _workers  # noqa: F401
from rempart.store.db import Base

metadata = Base.metadata
