"""A stand-in for Slack's Socket Mode: a real WebSocket server on 127.0.0.1 (``websockets``).

    with SocketStandIn() as ws:
        slack.socket_url = ws.url          # the Web API stand-in's apps.connections.open
        ws.wait_connected(30)
        envelope = ws.send_interactive(payload)    # as Slack sends a button press
        ws.wait_ack(envelope, 3)                   # the app's acknowledgement, in seconds

Like Slack, it says ``hello`` on each connection, sends each event as an envelope
(``envelope_id``, ``type``, ``payload``, ``accepts_response_payload``) and records the app's
acknowledgements (``{"envelope_id": ...}``) with the time they took.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class SocketStandIn:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.lock = threading.Lock()
        self.connections: list[ServerConnection] = []
        self.sent: dict[str, float] = {}  # envelope id -> when sent (monotonic)
        self.acks: dict[str, float] = {}  # envelope id -> seconds until acknowledged
        self.received: list[Any] = []  # every message from the app
        self._connected = threading.Event()
        self._acked = threading.Condition(self.lock)
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/link/?ticket=standin"

    def start(self) -> Self:
        self._server = serve(self._handle, self.host, 0)
        self.port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="socket-standin").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, conn: ServerConnection) -> None:
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "connection_info": {"app_id": "A0WATCHER"},
                              "debug_info": {"host": "standin"}}))
        with self.lock:
            self.connections.append(conn)
        self._connected.set()
        try:
            for message in conn:
                data = json.loads(message)
                with self._acked:
                    self.received.append(data)
                    envelope = data.get("envelope_id") if isinstance(data, dict) else None
                    if envelope in self.sent and envelope not in self.acks:
                        self.acks[envelope] = time.monotonic() - self.sent[envelope]
                        self._acked.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.connections.remove(conn)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def send_interactive(self, payload: dict[str, Any]) -> str:
        """Send a button press (a ``block_actions`` payload) as Slack does; its envelope id."""
        envelope = str(uuid.uuid4())
        with self.lock:
            conn = self.connections[-1]
            self.sent[envelope] = time.monotonic()
        conn.send(json.dumps({"envelope_id": envelope, "type": "interactive",
                              "accepts_response_payload": False, "payload": payload}))
        return envelope

    def wait_ack(self, envelope: str, timeout: float) -> float | None:
        """Seconds the acknowledgement took, or None when it did not come in ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._acked:
            while envelope not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._acked.wait(left)
            return self.acks[envelope]
