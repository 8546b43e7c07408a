"""The data version as this process last heard it: a thread LISTENs for the NOTIFY that every bump sends on commit
(migration 0013_crime_summaries), so a request for a response this process already holds needs no database round
trip. While the listener is not connected the version is unknown and callers ask the database."""

from __future__ import annotations

import logging
import threading
import time

import psycopg

log = logging.getLogger(__name__)
CHANNEL = "csp_atlas_data_version"
RECONNECT_SECONDS = 2.0


class VersionListener:
    def __init__(self, libpq_url: str):
        self._url = libpq_url
        self._version: int | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="data-version-listener", daemon=True)

    def start(self) -> VersionListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    @property
    def version(self) -> int | None:
        with self._lock:
            return self._version

    def _set(self, version: int | None) -> None:
        with self._lock:
            self._version = version

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as error:  # a dropped connection: unknown until heard again
                log.warning("data version listener reconnecting: %s", error)
            self._set(None)
            self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            # Read after LISTEN: a bump committed in between is announced, so nothing is missed.
            self._set(connection.execute("SELECT version FROM data_version WHERE id = 1").fetchone()[0])
            while not self._stopping.is_set():
                for notice in connection.notifies(timeout=5.0):
                    self._set(int(notice.payload))
                connection.execute("SELECT 1")  # notice a dead connection within seconds


def wait_for(listener: VersionListener, seconds: float) -> int | None:
    """The version once the listener has one (for start-up), or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while listener.version is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return listener.version
