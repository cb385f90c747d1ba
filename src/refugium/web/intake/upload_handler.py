"""Uploads encrypted as they stream in: no plaintext byte reaches a disk, at any size.

Django's default handlers keep small files in memory and write large ones to a temporary
file in plaintext (reliability.md §0.4; GlobaLeaks audit issue A). This handler, the only
one in ``FILE_UPLOAD_HANDLERS``, hands each chunk to the store's age writer, to the
recipients the view chose before it touched ``request.POST``. A view that sets no target
receives no files at all.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from refugium.crypto import Recipient
from refugium.vault import EncryptedStore, Staged, TooLarge
from refugium.web.intake import formdata

ATTRIBUTE = "refugium_upload"

logger = logging.getLogger(__name__)

# glibc's mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Buffers up to this size come from the heap, not from mmap(2) and munmap(2) each time.
_MMAP_THRESHOLD_BYTES = 16 << 20
# Free memory at the top of the heap is given back to the system beyond this.
_TRIM_THRESHOLD_BYTES = 32 << 20


def _tune_malloc() -> bool:
    """Keep the upload path's megabyte buffers in the heap.

    A 400 MiB upload passes through a few thousand buffers of about 1 MiB (the socket reads,
    the multipart parser's pieces, the chunks handed to the age worker). glibc serves each
    with mmap(2) and returns it with munmap(2) when its heap top shrinks below the trim
    threshold, and every fresh page then costs a page fault and zeroing in the kernel:
    benchmarks/intake.py measured the gunicorn worker's system time per 400 MiB upload at
    0.6-0.8 s with glibc's defaults and 0.3 s with these. Memory stays bounded: at most
    ``_TRIM_THRESHOLD_BYTES`` of free heap is kept, and allocations larger than
    ``_MMAP_THRESHOLD_BYTES`` (the receipt's 64 MiB Argon2id) still go back to the system
    when freed. The same can be had with GLIBC_TUNABLES at the server's start; doing it here
    makes it part of the intake, whatever starts the server. Other C libraries: nothing.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    )


_tune_malloc()


@dataclass
class UploadTarget:
    """Where a request's files go: set on the request by the view, before parsing."""

    store: EncryptedStore
    recipients: list[Recipient]
    max_bytes: int
    max_files: int
    staged: list[StagedUpload] = field(default_factory=list)
    too_large: bool = False
    too_many: bool = False
    failed: bool = False
    """Storing a file failed (the encrypting worker process died, the disk is full or
    failing): every file of the request was discarded and the view answers 503."""

    @property
    def used_bytes(self) -> int:
        return sum(f.staged.size for f in self.staged)

    def discard_all(self) -> None:
        for upload in self.staged:
            upload.staged.discard()
        self.staged.clear()


def expect_uploads(request: HttpRequest, target: UploadTarget) -> UploadTarget:
    setattr(request, ATTRIBUTE, target)
    return target


class StagedUpload(UploadedFile):
    """What the form sees of an uploaded file: its name and size; the bytes are already
    encrypted on disk, staged until the view commits them."""

    def __init__(self, staged: Staged, name: str, content_type: str) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=staged.size)
        self.staged = staged

    def open(self, mode: str | None = None) -> Any:
        raise ValueError("an encrypted upload has no plaintext to open")

    def __repr__(self) -> str:
        return f"<StagedUpload {self.size} bytes>"


class EncryptingUploadHandler(FileUploadHandler):
    # Larger than Django's 64 KiB: fewer trips through the pipe to the age writer, whose
    # per-chunk cost dominates (benchmarks/intake.py). Memory: one chunk per upload.
    chunk_size = 1024 * 1024

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.target: UploadTarget | None = getattr(request, ATTRIBUTE, None)
        self.upload: Any = None

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # Django's name for it
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        """Parses the body itself (``web/intake/formdata.py``, several times faster than
        Django's parser) when the view said where files go; otherwise leaves it to Django,
        whose parser then skips every file."""
        if self.target is None:
            return None
        return formdata.parse(input_data, content_length, boundary, encoding, self)

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, str] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        if self.target is None:
            raise SkipFile
        if len(self.target.staged) >= self.target.max_files:
            self.target.too_many = True
            raise StopUpload(connection_reset=False)
        remaining = self.target.max_bytes - self.target.used_bytes
        self.upload = self.target.store.begin(self.target.recipients, max_bytes=remaining)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.upload is None:
            return None
        try:
            self.upload.write(raw_data)
        except TooLarge:
            self.upload = None
            assert self.target is not None
            self.target.too_large = True
            raise StopUpload(connection_reset=True) from None
        except (OSError, RuntimeError) as error:
            self._failed(error)
        return None

    def file_complete(self, file_size: int) -> StagedUpload | None:
        if self.upload is None or self.target is None:
            return None
        try:
            staged = self.upload.finish()
        except (OSError, RuntimeError) as error:
            self._failed(error)
        self.upload = None
        uploaded = StagedUpload(staged, self.file_name or "", self.content_type or "")
        self.target.staged.append(uploaded)
        return uploaded

    def _failed(self, error: BaseException) -> NoReturn:
        """The upload could not be stored: the encrypting worker died (RuntimeError) or the
        disk failed (OSError). ``Upload`` has already deleted its temporary file; the
        request's other files go too, since a submission is stored whole or not at all.

        The rest of the body is read and thrown away rather than the connection reset, so
        that the browser, still sending, gets the page that says nothing was kept (503)
        instead of a network error; the form token is not used, so the form can be sent
        again. Only the type of the error is logged: its message may name a path.
        """
        logger.error("an upload could not be stored and was discarded: %s", type(error).__name__)
        if self.upload is not None:
            self.upload.abort()
            self.upload = None
        assert self.target is not None
        self.target.failed = True
        self.target.discard_all()
        raise StopUpload(connection_reset=False) from None

    def upload_interrupted(self) -> None:
        if self.upload is not None:
            self.upload.abort()
            self.upload = None
        if self.target is not None:
            self.target.discard_all()
