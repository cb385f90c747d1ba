"""The reporter's form body, parsed with the `multipart` library instead of Django's parser.

Django lets an upload handler take over parsing (``FileUploadHandler.handle_raw_input``);
``EncryptingUploadHandler`` does, for requests whose files it was told where to put. The
reason is the server's CPU: Django's ``MultiPartParser`` copies every chunk several times on
its way through ``LazyStream`` and ``BoundaryIter``. Parsing a 400 MiB body held in a file
took 0.69 s of CPU with it and 0.24 s with ``multipart``'s ``PushMultipartParser`` (0.16 s of
both is the reading). Through the real server (benchmarks/intake.py's upload, 5 runs each) the
gunicorn worker's user time per 400 MiB fell from 0.60 s to 0.45 s (medians); the wall time
barely moves, since the encrypting worker process is the slower stage.

The semantics stay Django's:

- text fields are decoded with the request's encoding (errors replaced), counted against
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` and, as they arrive rather than once read, against
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``TooManyFieldsSent``, ``RequestDataTooBig``: 400);
- files are counted against ``DATA_UPLOAD_MAX_NUMBER_FILES`` (``TooManyFilesSent``), their
  names cleaned as Django cleans them, a part with an empty name is skipped, and the handler
  sees ``new_file``, ``receive_data_chunk`` and ``file_complete`` as Django calls them;
- ``StopUpload`` from the handler stops parsing; unless it asks for the connection to be
  reset, the rest of the body is read and thrown away, so the browser gets the page;
- a body that is not valid multipart, or ends before its closing delimiter (an aborted
  upload), is ``MultiPartParserError`` (400), and a file cut short is given back to the
  handler with ``upload_interrupted``, never completed.

One difference: a part with ``Content-Transfer-Encoding: base64`` is refused. RFC 7578
section 4.7 deprecates the header for ``multipart/form-data``, no browser sends it, and
decoding it here would only add a path no reporter uses.
"""

from __future__ import annotations

import html
from typing import Any

import multipart
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict

#: Bytes asked of the request body per read: the upload handler's chunk.
READ_BYTES = 1024 * 1024


def clean_file_name(name: str) -> str | None:
    """The file name as Django's ``MultiPartParser.sanitize_file_name`` leaves it: the last
    path component, printable characters only; None for an empty name, "." or ".."."""
    name = html.unescape(name)
    name = name.rsplit("/")[-1].rsplit("\\")[-1]
    name = "".join(char for char in name if char.isprintable())
    return None if name in {"", ".", ".."} else name


class _Form:
    """The fields and files of one body, and the limits they count against."""

    def __init__(self, encoding: str, handler: FileUploadHandler) -> None:
        self.encoding = encoding
        self.handler = handler
        self.post = QueryDict(mutable=True, encoding=encoding)
        self.files: MultiValueDict[str, Any] = MultiValueDict()
        self.fields = 0
        self.file_count = 0
        self.field_bytes = 0
        # The part being read: ("field", name, pieces), ("file", name), or ("skip",).
        self.part: tuple[Any, ...] | None = None
        self.file_received = 0

    def begin(self, segment: multipart.MultipartSegment) -> None:
        if segment.header("Content-Transfer-Encoding") is not None:
            raise MultiPartParserError("Content-Transfer-Encoding is not accepted")
        name = segment.name.strip()
        if not segment.filename:
            # As under Django: a part with an empty file name (a file input left empty) is a
            # field with an empty value.
            self._count_field(name)
            self.part = ("field", name, [])
            return
        self.file_count += 1
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        if limit is not None and self.file_count > limit:
            raise TooManyFilesSent(
                "The number of files exceeded settings.DATA_UPLOAD_MAX_NUMBER_FILES."
            )
        file_name = clean_file_name(segment.filename)
        if file_name is None:
            self.part = ("skip",)
            return
        length = segment.header("Content-Length")
        self.part = ("file", name)
        self.file_received = 0
        self.handler.new_file(
            name,
            file_name,
            segment.content_type or "",
            int(length) if length is not None and length.isdigit() else None,
            segment.charset,
            {},
        )

    def data(self, chunk: bytes) -> None:
        assert self.part is not None
        if self.part[0] == "field":
            self._count_bytes(len(chunk))
            self.part[2].append(chunk)
        elif self.part[0] == "file":
            self.handler.receive_data_chunk(chunk, self.file_received)
            self.file_received += len(chunk)

    def end(self) -> None:
        part, self.part = self.part, None
        assert part is not None
        if part[0] == "field":
            # Counted as Django counts a field: its name and "&=" too.
            self._count_bytes(len(part[1]) + 2)
            value = b"".join(part[2]).decode(self.encoding, errors="replace")
            self.post.appendlist(part[1], value)
        elif part[0] == "file":
            uploaded = self.handler.file_complete(self.file_received)
            if uploaded is not None:
                self.files.appendlist(part[1], uploaded)

    def interrupted(self) -> None:
        """The body stopped inside a file: the handler drops it."""
        if self.part is not None and self.part[0] == "file":
            self.handler.upload_interrupted()
        self.part = None

    def _count_field(self, name: str) -> None:
        self.fields += 1
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is not None and self.fields > limit:
            raise TooManyFieldsSent(
                "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
            )

    def _count_bytes(self, n: int) -> None:
        self.field_bytes += n
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and self.field_bytes > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")


def parse(
    input_data: Any,
    content_length: int,
    boundary: bytes,
    encoding: str | None,
    handler: FileUploadHandler,
) -> tuple[QueryDict, MultiValueDict[str, Any]]:
    """``POST`` and ``FILES`` of a ``multipart/form-data`` body read from ``input_data``.

    Raises:
        MultiPartParserError: not a valid multipart body, or cut short.
        TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig: a Django limit was passed.
        Whatever reading ``input_data`` raises (a client gone: ``UnreadablePostError``).
    """
    form = _Form(encoding or settings.DEFAULT_CHARSET, handler)
    parser = multipart.PushMultipartParser(boundary, content_length=content_length)
    try:
        while True:
            chunk = input_data.read(READ_BYTES)
            for event in parser.parse(chunk):
                if isinstance(event, multipart.MultipartSegment):
                    form.begin(event)
                elif event is None:
                    form.end()
                else:
                    form.data(event)
            if not chunk:
                break
    except StopUpload as stop:
        # The handler stopped, and has dealt with its files itself (as under Django's
        # parser, which calls nothing more on them).
        if not stop.connection_reset:
            while input_data.read(READ_BYTES):
                pass
    except multipart.MultipartError as error:
        form.interrupted()
        raise MultiPartParserError(f"Invalid multipart body: {error}") from None
    except BaseException:
        form.interrupted()
        raise
    handler.upload_complete()
    form.post._mutable = False
    return form.post, form.files
