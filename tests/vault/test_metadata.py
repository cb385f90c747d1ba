"""Metadata reports and content sniffing: what a file carries, read without altering it.

Every fixture is synthetic and built here: a JPEG with EXIF GPS, date, camera and serial; a
PNG with a text chunk; a PDF with an author; a DOCX with core and app properties; an MP3
with ID3 tags; an MP4 with a QuickTime position; a WAV with a RIFF INFO chunk.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refugium.errors import BadInput
from refugium.vault.metadata import (
    MAX_ENTRIES,
    MAX_VALUE_CHARS,
    SUPPORTED_MEDIA_TYPES,
    WARN_AUTHOR,
    WARN_GPS,
    WARN_MAKER_NOTE,
    WARN_ORGANISATION,
    WARN_SERIAL,
    MetadataReport,
    report,
)
from refugium.vault.sniff import OCTET_STREAM, PREFIX_BYTES, media_type

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
MP3 = "audio/mpeg"
MP4 = "video/mp4"
WAV = "audio/x-wav"


# --- fixtures (plain builders; test_sharing.py uses them too) -----------------------------


def make_jpeg(*, maker_note: bool = False) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (32, 24), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "EC-1"  # Model
    exif[0x0131] = "Firmware 1.2"  # Software
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (55.0, 45.0, 21.0)
    gps[3] = "E"
    gps[4] = (37.0, 37.0, 4.0)
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:03:01 12:34:56"  # DateTimeOriginal
    exif_ifd[0xA431] = "SN-0042-7731"  # BodySerialNumber
    if maker_note:
        exif_ifd[0x927C] = b"MAKER\x00serial=SN-0042-7731"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def make_png() -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Jane Roe")
    info.add_text("Comment", "taken at the checkpoint")
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def make_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata(
        {
            "/Author": "Jane Roe",
            "/Creator": "Example Writer 7",
            "/Producer": "Example PDF Library",
            "/CreationDate": "D:20240301123456+03'00'",
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/core.xml"
 ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml"
 ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""

_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="word/document.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
<Relationship Id="rId2" Target="docProps/core.xml"
 Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"/>
<Relationship Id="rId3" Target="docProps/app.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties"/>
</Relationships>"""

_DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>Statement</w:t></w:r></w:p></w:body></w:document>"""

CORE_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties
 xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>Statement</dc:title><dc:creator>Jane Roe</dc:creator>
<cp:lastModifiedBy>John Doe</cp:lastModifiedBy><cp:revision>3</cp:revision>
<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-01T12:34:56Z</dcterms:created>
</cp:coreProperties>"""

APP_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
<Application>Example Office</Application><Company>Example Bureau</Company>
</Properties>"""


def make_docx(core: str | bytes = CORE_XML, app: str = APP_XML) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", _DOCUMENT)
        archive.writestr("docProps/core.xml", core)
        archive.writestr("docProps/app.xml", app)
    return out.getvalue()


def make_odt() -> bytes:
    meta = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>
<meta:initial-creator>Jane Roe</meta:initial-creator><dc:creator>John Doe</dc:creator>
<meta:generator>Example Office/7.0</meta:generator></office:meta></office:document-meta>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", ODT, compress_type=zipfile.ZIP_STORED)
        archive.writestr("meta.xml", meta, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            'office:version="1.3"><office:body><office:text><text:p>Statement</text:p>'
            "</office:text></office:body></office:document-content>",
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODT}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/>'
            '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return out.getvalue()


def make_mp3() -> bytes:
    from mutagen.id3 import COMM, ID3, TDRC, TPE1, TSSE

    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417-byte frames of silence.
    frames = (b"\xff\xfb\x90\x00" + bytes(413)) * 20
    tags = ID3()
    tags.add(TPE1(encoding=3, text=["Jane Roe"]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=["recorded at the station"]))
    tags.add(TSSE(encoding=3, text=["Example Recorder 2.1"]))
    tags.add(TDRC(encoding=3, text=["2024-03-01"]))
    out = io.BytesIO(frames)
    tags.save(out)
    return out.getvalue()


def _atom(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + name + body


def make_mp4() -> bytes:
    from mutagen.mp4 import MP4 as MP4File

    mvhd = _atom(
        b"mvhd",
        bytes(12) + struct.pack(">II", 1000, 0) + b"\x00\x01\x00\x00\x01\x00" + bytes(70)
        + b"\x00\x00\x00\x02",
    )
    xyz = _atom(b"\xa9xyz", struct.pack(">HH", 18, 0x15C7) + b"+55.7558+037.6173/")
    data = (
        _atom(b"ftyp", b"mp42" + bytes(4) + b"mp42isom")
        + _atom(b"moov", mvhd + _atom(b"udta", xyz))
        + _atom(b"mdat", b"")
    )
    stream = io.BytesIO(data)
    movie = MP4File(stream)
    movie.add_tags()
    assert movie.tags is not None
    movie.tags["\xa9too"] = ["Example Encoder"]
    stream.seek(0)
    movie.save(stream)
    return stream.getvalue()


def make_wav() -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(1600))
    info = b"INFO"
    for key, value in ((b"IART", b"Jane Roe\x00"), (b"ISFT", b"Example Recorder\x00")):
        info += key + struct.pack("<I", len(value)) + value + (b"\x00" if len(value) % 2 else b"")
    body = out.getvalue()[12:] + b"LIST" + struct.pack("<I", len(info)) + info
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def entry(rep: MetadataReport, group: str, key: str) -> str:
    values = [v for g, k, v in rep.entries if g == group and k == key]
    assert values, f"no {group}/{key} in {rep.entries}"
    return values[0]


# --- sniff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (make_jpeg, JPEG),
        (make_png, PNG),
        (make_pdf, PDF),
        (make_docx, DOCX),
        (make_odt, ODT),
        (make_mp3, MP3),
        (make_mp4, MP4),
        (make_wav, WAV),
    ],
)
def test_sniff_tells_the_type_from_content_not_the_name(
    tmp_path: Path, build: object, expected: str
) -> None:
    data = build()  # type: ignore[operator]
    misleading = tmp_path / "notes.txt"
    misleading.write_bytes(data)
    with misleading.open("rb") as file:
        assert media_type(file.read(PREFIX_BYTES)) == expected


def test_sniff_knows_a_plain_zip() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("list.csv", "a,b\n")
    assert media_type(out.getvalue()) == "application/zip"


def test_sniff_mp3_without_id3_tag() -> None:
    assert media_type((b"\xff\xfb\x90\x00" + bytes(413)) * 3) == MP3


def test_sniff_empty_and_random_are_octet_stream() -> None:
    assert media_type(b"") == OCTET_STREAM
    assert media_type(random.Random(7).randbytes(PREFIX_BYTES)) == OCTET_STREAM
    assert media_type(b"just some words\n") == OCTET_STREAM


def test_sniff_reads_only_the_prefix() -> None:
    # The store keeps PREFIX_BYTES of plaintext: what follows must not change the answer.
    data = make_jpeg()
    assert media_type(data[:PREFIX_BYTES] + random.Random(1).randbytes(1 << 16)) == JPEG
    assert media_type(bytes(PREFIX_BYTES) + data) == OCTET_STREAM


@given(st.binary(max_size=2 * PREFIX_BYTES))
def test_sniff_never_raises(data: bytes) -> None:
    assert isinstance(media_type(data), str)


# --- reports of each format ------------------------------------------------------------------


def test_jpeg_report_lists_position_time_camera_and_serial() -> None:
    data = make_jpeg(maker_note=True)
    rep = report(data, JPEG)
    assert rep.error == ""
    assert entry(rep, "gps", "position") == "55.755833, 37.617778"
    assert entry(rep, "gps", "GPSLatitudeRef") == "N"
    assert entry(rep, "exif", "DateTimeOriginal") == "2024:03:01 12:34:56"
    assert entry(rep, "exif", "Make") == "ExampleCam"
    assert entry(rep, "exif", "Model") == "EC-1"
    assert entry(rep, "exif", "Software") == "Firmware 1.2"
    assert entry(rep, "exif", "BodySerialNumber") == "SN-0042-7731"
    assert entry(rep, "exif", "MakerNote").startswith("present, ")
    assert set(rep.warnings) == {WARN_GPS, WARN_SERIAL, WARN_MAKER_NOTE}


def test_png_text_chunk_is_reported() -> None:
    rep = report(make_png(), PNG)
    assert rep.error == ""
    assert entry(rep, "text", "Author") == "Jane Roe"
    assert entry(rep, "text", "Comment") == "taken at the checkpoint"
    assert rep.warnings == (WARN_AUTHOR,)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_png_chunks_after_the_image_data_are_reported() -> None:
    from PIL import Image

    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "S", 2: (33.0, 52.0, 0.0), 3: "W", 4: (70.0, 40.0, 0.0)})
    plain = make_png()
    late = (
        _png_chunk(b"eXIf", exif.tobytes())
        + _png_chunk(b"zTXt", b"Artist\0\0" + zlib.compress(b"Jane Roe"))
        + _png_chunk(b"iTXt", b"Title\0\0\0ru\0\0" + "Заявление".encode())
    )
    data = plain[:-12] + late + plain[-12:]  # before IEND
    rep = report(data, PNG)
    assert rep.error == ""
    assert entry(rep, "gps", "position") == "-33.866667, -70.666667"
    assert entry(rep, "text", "Artist") == "Jane Roe"
    assert entry(rep, "text", "Title") == "Заявление"
    assert set(rep.warnings) == {WARN_AUTHOR, WARN_GPS}


def test_png_pixels_are_never_decoded() -> None:
    # 9000 x 9000 pixels (under Pillow's bomb limit) over a few bytes of broken image data:
    # decoding would fail or take 81 MB; reading the metadata does neither.
    header = struct.pack(">IIBBBBB", 9000, 9000, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"not zlib at all")
        + _png_chunk(b"tEXt", b"Comment\0late")
        + _png_chunk(b"IEND", b"")
    )
    rep = report(data, PNG)
    assert rep.error == ""
    assert entry(rep, "image", "size") == "9000x9000"
    assert entry(rep, "text", "Comment") == "late"


def test_pdf_document_information_is_reported() -> None:
    rep = report(make_pdf(), PDF)
    assert rep.error == ""
    assert entry(rep, "pdf", "Author") == "Jane Roe"
    assert entry(rep, "pdf", "Creator") == "Example Writer 7"
    assert entry(rep, "pdf", "Producer") == "Example PDF Library"
    assert entry(rep, "pdf", "CreationDate") == "D:20240301123456+03'00'"
    assert rep.warnings == (WARN_AUTHOR,)


def test_docx_core_and_app_properties_are_reported() -> None:
    rep = report(make_docx(), DOCX)
    assert rep.error == ""
    assert entry(rep, "docProps/core.xml", "creator") == "Jane Roe"
    assert entry(rep, "docProps/core.xml", "lastModifiedBy") == "John Doe"
    assert entry(rep, "docProps/core.xml", "created") == "2024-03-01T12:34:56Z"
    assert entry(rep, "docProps/app.xml", "Application") == "Example Office"
    assert entry(rep, "docProps/app.xml", "Company") == "Example Bureau"
    assert set(rep.warnings) == {WARN_AUTHOR, WARN_ORGANISATION}


def test_docx_embedded_photo_exif_is_reported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("word/document.xml", _DOCUMENT)
        archive.writestr("word/media/image1.jpeg", make_jpeg())
    rep = report(out.getvalue(), DOCX)
    assert rep.error == ""
    assert entry(rep, "word/media/image1.jpeg: gps", "position") == "55.755833, 37.617778"
    assert set(rep.warnings) == {WARN_GPS, WARN_SERIAL}


def test_odt_meta_is_reported() -> None:
    rep = report(make_odt(), ODT)
    assert rep.error == ""
    assert entry(rep, "meta.xml", "initial-creator") == "Jane Roe"
    assert entry(rep, "meta.xml", "creator") == "John Doe"
    assert entry(rep, "meta.xml", "generator") == "Example Office/7.0"
    assert rep.warnings == (WARN_AUTHOR,)


def test_mp3_id3_tags_are_reported() -> None:
    rep = report(make_mp3(), MP3)
    assert rep.error == ""
    assert entry(rep, "id3", "TPE1") == "Jane Roe"
    assert entry(rep, "id3", "TSSE") == "Example Recorder 2.1"
    assert entry(rep, "id3", "TDRC") == "2024-03-01"
    assert entry(rep, "id3", "COMM::eng") == "recorded at the station"
    assert rep.warnings == (WARN_AUTHOR,)


def test_mp4_quicktime_position_is_reported() -> None:
    rep = report(make_mp4(), MP4)
    assert rep.error == ""
    assert entry(rep, "quicktime", "©xyz") == "+55.7558+037.6173/"
    assert entry(rep, "mp4", "©too") == "Example Encoder"
    assert rep.warnings == (WARN_GPS,)


def test_wav_riff_info_is_reported() -> None:
    rep = report(make_wav(), WAV)
    assert rep.error == ""
    assert entry(rep, "riff", "IART") == "Jane Roe"
    assert entry(rep, "riff", "ISFT") == "Example Recorder"
    assert rep.warnings == (WARN_AUTHOR,)


def test_a_clean_image_has_no_warnings() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    rep = report(out.getvalue(), JPEG)
    assert rep.warnings == ()
    assert rep.error == ""
    assert entry(rep, "image", "size") == "8x8"


def test_a_plain_zip_says_its_members_were_not_examined() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photos/IMG_0001.jpg", make_jpeg())
    rep = report(out.getvalue(), "application/zip")
    assert rep == MetadataReport(error="other members of a zip archive are not examined")


def test_unsupported_type_is_an_error_not_an_exception() -> None:
    rep = report(b"whatever", "application/x-msdownload")
    assert rep == MetadataReport(error="no metadata reader for application/x-msdownload")
    assert report(b"", "").error == "no metadata reader for an empty media type"


def test_media_type_parameters_and_case_are_ignored() -> None:
    assert report(make_pdf(), "Application/PDF; charset=binary").warnings == (WARN_AUTHOR,)


# --- the original is not altered -----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "kind"),
    [(make_jpeg, JPEG), (make_png, PNG), (make_pdf, PDF), (make_docx, DOCX),
     (make_mp3, MP3), (make_mp4, MP4), (make_wav, WAV)],
)
def test_report_leaves_the_original_untouched(tmp_path: Path, build: object, kind: str) -> None:
    data = build()  # type: ignore[operator]
    path = tmp_path / "original"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with path.open("rb") as file:
        file.seek(5)
        rep = report(file, kind)
        assert file.tell() == 5
    assert rep.error == ""
    assert rep.warnings != ()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    # Read from bytes or from a stream, the report is the same.
    assert report(data, kind) == rep


# --- hostile input ---------------------------------------------------------------------------


def test_truncated_jpeg_gives_an_error() -> None:
    rep = report(make_jpeg()[:40], JPEG)
    assert rep.error != ""
    assert rep.warnings == ()


def test_random_bytes_labelled_jpeg_give_an_error() -> None:
    rep = report(random.Random(3).randbytes(4096), JPEG)
    assert rep.error == "image/jpeg unreadable (UnidentifiedImageError)"
    assert rep.entries == ()


def test_decompression_bomb_is_refused() -> None:
    from PIL import Image

    # A PNG header claiming 100,000 x 100,000 pixels: Pillow's check stops it at open.
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", 100_000, 100_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    rep = report(bytes(data), PNG)
    assert rep.error.startswith("image too large to examine (decompression bomb check)")


def test_zip_bomb_core_xml_is_not_read() -> None:
    huge = b"<?xml version='1.0'?><cp:coreProperties>" + b" " * (64 << 20)
    data = make_docx(core=huge)
    assert len(data) < (1 << 20)  # 64 MiB of XML in well under 1 MiB of zip
    rep = report(data, DOCX)
    assert rep.error == "docProps/core.xml larger than 1048576 bytes; not read"
    assert entry(rep, "docProps/app.xml", "Company") == "Example Bureau"


def test_zip_bomb_with_a_lying_declared_size_is_not_read() -> None:
    huge = b"<x>" + b" " * (8 << 20)
    data = bytearray(make_docx(core=huge))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("docProps/core.xml")
    # Rewrite the central directory's uncompressed size to 100 bytes.
    needle = b"docProps/core.xml"
    central = bytes(data).index(b"PK\x01\x02")
    at = bytes(data).index(needle, central) - 46
    assert data[at : at + 4] == b"PK\x01\x02"
    data[at + 24 : at + 28] = struct.pack("<I", 100)
    assert info.file_size == 3 + (8 << 20)
    rep = report(bytes(data), DOCX)
    assert "docProps/core.xml" in rep.error
    assert not any(g == "docProps/core.xml" for g, _k, _v in rep.entries)


def test_billion_laughs_in_core_xml_is_rejected() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + ']><cp:coreProperties xmlns:cp="x"><creator>&lol9;</creator></cp:coreProperties>'
    )
    rep = report(make_docx(core=laughs), DOCX)
    assert rep.error == "docProps/core.xml rejected (DTDForbidden)"
    assert not any(g == "docProps/core.xml" for g, _k, _v in rep.entries)


def test_external_entity_in_core_xml_is_rejected() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        "<x><creator>&e;</creator></x>"
    )
    assert report(make_docx(core=xxe), DOCX).error == "docProps/core.xml rejected (DTDForbidden)"


def test_damaged_pdf_logs_and_warns_nothing(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    # pypdf would log "invalid pdf header: b'...'" and the like: bytes of the evidence.
    caplog.set_level(logging.DEBUG)
    data = make_pdf()
    rep = report(b"%PDF-1.3 SECRET" + data[15:-30], PDF)
    assert rep.error != "" or rep.entries != ()
    assert caplog.records == []
    assert len(recwarn) == 0


def test_broken_zip_labelled_docx_gives_an_error() -> None:
    rep = report(make_docx()[:100], DOCX)
    assert rep.error == (
        f"{DOCX} is not a readable zip archive (BadZipFile)"
    )


def test_values_are_cut_and_control_characters_replaced() -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Description", "x" * 5000)
    # A terminal escape and a right-to-left override, which would disguise "gpj.exe".
    info.add_itxt("Comment", "evil\x1b[2J\u202egpj.exe")
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG", pnginfo=info)
    rep = report(out.getvalue(), PNG)
    description = entry(rep, "text", "Description")
    assert len(description) == MAX_VALUE_CHARS
    assert description == "x" * (MAX_VALUE_CHARS - 1) + "…"
    assert entry(rep, "text", "Comment") == "evil\ufffd[2J\ufffdgpj.exe"


def test_too_many_entries_are_left_out_and_said_so() -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for i in range(MAX_ENTRIES + 20):
        info.add_text(f"k{i}", "v")
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG", pnginfo=info)
    rep = report(out.getvalue(), PNG)
    assert len(rep.entries) == MAX_ENTRIES
    assert rep.error == f"22 more entries left out (at most {MAX_ENTRIES})"


_SEEDS = [make_jpeg(maker_note=True), make_png(), make_pdf(), make_docx(), make_odt(),
          make_mp3(), make_mp4(), make_wav()]
_TYPES = sorted(SUPPORTED_MEDIA_TYPES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), kind=st.sampled_from(_TYPES))
def test_report_never_raises_on_random_bytes(data: bytes, kind: str) -> None:
    rep = report(data, kind)
    assert isinstance(rep, MetadataReport)
    assert MetadataReport.from_json(rep.to_json()) == rep


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    kind=st.sampled_from(_TYPES),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=12),
    cut=st.integers(min_value=0),
)
def test_report_never_raises_on_damaged_real_files(
    seed: bytes, kind: str, edits: list[tuple[int, int]], cut: int
) -> None:
    # Random bytes rarely get past a parser's first check; damaged real files do.
    data = bytearray(seed)
    for at, value in edits:
        data[at % len(data)] = value
    data = data[: len(data) - cut % (len(data) // 4 + 1)]
    assert isinstance(report(bytes(data), kind), MetadataReport)


# --- JSON ----------------------------------------------------------------------------------


_texts = st.text(max_size=40)


@given(
    st.builds(
        MetadataReport,
        entries=st.lists(st.tuples(_texts, _texts, _texts), max_size=8).map(tuple),
        warnings=st.lists(_texts, max_size=4).map(tuple),
        error=_texts,
    )
)
def test_json_round_trip(rep: MetadataReport) -> None:
    assert MetadataReport.from_json(rep.to_json()) == rep
    assert MetadataReport.from_json(rep.to_json().encode("utf-8")) == rep


def test_json_of_a_real_report() -> None:
    rep = report(make_jpeg(), JPEG)
    assert MetadataReport.from_json(rep.to_json()) == rep
    assert '"GPS position"' in rep.to_json()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{",
        '{"version": 2, "entries": [], "warnings": [], "error": ""}',
        '{"version": 1, "entries": [], "warnings": []}',
        '{"version": 1, "entries": [["a", "b"]], "warnings": [], "error": ""}',
        '{"version": 1, "entries": [["a", "b", 3]], "warnings": [], "error": ""}',
        '{"version": 1, "entries": [], "warnings": [1], "error": ""}',
        '{"version": 1, "entries": [], "warnings": [], "error": null}',
        '{"version": 1, "entries": [], "warnings": [], "error": "", "extra": 1}',
    ],
)
def test_json_malformed_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput):
        MetadataReport.from_json(text)
