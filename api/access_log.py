"""uvicorn's access log prints each request's path with its query string, where a calendar feed's token travels
(`?token=`), and where a careless client may put a key (`?key=`): their values are replaced before a line is
written."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
# A query parameter, in a query alone or in a URL: what separates it, then the rest of it up to the next one.
_PARAMETER = re.compile(r"(^|[?&;])([^?&;#\s]*)")
_SECRET_NAME = re.compile(r"(token|key)", re.IGNORECASE)  # as the server reads it: percent-decoded, any case


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redacted(text: str) -> str:
    """`text` with the value of each parameter whose name, decoded as the server decodes it, begins with `token` or
    `key` replaced, however the name was spelt (`%74oken=`, `TOKEN=`, `token%3D…`, after a `;`)."""
    return _PARAMETER.sub(_redact_parameter, text)


def _redact_parameter(found: re.Match[str]) -> str:
    separator, parameter = found.groups()
    secret = _SECRET_NAME.match(unquote_plus(parameter))
    return f"{separator}{secret.group(1)}=[redacted]" if secret else found.group(0)


def redact_access_log() -> None:
    """Once per process, however many apps it makes (the logger is the process's)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
