"""A TCP proxy in front of PostgreSQL that a test can cut and restore (the server "unreachable")
without touching the machine's shared server, and whose upstream backends it can terminate."""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream``; ``cut()`` drops every connection and refuses new
    ones (connection refused, as a stopped server), ``restore()`` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.cuts = 0
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """The server disappears: the listener closes and every open connection is reset."""
        self.cuts += 1
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, server in pairs:
            for end in (client, server):
                with contextlib.suppress(OSError):
                    end.close()

    def upstream_ports(self) -> list[int]:
        """Local ports of the live upstream connections (``client_port`` in ``pg_stat_activity``)."""
        with self._lock:
            ports = []
            for _, server in self._pairs:
                with contextlib.suppress(OSError):
                    ports.append(int(server.getsockname()[1]))
            return ports

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        ends = [client, server]
        try:
            while True:
                readable, _, _ = select.select(ends, [], [], 1.0)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (server if end is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for end in ends:
                with contextlib.suppress(OSError):
                    end.close()
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))
