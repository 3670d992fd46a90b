"""One tree of errors for the whole program.

Everything the program raises on purpose derives from :class:`MeasuresError`; the CLI,
(later) the web page and the API catch that one class and show ``str(error)`` to the
person, so each message must say what was wrong and what was expected::

    MeasuresError
    ├── ConfigError            config.toml or an environment variable is wrong
    ├── WorkflowError          a workflows/*.toml definition is broken
    ├── DatabaseError          the database cannot be used (missing schema, too new, ...)
    ├── InputError             a user-supplied file (people CSV, plan CSV) has a bad row
    ├── NotFound (LookupError) a task, person or plan id that does not exist
    │                          («задача 5 не найдена»: engine.core.words names the kind)
    ├── TransitionRefused      an event cannot be fired by this person now
    │   ├── Conflict           somebody else changed the task first
    │   └── GateClosed         administrative measures refused: help has not failed
    └── MailError              (notifications.mailers) a message could not be delivered
        ├── TransientMailError     retry later: connection, timeout, 4xx
        └── PermanentMailError     give up: 5xx, refused recipient

Database and driver errors are translated at the boundary (``raise ... from None``) so
no SQLAlchemy traceback reaches a person.
"""

from __future__ import annotations


class MeasuresError(Exception):
    """Base of every error the program raises deliberately."""


class ConfigError(MeasuresError):
    """The configuration is malformed; the message names the file and the key."""


class WorkflowError(MeasuresError):
    """A workflow definition is refused; the message names the file, line and key."""


class DatabaseError(MeasuresError):
    """The database is missing, outdated or newer than this program."""


class InputError(MeasuresError):
    """A user-supplied file has a problem; the message names file, line and field."""


class NotFound(MeasuresError, LookupError):
    """An id given by the user does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        from engine.core.words import not_found

        super().__init__(not_found(kind, ident))
        self.kind = kind
        self.ident = ident


class TransitionRefused(MeasuresError):
    """An event was refused; ``str()`` is the reason shown to the person."""


class Conflict(TransitionRefused):
    """The task changed between reading and writing: exactly one of two actors wins."""


class GateClosed(TransitionRefused):
    """Administrative measures refused for a school (engine.cases.gate); ``reasons`` are
    the Russian sentences, ``str()`` all of them in one message."""

    def __init__(self, school: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(
            f"Меры административного воздействия для школы «{school}» открыть нельзя — "
            "сначала адресная помощь, меры воздействия только если она не дала позитивного "
            "сдвига. Причины: " + "; ".join(reasons) + "."
        )
