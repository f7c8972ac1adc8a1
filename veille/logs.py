"""Log lines: readable on a terminal, one JSON object per line otherwise (with run id and source)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FIELDS = ("run", "source", "week", "recipient", "status", "items", "new", "updated", "seconds", "bytes",
          "http_status", "error", "method", "path", "duration_ms")  # the last three: the site's access log


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
                                "level": record.levelname.lower(), "logger": record.name,
                                "message": record.getMessage()}
        line |= {key: getattr(record, key) for key in FIELDS if getattr(record, key, None) is not None}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(verbosity: int = 0, stream: Any = None) -> None:
    """Set up logging: `verbosity` -1 (quiet: errors only), 0 (warnings), 1 (info), 2 (debug)."""
    stream = stream or sys.stderr
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(stream)
    if stream.isatty():
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger("veille")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
