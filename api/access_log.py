"""uvicorn's access log prints each request's path with its query string, where a calendar feed's token travels
(`?token=`), and where a careless client may put a key (`?key=`): their values are replaced before a line is
written."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PARAMETER = re.compile(r"((?:^|[?&])(?:token|key)=)[^&#\s]*", re.IGNORECASE)  # a query alone, or a URL


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redacted(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1[redacted]", text)


def redact_access_log() -> None:
    """Once per process, however many apps it makes (the logger is the process's)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
