"""Socket Mode: the buttons' presses over a WebSocket, for a team with no public URL.

When ``SLACK_APP_TOKEN`` (an app-level token, ``xapp-…``, with ``connections:write``) is set,
the runner opens a Socket Mode connection (slack_sdk's ``socket_mode.websocket_client``, on the
``websocket-client`` package): ``apps.connections.open`` at ``[slack] base_url`` gives the
WebSocket URL, and Slack sends each interaction as an envelope on it. Each ``interactive``
envelope is acknowledged at once (Slack wants it within 3 seconds), then its payload, the same
``block_actions`` payload as over HTTP, goes to ``watcher.actions`` like a signed request
would. The SDK reconnects by itself when the connection drops.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.socket_mode.websocket_client import SocketModeClient

from watcher.actions import Actions
from watcher.settings import SlackSettings

__all__ = ["SocketMode"]

log = logging.getLogger("watcher.socket_mode")
_sdk_logger = logging.getLogger("watcher.socket_mode.sdk")
_sdk_logger.setLevel(logging.WARNING)


class SocketMode:
    """A Socket Mode connection feeding ``actions``."""

    def __init__(self, app_token: str, settings: SlackSettings, actions: Actions):
        self.actions = actions
        web = WebClient(base_url=settings.base_url, timeout=int(max(1, settings.timeout)),
                        retry_handlers=[], logger=_sdk_logger)
        self.client = SocketModeClient(app_token=app_token, web_client=web, logger=_sdk_logger)
        self.client.socket_mode_request_listeners.append(self._on_request)
        self.received = 0

    def start(self) -> None:
        """Connect (in the SDK's own threads); a failure is logged, the service goes on."""
        try:
            self.client.connect()
            log.info("Socket Mode connected: button presses arrive over it")
        except Exception as exc:  # noqa: BLE001 - no Socket Mode is not a reason to stop
            log.error("Socket Mode could not connect (%s); buttons will not work over it",
                      type(exc).__name__)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing on the way out
            log.debug("Socket Mode close failed", exc_info=True)

    def _on_request(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type != "interactive":
            return
        self.received += 1
        error = self.actions.submit(req.payload)
        if error:
            log.warning("Slack action over Socket Mode refused: %s", error)
