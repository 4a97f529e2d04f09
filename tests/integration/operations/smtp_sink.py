"""A private SMTP server for the fault tests (aiosmtpd), run as its own process.

``python -m tests.integration.operations.smtp_sink PORT FOLDER``: each accepted message is
written to FOLDER as one ``.eml`` file; while a file named ``refuse`` exists in FOLDER, every
recipient is refused with a temporary error (451), as a full or throttling server answers.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if (self.folder / "refuse").exists():
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        name = self.folder / f"{time.time_ns()}.eml"
        temporary = self.folder / f".{name.name}.tmp"
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.rename(name)
        return "250 Message accepted"


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
