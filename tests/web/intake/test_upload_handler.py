"""The upload handler's set-up of the process it runs in."""

from __future__ import annotations

import platform

import pytest

from refugium.web.intake import upload_handler


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(3) is glibc's")
def test_malloc_keeps_megabyte_buffers_in_the_heap() -> None:
    # Called at import; calling it again sets the same values and says it could.
    assert upload_handler._tune_malloc() is True
