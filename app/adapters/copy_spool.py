"""A spool file of COPY data that one thread writes while another sends it on as it grows.

The reconciliation book formats a statement's lines with psycopg's COPY formatter on one thread
while its connection is still busy with another statement on a second thread; as soon as the
connection is free, that thread starts the COPY and follows the spool to its end, so the server
parses the lines while the rest are still being read. A plain file (not a queue) keeps the
memory flat whichever side is the slower. Written by hand: psycopg's ``FileWriter`` writes a
file but cannot be followed, and its queue-based writer holds everything in memory.
"""
from __future__ import annotations

import os
import tempfile
import threading
from typing import Iterator

from psycopg.copy import Writer


class SpoolAborted(Exception):
    """The writing side failed: what was spooled must not be sent as if complete."""


class FollowedSpool(Writer):
    """A psycopg COPY writer into a temporary file; ``blocks()`` yields it, waiting for more until finished."""

    def __init__(self, prefix: str = "sbf-spool-"):
        self._file = tempfile.TemporaryFile(prefix=prefix, buffering=0)
        self._size = 0
        self._finished = False
        self._failed: BaseException | None = None
        self._grown = threading.Condition()

    def write(self, data) -> None:
        view = memoryview(data)
        while view:  # a raw file may take part of a write
            view = view[self._file.write(view):]
        with self._grown:
            self._size += len(data)
            self._grown.notify_all()

    def finish(self, exc: BaseException | None = None) -> None:
        with self._grown:
            self._finished, self._failed = True, exc
            self._grown.notify_all()

    def blocks(self, size: int) -> Iterator[bytes]:
        """The spool from its start in blocks of at most ``size`` bytes, until the writer has finished."""
        sent, fd = 0, self._file.fileno()
        while True:
            with self._grown:
                self._grown.wait_for(lambda: self._size > sent or self._finished)
                if self._failed is not None:
                    raise SpoolAborted("the spool's writer failed") from self._failed
                end = self._size
            if sent == end:  # finished, and everything sent
                return
            while sent < end:
                block = os.pread(fd, min(size, end - sent), sent)  # the writer's offset is left alone
                sent += len(block)
                yield block

    def close(self) -> None:
        self._file.close()
