"""Account security: cookie writes only from our own origin, JSON-only sign-in, revocable server-side sessions with
idle and absolute timeouts, sign-in throttling kept in PostgreSQL, equal work for unknown users, password and username
policy, expiring API tokens, the account lifecycle (CLI and admin API) and the append-only security audit.

Every client here has its own address from the documentation ranges (RFC 5737), so the throttling these tests
provoke never reaches the 127.0.0.1 that other test modules sign in from."""

from __future__ import annotations

import hashlib
import io
import itertools
import uuid
from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy.exc
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from server import create_app
from server.cli import cli
from server.config import Settings
from server.domain import accounts as domain_accounts
from server.store.db import transaction
from tests.conftest import PASSWORD, SHARED, bearer

SAME_ORIGIN = {"Origin": "http://localhost"}
EVIL_ORIGIN = {"Origin": "https://evil.example"}
NEW_PASSWORD = "a different passphrase entirely"
_ADDRESSES = itertools.count(1)


def _new_address() -> str:
    n = next(_ADDRESSES)
    return f"198.51.100.{n}" if n < 255 else f"203.0.113.{n - 254}"


def _client_at(app: Flask, address: str | None = None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or _new_address()
    return client


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    """A browser of its own (cookie jar and client address)."""
    return _client_at(app)


@pytest.fixture
def make_user(engine: Engine) -> Callable[..., str]:
    def make(role: str = "officer") -> str:
        username = f"sec-{role}-{uuid.uuid4().hex[:8]}"
        with transaction(engine) as session:
            domain_accounts.create_user(session, username, PASSWORD, role)
        return username

    return make


@pytest.fixture(scope="module")
def admin_token(engine: Engine) -> str:
    username = f"sec-admin-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as session:
        domain_accounts.create_user(session, username, PASSWORD, "admin")
        return domain_accounts.issue_token(session, username, "security tests")


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, **headers: str):
    return client.post("/api/session", json={"username": username, "password": password}, headers=headers)


def write(client: FlaskClient, layer: str, headers: dict[str, str] | None = None):
    """A cookie-authenticated write that officers may make: record a point in a scratch internal layer."""
    return client.post(f"/api/hotspot-layers/{layer}/points", headers=SAME_ORIGIN if headers is None else headers,
                       json={"easting": 576030, "northing": 155670, "observed": "2023-05-01"})


def who(client: FlaskClient) -> dict | None:
    return client.get("/api/session").get_json()["user"]


def session_cookie(client: FlaskClient, name: str = "session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A fresh browser carrying a captured cookie."""
    thief = _client_at(app)
    thief.set_cookie("session", cookie)
    return thief


def atlas(*args: str, password: str | None = None):
    env = {"CSP_ATLAS_PASSWORD": password} if password else {}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


# --- CSRF: cookie-authenticated writes must come from our own origin ---------------------------------------------


def test_cookie_writes_from_a_foreign_origin_or_without_origin_are_refused(browser, make_user, scratch_layers):
    layer = scratch_layers["internal"]
    assert sign_in(browser, make_user()).status_code == 200
    for headers in (EVIL_ORIGIN, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {},
                    {"Origin": "null"}, {**SAME_ORIGIN, "Sec-Fetch-Site": "cross-site"}):
        refused = write(browser, layer, headers)
        assert refused.status_code == 403, headers
        assert "origin" in refused.get_json()["error"]["message"]
    assert write(browser, layer, SAME_ORIGIN).status_code == 201
    assert write(browser, layer, {"Sec-Fetch-Site": "same-origin"}).status_code == 201


def test_cookie_import_from_a_foreign_origin_is_refused(browser, make_user, scratch_layers):
    url = f"/api/hotspot-layers/{scratch_layers['internal']}/import"
    sign_in(browser, make_user())

    def upload(headers: dict[str, str]):
        csv = b"easting,northing,observed,count\n576030,155670,2023-05-01,1\n"
        return browser.post(url, headers=headers, content_type="multipart/form-data",
                            data={"file": (io.BytesIO(csv), "finds.csv")})

    assert upload(EVIL_ORIGIN).status_code == 403
    assert upload(SAME_ORIGIN).status_code == 201


def test_bearer_clients_need_no_origin(client, tokens, scratch_layers):
    response = write(client, scratch_layers["internal"], bearer(tokens["officer"]))
    assert response.status_code == 201


def test_sign_in_takes_json_only(browser, make_user):
    username = make_user()
    form = browser.post("/api/session", data={"username": username, "password": PASSWORD})
    assert form.status_code == 415 and "JSON" in form.get_json()["error"]["message"]
    assert who(browser) is None
    text_plain = browser.post("/api/session", data=f'{{"username": "{username}", "password": "{PASSWORD}"}}',
                              content_type="text/plain")
    assert text_plain.status_code == 415


def test_sign_in_and_sign_out_from_a_foreign_origin_are_refused(browser, make_user):
    username = make_user()
    assert sign_in(browser, username, **EVIL_ORIGIN).status_code == 403
    assert who(browser) is None
    assert sign_in(browser, username, **SAME_ORIGIN).status_code == 200
    assert browser.delete("/api/session", headers=EVIL_ORIGIN).status_code == 403
    assert who(browser)["username"] == username


# --- revocable server-side sessions -------------------------------------------------------------------------------


def test_session_cookie_is_a_random_secret_stored_only_as_its_hash(browser, make_user, engine):
    username = make_user()
    sign_in(browser, username)
    cookie = session_cookie(browser)
    with transaction(engine) as session:
        stored = session.execute(text(
            "SELECT s.secret_hash FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = :u"),
            {"u": username}).scalars().all()
    assert stored == [hashlib.sha256(cookie.encode()).hexdigest()]


def test_cookie_flags_over_http(browser, make_user):
    response = sign_in(browser, make_user())
    header = response.headers["Set-Cookie"]
    assert header.startswith("session=")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Secure" not in header


def test_cookie_is_secure_with_the_host_prefix_over_https(engine, database_url, make_user):
    https_app = create_app(Settings(database_url=database_url, secret_key="test-secret", shared_dir=SHARED,
                                    https=True))
    client = https_app.test_client()
    client.environ_base["REMOTE_ADDR"] = _new_address()
    response = client.post("/api/session", json={"username": make_user(), "password": PASSWORD},
                           base_url="https://localhost")
    assert response.status_code == 200
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-session=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Domain" not in header
    assert client.get("/api/session", base_url="https://localhost").get_json()["user"] is not None
    assert client.post("/api/session", json={"username": "x", "password": "y"}, base_url="https://localhost",
                       headers={"Origin": "http://localhost"}).status_code == 403  # http is not our origin


def test_a_cookie_captured_before_sign_out_is_dead(app, browser, make_user, scratch_layers):
    sign_in(browser, make_user())
    captured = session_cookie(browser)
    assert write(browser, scratch_layers["internal"]).status_code == 201
    assert browser.delete("/api/session", headers=SAME_ORIGIN).status_code == 200
    thief = replay(app, captured)
    assert who(thief) is None
    assert write(thief, scratch_layers["internal"]).status_code == 401


def test_a_cookie_captured_before_a_password_change_is_dead(app, browser, make_user, scratch_layers):
    username = make_user()
    sign_in(browser, username)
    captured = session_cookie(browser)
    result = atlas("users", "password", username, password=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    thief = replay(app, captured)
    assert who(thief) is None
    assert write(thief, scratch_layers["internal"]).status_code == 401
    assert sign_in(_client_at(app), username, NEW_PASSWORD).status_code == 200


def test_a_cookie_captured_before_a_role_change_is_dead(app, browser, make_user, scratch_layers):
    username = make_user("officer")
    sign_in(browser, username)
    captured = session_cookie(browser)
    result = atlas("users", "role", username, "viewer")
    assert result.exit_code == 0, result.output
    thief = replay(app, captured)
    assert who(thief) is None
    assert write(thief, scratch_layers["internal"]).status_code == 401  # not 403: the session itself is gone


def test_a_cookie_captured_before_deactivation_stays_dead_after_reactivation(app, browser, make_user,
                                                                             scratch_layers):
    username = make_user()
    sign_in(browser, username)
    captured = session_cookie(browser)
    assert atlas("users", "deactivate", username).exit_code == 0
    assert write(replay(app, captured), scratch_layers["internal"]).status_code == 401
    assert atlas("users", "activate", username).exit_code == 0
    thief = replay(app, captured)
    assert who(thief) is None
    assert write(thief, scratch_layers["internal"]).status_code == 401


def _age_session(engine: Engine, username: str, column: str, interval: str) -> None:
    with transaction(engine) as session:
        session.execute(text(f"UPDATE user_sessions SET {column} = now() - CAST(:i AS interval) "
                             "WHERE user_id = (SELECT id FROM users WHERE username = :u)"),
                        {"i": interval, "u": username})


def test_sessions_end_after_8_idle_hours(browser, make_user, engine):
    username = make_user()
    sign_in(browser, username)
    _age_session(engine, username, "last_seen_at", "7 hours 59 minutes")
    assert who(browser)["username"] == username  # and this use moves last_seen_at on
    _age_session(engine, username, "last_seen_at", "8 hours 1 minute")
    assert who(browser) is None


def test_sessions_end_24_hours_after_sign_in_however_busy(browser, make_user, engine, scratch_layers):
    username = make_user()
    sign_in(browser, username)
    _age_session(engine, username, "created_at", "23 hours 59 minutes")
    assert who(browser)["username"] == username
    _age_session(engine, username, "created_at", "24 hours 1 minute")
    assert who(browser) is None
    assert write(browser, scratch_layers["internal"]).status_code == 401


# --- sign-in throttling -------------------------------------------------------------------------------------------


def test_five_failures_throttle_the_account_from_any_address(app, make_user, engine):
    username = make_user()
    attacker = _client_at(app)
    for _ in range(5):
        assert sign_in(attacker, username, "wrong password").status_code == 401
    throttled = sign_in(attacker, username, PASSWORD)  # even the right password waits
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    assert "try again" in throttled.get_json()["error"]["message"]
    elsewhere = sign_in(_client_at(app), username, PASSWORD)
    assert elsewhere.status_code == 429 and who(attacker) is None
    with transaction(engine) as session:  # the failures were committed, not rolled back with the 401s
        hits = session.execute(text("SELECT sum(hits) FROM rate_limit_counters WHERE client_key = :u"),
                               {"u": username}).scalar()
    assert hits >= 5


def test_unknown_usernames_are_throttled_alike(app):
    attacker = _client_at(app)
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    statuses = [sign_in(attacker, username, "guess").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_thirty_failures_throttle_the_address_and_a_success_does_not_reset_it(app, make_user):
    address = _new_address()
    attacker = _client_at(app, address)
    own_username = make_user()
    for n in range(29):  # a different account each time: only the address bucket fills
        assert sign_in(attacker, f"victim-{n}-{uuid.uuid4().hex[:6]}", "guess").status_code == 401
    assert sign_in(attacker, own_username, PASSWORD).status_code == 200
    assert sign_in(attacker, f"victim-x-{uuid.uuid4().hex[:6]}", "guess").status_code == 401  # the 30th failure
    blocked = sign_in(attacker, f"victim-y-{uuid.uuid4().hex[:6]}", "guess")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert sign_in(_client_at(app, address), own_username, PASSWORD).status_code == 429
    assert sign_in(_client_at(app), own_username, PASSWORD).status_code == 200  # another address is not blocked


def test_client_address_comes_from_x_forwarded_for_only_with_trusted_proxies(database_url):
    def attempts(trusted: int, forwarded_for: str) -> list[int]:
        proxied = create_app(Settings(database_url=database_url, secret_key="test-secret", shared_dir=SHARED,
                                      trusted_proxies=trusted))
        client = _client_at(proxied)
        return [client.post("/api/session", json={"username": f"p-{uuid.uuid4().hex[:8]}", "password": "x"},
                            headers={"X-Forwarded-For": forwarded_for}).status_code for _ in range(3)]

    spoofed = _new_address()
    for _ in range(10):
        attempts(0, spoofed)  # 30 failures from ten real addresses, each claiming to be `spoofed`
    assert attempts(1, spoofed) == [401, 401, 401], "X-Forwarded-For was trusted without a trusted proxy"
    real = _new_address()
    for _ in range(10):
        attempts(1, real)
    assert attempts(1, real) == [429, 429, 429]


# --- equal work and equal answers for unknown, inactive and known users --------------------------------------------


def test_every_failed_sign_in_checks_a_scrypt_hash(app, make_user, monkeypatch):
    checked: list[str] = []
    real_check = domain_accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$")[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(domain_accounts, "check_password_hash", counting)
    known, inactive = make_user(), make_user()
    assert atlas("users", "deactivate", inactive).exit_code == 0
    answers = []
    for username, password in ((known, "wrong password"), (f"nobody-{uuid.uuid4().hex[:8]}", "wrong password"),
                               (inactive, PASSWORD), (known, PASSWORD)):
        checked.clear()
        response = sign_in(_client_at(app), username, password)
        assert len(checked) == 1 and checked[0].startswith("scrypt:"), (username, checked)
        answers.append((response.status_code, response.get_json()))
    failure = (401, {"error": {"status": 401, "message": "wrong username or password"}})
    assert answers[:3] == [failure] * 3  # the same answer, whether the user exists, is inactive or mistyped
    assert answers[3][0] == 200


# --- password and username policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "reason"), [
    ("aaaaaaaaaa", "at least 12"), ("aaaaaaaaaaaaaaaa", "too easy to guess"), ("password1234", "too easy to guess"),
    (" " * 16, "too easy to guess"), ("qwertyuiopasdf", "too easy to guess"),
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    username = f"weak-{uuid.uuid4().hex[:8]}"
    result = atlas("users", "create", username, "--role", "viewer", password=password)
    assert result.exit_code != 0 and reason in result.output, result.output
    with pytest.raises(domain_accounts.AccountError, match=reason):
        domain_accounts.check_password(password, username)


def test_a_password_made_of_the_username_is_refused():
    username = f"maidstone{uuid.uuid4().hex[:4]}"
    with pytest.raises(domain_accounts.AccountError, match="too easy to guess"):
        domain_accounts.check_password(username + "2024", username)


def test_strong_passphrases_and_the_test_password_are_accepted():
    for password in (PASSWORD, NEW_PASSWORD, "Tr0ub4dour&3xylophone"):
        domain_accounts.check_password(password, "alice")


@pytest.mark.parametrize("username", ["", "ab", "<b>bold</b>", "has space", "Alice", "-dash", "é-accent",
                                      "a" * 65, "x\n"])
def test_bad_usernames_are_refused(username):
    result = atlas("users", "create", "--role", "viewer", "--", username, password=PASSWORD)
    assert result.exit_code != 0 and "username" in result.output, result.output


# --- API tokens expire --------------------------------------------------------------------------------------------


def test_tokens_expire_after_90_days_by_default_or_days(client, make_user, engine):
    username = make_user()
    issued = atlas("tokens", "issue", username, "--label", "QGIS", "--days", "7")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    default = atlas("tokens", "issue", username)
    with transaction(engine) as session:
        lifetimes = session.execute(text(
            "SELECT round(extract(epoch FROM t.expires_at - t.created_at) / 86400) FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE u.username = :u ORDER BY t.id"), {"u": username}).scalars().all()
    assert default.exit_code == 0 and lifetimes == [7, 90]
    assert client.get("/api/session", headers=bearer(token)).get_json()["user"]["username"] == username
    with transaction(engine) as session:
        session.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :h"),
                        {"h": hashlib.sha256(token.encode()).hexdigest()})
    expired = client.get("/api/session", headers=bearer(token))
    assert expired.status_code == 401 and "expired" in expired.get_json()["error"]["message"]
    assert atlas("tokens", "issue", username, "--days", "0").exit_code != 0


def test_tokens_are_listed_and_revoked_from_the_command_line(client, make_user):
    username = make_user()
    token = atlas("tokens", "issue", username, "--label", "nightly upload").output.strip().splitlines()[-1]
    listed = atlas("tokens", "list", username)
    assert listed.exit_code == 0 and "nightly upload" in listed.output and "active" in listed.output
    token_id = next(line.split()[0] for line in listed.output.splitlines() if "nightly upload" in line)
    assert atlas("tokens", "revoke", token_id).exit_code == 0
    assert client.get("/api/session", headers=bearer(token)).status_code == 401
    assert "revoked" in atlas("tokens", "list", username).output
    assert atlas("tokens", "revoke", "999999999").exit_code != 0


@pytest.mark.parametrize("command", [("users", "list"), ("users", "deactivate"), ("users", "activate"),
                                     ("users", "role"), ("users", "revoke-sessions"), ("users", "audit"),
                                     ("tokens", "list"), ("tokens", "revoke"), ("tokens", "issue")])
def test_account_commands_have_help(command):
    result = atlas(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_users_list_shows_role_and_state(make_user):
    active, inactive = make_user("viewer"), make_user("officer")
    atlas("users", "deactivate", inactive)
    lines = {line.split()[0]: line for line in atlas("users", "list").output.splitlines() if line.strip()}
    assert "viewer" in lines[active] and "active" in lines[active]
    assert "officer" in lines[inactive] and "inactive" in lines[inactive]
    assert atlas("users", "role", active, "superuser").exit_code != 0
    assert atlas("users", "deactivate", f"nobody-{uuid.uuid4().hex[:6]}").exit_code != 0


# --- the admin API ------------------------------------------------------------------------------------------------


def test_only_admins_use_the_admin_api(client, tokens, make_user):
    username = make_user()
    for role in ("viewer", "officer", "gis"):
        assert client.get("/api/admin/users", headers=bearer(tokens[role])).status_code == 403
        assert client.patch(f"/api/admin/users/{username}", json={"role": "admin"},
                            headers=bearer(tokens[role])).status_code == 403
    assert client.get("/api/admin/users").status_code == 401


def test_admins_change_roles_deactivate_and_revoke_sessions(app, client, admin_token, make_user, scratch_layers):
    admin = bearer(admin_token)
    username = make_user("officer")
    listed = client.get("/api/admin/users", headers=admin).get_json()["users"]
    assert {"username": username, "role": "officer", "active": True}.items() <= next(
        u for u in listed if u["username"] == username).items()

    browser = _client_at(app)
    sign_in(browser, username)
    changed = client.patch(f"/api/admin/users/{username}", json={"role": "gis"}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["user"]["role"] == "gis"
    assert who(browser) is None

    sign_in(browser, username)
    assert client.patch(f"/api/admin/users/{username}", json={"active": False}, headers=admin).status_code == 200
    assert sign_in(_client_at(app), username).status_code == 401
    assert client.patch(f"/api/admin/users/{username}", json={"active": True}, headers=admin).status_code == 200
    assert who(browser) is None

    sign_in(browser, username)
    revoked = client.delete(f"/api/admin/users/{username}/sessions", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["revoked"] == 1
    assert write(browser, scratch_layers["internal"]).status_code == 401

    for body, message in (({"role": "root"}, "unknown role"), ({"active": "no"}, "true or false"),
                          ({}, "role"), ({"role": "gis", "username": "x"}, "unknown field")):
        refused = client.patch(f"/api/admin/users/{username}", json=body, headers=admin)
        assert refused.status_code == 400 and message in refused.get_json()["error"]["message"], body
    assert client.patch("/api/admin/users/nobody-here", json={"role": "gis"}, headers=admin).status_code == 404


def test_admins_list_and_revoke_a_users_tokens(client, admin_token, make_user, engine):
    admin = bearer(admin_token)
    username = make_user()
    with transaction(engine) as session:
        token = domain_accounts.issue_token(session, username, "to revoke")
    listed = client.get(f"/api/admin/users/{username}/tokens", headers=admin).get_json()["tokens"]
    assert [(t["label"], t["status"]) for t in listed] == [("to revoke", "active")]
    assert "token_hash" not in listed[0] and "expires_at" in listed[0]
    other = make_user()
    assert client.delete(f"/api/admin/users/{other}/tokens/{listed[0]['id']}", headers=admin).status_code == 404
    revoked = client.delete(f"/api/admin/users/{username}/tokens/{listed[0]['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["token"]["status"] == "revoked"
    assert client.get("/api/session", headers=bearer(token)).status_code == 401


def test_the_last_active_admin_cannot_be_removed(client, engine):
    with transaction(engine) as session:
        admins = session.execute(text("SELECT username FROM users WHERE role = 'admin' AND active")).scalars().all()
        session.execute(text("UPDATE users SET active = false WHERE username = ANY(:a)"), {"a": admins[1:]})
    try:
        with pytest.raises(domain_accounts.AccountError, match="last active admin"), \
                transaction(engine) as session:
            domain_accounts.set_active(session, admins[0], False, domain_accounts.Actor("tests"))
    finally:
        with transaction(engine) as session:
            session.execute(text("UPDATE users SET active = true WHERE username = ANY(:a)"), {"a": admins})


def test_openapi_documents_the_admin_routes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/admin/users"])
    assert {"patch"} <= set(paths["/api/admin/users/{username}"])
    assert {"get"} <= set(paths["/api/admin/users/{username}/tokens"])
    assert {"delete"} <= set(paths["/api/admin/users/{username}/tokens/{token_id}"])
    assert {"delete"} <= set(paths["/api/admin/users/{username}/sessions"])
    assert {"415", "429", "403"} <= set(paths["/api/session"]["post"]["responses"])


# --- the security audit -------------------------------------------------------------------------------------------


def _events(engine: Engine, username: str) -> list[str]:
    with transaction(engine) as session:
        return session.execute(text("SELECT event FROM security_audit WHERE username = :u ORDER BY id"),
                               {"u": username}).scalars().all()


def test_every_account_event_is_audited(app, client, admin_token, make_user, engine):
    username = make_user()
    browser = _client_at(app)
    sign_in(browser, username, "wrong password")
    sign_in(browser, username)
    browser.delete("/api/session", headers=SAME_ORIGIN)
    atlas("users", "password", username, password=NEW_PASSWORD)
    token = atlas("tokens", "issue", username).output.strip().splitlines()[-1]
    token_id = client.get(f"/api/admin/users/{username}/tokens", headers=bearer(admin_token)).get_json()["tokens"][0]
    client.delete(f"/api/admin/users/{username}/tokens/{token_id['id']}", headers=bearer(admin_token))
    assert client.get("/api/session", headers=bearer(token)).status_code == 401
    client.delete(f"/api/admin/users/{username}/sessions", headers=bearer(admin_token))
    client.patch(f"/api/admin/users/{username}", json={"role": "viewer"}, headers=bearer(admin_token))
    client.patch(f"/api/admin/users/{username}", json={"active": False}, headers=bearer(admin_token))
    client.patch(f"/api/admin/users/{username}", json={"active": True}, headers=bearer(admin_token))
    for _ in range(7):  # 4 more failures, then 3 throttled attempts: the flood is audited once
        sign_in(browser, username, "wrong again")
    assert _events(engine, username) == [
        "user-created", "sign-in-failed", "sign-in", "sign-out", "password-changed", "token-issued",
        "token-revoked", "sessions-revoked", "role-changed", "user-deactivated", "user-activated",
        "sign-in-failed", "sign-in-failed", "sign-in-failed", "sign-in-failed", "sign-in-throttled"]
    with transaction(engine) as session:
        row = session.execute(text("SELECT actor, client_address, detail FROM security_audit "
                                   "WHERE username = :u AND event = 'role-changed'"), {"u": username}).one()
    assert row.actor.startswith("sec-admin-") and row.detail == {"from": "officer", "to": "viewer"}
    entries = client.get(f"/api/admin/security-audit?user={username}&limit=3",
                         headers=bearer(admin_token)).get_json()["entries"]
    assert [e["event"] for e in entries] == ["sign-in-throttled", "sign-in-failed", "sign-in-failed"]


@pytest.mark.parametrize("statement", ["UPDATE security_audit SET event = 'x'", "DELETE FROM security_audit",
                                       "TRUNCATE security_audit"])
def test_the_security_audit_is_append_only(engine, make_user, statement):
    make_user()
    with pytest.raises(sqlalchemy.exc.DBAPIError) as error, transaction(engine) as session:
        session.execute(text(statement))
    assert isinstance(error.value.orig, psycopg.errors.InsufficientPrivilege)
    assert "append-only" in str(error.value.orig)
