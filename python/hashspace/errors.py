"""Exceptions of the hashspace binding, one per family of hs_err codes.

Every exception raised for a C error code is a HashspaceError (so one
`except hashspace.HashspaceError` catches them all) and also the built-in
exception a Python programmer would expect (ValueError for a bad weight,
KeyError for a member that is not there, ...). The message is hs_strerror()'s
sentence, with what was being done in front of it.
"""

from . import _lib


class HashspaceError(Exception):
    """Base of every error reported by libhashspace. `code` is the negative
    hs_err value and `name` its constant's name without prefix."""

    code = None
    name = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code
        self.name = _lib.hs_err_name(code).decode() if code is not None else None


class UnknownNameError(HashspaceError, LookupError):
    """An unknown hash function or placement method."""


class MemberNotFoundError(HashspaceError, KeyError):
    """No member of that name."""

    def __str__(self):  # KeyError would print the repr of the message
        return self.args[0]


class MemberExistsError(HashspaceError, ValueError):
    """A member added twice."""


class EmptyError(HashspaceError, IndexError):
    """A lookup with no members."""


class InvalidError(HashspaceError, ValueError):
    """An argument the library refuses: a bad weight, name or key, a value out
    of range, an unsupported operation."""


class OverloadError(HashspaceError, RuntimeError):
    """Every candidate member is at its load bound."""


_BY_NAME = {
    "UNKNOWN_HASH": UnknownNameError,
    "UNKNOWN_PLACEMENT": UnknownNameError,
    "NOTFOUND": MemberNotFoundError,
    "EXISTS": MemberExistsError,
    "EMPTY": EmptyError,
    "INVAL": InvalidError,
    "WEIGHT": InvalidError,
    "NAME": InvalidError,
    "KEY": InvalidError,
    "RANGE": InvalidError,
    "UNSUPPORTED": InvalidError,
    "OVERLOAD": OverloadError,
}


def error(code, what=None):
    """The exception for hs_err `code`; `what` says what was being done."""
    name = _lib.hs_err_name(code).decode()
    message = _lib.hs_strerror(code).decode()
    if what:
        message = "%s: %s" % (what, message)
    if name == "NOMEM":
        return MemoryError(message)
    return _BY_NAME.get(name, HashspaceError)(message, code)


def check(code, what=None):
    """Raise the exception for a non-zero hs_err code."""
    if code != 0:
        raise error(code, what)
