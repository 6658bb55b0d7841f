"""Errors the store raises for the caller to turn into 404 / 409 and friends."""


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass
