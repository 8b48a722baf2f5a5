"""Local/demo settings: the embedded default (SQLite, tasks in process) unless env says otherwise."""

from .base import *  # noqa: F403
from .base import SECRET_KEY as _SECRET_KEY
from retailai.core.env import env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed, clearly non-production key is acceptable only for local runs; production refuses it.
SECRET_KEY = _SECRET_KEY or "local-development-only-not-a-secret"
