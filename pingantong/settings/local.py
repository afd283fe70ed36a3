"""Development and embedded default: `make run` on a laptop or a single district server."""

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = True
ALLOWED_HOSTS = ["*"]


def _local_secret() -> str:
    # A per-checkout secret, made once, so that sessions survive restarts without a committed key.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _local_secret()
PINGANTONG_FIELD_KEY = SECRET_KEY
