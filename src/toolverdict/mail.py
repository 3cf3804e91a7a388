"""The default mail backend: each message becomes one .eml file in the outbox folder.

Django's own file backend appends every message to one .log file per connection; an
outbox of separate .eml files can be opened by any mail client and counted by tests. The
folder is 0700 and each file 0600, readable by the site's own user only: a message may hold
a sign-in link.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

from toolverdict.core.datadir import private_dir, write_private


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.outbox = Path(file_path or getattr(settings, "EMAIL_FILE_PATH", "outbox"))

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        # Owner-only: a message may carry a sign-in link (core/datadir.py).
        private_dir(self.outbox)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
            final = self.outbox / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
            partial = final.with_suffix(".eml.part")
            # Write then rename: a reader of the outbox never sees half a message.
            write_private(partial, message.message().as_bytes(linesep="\r\n"))
            os.replace(partial, final)
            sent += 1
        return sent
