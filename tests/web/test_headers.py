"""Security headers on every response (reliability.md T13)."""

import pytest

EXPECTED_CSP = {
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
}


def _check(response):  # type: ignore[no-untyped-def]
    csp = response["Content-Security-Policy"]
    assert {d.strip() for d in csp.split(";")} == EXPECTED_CSP
    assert "script-src" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
    assert "camera=()" in response["Permissions-Policy"]
    assert "Server" not in response
    assert "X-Powered-By" not in response


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/accounts/login/", 200),
        ("post", "/accounts/login/", 400),
        ("get", "/accounts/logout/", 405),
        ("get", "/no/such/page/", 404),
        ("put", "/accounts/login/", 405),
    ],
)
def test_headers_on_every_status(client, db, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    _check(response)


def test_headers_on_the_signed_in_pages(client, login):
    login()
    _check(client.get("/desk/"))
    not_found = client.get("/no/such/page/")
    assert not_found.status_code == 404
    assert b"There is nothing here." in not_found.content
    _check(not_found)


def test_static_files_are_served_with_the_same_headers(client, db):
    response = client.get("/static/refugium/refugium.css")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_script_on_the_login_page(client, db):
    html = client.get("/accounts/login/").content.lower()
    assert b"<script" not in html
    assert b" onload=" not in html
    assert b" onclick=" not in html
