"""A scripted review model that takes its time and logs each call, for crash tests.

``TOOLVERDICT_PANEL_MODEL=python:tests.core.fakes.SlowModel`` in a worker process;
``TOOLVERDICT_TEST_MODEL_DELAY`` (seconds per call, default 0.3) and
``TOOLVERDICT_TEST_MODEL_LOG`` (a file that gets one line per call: the pid and a hash
of the prompt, which names the tool and the persona).
"""

from __future__ import annotations

import hashlib
import os
import time

from tests.panel.fakes import ScriptedModel


class SlowModel(ScriptedModel):
    model_id = "test:slow"

    def generate(self, request):
        path = os.environ.get("TOOLVERDICT_TEST_MODEL_LOG")
        if path:
            text = "\n".join(m.content for m in request.prompt.messages)
            line = f"{os.getpid()} {hashlib.sha256(text.encode()).hexdigest()[:16]}\n"
            with open(path, "a") as log:  # O_APPEND: whole lines from several processes
                log.write(line)
        time.sleep(float(os.environ.get("TOOLVERDICT_TEST_MODEL_DELAY", "0.3")))
        return super().generate(request)
