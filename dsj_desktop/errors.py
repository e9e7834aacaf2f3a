"""Errors whose message is meant for the user (Simplified Chinese)."""

from __future__ import annotations


class UserError(Exception):
    """An error with a message a bureau user can read and act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DatabaseError(UserError):
    """The database file cannot be used (newer version, not a database, ...)."""


class ValidationError(UserError):
    """A single record was refused (edit dialog, command line)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class PermissionDenied(UserError):
    """The current account may not do this."""
