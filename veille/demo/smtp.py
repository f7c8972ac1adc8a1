"""A loopback SMTP server (aiosmtpd) that saves each message it receives as an .eml file."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class SavingHandler:
    """Save every received message under `directory`; optionally refuse them all with `refuse`."""

    def __init__(self, directory: Path | None, refuse: str | None = None):
        self.directory = directory
        self.refuse = refuse
        self.messages: list[tuple[list[str], bytes]] = []
        self.arrived = threading.Event()  # set at each message (tests wait on it instead of polling)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        content = envelope.original_content or envelope.content
        self.messages.append((list(envelope.rcpt_tos), content))
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9@._-]", "_", envelope.rcpt_tos[0])
            (self.directory / f"{len(self.messages):03d}-{name}.eml").write_bytes(content)
        self.arrived.set()
        return "250 Message accepted for delivery"


def start_smtp(directory: Path | None, refuse: str | None = None) -> tuple[Controller, SavingHandler]:
    """Start the server on 127.0.0.1 (a free port); return the controller (call .stop()) and handler."""
    handler = SavingHandler(directory, refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    return controller, handler


def _free_port() -> int:
    # aiosmtpd checks readiness by connecting to its own port, so it needs a real number, not 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
