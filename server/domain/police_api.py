"""A client of the police.uk API (https://data.police.uk/docs/): which months exist, when the data was last
updated, and the street-level crimes of a month inside a polygon.

Its limits are kept here: at most 15 requests a second with bursts of 30 (a token bucket; HTTP 429 beyond it, which
is backed off and retried), GET URLs of at most 4094 characters (longer polygons are POSTed), and 10,000 crimes an
answer (HTTP 503 beyond it: AreaTooBusy, for the caller to split the area). Network errors and other 5xx answers are
retried with exponential backoff. Every answer is checked before use: it comes from outside.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

PUBLIC_API = "https://data.police.uk/api"
MAX_GET_URL = 4094
MAX_ANSWER_BYTES = 64 * 1024 * 1024
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
COORDINATE = re.compile(r"^-?\d{1,3}(\.\d{1,10})?$")
PERSISTENT_ID = re.compile(r"^([0-9a-f]{64})?$")
MAX_TEXT = 500

# The API's category ids and the names police.uk's CSV files give them (GET /crime-categories).
CATEGORY_NAMES = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "public-disorder-weapons": "Public disorder and weapons",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
}


class PoliceApiError(RuntimeError):
    """The API could not be used: unreachable after the retries, or an answer that is not what it documents."""


class AreaTooBusy(PoliceApiError):
    """HTTP 503 to a polygon: more than 10,000 crimes in it; ask again for smaller pieces."""


@dataclass(frozen=True)
class ApiLimits:
    """How fast to ask and how to retry; the defaults are the public API's documented limits."""

    rate: float = 15.0  # requests per second, on average
    burst: int = 30  # requests at once after a quiet spell
    retries: int = 6  # network errors and 5xx answers (other than 503) in a row before giving up
    too_many_retries: int = 20  # 429 answers in a row before giving up
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_backoff: float = 60.0
    timeout: float = 120.0  # seconds for one answer


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; take() waits for one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate, self.burst = rate, burst
        self.clock, self.sleep = clock, sleep
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> None:
        self._refill()
        if self.tokens < 1:
            self.sleep((1 - self.tokens) / self.rate)
            self._refill()
        self.tokens -= 1

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now


@dataclass(frozen=True)
class Crime:
    """One street-level crime or ASB incident as the API gives it, checked."""

    api_id: str
    category: str
    month: str
    latitude: str
    longitude: str
    street: str
    persistent_id: str
    location_type: str
    outcome: str
    context: str


class PoliceApi:
    def __init__(self, base_url: str = PUBLIC_API, limits: ApiLimits = ApiLimits(),
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self.sleep = sleep
        self.bucket = TokenBucket(limits.rate, limits.burst, sleep=sleep)
        self.requests = 0
        self.throttled = 0  # 429 answers received
        self.retried = 0  # network errors and 5xx answers retried

    def street_dates(self) -> list[str]:
        """The months (YYYY-MM) with street-level crime, oldest first."""
        answer = self._json("/crimes-street-dates", {})
        if not isinstance(answer, list) or not all(isinstance(i, dict) and _is_month(i.get("date")) for i in answer):
            raise PoliceApiError("/crimes-street-dates: expected a list of {\"date\": \"YYYY-MM\"}")
        return sorted({item["date"] for item in answer})

    def last_updated(self) -> date:
        answer = self._json("/crime-last-updated", {})
        text = answer.get("date") if isinstance(answer, dict) else None
        try:
            return date.fromisoformat(str(text)[:10])
        except ValueError:
            raise PoliceApiError("/crime-last-updated: expected {\"date\": \"YYYY-MM-DD…\"}") from None

    def crimes(self, ring: Sequence[tuple[float, float]], month: str) -> list[Crime]:
        """All crimes and ASB of `month` inside the polygon `ring` of (longitude, latitude); AreaTooBusy on 503."""
        poly = ":".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)
        answer = self._json("/crimes-street/all-crime", {"poly": poly, "date": month}, busy_means_split=True)
        if not isinstance(answer, list):
            raise PoliceApiError("/crimes-street/all-crime: expected a list of crimes")
        return [_crime(item, index, month) for index, item in enumerate(answer)]

    # --- HTTP -----------------------------------------------------------------------------------------------

    def _json(self, path: str, params: dict[str, str], busy_means_split: bool = False) -> Any:
        failures = throttled = 0
        while True:
            self.bucket.take()
            self.requests += 1
            try:
                return self._send(path, params)
            except urllib.error.HTTPError as error:
                status = error.code
                error.close()
                if status == 503 and busy_means_split:
                    raise AreaTooBusy(f"{path}: more crimes than the API answers at once") from None
                if status == 429:
                    throttled += 1
                    self.throttled += 1
                    if throttled > self.limits.too_many_retries:
                        raise PoliceApiError(f"{path}: the API kept answering 429 (too many requests)") from None
                    self.sleep(self._retry_after(error, throttled))
                    continue
                if status < 500:
                    raise PoliceApiError(f"{path}: the API answered HTTP {status}") from None
                reason = f"HTTP {status}"
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
                reason = _reason(error)
            failures += 1
            self.retried += 1
            if failures > self.limits.retries:
                raise PoliceApiError(f"{path}: the API did not answer after {failures} tries ({reason})")
            self.sleep(self._backoff(failures))

    def _send(self, path: str, params: dict[str, str]) -> Any:
        query = urllib.parse.urlencode(params, safe=":,")  # both are allowed in a query; the poly is full of them
        url = f"{self.base_url}{path}"
        if query and len(f"{url}?{query}") > MAX_GET_URL:
            request = urllib.request.Request(url, data=query.encode("ascii"), method="POST",
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            request = urllib.request.Request(f"{url}?{query}" if query else url)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "csp-atlas (police.uk fetch)")
        with urllib.request.urlopen(request, timeout=self.limits.timeout) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
        if len(body) > MAX_ANSWER_BYTES:
            raise ValueError("answer too large")
        return json.loads(body)  # a cut-off answer raises ValueError: retried like a network error

    def _backoff(self, attempt: int) -> float:
        return min(self.limits.max_backoff, self.limits.backoff * 2 ** (attempt - 1))

    def _retry_after(self, error: urllib.error.HTTPError, attempt: int) -> float:
        given = (error.headers or {}).get("Retry-After", "")
        if given.isdigit():
            return min(self.limits.max_backoff, float(given))
        return self._backoff(attempt)


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return (str(reason).splitlines() or [type(error).__name__])[0][:200] or type(error).__name__


def _is_month(value: Any) -> bool:
    return isinstance(value, str) and bool(MONTH.match(value))


def _text(item: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > MAX_TEXT:
        raise PoliceApiError(f"{where}: '{key}' is not a short text")
    return str(value)


def _crime(item: Any, index: int, month: str) -> Crime:
    where = f"/crimes-street/all-crime {month}, crime {index + 1}"
    if not isinstance(item, dict):
        raise PoliceApiError(f"{where}: not an object")
    location, outcome = item.get("location"), item.get("outcome_status")
    if not isinstance(location, dict) or not isinstance(location.get("street") or {}, dict):
        raise PoliceApiError(f"{where}: 'location' is not an object with latitude, longitude and street")
    if outcome is not None and not isinstance(outcome, dict):
        raise PoliceApiError(f"{where}: 'outcome_status' is neither null nor an object")
    category = _text(item, "category", where, required=True)
    if category not in CATEGORY_NAMES:
        raise PoliceApiError(f"{where}: unknown category '{category[:60]}'")
    if item.get("month") != month:
        raise PoliceApiError(f"{where}: month '{str(item.get('month'))[:20]}' is not the month asked for")
    latitude, longitude = _text(location, "latitude", where), _text(location, "longitude", where)
    if not (COORDINATE.match(latitude) and COORDINATE.match(longitude)):
        raise PoliceApiError(f"{where}: latitude/longitude are not numbers")
    persistent_id = _text(item, "persistent_id", where)
    if not PERSISTENT_ID.match(persistent_id):
        raise PoliceApiError(f"{where}: persistent_id is not police.uk's 64-hex id")
    return Crime(api_id=_text(item, "id", where), category=category, month=month, latitude=latitude,
                 longitude=longitude, street=_text(location.get("street") or {}, "name", where),
                 persistent_id=persistent_id, location_type=_text(item, "location_type", where),
                 outcome=_text(outcome or {}, "category", where), context=_text(item, "context", where))
