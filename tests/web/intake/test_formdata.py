"""The reporter form's own body parser against Django's: same fields, same files, same limits."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from refugium.web.intake import formdata

BOUNDARY = "----refugiumTestBoundary7MA4YWxkTrZu0gW"


class Recording(FileUploadHandler):
    """Keeps every file in memory and every call in order: a test's stand-in for the
    encrypting handler, so that both parsers can be watched doing the same thing."""

    chunk_size = 64 * 1024

    def __init__(self, stop_at_file: int | None = None, reset: bool = False) -> None:
        super().__init__(None)
        self.calls: list[str] = []
        self.parts: list[bytes] = []
        self.stop_at_file = stop_at_file
        self.reset = reset

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.calls.append(f"new {field_name} {file_name}")
        if self.stop_at_file is not None and len(self.parts) == self.stop_at_file:
            raise StopUpload(connection_reset=self.reset)
        self.parts.append(b"")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert start == len(self.parts[-1])
        self.parts[-1] += raw_data
        return None

    def file_complete(self, file_size: int) -> SimpleUploadedFile:
        self.calls.append(f"complete {file_size}")
        return SimpleUploadedFile(self.file_name or "", self.parts[-1], self.content_type)

    def upload_interrupted(self) -> None:
        self.calls.append("interrupted")

    def upload_complete(self) -> None:
        self.calls.append("done")


def body(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A browser's multipart body: (name, file name or None for a field, content)."""
    out = b""
    for name, file_name, content in parts:
        disposition = f'form-data; name="{name}"'
        if file_name is not None:
            disposition += f'; filename="{file_name}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if file_name is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def ours(data: bytes, handler: FileUploadHandler | None = None) -> tuple[Any, Any, Any]:
    handler = handler or Recording()
    stream = io.BytesIO(data)
    post, files = formdata.parse(stream, len(data), BOUNDARY.encode(), "utf-8", handler)
    return post, files, stream


def djangos(data: bytes, handler: FileUploadHandler) -> tuple[Any, Any]:
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(data)),
    }
    return MultiPartParser(meta, io.BytesIO(data), [handler], "utf-8").parse()


def summary(post: Any, files: Any) -> tuple[Any, Any]:
    return (
        sorted(post.lists()),
        sorted((k, [(f.name, f.read()) for f in v]) for k, v in files.lists()),
    )


def test_fields_and_files_arrive_as_under_djangos_parser() -> None:
    data = body(
        [
            ("text", None, "Что случилось — what happened".encode()),
            ("hint", None, b"week"),
            ("hint", None, b"month"),
            ("files", "photo.jpg", b"\xff\xd8" + bytes(range(256)) * 1000),
            ("files", "запись.ogg", b""),
            ("csrfmiddlewaretoken", None, b"abc"),
        ]
    )
    mine, theirs = Recording(), Recording()
    post, files, _ = ours(data, mine)
    assert summary(post, files) == summary(*djangos(data, theirs))
    assert mine.calls == theirs.calls
    assert not post._mutable


# File contents that may hold most of the boundary, CR, LF or dashes (never the whole
# boundary: a browser picks one that is not in the content), and names with what Django's
# clean-up removes (paths, control characters, HTML entities).
_contents = st.binary(max_size=3000) | st.sampled_from(
    [b"\r\n--", b"\r\n--" + BOUNDARY[:-1].encode(), b"--" + BOUNDARY[:-2].encode(), b"\r\r\n\n"]
)
_names = st.text(
    st.characters(blacklist_characters='"\\\r\n', blacklist_categories=("Cs",)), max_size=20
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["text", "files", "hint"]), st.none() | _names, _contents),
        max_size=6,
    )
)
def test_any_browser_body_parses_as_under_djangos_parser(parts: list[Any]) -> None:
    data = body(parts)
    mine, theirs = Recording(), Recording()
    post, files, _ = ours(data, mine)
    assert summary(post, files) == summary(*djangos(data, theirs))
    assert mine.calls == theirs.calls


def test_a_cut_body_is_refused_and_the_file_in_it_interrupted() -> None:
    data = body([("text", None, b"x"), ("files", "a.bin", b"y" * 100_000)])
    handler = Recording()
    with pytest.raises(MultiPartParserError):
        ours(data[:50_000], handler)
    assert handler.calls == ["new files a.bin", "interrupted"]


@pytest.mark.parametrize("junk", [b"", b"no boundary at all", b"--wrong\r\n\r\n"])
def test_a_body_that_is_not_multipart_is_refused(junk: bytes) -> None:
    with pytest.raises(MultiPartParserError):
        ours(junk or b"--" + BOUNDARY.encode() + b"\r\nX-No-Disposition: 1\r\n\r\nz")


def test_base64_parts_are_refused() -> None:
    data = body([("files", "a.bin", b"eHl6")]).replace(
        b"Content-Type: application/octet-stream\r\n",
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
    )
    with pytest.raises(MultiPartParserError, match="Content-Transfer-Encoding"):
        ours(data)


def test_djangos_field_limits_hold(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    with pytest.raises(TooManyFieldsSent):
        ours(body([("a", None, b"1")] * 4))
    ours(body([("a", None, b"1")] * 3))

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    with pytest.raises(TooManyFilesSent):
        ours(body([("f", "x", b"1")] * 3))


def test_a_field_too_large_is_refused_before_it_is_all_held(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    data = body([("text", None, b"x" * (3 * formdata.READ_BYTES))])
    stream = io.BytesIO(data)
    with pytest.raises(RequestDataTooBig):
        formdata.parse(stream, len(data), BOUNDARY.encode(), "utf-8", Recording())
    # Refused within the first read, not after the whole field was kept.
    assert stream.tell() <= formdata.READ_BYTES


def test_files_do_not_count_against_the_field_memory_limit(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, files, _ = ours(body([("files", "big.bin", b"z" * 50_000)]))
    assert files["files"].size == 50_000


@pytest.mark.parametrize("reset", [False, True])
def test_stop_upload_drains_the_body_unless_told_to_reset(reset: bool) -> None:
    data = body([("files", "a", b"1" * 10), ("files", "b", b"2" * 3_000_000), ("text", None, b"t")])
    handler = Recording(stop_at_file=1, reset=reset)
    post, files, stream = ours(data, handler)
    assert [f.name for f in files.getlist("files")] == ["a"]
    assert "text" not in post
    assert handler.calls[-1] == "done"
    assert (stream.tell() == len(data)) is not reset


def test_file_names_are_cleaned_as_django_cleans_them() -> None:
    assert formdata.clean_file_name("../../etc/passwd") == "passwd"
    assert formdata.clean_file_name("C:\\Users\\me\\photo.jpg") == "photo.jpg"
    assert formdata.clean_file_name("a\x00b\u202ec.jpg") == "abc.jpg"
    assert formdata.clean_file_name("&lt;x&gt;.png") == "<x>.png"
    for nothing in ("", ".", "..", "dir/", "\x07"):
        assert formdata.clean_file_name(nothing) is None
