"""A police.uk API on loopback for the tests: a real HTTP server (http.server in a thread) that answers
/crimes-street-dates, /crime-last-updated and /crimes-street/all-crime (GET and POST, poly and date) in the API's
documented JSON shape, from police.uk street-level CSV files: the crimes of the month whose point lies in the
polygon. Switches: 503 above `max_crimes` crimes, 429 beyond `rate`/`burst` requests a second (a leaky bucket, as
police.uk's), and drop_next(n, after=k) closes the connection of n crime requests (after k more) without
an answer.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import shapely

# police.uk's category ids for the names in its CSV files (GET /crime-categories), written out here independently
# of the client's table so that a wrong entry there shows up as a failed comparison.
CATEGORY_IDS = {
    "Anti-social behaviour": "anti-social-behaviour", "Bicycle theft": "bicycle-theft", "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson", "Drugs": "drugs", "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons", "Public order": "public-order", "Robbery": "robbery",
    "Shoplifting": "shoplifting", "Theft from the person": "theft-from-the-person", "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime", "Other crime": "other-crime",
}


def api_crimes(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Per month, the located rows of the files as the API gives them (ids numbered in file order)."""
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    next_id = 100_000
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if not row["Longitude"]:
                    continue  # the API's street-level crimes are the located ones
                next_id += 1
                street_id = int(hashlib.sha256(row["Location"].encode()).hexdigest()[:7], 16)
                outcome = row["Last outcome category"]
                by_month[row["Month"]].append({
                    "category": CATEGORY_IDS[row["Crime type"]], "location_type": "Force",
                    "location": {"latitude": row["Latitude"], "street": {"id": street_id, "name": row["Location"]},
                                 "longitude": row["Longitude"]},
                    "context": row["Context"], "outcome_status": {"category": outcome, "date": row["Month"]}
                    if outcome else None, "persistent_id": row["Crime ID"], "id": next_id,
                    "location_subtype": "", "month": row["Month"]})
    return dict(by_month)


class LoopbackPoliceApi:
    def __init__(self, paths: list[Path], *, last_updated: str = "2031-12-01T00:00:00+00:00",
                 max_crimes: int = 10_000, rate: float | None = None, burst: int = 30):
        self.crimes = api_crimes(paths)
        self.points = {month: (np.array([float(c["location"]["longitude"]) for c in crimes]),
                               np.array([float(c["location"]["latitude"]) for c in crimes]))
                       for month, crimes in self.crimes.items()}
        self.last_updated = last_updated
        self.max_crimes, self.rate, self.burst = max_crimes, rate, burst
        self.level = 0.0  # the leaky bucket's content
        self.level_at = time.monotonic()
        self.to_drop = self.drop_after = 0
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.methods: Counter[str] = Counter()
        self.crime_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def __enter__(self) -> LoopbackPoliceApi:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def drop_next(self, count: int, after: int = 0) -> None:
        """Once `after` more crime requests have been answered, drop the connection of the next `count`."""
        with self.lock:
            self.to_drop, self.drop_after = count, after

    def _over_rate(self) -> bool:
        if self.rate is None:
            return False
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self.level_at) * self.rate)
            self.level_at = now
            if self.level + 1 > self.burst:
                return True
            self.level += 1
            return False

    def _take_drop(self) -> bool:
        with self.lock:
            self.crime_requests += 1
            if self.drop_after > 0:
                self.drop_after -= 1
                return False
            if self.to_drop > 0:
                self.to_drop -= 1
                return True
            return False

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if self._over_rate():
            return 429, {"error": "Too many requests"}
        if path == "/crimes-street-dates":
            return 200, [{"date": month, "stop-and-search": []} for month in sorted(self.crimes, reverse=True)]
        if path == "/crime-last-updated":
            return 200, {"date": self.last_updated}
        if path == "/crimes-street/all-crime":
            return self._crimes(params)
        return 404, {"error": "not found"}

    def _crimes(self, params: dict[str, str]) -> tuple[int, Any]:
        try:
            ring = [(float(lng), float(lat)) for lat, lng in (pair.split(",") for pair in params["poly"].split(":"))]
            polygon = shapely.Polygon(ring)
        except (KeyError, ValueError):
            return 400, {"error": "bad poly"}
        month = params.get("date", "")
        if month not in self.crimes:
            return 200, []
        xs, ys = self.points[month]
        inside = shapely.intersects_xy(polygon, xs, ys)
        if int(inside.sum()) > self.max_crimes:
            return 503, {"error": "too many crimes"}
        return 200, [crime for crime, keep in zip(self.crimes[month], inside, strict=True) if keep]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                self._reply("GET", parsed.path, dict(urllib.parse.parse_qsl(parsed.query)))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                self._reply("POST", urllib.parse.urlsplit(self.path).path, dict(urllib.parse.parse_qsl(body)))

            def _reply(self, method: str, path: str, params: dict[str, str]) -> None:
                path = path.removeprefix("/api")
                if path == "/crimes-street/all-crime" and api._take_drop():
                    self.close_connection = True  # no status line: the client sees the connection drop
                    return
                status, body = api.answer(path, params)
                with api.lock:
                    api.statuses[status] += 1
                    api.methods[method] += 1
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
