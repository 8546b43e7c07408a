"""Security headers on every response: a strict Content-Security-Policy (the only framable page is /embed, for the
report hosts a setting names), nosniff, a referrer policy, COOP, a permissions policy, and HSTS only behind TLS."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from server import create_app
from server.config import ROOT, load_settings

PAGES = ("/", "/embed", "/app/main.js", "/app/style.css", "/vendor/leaflet/leaflet.js", "/api/health",
         "/api/boundary-sets", "/api/no-such-route", "/no-such-page")


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = [part.split() for part in header.split(";") if part.strip()]
    parsed = {words[0]: words[1:] for words in directives}
    assert len(parsed) == len(directives), f"a directive is repeated: {header}"
    return parsed


def tile_origins() -> set[str]:
    """The basemap tile servers the client offers (client/src/basemap.js)."""
    source = (ROOT / "client" / "src" / "basemap.js").read_text(encoding="utf-8")
    urls = re.findall(r"url:\s*'([^']+)'", source)
    assert urls, "no tile URL found in basemap.js"
    return {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls}


def app_with(app, **changes):
    settings = replace(app.extensions["csp_settings"], **changes)
    flask_app = create_app(settings)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_strict_policy_and_headers(client, path):
    response = client.get(path)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline scripts or handlers, no eval
    assert csp["style-src"] == ["'self'"]  # colours are set through the CSSOM, never as style attributes
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"] and csp["connect-src"] == ["'self'"]
    assert csp["img-src"][:3] == ["'self'", "data:", "blob:"]
    assert set(csp["img-src"][3:]) == tile_origins()
    expected_ancestors = ["'self'"] if path == "/embed" else ["'none'"]
    assert csp["frame-ancestors"] == expected_ancestors
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("geolocation", "camera", "microphone", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP by default
    if path == "/embed":
        assert "X-Frame-Options" not in response.headers  # it cannot name the report hosts; CSP does
    else:
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_policy_is_on_error_responses_too(client):
    response = client.post("/api/boundary-sets", data={})
    assert response.status_code == 401
    assert policy(response)["script-src"] == ["'self'"]


def test_embed_may_be_framed_only_by_the_configured_report_hosts(app):
    hosts = ("https://reports.example.org", "https://intranet.maidstone.example:8443")
    client = app_with(app, embed_ancestors=hosts).test_client()
    assert policy(client.get("/embed?set=wards-2024"))["frame-ancestors"] == list(hosts)
    assert policy(client.get("/"))["frame-ancestors"] == ["'none'"]
    assert policy(client.get("/api/health"))["frame-ancestors"] == ["'none'"]


def test_hsts_only_when_the_service_is_behind_tls(app):
    client = app_with(app, https=True).test_client()
    response = client.get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(("value", "expected"), [
    ("", ("'self'",)),
    ("'none'", ("'none'",)),
    ("https://reports.example.org  https://intranet.example:8443", ("https://reports.example.org",
                                                                  "https://intranet.example:8443")),
    ("'self' https://*.kent.example", ("'self'", "https://*.kent.example")),
])
def test_embed_ancestors_setting(monkeypatch, value, expected):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CSP_ATLAS_EMBED_ANCESTORS", value)
    assert load_settings().embed_ancestors == expected


@pytest.mark.parametrize("value", [
    "https://reports.example.org; script-src *",  # would smuggle a directive into the header
    "https://reports.example.org,https://other.example",
    "javascript:alert(1)", "*", "reports.example.org/path", "https://a.example\r\nSet-Cookie: x=1",
])
def test_a_bad_embed_ancestor_stops_the_service_with_a_clear_message(monkeypatch, value):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CSP_ATLAS_EMBED_ANCESTORS", value)
    with pytest.raises(RuntimeError, match="CSP_ATLAS_EMBED_ANCESTORS"):
        load_settings()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False)])
def test_https_setting(monkeypatch, value, expected):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CSP_ATLAS_HTTPS", value)
    assert load_settings().https is expected


class _PageAudit(HTMLParser):
    """What the CSP would refuse in a page: inline scripts, event-handler attributes, style attributes and
    <style> elements, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{name}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} of <{tag}>")


@pytest.mark.parametrize("page", ["index.html", "embed.html"])
def test_the_pages_have_nothing_the_policy_refuses(page):
    audit = _PageAudit()
    audit.feed((ROOT / "client" / page).read_text(encoding="utf-8"))
    assert audit.problems == []
