"""The one exception hierarchy of disclosure.

::

    DisclosureError                 base: caught at the edges (CLI, web, scheduler)
    ├── RuleViolation               input breaks a business rule; has .field and .rule
    │   ├── DeadlineError           a time-limit rule (extension too late, too long …)
    │   └── PermissionDenied        the acting user's role may not fire this trigger
    ├── TransitionNotAllowed        wraps transitions.MachineError; has .state and .trigger
    ├── ConflictError               optimistic lock lost: someone else changed the case
    ├── DatabaseBusy                another transaction holds the write lock past the timeout
    ├── DatabaseUnavailable         the database refuses or cannot be reached (connections full …)
    ├── NotFound                    unknown case / user id
    ├── NotSignedIn                 no valid session or token (HTTP 401), or a failed sign-in
    ├── MailUnavailable             the SMTP server of the daily digest refuses or is unreachable
    └── ConfigurationError          bad DISCLOSURE_* setting or calendar override file

``message`` is the user-facing Chinese text; ``rule`` is a stable English identifier
that tests, logs and APIs rely on.
"""

from __future__ import annotations


class DisclosureError(Exception):
    """Base of every error the product raises on purpose."""

    rule: str = "error"
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, str | None]:
        return {"error": self.rule, "field": self.field, "message": self.message}


class RuleViolation(DisclosureError):
    """Input that breaks a business rule, naming the field and the rule."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


class DeadlineError(RuleViolation):
    """A time-limit rule of Art. 30–35 is broken."""


class PermissionDenied(RuleViolation):
    """The acting user's role may not do this."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(field="actor", rule=rule, message=message)


class TransitionNotAllowed(DisclosureError):
    """A trigger that the case's current state does not accept."""

    rule = "transition_not_allowed"

    def __init__(self, state: str, trigger: str, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.trigger = trigger


class ConflictError(DisclosureError):
    """Another writer changed the case between our read and our write."""

    rule = "conflict"

    def __init__(
        self, message: str = "案件已被他人修改，请刷新后重试", field: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field


class DatabaseBusy(DisclosureError):
    """Another transaction held the database's write lock for longer than we wait.

    Nothing was changed and nobody else changed *this* record: unlike ``ConflictError``,
    retrying the same operation a moment later is the right answer.
    """

    rule = "database_busy"

    def __init__(self, message: str = "数据库正忙（另一操作正在写入），请稍后重试") -> None:
        super().__init__(message)


class DatabaseUnavailable(DisclosureError):
    """The database server refused the connection or cannot be reached.

    The message names the database (password hidden) and never the SQL or its parameters,
    which may hold personal data.
    """

    rule = "database_unavailable"

    def __init__(self, message: str, field: str = "DISCLOSURE_DATABASE_URL") -> None:
        super().__init__(message)
        self.field = field


class NotFound(DisclosureError):
    rule = "not_found"

    def __init__(self, field: str, message: str, rule: str = "not_found") -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


class NotSignedIn(DisclosureError):
    """No valid session or API token, or a sign-in that failed (``rule`` says which)."""

    rule = "not_signed_in"

    def __init__(self, message: str = "请先登录", rule: str = "not_signed_in") -> None:
        super().__init__(message)
        self.rule = rule


class ConfigurationError(DisclosureError):
    rule = "configuration"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MailUnavailable(DisclosureError):
    """The mail server of the daily digest could not be reached or refused the message."""

    rule = "mail_unavailable"
    field = "smtp_host"
