"""A reporter's side of the intake, as a browser sends it: GET the form, POST multipart.

Requests can leave from another loopback address (127.0.0.2, say), so that a test can look
for that address in everything the server kept (T10). Raw-socket uploads stand in for a
browser that goes away in the middle of a body, or a server that dies under one.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

RECEIPT = re.compile(r'id="receipt"[^>]*>\s*([^<]+?)\s*<')


class _FormParser(HTMLParser):
    """The page's forms as a browser sees them: action, method, enctype, hidden inputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({**a, "hidden": {}, "file_inputs": []})
        elif tag == "input" and self.forms:
            if a.get("type") == "hidden" and a.get("name"):
                self.forms[-1]["hidden"][a["name"]] = a.get("value", "")
            elif a.get("type") == "file" and a.get("name"):
                self.forms[-1]["file_inputs"].append(a["name"])


def receipt_in(html: str) -> str | None:
    found = RECEIPT.search(html)
    return " ".join(found.group(1).split()) if found else None


class _BoundAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self._source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass(frozen=True)
class Form:
    """The upload form of a page: where it posts (path and query, as the action says) and
    the hidden fields it carries, plus the CSRF cookie the page set."""

    action: str
    hidden: dict[str, str]
    file_field: str
    csrf_cookie: str


def upload_form(html: str, page_url: str, csrf_cookie: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    forms = [f for f in parser.forms if f.get("enctype") == "multipart/form-data"]
    assert len(forms) == 1, f"{len(forms)} upload forms on {page_url}"
    (form,) = forms
    assert form.get("method", "").lower() == "post"
    target = urlsplit(urljoin(page_url, form.get("action") or page_url))
    (file_field,) = form["file_inputs"]
    return Form(
        action=target.path + (f"?{target.query}" if target.query else ""),
        hidden=dict(form["hidden"]),
        file_field=file_field,
        csrf_cookie=csrf_cookie,
    )


class Reporter:
    """One browser: its own cookies, its own source address and headers."""

    def __init__(
        self, base: str, *, source: str = "127.0.0.1", headers: dict[str, str] | None = None
    ) -> None:
        self.base = base
        self.source = source
        self.session = requests.Session()
        self.session.mount("http://", _BoundAdapter(source))
        self.session.headers.update(headers or {})

    def form(self, path: str = "/submit/") -> Form:
        page = self.session.get(self.base + path, timeout=30)
        assert page.status_code == 200, page.status_code
        cookie = self.session.cookies.get("refugium-csrf")
        assert cookie, "no CSRF cookie"
        return upload_form(page.text, page.url, cookie)

    def submit(
        self,
        text: str,
        files: Sequence[tuple[str, bytes]] = (),
        *,
        form: Form | None = None,
        extra: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> requests.Response:
        """Fills in the text (and ``extra`` fields), attaches the files, and sends the form
        as a browser does (multipart, to the form's action)."""
        form = form or self.form()
        return self.session.post(
            self.base + form.action,
            data={**form.hidden, "text": text, **(extra or {})},
            files=[
                (form.file_field, (name, content, "application/octet-stream"))
                for name, content in files
            ],
            timeout=timeout,
        )


class RawUpload:
    """A multipart POST of an upload form, sent by hand, so the test decides when it stops.

    The headers promise ``declared_file_bytes`` of file; the test sends what it wants of
    them with ``send`` and then ``close``s the socket (an aborted upload), or kills the
    server meanwhile.
    """

    BOUNDARY = "----refugiumE2EBoundary7MA4YWxkTrZu0gW"

    def __init__(
        self,
        port: int,
        form: Form,
        *,
        text: str,
        file_name: str,
        declared_file_bytes: int,
        source: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
        send_file_header: bool = True,
    ) -> None:
        """With ``send_file_header=False`` only the text fields are sent: the body stops
        between two parts."""
        b = self.BOUNDARY
        values = {**form.hidden, "text": text}
        fields = "".join(
            f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in values.items()
        ).encode()
        file_header = (
            f'--{b}\r\nContent-Disposition: form-data; name="{form.file_field}"; '
            f'filename="{file_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{b}--\r\n".encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        request = (
            f"POST {form.action} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={b}\r\n"
            f"Content-Length: {len(fields + file_header) + declared_file_bytes + len(tail)}\r\n"
            f"Cookie: refugium-csrf={form.csrf_cookie}\r\n{extra}Connection: close\r\n\r\n"
        ).encode()
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=30, source_address=(source, 0)
        )
        self.sock.sendall(request + fields + (file_header if send_file_header else b""))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


def wait_for_staged(tmp: Path, at_least: int, timeout: float = 30) -> int:
    """Waits until an upload in ``store/tmp`` holds ``at_least`` bytes of ciphertext, which
    shows that the server is inside the body, encrypting; returns its size."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sizes = []
        for path in tmp.iterdir():
            try:
                sizes.append(path.stat().st_size)
            except FileNotFoundError:
                continue
        if sizes and max(sizes) >= at_least:
            return max(sizes)
        time.sleep(0.02)
    raise AssertionError(f"no upload of {at_least} bytes appeared in {tmp}")


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def wait_group_gone(pgid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of group {pgid} survived SIGKILL")
        time.sleep(0.02)
