"""A decrypted file sent to a researcher: always a download, never a page.

One response for the inbox's attachments and the vault's evidence, so that both offer the
same harmless file name and the same headers: nothing in a download may run, load, frame or
be framed, and no browser may sniff it into something it renders.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from refugium.web.desk.filenames import content_disposition

DOWNLOAD_CSP = (
    "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def download_response(chunks: Iterator[bytes], name: str, size: int) -> StreamingHttpResponse:
    """Streams ``chunks`` as an attachment offered under a safe version of ``name``."""
    response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition(name)
    response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
