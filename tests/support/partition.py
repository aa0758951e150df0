"""A network partition between one process and PostgreSQL, made to happen on one machine: the process connects
through a relay that can stop relaying without closing anything (packets dropped: the process hears nothing and is
refused nothing, so only its deadlines tell it), and relay again (what was held back arrives late, as TCP would
retransmit it). Other processes connect to PostgreSQL directly and see no fault."""

from __future__ import annotations

import socket
import threading


class Partition:
    """A TCP relay from a local port to `upstream` (host, port); `cut()` and `heal()` switch it, `close()` ends it.
    Thread-safe: every connection has two pump threads, each waiting on the same switch before it forwards."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.flowing.clear()

    def heal(self):
        self.flowing.set()

    def close(self):
        self.flowing.set()
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                sock.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket):
        try:
            while data := source.recv(65536):
                self.flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
