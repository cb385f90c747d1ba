"""The intake desk's inbox in a browser: list, read, download, reply, status, delete."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.test import Client

from refugium.web.intake import submissions
from refugium.web.intake.models import Attachment, Message, Submission
from tests.web.desk.conftest import DOCUMENT, PHOTO, audit_entries

INBOX = "/desk/inbox/"


def _files_on_disk() -> set[str]:
    return {p.name for p in (settings.DATA.root / "store" / "files").iterdir()}


def test_inbox_lists_newest_first_with_unread_status_date_and_files(submit, signed_in):
    first = submit(files=[("a.png", PHOTO, "image/png")])
    second = submit(files=[("b.png", PHOTO, "image/png"), ("c.txt", DOCUMENT, "text/plain")])
    Submission.objects.filter(pk=first.submission.pk).update(status="in_review", unread=False)
    browser = signed_in()
    page = browser.get(INBOX)
    assert page.status_code == 200
    html = page.content.decode()
    rows = re.findall(r"<tr( class=\"unread\")?>\s*<td><a href=\"/desk/inbox/(\w+)/\">", html)
    assert rows == [(' class="unread"', second.code), ("", first.code)]
    today = first.submission.received_on.isoformat()
    assert html.count(f"<td>{today}</td>") == 2
    assert "In review" in html
    assert re.search(rf"{second.code}.*?<td>2</td>", html, re.S)
    assert re.search(rf"{first.code}.*?<td>1</td>", html, re.S)
    # Listing is not reading: no key used, nothing to audit.
    assert [e for e in audit_entries() if e[1].startswith("submission.")] == []


def test_reading_shows_text_hints_and_file_meta_and_clears_unread(submit, signed_in):
    made = submit(
        text="Line one\nline <b>two</b> & more",
        files=[('<img src=x onerror="alert(1)">.png', PHOTO, 'image/png"><img src=x>')],
        hints={"when": "week", "where": "moscow", "harm": ["no-such-term"]},
    )
    browser = signed_in()
    page = browser.get(f"{INBOX}{made.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Line one<br>line &lt;b&gt;two&lt;/b&gt; &amp; more" in html
    assert "In the last week" in html
    assert "Moscow" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.png" in html
    assert "<img" not in html
    assert "&quot;&gt;&lt;img src=x&gt;" in html
    assert hashlib.sha256(PHOTO).hexdigest() in html
    assert f"<td>{len(PHOTO)}</td>" in html
    (stored,) = made.stored_names()
    assert f'href="/desk/inbox/{made.code}/files/{stored}/"' in html
    made.submission.refresh_from_db()
    assert made.submission.unread is False
    assert ("admin", "submission.read", "submission", made.code) in audit_entries()


def test_download_streams_exact_bytes_as_an_attachment(submit, signed_in):
    made = submit(files=[("Фото задержания \u202egnp.exe", PHOTO, "text/html")])
    (stored,) = made.stored_names()
    browser = signed_in()
    response = browser.get(f"{INBOX}{made.code}/files/{stored}/")
    assert response.status_code == 200
    assert response.streaming is True
    assert b"".join(response.streaming_content) == PHOTO
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Length"] == str(len(PHOTO))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in [d.strip() for d in response["Content-Security-Policy"].split(";")]
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    match = re.fullmatch(
        r'attachment; filename="([ -~]+)"; filename\*=UTF-8\'\'([!-~]+)', disposition
    )
    assert match is not None, disposition
    assert unquote(match.group(2)) == "Фото задержания gnp.exe"  # the bidi override is gone
    assert ("admin", "attachment.download", "attachment", f"{made.code}:{stored}") in (
        audit_entries()
    )


def test_download_of_a_tampered_file_is_cut_off(submit, signed_in):
    made = submit(files=[("a.png", PHOTO, "image/png")])
    (stored,) = made.stored_names()
    path = settings.DATA.root / "store" / "files" / stored
    data = bytearray(path.read_bytes())
    data[-40] ^= 1
    path.write_bytes(bytes(data))
    browser = signed_in()
    response = browser.get(f"{INBOX}{made.code}/files/{stored}/")
    assert response.status_code == 200  # headers go out before the damage is reached
    from refugium.errors import DecryptionFailed

    with pytest.raises(DecryptionFailed):
        b"".join(response.streaming_content)


def test_reply_is_encrypted_to_the_reporter_who_reads_it_with_the_receipt(submit, signed_in):
    made = submit()
    browser = signed_in()
    response = browser.post(f"{INBOX}{made.code}/reply/", {"text": "We read it. Stay safe."})
    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}{made.code}/?done=reply"
    reply = Message.objects.get(submission=made.submission, author=Message.Author.DESK)
    assert reply.sent_by.username == "admin"
    assert b"Stay safe" not in bytes(reply.body)
    session = submissions.open_with_receipt(made.receipt)
    status, replies = submissions.reporter_view(session)
    assert [r.text for r in replies] == ["We read it. Stay safe."]
    assert status == "new"
    # And the desk reads its own reply.
    page = browser.get(f"{INBOX}{made.code}/").content.decode()
    assert "We read it. Stay safe." in page
    assert "Reply by admin" in page
    assert ("admin", "submission.reply", "submission", made.code) in audit_entries()


def test_empty_reply_is_refused_and_nothing_stored(submit, signed_in):
    made = submit()
    browser = signed_in()
    response = browser.post(f"{INBOX}{made.code}/reply/", {"text": "   \n"})
    assert response.status_code == 400
    assert b"Write a reply first." in response.content
    assert made.submission.messages.count() == 1


def test_set_status(submit, signed_in):
    made = submit()
    browser = signed_in()
    response = browser.post(f"{INBOX}{made.code}/status/", {"status": "promoted"})
    assert response.status_code == 302
    made.submission.refresh_from_db()
    assert made.submission.status == "promoted"
    assert ("admin", "submission.status", "submission", f"{made.code}:promoted") in (
        audit_entries()
    )
    session = submissions.open_with_receipt(made.receipt)
    assert submissions.reporter_view(session)[0] == "promoted"


def test_unknown_status_changes_nothing(submit, signed_in):
    made = submit()
    browser = signed_in()
    response = browser.post(f"{INBOX}{made.code}/status/", {"status": "deleted"})
    assert response.status_code == 302
    made.submission.refresh_from_db()
    assert made.submission.status == "new"
    assert not [e for e in audit_entries() if e[1] == "submission.status"]


def test_delete_confirmation_says_what_remains(submit, signed_in):
    made = submit(files=[("a.png", PHOTO, "image/png")])
    browser = signed_in()
    page = browser.get(f"{INBOX}{made.code}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "and 1 file will be deleted." in html
    assert "copy-on-write" in html
    assert "Backups" in html
    assert f'action="/desk/inbox/{made.code}/delete/"' in html
    assert Submission.objects.filter(pk=made.submission.pk).exists()


def test_delete_removes_rows_and_files(submit, signed_in):
    made = submit(files=[("a.png", PHOTO, "image/png"), ("b.txt", DOCUMENT, "text/plain")])
    kept = submit(files=[("c.png", PHOTO, "image/png")])
    names = made.stored_names()
    assert set(names) <= _files_on_disk()
    browser = signed_in()
    response = browser.post(f"{INBOX}{made.code}/delete/")
    assert response.status_code == 200
    assert b"2 files were shredded." in response.content
    assert not Submission.objects.filter(code=made.code).exists()
    assert not Message.objects.filter(submission_id=made.submission.pk).exists()
    assert not Attachment.objects.filter(stored_name__in=names).exists()
    assert _files_on_disk() == set(kept.stored_names())
    assert ("admin", "submission.delete", "submission", made.code) in audit_entries()
    # The reporter's receipt now opens nothing, and looks like one with nothing new.
    session = submissions.open_with_receipt(made.receipt)
    assert submissions.reporter_view(session) == ("new", [])
    assert browser.get(f"{INBOX}{made.code}/").status_code == 404


def test_state_changes_need_post(submit, signed_in):
    made = submit()
    browser = signed_in()
    for action in ("reply", "status"):
        assert browser.get(f"{INBOX}{made.code}/{action}/").status_code == 405
    assert browser.put(f"{INBOX}{made.code}/delete/").status_code == 405
    assert Submission.objects.filter(pk=made.submission.pk).exists()


def test_state_changes_need_the_csrf_token(submit, signed_in, org):
    made = submit()
    signed_in()  # the fixture's browser does not check CSRF; this one does
    from tests import factories

    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get("/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.content)
    assert token is not None
    # A second sign-in of admin needs a fresh TOTP step: use another member.
    from refugium.web.accounts import services as accounts

    factories.add_user(org, "rita", ["intake"])
    accounts.grant("rita", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    response = browser.post(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": "rita",
            "passphrase": org.passphrases["rita"],
            "code": factories.totp_code(org.totp["rita"]),
        },
    )
    assert response.status_code == 302
    for action, data in (("reply", {"text": "x"}), ("status", {"status": "closed"}),
                         ("delete", {})):
        assert browser.post(f"{INBOX}{made.code}/{action}/", data).status_code == 403
    page = browser.get(f"{INBOX}{made.code}/")
    assert page.status_code == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token is not None
    ok = browser.post(
        f"{INBOX}{made.code}/status/",
        {"csrfmiddlewaretoken": token.group(1).decode(), "status": "closed"},
    )
    assert ok.status_code == 302
    made.submission.refresh_from_db()
    assert made.submission.status == "closed"
    assert made.submission.messages.count() == 1


def test_pages_carry_no_script_and_the_project_headers(submit, signed_in):
    made = submit(files=[("a.png", PHOTO, "image/png")])
    browser = signed_in()
    for url in (INBOX, f"{INBOX}{made.code}/", f"{INBOX}{made.code}/delete/"):
        response = browser.get(url)
        assert response.status_code == 200
        assert b"<script" not in response.content.lower()
        assert response["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_home_page_links_to_the_inbox_for_intake_members(signed_in, org):
    page = signed_in().get("/desk/")
    assert page.status_code == 200
    assert b'href="/desk/inbox/"' in page.content
    from tests import factories

    factories.add_user(org, "newbie", ["intake"])  # pending: no key yet
    page = signed_in("newbie").get("/desk/")
    assert page.status_code == 200
    assert b'href="/desk/inbox/"' not in page.content
