"""Standard output that goes quiet when its reader has gone (`prbot replay | head`)."""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

# What a shell reports for a command killed by SIGPIPE (128 + 13), as `yes | head` does.
EXIT_BROKEN_PIPE = 141


def stdout_to_devnull(stream: TextIO | None = None) -> None:
    """Point `stream` (stdout) at /dev/null, so no later write or flush can fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, (stream or sys.stdout).fileno())
    finally:
        os.close(devnull)


class QuietOutput(io.TextIOBase):
    """Write through to `stream` until its reader goes away; from then on, drop everything."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stdout
        self.gone = False

    def writable(self) -> bool:
        """Say yes: this is an output."""
        return True

    def write(self, text: str) -> int:
        """Write `text`, or drop it once the reader has gone; never raise BrokenPipeError."""
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        """Flush, or note that the reader has gone."""
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self.gone = True
        stdout_to_devnull(self.stream)
