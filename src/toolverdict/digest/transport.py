"""Deliver one message and say precisely what happened to it.

Django's SMTP backend reports success or an exception, but not *where* a failure
happened, and that is what decides whether a retry can duplicate a message. This thin
SMTP client over smtplib separates three outcomes:

- TransientError: the server said 4xx, or the connection failed before the message
  was complete. Nothing was delivered; retrying is safe.
- PermanentError: the server refused the recipient or the message with 5xx. Nothing was
  delivered; retrying is pointless (the subscriber is marked bounced).
- AmbiguousError: the whole message, terminator included, went out but no reply came
  back. The server may have accepted it. It must not be retried automatically.

Non-SMTP backends (the .eml file outbox, Django's locmem backend in tests) go through
Django's connection API; their writes are atomic, so any failure there is transient.
"""

from __future__ import annotations

import re
import smtplib
import ssl

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class SendError(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(SendError):
    """Not delivered; safe to retry later."""


class ConnectionFailed(TransientError):
    """Could not reach or log in to the mail server; nothing was attempted."""


class PermanentError(SendError):
    """Not delivered and never will be: the recipient (or message) was refused with 5xx."""


class SenderRefused(SendError):
    """The server refuses our envelope sender: a configuration problem, stop the run."""


class AmbiguousError(SendError):
    """The message may have been accepted; it must not be sent again automatically."""


def _classify(code: int, text: str, *, what: str) -> SendError:
    detail = f"{what}: {code} {text}"[:480]
    if 500 <= code < 600:
        return PermanentError(detail, code)
    return TransientError(detail, code)


def _smtp_data(payload: bytes) -> bytes:
    # RFC 5321 4.5.2 dot-stuffing and CRLF line ends, then the terminating "." line.
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", payload)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpTransport:
    """One SMTP connection, reused across messages and reopened after a failure."""

    def __init__(self) -> None:
        self.host = settings.EMAIL_HOST
        self.port = int(settings.EMAIL_PORT)
        self.username = settings.EMAIL_HOST_USER
        self.password = settings.EMAIL_HOST_PASSWORD
        self.use_tls = settings.EMAIL_USE_TLS
        self.use_ssl = settings.EMAIL_USE_SSL
        self.timeout = settings.EMAIL_TIMEOUT
        self.conn: smtplib.SMTP | None = None

    def open(self) -> None:
        if self.conn is not None:
            return
        try:
            if self.use_ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.use_tls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password)
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self.conn = conn

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.quit()
        except (smtplib.SMTPException, OSError):
            self.conn.close()
        self.conn = None

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def _reset(self) -> None:
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def prepare(self, message: EmailMessage) -> tuple[str, list[str], bytes]:
        """Envelope and bytes, computed before anything is claimed or sent: a message that
        cannot be serialised fails here, while its delivery row is still pending."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in message.recipients()]
        return sender, recipients, message.message().as_bytes(linesep="\r\n")

    def send(self, message: EmailMessage) -> None:
        self.send_prepared(self.prepare(message))

    def send_prepared(self, prepared: tuple[str, list[str], bytes]) -> None:
        sender, recipients, payload = prepared
        self.open()
        conn = self.conn
        try:
            code, text = conn.mail(sender)
            if code != 250:
                self._reset()
                if 500 <= code < 600:
                    raise SenderRefused(f"MAIL FROM: {code} {text!r}"[:480], code)
                raise _classify(code, repr(text), what="MAIL FROM")
            for rcpt in recipients:
                code, text = conn.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset()
                    raise _classify(code, repr(text), what="RCPT TO")
            code, text = conn.docmd("DATA")
            if code != 354:
                self._reset()
                raise _classify(code, repr(text), what="DATA")
            # Until the terminator is fully written the server must discard the message.
            conn.send(_smtp_data(payload))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientError(f"connection lost before the message was complete: {exc}") from exc
        try:
            code, text = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise AmbiguousError(f"no reply after the message was sent: {exc}") from exc
        if code != 250:
            raise _classify(code, repr(text), what="end of DATA")


class BackendTransport:
    """Any other Django mail backend (file outbox, locmem): atomic, so failures are transient."""

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)

    def open(self) -> None:
        try:
            self.connection.open()
        except Exception as exc:  # noqa: BLE001 - any backend failure to open is transient
            raise ConnectionFailed(str(exc)[:480]) from exc

    def close(self) -> None:
        self.connection.close()

    def prepare(self, message: EmailMessage) -> EmailMessage:
        message.message()  # serialisation errors surface before the row is claimed
        return message

    def send(self, message: EmailMessage) -> None:
        self.send_prepared(self.prepare(message))

    def send_prepared(self, message: EmailMessage) -> None:
        try:
            sent = self.connection.send_messages([message])
        except Exception as exc:  # noqa: BLE001
            raise TransientError(str(exc)[:480]) from exc
        if sent != 1:
            raise TransientError("the mail backend did not accept the message")


def transport_for_settings() -> SmtpTransport | BackendTransport:
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SmtpTransport()
    return BackendTransport()
