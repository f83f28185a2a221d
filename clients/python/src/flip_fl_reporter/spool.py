"""A directory of messages not yet accepted by SQS, safe against a crash at any point.

A message is written to a hidden temporary file, flushed and fsynced, then renamed to its final
name (an atomic step), and the directory is fsynced: once :meth:`Spool.put` returns, the message
survives a crash or a power cut. It is deleted only after SQS accepted it, so a crash between the
send and the delete sends it again, under the same ``event_id``, which the service applies once.

File names sort in the order the messages were written (time, process, a counter shared by the
process's spools), which is the order they are sent in, and carry a random UUID: two writers never
pick the same name, even on the same clock tick with the same process id (two reporters in one
process, or two containers sharing a volume); the temporary file is created exclusively
(``O_EXCL``), so a write never truncates another's. Several processes may share one directory: a
message sent by two of them is again the same ``event_id``. Messages SQS refuses for good (a body
it will never accept) move to ``rejected/``, with the error, for a person to look at; nothing is
deleted unsent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Final

from flip_fl_reporter.messages import Outgoing

logger = logging.getLogger("flip_fl_reporter")

#: A temporary file older than this was left by a write that crashed before its rename: the call
#: that wrote it never returned, so it was never promised; it is removed.
STALE_TEMPORARY_SECONDS: Final = 3600

#: Orders the messages a process writes on one clock tick, whichever of its spools writes them.
_counter = itertools.count()


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory descriptors: the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Spool:
    """The messages waiting in ``directory``; see the module's docstring."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rejected_directory = directory / "rejected"
        directory.mkdir(parents=True, exist_ok=True)

    def put(self, message: Outgoing) -> Path:
        """Write ``message`` durably; returns its file. Raises ``OSError`` when the disk refuses."""
        name = (
            f"{time.time_ns():020d}-{os.getpid():07d}-{next(_counter):06d}-{uuid.uuid4().hex}"
            f"-{message.queue}.json"
        )
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        data = json.dumps(message.to_record(), ensure_ascii=False).encode()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        _fsync_directory(self.directory)
        return final

    def pending(self) -> list[tuple[Path, Outgoing]]:
        """The waiting messages, oldest first. A file that cannot be read as a message is moved to
        ``rejected/``; stale temporary files are removed."""
        self._remove_stale_temporaries()
        found: list[tuple[Path, Outgoing]] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                message = Outgoing.from_record(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:  # sent and deleted by another process meanwhile
                continue
            except (OSError, ValueError, KeyError, TypeError) as error:
                self.reject(path, f"unreadable spool file: {error}")
                continue
            found.append((path, message))
        return found

    def count(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))

    def remove(self, path: Path) -> None:
        """The message was accepted by SQS."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def reject(self, path: Path, error: str) -> None:
        """Keep a message SQS will never accept under ``rejected/``, with ``error`` beside it."""
        try:
            self.rejected_directory.mkdir(exist_ok=True)
            (self.rejected_directory / f"{path.name}.error").write_text(error + "\n", encoding="utf-8")
            os.replace(path, self.rejected_directory / path.name)
            _fsync_directory(self.directory)
        except FileNotFoundError:
            return
        logger.error("FL message moved to %s: %s", self.rejected_directory / path.name, error)

    def _remove_stale_temporaries(self) -> None:
        limit = time.time() - STALE_TEMPORARY_SECONDS
        for path in self.directory.glob(".*.tmp"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
            except OSError:
                continue
