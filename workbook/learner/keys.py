"""Single key presses from the terminal, for ``workbook watch``: POSIX and Windows.

On Linux and macOS the terminal goes to cbreak mode (keys arrive without Enter, and are still
echoed off) and is restored on exit; on Windows ``msvcrt`` reads the console's keys directly.
"""

from __future__ import annotations

import os
import sys
import time


def interactive_terminal() -> bool:
    """Keys can be read: stdin and stdout are a terminal (not an editor's task runner or CI)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


class Keys:
    """``read(timeout)`` returns one lower-case key, or None when none was pressed in time."""

    def __init__(self):
        self.windows = os.name == "nt"
        if self.windows:
            return
        import termios
        import tty

        self.fd = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)

    def read(self, timeout: float) -> str | None:
        if self.windows:
            import msvcrt

            deadline = time.monotonic() + timeout
            while True:
                if msvcrt.kbhit():
                    return msvcrt.getwch().lower()
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.02)
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, 1).decode(errors="ignore").lower() if ready else None

    def restore(self) -> None:
        if not self.windows:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
