"""What metadata a file carries, read without altering it.

File metadata is evidence (DESIGN.md section 3): a photo's EXIF position and time, the
camera's serial number, a document's author. The vault keeps the original bytes untouched;
``report`` lists what they carry so that a researcher knows what a copy would give away, and
``refugium.vault.sharing`` checks its stripped copies with the same function.

Readers, chosen by the media type (from ``refugium.vault.sniff``, never from a name):

- images (Pillow, header only, pixels never decoded): EXIF (make, model, software, dates,
  artist, serial numbers, MakerNote presence), the GPS IFD, XMP and IPTC presence, PNG text
  chunks, comments;
- PDF (pypdf): the document information dictionary (author, creator, producer, dates, ...)
  and whether the catalogue has an XMP stream;
- audio and video (mutagen): every tag (artist, comment, encoder, recording date, ...), plus
  the QuickTime ``udta/©xyz`` position and Apple's ``location.ISO6709`` key; WAV's RIFF
  ``LIST/INFO`` chunk;
- Office Open XML and OpenDocument (zipfile and defusedxml): ``docProps/core.xml``,
  ``app.xml``, ``custom.xml``, ``meta.xml``, the authors of comments and tracked changes, and
  the EXIF of images embedded in the document.

Hostile input is the normal case: ``report`` never raises. Each reader catches its own
failures and says in ``error`` why the report is partial, naming only the exception's type
(its message could quote the file). Memory and time are bounded: images are opened lazily with
Pillow's decompression-bomb check turned into an error, XML parts are read at most
``MAX_XML_BYTES`` decompressed and parsed with DTDs and entities forbidden, values are cut at
``MAX_VALUE_CHARS`` and a report holds at most ``MAX_ENTRIES`` entries.

Values are returned, never logged.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from refugium.errors import BadInput

__all__ = [
    "MAX_ENTRIES",
    "MAX_VALUE_CHARS",
    "MAX_XML_BYTES",
    "SUPPORTED_MEDIA_TYPES",
    "WARN_AUTHOR",
    "WARN_GPS",
    "WARN_IPTC",
    "WARN_MAKER_NOTE",
    "WARN_ORGANISATION",
    "WARN_SERIAL",
    "WARN_XMP",
    "MetadataReport",
    "report",
]

#: Longer values are cut here and end in "…".
MAX_VALUE_CHARS = 200
#: A report lists at most this many entries; ``error`` says when more were left out.
MAX_ENTRIES = 500
#: At most this many bytes are decompressed from one XML part of an Office/ODF file.
MAX_XML_BYTES = 1 << 20
#: At most this many images embedded in an Office/ODF file are examined, each at most
#: ``_MAX_EMBEDDED_BYTES`` long.
_MAX_EMBEDDED_IMAGES = 32
_MAX_EMBEDDED_BYTES = 32 << 20
#: QuickTime ``moov/meta`` atoms larger than this are not searched for a location key.
_MAX_QT_META_BYTES = 1 << 20
#: RIFF INFO chunks larger than this are not read.
_MAX_RIFF_INFO_BYTES = 1 << 20

# Warnings: what in a file can endanger someone. Fixed strings, so callers can match on them.
WARN_GPS = "GPS position"
WARN_SERIAL = "camera serial number"
WARN_MAKER_NOTE = "camera maker note (may hold a serial number)"
WARN_AUTHOR = "author name"
WARN_ORGANISATION = "organisation name"
WARN_XMP = "XMP metadata (not parsed: may hold a position, names or a device)"
WARN_IPTC = "IPTC metadata (may hold names and places)"

_REPORT_VERSION = 1

# pypdf logs warnings that quote the file's bytes ("invalid pdf header: b'...'") and Pillow's
# TIFF reader logs every EXIF tag's value at DEBUG: evidence must not reach a log that way.
# Their loggers (and so their children) are silenced for good; report errors say enough.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)
logging.getLogger("PIL").setLevel(logging.CRITICAL + 1)

_Entry = tuple[str, str, str]


@dataclass(frozen=True)
class MetadataReport:
    """What one file carries.

    ``entries`` are ``(group, key, value)`` triples of text, in the order found (group is
    e.g. ``"exif"``, ``"gps"``, ``"pdf"``, ``"id3"``, ``"docProps/core.xml"``); ``warnings``
    name, once each, the kinds of item that can endanger someone (the ``WARN_*`` strings);
    ``error`` is empty when every reader finished, else why the report is partial.
    """

    entries: tuple[_Entry, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str = ""

    def to_json(self) -> str:
        """One JSON object (UTF-8 text, keys sorted) that ``from_json`` reads back.

        Raises:
            Nothing: every field is text already.
        """
        return json.dumps(
            {
                "version": _REPORT_VERSION,
                "entries": [list(entry) for entry in self.entries],
                "warnings": list(self.warnings),
                "error": self.error,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> MetadataReport:
        """Reads what ``to_json`` wrote.

        Raises:
            BadInput: not JSON, another version, or a field of the wrong shape.
        """
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise BadInput("a metadata report is not valid JSON") from None
        if not isinstance(obj, dict) or obj.get("version") != _REPORT_VERSION:
            raise BadInput("a metadata report has an unknown version")
        if set(obj) != {"version", "entries", "warnings", "error"}:
            raise BadInput("a metadata report has missing or unknown fields")
        entries, warns, error = obj["entries"], obj["warnings"], obj["error"]
        if not isinstance(entries, list) or not all(
            isinstance(e, list) and len(e) == 3 and all(isinstance(s, str) for s in e)
            for e in entries
        ):
            raise BadInput("a metadata report's entries are not (group, key, value) texts")
        if not isinstance(warns, list) or not all(isinstance(w, str) for w in warns):
            raise BadInput("a metadata report's warnings are not texts")
        if not isinstance(error, str):
            raise BadInput("a metadata report's error is not a text")
        return cls(
            entries=tuple((e[0], e[1], e[2]) for e in entries),
            warnings=tuple(warns),
            error=error,
        )


@dataclass
class _Builder:
    entries: list[_Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, group: str, key: str, value: object, warning: str | None = None) -> None:
        if warning is not None:
            self.warn(warning)
        if len(self.entries) >= MAX_ENTRIES:
            self.dropped += 1
            return
        self.entries.append((_text(group, 80), _text(key, 80), _text(value, MAX_VALUE_CHARS)))

    def warn(self, warning: str) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)

    def fail(self, what: str, exc: BaseException | None = None) -> None:
        self.errors.append(what if exc is None else f"{what} ({type(exc).__name__})")

    def build(self) -> MetadataReport:
        errors = list(self.errors)
        if self.dropped:
            errors.append(f"{self.dropped} more entries left out (at most {MAX_ENTRIES})")
        return MetadataReport(tuple(self.entries), tuple(self.warnings), "; ".join(errors))


# Characters that could rewrite a terminal or reorder displayed text: C0/C1 controls, DEL and
# the bidirectional embeddings, overrides and isolates.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


def _text(value: object, limit: int) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        text = raw.decode("utf-8", "replace") if _looks_textual(raw) else f"<{len(raw)} bytes>"
    else:
        try:
            text = str(value)
        except Exception:
            text = f"<{type(value).__name__}>"
    text = text[: limit * 2]
    text = "".join(
        "\ufffd" if (unicodedata.category(c) == "Cc" or c in _BIDI) else c for c in text
    ).strip(" \x00")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _looks_textual(raw: bytes) -> bool:
    sample = raw[:256].rstrip(b"\x00")
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\n\r" for c in decoded)


def _open(data: bytes | BinaryIO) -> BinaryIO:
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(data))
    return data


def _base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


# --- images -------------------------------------------------------------------------------

_IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("JPEG",),  # Pillow's JPEG opener also returns MPO (multi-picture) files
    "image/png": ("PNG",),
    "image/apng": ("PNG",),
    "image/tiff": ("TIFF",),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
}

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_MAKER_NOTE = 0x927C
_SERIAL_TAGS = {
    0xA431: "BodySerialNumber",
    0xC62F: "CameraSerialNumber",
    0xA435: "LensSerialNumber",
}
_AUTHOR_TAGS = {0x013B: "Artist", 0x9C9D: "XPAuthor", 0xA430: "CameraOwnerName"}
_ORGANISATION_TAGS = {0x8298: "Copyright"}
_XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # UTF-16LE "XP" strings (Windows)
_PNG_AUTHOR_KEYS = {"author", "artist", "creator", "copyright"}
# Pillow's own keys in ``Image.info`` that are not metadata (or are reported elsewhere).
_IMAGE_INFO_SKIP = {
    "exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "photoshop", "dpi", "jfif",
    "jfif_version", "jfif_unit", "jfif_density", "progressive", "progression", "adobe",
    "adobe_transform", "mp", "mpoffset", "transparency", "gamma", "interlace", "aspect",
    "duration", "loop", "background", "version", "extension", "compression", "srgb",
    "chromaticity", "default_image", "timestamp", "resolution",
}


def _exif_value(tag: int, value: object) -> object:
    if tag in _XP_TAGS and isinstance(value, bytes | tuple):
        raw = bytes(value) if isinstance(value, bytes) else bytes(int(v) & 0xFF for v in value)
        return raw.decode("utf-16-le", "replace").rstrip("\x00")
    if isinstance(value, tuple):
        return " ".join(str(_number(v)) for v in value)
    return _number(value)


def _number(value: object) -> object:
    if isinstance(value, bytes):
        return value
    try:
        from PIL.TiffImagePlugin import IFDRational

        if isinstance(value, IFDRational):
            return "nan" if value.denominator == 0 else f"{float(value):g}"
    except ImportError:  # pragma: no cover - Pillow is a dependency
        pass
    return value


def _degrees(parts: object, ref: object) -> float | None:
    try:
        d, m, s = (float(p) for p in parts)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref).strip().upper() in {"S", "W"}:
        value = -value
    return value


def _read_image(stream: BinaryIO, media_type: str, out: _Builder) -> None:
    from PIL import ExifTags, Image, IptcImagePlugin

    formats = _IMAGE_FORMATS[media_type]
    with warnings.catch_warnings(record=True) as caught:
        # Pixels are never decoded here, so an image above MAX_IMAGE_PIXELS (a warning) is
        # read as usual; above twice that Pillow refuses to open it at all.
        warnings.simplefilter("always")
        try:
            image = Image.open(stream, formats=list(formats))
        except Image.DecompressionBombError as exc:
            out.fail("image too large to examine (decompression bomb check)", exc)
            return
        except Exception as exc:
            out.fail(f"{media_type} unreadable", exc)
            return
        with image:
            out.add("image", "format", image.format or "")
            out.add("image", "size", f"{image.width}x{image.height}")
            try:
                _image_exif(image, out, ExifTags)
            except Exception as exc:
                out.fail("EXIF unreadable", exc)
            try:
                _image_info(image, out, IptcImagePlugin)
            except Exception as exc:
                out.fail("image metadata unreadable", exc)
            if image.format == "PNG":
                try:
                    _png_late_chunks(stream, out, "exif" in image.info)
                except Exception as exc:
                    out.fail("PNG chunks unreadable", exc)
    # Pillow warns, rather than raises, on damaged EXIF ("Truncated File Read", tags larger
    # than the file): the report is then partial.
    damaged = [w for w in caught if not issubclass(w.category, Image.DecompressionBombWarning)]
    if damaged:
        out.fail(f"image metadata damaged ({damaged[0].category.__name__})")


def _image_exif(image: Any, out: _Builder, exif_tags: Any) -> None:
    if image.format == "PNG" and "exif" not in image.info:
        # Pillow would decode every pixel to look for an eXIf chunk after the image data;
        # _png_late_chunks walks the chunks instead.
        return
    _exif_entries(image.getexif(), out, exif_tags)


def _exif_entries(exif: Any, out: _Builder, exif_tags: Any) -> None:
    names: dict[int, str] = exif_tags.TAGS
    gps_names: dict[int, str] = exif_tags.GPSTAGS
    for tag, value in exif.items():
        if tag in (_EXIF_IFD, _GPS_IFD):
            continue
        _exif_entry(out, "exif", tag, names.get(tag, f"0x{tag:04X}"), value)
    for tag, value in exif.get_ifd(_EXIF_IFD).items():
        if tag == _MAKER_NOTE:
            size = len(value) if isinstance(value, bytes | tuple) else 0
            out.add("exif", "MakerNote", f"present, {size} bytes", WARN_MAKER_NOTE)
            continue
        _exif_entry(out, "exif", tag, names.get(tag, f"0x{tag:04X}"), value)
    gps = exif.get_ifd(_GPS_IFD)
    for tag, value in gps.items():
        out.add("gps", gps_names.get(tag, f"0x{tag:04X}"), _exif_value(tag, value))
    latitude = _degrees(gps.get(2), gps.get(1)) if 2 in gps else None
    longitude = _degrees(gps.get(4), gps.get(3)) if 4 in gps else None
    if latitude is not None and longitude is not None:
        out.add("gps", "position", f"{latitude:.6f}, {longitude:.6f}", WARN_GPS)
    elif 2 in gps or 4 in gps:
        out.warn(WARN_GPS)


def _exif_entry(out: _Builder, group: str, tag: int, name: str, value: object) -> None:
    text = _exif_value(tag, value)
    blank = isinstance(text, str) and not text.strip(" \x00")
    if tag in _SERIAL_TAGS:
        out.add(group, _SERIAL_TAGS[tag], text, None if blank else WARN_SERIAL)
    elif tag in _AUTHOR_TAGS:
        out.add(group, _AUTHOR_TAGS[tag], text, None if blank else WARN_AUTHOR)
    elif tag in _ORGANISATION_TAGS:
        out.add(group, _ORGANISATION_TAGS[tag], text, None if blank else WARN_ORGANISATION)
    else:
        out.add(group, name, text)


def _image_info(image: Any, out: _Builder, iptc_plugin: Any) -> None:
    info: dict[str, object] = image.info
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if xmp is None and image.format == "TIFF":
        xmp = getattr(image, "tag_v2", {}).get(700)
    if xmp:
        size = len(xmp) if isinstance(xmp, bytes | str) else 0
        out.add("xmp", "packet", f"present, {size} bytes", WARN_XMP)
    if image.format in ("JPEG", "MPO", "TIFF"):
        iptc = iptc_plugin.getiptcinfo(image)
        if iptc:
            out.add("iptc", "records", f"present, {len(iptc)} fields", WARN_IPTC)
    for key, value in info.items():
        if not isinstance(key, str) or key in _IMAGE_INFO_SKIP:
            continue
        if not isinstance(value, str | bytes):
            continue
        warning = WARN_AUTHOR if key.strip().lower() in _PNG_AUTHOR_KEYS and value else None
        out.add("text", key, value, warning)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_PNG_CHUNKS = 1 << 16
_MAX_PNG_TEXT_BYTES = 1 << 20


def _png_late_chunks(stream: BinaryIO, out: _Builder, have_exif: bool) -> None:
    """EXIF and text chunks after the image data, which Pillow finds only by decoding every
    pixel (PNG allows both anywhere before IEND)."""
    from PIL import ExifTags, Image

    stream.seek(0)
    if stream.read(8) != _PNG_SIGNATURE:
        return
    after_data = False
    for _ in range(_MAX_PNG_CHUNKS):
        head = stream.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I", head[:4])[0], head[4:]
        if kind == b"IEND":
            return
        if kind in (b"IDAT", b"fdAT"):
            after_data = True
        wanted = after_data and kind in (b"eXIf", b"tEXt", b"zTXt", b"iTXt")
        if wanted and kind == b"eXIf" and have_exif:
            wanted = False  # Pillow reads only the first eXIf; so do the readers after it
        if not wanted:
            stream.seek(length + 4, io.SEEK_CUR)
            continue
        if length > _MAX_PNG_TEXT_BYTES:
            out.fail(f"PNG {kind.decode('latin-1')} chunk too large to read")
            stream.seek(length + 4, io.SEEK_CUR)
            continue
        data = stream.read(length)
        stream.seek(4, io.SEEK_CUR)
        if kind == b"eXIf":
            exif = Image.Exif()
            exif.load(data)
            _exif_entries(exif, out, ExifTags)
            have_exif = True
            continue
        key, value = _png_text(kind, data)
        warning = WARN_AUTHOR if key.strip().lower() in _PNG_AUTHOR_KEYS and value else None
        out.add("text", key, value, warning)


def _png_text(kind: bytes, data: bytes) -> tuple[str, str]:
    key, _, rest = data.partition(b"\0")
    if kind == b"tEXt":
        return key.decode("latin-1"), rest.decode("latin-1")
    if kind == b"zTXt":
        return key.decode("latin-1"), _inflate(rest[1:]).decode("latin-1")
    # iTXt: compression flag, method, language tag NUL, translated keyword NUL, UTF-8 text.
    compressed, rest = rest[:1] == b"\1", rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        text = _inflate(text)
    return key.decode("latin-1"), text.decode("utf-8", "replace")


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, _MAX_PNG_TEXT_BYTES)


# --- PDF ----------------------------------------------------------------------------------

_PDF_AUTHOR_KEYS = {"/Author"}


def _read_pdf(stream: BinaryIO, media_type: str, out: _Builder) -> None:
    from pypdf import PdfReader

    with warnings.catch_warnings():
        # pypdf also warns (PdfReadWarning) with text from the file; a report says enough.
        warnings.simplefilter("ignore")
        _read_pdf_quietly(stream, media_type, out, PdfReader)


def _read_pdf_quietly(stream: BinaryIO, media_type: str, out: _Builder, reader_class: Any) -> None:
    try:
        reader = reader_class(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            out.fail("encrypted PDF: its document information is unreadable")
            return
        info = reader.metadata
    except Exception as exc:
        out.fail("PDF unreadable", exc)
        return
    try:
        if info is not None:
            for key in list(info.keys())[: MAX_ENTRIES]:
                value: object
                try:
                    value = info[key]
                except Exception:
                    value = "<unreadable>"
                value = getattr(value, "get_object", lambda v=value: v)()
                name = str(key)
                blank = not str(value).strip()
                warning = WARN_AUTHOR if name in _PDF_AUTHOR_KEYS and not blank else None
                out.add("pdf", name.lstrip("/"), value, warning)
    except Exception as exc:
        out.fail("PDF document information unreadable", exc)
    try:
        root: Any = reader.trailer["/Root"].get_object()
        if "/Metadata" in root:
            out.add("xmp", "packet", "present", WARN_XMP)
    except Exception as exc:
        out.fail("PDF catalogue unreadable", exc)


# --- audio and video ----------------------------------------------------------------------

_AUDIO_VIDEO = {
    "audio/mpeg": "mp3",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/ogg": "ogg",
    "audio/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "video/mp4": "mp4",
    "video/quicktime": "mp4",
    "video/x-m4v": "mp4",
    "video/3gpp": "mp4",
    "audio/x-wav": "wav",
    "audio/wav": "wav",
    "audio/x-aiff": "aiff",
    "audio/aiff": "aiff",
    "video/x-ms-wmv": "asf",
    "audio/x-ms-wma": "asf",
}

# Tag keys (lowercased) that name a person: ID3 frames, Vorbis comments, MP4 atoms, ASF, RIFF.
_AUDIO_AUTHOR_KEYS = {
    "tpe1", "tpe2", "tpe3", "tpe4", "tcom", "text", "tole", "tope", "tenc", "tipl", "tmcl",
    "artist", "albumartist", "performer", "composer", "author", "lyricist", "encodedby",
    "encoded-by", "©art", "aart", "©wrt", "©aut", "wm/albumartist", "wm/composer",
    "wm/writer", "wm/encodedby", "iart", "ieng", "icms",
}
_AUDIO_ORGANISATION_KEYS = {"tpub", "organization", "organisation", "label", "copyright",
                            "tcop", "cprt", "icop", "wm/publisher"}
_AUDIO_GPS_KEYS = {"©xyz", "location.iso6709", "com.apple.quicktime.location.iso6709"}


def _mutagen_classes(kind: str) -> list[Any]:
    if kind == "mp3":
        from mutagen.mp3 import MP3

        return [MP3]
    if kind == "flac":
        from mutagen.flac import FLAC

        return [FLAC]
    if kind == "ogg":
        from mutagen.oggflac import OggFLAC
        from mutagen.oggopus import OggOpus
        from mutagen.oggspeex import OggSpeex
        from mutagen.oggtheora import OggTheora
        from mutagen.oggvorbis import OggVorbis

        return [OggVorbis, OggOpus, OggFLAC, OggSpeex, OggTheora]
    if kind == "mp4":
        from mutagen.mp4 import MP4

        return [MP4]
    if kind == "wav":
        from mutagen.wave import WAVE

        return [WAVE]
    if kind == "aiff":
        from mutagen.aiff import AIFF

        return [AIFF]
    from mutagen.asf import ASF

    return [ASF]


def _read_audio_video(stream: BinaryIO, media_type: str, out: _Builder) -> None:
    import mutagen

    kind = _AUDIO_VIDEO[media_type]
    try:
        parsed = mutagen.File(stream, options=_mutagen_classes(kind))
    except Exception as exc:
        out.fail(f"{media_type} unreadable", exc)
        parsed = None
    if parsed is None and not out.errors:
        out.fail(f"{media_type} not recognised by mutagen")
    if parsed is not None:
        group = {"mp3": "id3", "wav": "id3", "aiff": "id3", "mp4": "mp4", "asf": "asf"}.get(
            kind, "vorbis"
        )
        try:
            tags = parsed.tags
            for key, value in _tag_items(tags):
                _audio_entry(out, group, key, value)
        except Exception as exc:
            out.fail("tags unreadable", exc)
        try:
            length = getattr(parsed.info, "length", None)
            if length:
                out.add("stream", "length", f"{float(length):.3f} s")
        except Exception as exc:
            out.fail("stream information unreadable", exc)
    if kind == "mp4":
        try:
            _quicktime_location(stream, out)
        except Exception as exc:
            out.fail("QuickTime atoms unreadable", exc)
    if kind == "wav":
        try:
            _riff_info(stream, out)
        except Exception as exc:
            out.fail("RIFF INFO chunk unreadable", exc)


def _tag_items(tags: Any) -> Iterable[tuple[str, object]]:
    if tags is None:
        return
    from mutagen.id3 import ID3

    if isinstance(tags, ID3):
        frames: Any = tags
        for frame in frames.values():
            key = str(frame.HashKey)
            if frame.FrameID in ("APIC", "GEOB", "PRIV"):
                data = getattr(frame, "data", b"")
                yield key, f"<{frame.FrameID}, {len(data)} bytes>"
            elif isinstance(getattr(frame, "text", None), list):
                yield key, "; ".join(str(t) for t in frame.text[:32])
            else:
                yield key, frame.pprint()
        return
    for key, value in tags.items():
        if isinstance(value, list):
            value = "; ".join(_tag_value(v) for v in value[:32])
        yield str(key), _tag_value(value)


def _tag_value(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    cover = getattr(value, "imageformat", None)
    if cover is not None:
        return f"<picture, {len(bytes(value))} bytes>"  # type: ignore[call-overload]
    return str(value)


def _audio_entry(out: _Builder, group: str, key: str, value: object) -> None:
    frame = key.split(":", 1)[0].lower()
    text = _text(value, MAX_VALUE_CHARS)
    warning = None
    if text:
        if frame in _AUDIO_GPS_KEYS or key.lower() in _AUDIO_GPS_KEYS:
            warning = WARN_GPS
        elif frame in _AUDIO_AUTHOR_KEYS or key.lower() in _AUDIO_AUTHOR_KEYS:
            warning = WARN_AUTHOR
        elif frame in _AUDIO_ORGANISATION_KEYS or key.lower() in _AUDIO_ORGANISATION_KEYS:
            warning = WARN_ORGANISATION
        elif frame == "txxx" and any(w in key.lower() for w in ("gps", "location", "iso6709")):
            warning = WARN_GPS
    out.add(group, key, text, warning)


def _quicktime_location(stream: BinaryIO, out: _Builder) -> None:
    """Positions that mutagen's tag reader skips: ``moov/udta/©xyz`` (ISO 6709 text written
    by phones and cameras) and the ``com.apple.quicktime.location.ISO6709`` key in
    ``moov/meta``."""
    from mutagen.mp4 import Atoms  # type: ignore[attr-defined]

    stream.seek(0)
    atoms = Atoms(stream)
    for path in ((b"moov", b"udta", b"\xa9xyz"), (b"moov", b"trak", b"udta", b"\xa9xyz")):
        try:
            found = atoms.path(*path)
        except KeyError:
            continue
        ok, data = found[-1].read(stream)
        if ok:
            # A QuickTime text item: 16-bit length, 16-bit language, then the text.
            text = data[4:] if len(data) >= 4 else data
            out.add("quicktime", "©xyz", text.decode("utf-8", "replace"), WARN_GPS)
    try:
        meta = atoms.path(b"moov", b"meta")[-1]
    except KeyError:
        return
    if meta.length <= _MAX_QT_META_BYTES:
        ok, data = meta.read(stream)
        if ok and b"location.ISO6709" in data:
            out.add("quicktime", "com.apple.quicktime.location.ISO6709", "present", WARN_GPS)


def _riff_info(stream: BinaryIO, out: _Builder) -> None:
    """The ``LIST/INFO`` chunk of a WAV file (IART artist, ICMT comment, ISFT software, ...),
    which mutagen does not read."""
    stream.seek(0)
    header = stream.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return
    for _ in range(1024):  # chunks examined at most
        head = stream.read(8)
        if len(head) < 8:
            return
        chunk_id, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk_id == b"LIST" and size >= 4:
            if size > _MAX_RIFF_INFO_BYTES:
                out.fail("RIFF LIST chunk too large to read")
                return
            body = stream.read(size)
            if body[:4] == b"INFO":
                _riff_info_items(body[4:], out)
        else:
            stream.seek(size, io.SEEK_CUR)
        if size % 2:
            stream.seek(1, io.SEEK_CUR)


def _riff_info_items(body: bytes, out: _Builder) -> None:
    offset = 0
    while offset + 8 <= len(body):
        item_id = body[offset : offset + 4].decode("latin-1")
        size = struct.unpack("<I", body[offset + 4 : offset + 8])[0]
        value = body[offset + 8 : offset + 8 + size].rstrip(b"\x00")
        _audio_entry(out, "riff", item_id, value.decode("utf-8", "replace"))
        offset += 8 + size + (size % 2)


# --- Office Open XML and OpenDocument -------------------------------------------------------

_OFFICE = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
    "application/zip",
}

_XML_PARTS = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "meta.xml")
# Parts whose author attributes name the people who commented or changed the text.
_PEOPLE_PARTS = ("word/people.xml", "word/comments.xml", "ppt/commentAuthors.xml")
_XML_AUTHOR_NAMES = {
    "creator", "lastmodifiedby", "initial-creator", "printed-by", "manager", "author",
}
_XML_ORGANISATION_NAMES = {"company"}
_AUTHOR_ATTRIBUTES = {"author", "name", "initials"}
_MEDIA_PREFIXES = ("word/media/", "ppt/media/", "xl/media/", "Pictures/", "media/")
_MEDIA_TYPES_BY_SUFFIX = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
    ".tiff": "image/tiff", ".gif": "image/gif", ".webp": "image/webp",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """At most ``limit`` bytes of one member, or None when it is longer (a zip bomb's
    declared size can lie, so the decompressed length is what counts)."""
    if info.file_size > limit:
        return None
    with archive.open(info) as member:
        data = member.read(limit + 1)
    return None if len(data) > limit else data


def _read_office(stream: BinaryIO, media_type: str, out: _Builder) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except Exception as exc:
        out.fail(f"{media_type} is not a readable zip archive", exc)
        return
    with archive:
        try:
            infos = {info.filename: info for info in archive.infolist()}
        except Exception as exc:
            out.fail("zip directory unreadable", exc)
            return
        for name in (*_XML_PARTS, *_PEOPLE_PARTS):
            if name in infos:
                try:
                    _office_part(archive, infos[name], out)
                except Exception as exc:
                    out.fail(f"{name} unreadable", exc)
        _office_media(archive, list(infos.values()), out)
        if media_type == "application/zip":
            out.fail("other members of a zip archive are not examined")


def _office_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: _Builder) -> None:
    from defusedxml import ElementTree

    data = _read_member(archive, info, MAX_XML_BYTES)
    if data is None:
        out.fail(f"{info.filename} larger than {MAX_XML_BYTES} bytes; not read")
        return
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except Exception as exc:
        out.fail(f"{info.filename} rejected", exc)
        return
    group = info.filename
    if info.filename in _PEOPLE_PARTS:
        for element in root.iter():
            for attribute, value in element.attrib.items():
                if _local(attribute).lower() in _AUTHOR_ATTRIBUTES and value.strip():
                    out.add(group, f"{_local(element.tag)}/{_local(attribute)}", value,
                            WARN_AUTHOR)
        return
    if info.filename == "meta.xml":
        metas = [m for m in root.iter() if _local(m.tag) == "meta"]
        elements = list(metas[0]) if metas else []
    elif info.filename == "docProps/custom.xml":
        for prop in root:
            name = prop.attrib.get("name", _local(prop.tag))
            out.add(group, name, " ".join("".join(child.itertext()) for child in prop))
        return
    else:
        elements = list(root)
    for element in elements:
        key = _local(element.tag)
        if key == "user-defined":
            key = element.attrib.get(
                "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}name", key
            )
        if key in ("HeadingPairs", "TitlesOfParts"):
            continue
        value = "".join(element.itertext()).strip()
        if not value and element.attrib:
            value = " ".join(f"{_local(k)}={v}" for k, v in element.attrib.items())
        warning = None
        if value and key.lower() in _XML_AUTHOR_NAMES:
            warning = WARN_AUTHOR
        elif value and key.lower() in _XML_ORGANISATION_NAMES:
            warning = WARN_ORGANISATION
        out.add(group, key, value, warning)


def _office_media(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], out: _Builder) -> None:
    """Images pasted into a document keep their own EXIF; report it under the member's name."""
    examined = 0
    for info in infos:
        if not info.filename.startswith(_MEDIA_PREFIXES):
            continue
        suffix = "." + info.filename.rsplit(".", 1)[-1].lower() if "." in info.filename else ""
        member_type = _MEDIA_TYPES_BY_SUFFIX.get(suffix)
        if member_type is None:
            continue
        if examined >= _MAX_EMBEDDED_IMAGES:
            out.fail(f"more than {_MAX_EMBEDDED_IMAGES} embedded images; the rest not examined")
            return
        examined += 1
        try:
            data = _read_member(archive, info, _MAX_EMBEDDED_BYTES)
        except Exception as exc:
            out.fail(f"{info.filename} unreadable", exc)
            continue
        if data is None:
            out.fail(f"{info.filename} larger than {_MAX_EMBEDDED_BYTES} bytes; not examined")
            continue
        inner = _Builder()
        _read_image(io.BytesIO(data), member_type, inner)
        for group, key, value in inner.entries:
            if group != "image":
                out.add(f"{info.filename}: {group}", key, value)
        for warning in inner.warnings:
            out.warn(warning)
        for error in inner.errors:
            out.fail(f"{info.filename}: {error}")


# --- dispatch -----------------------------------------------------------------------------

_Reader = Callable[[BinaryIO, str, _Builder], None]

_READERS: dict[str, _Reader] = {
    **{t: _read_image for t in _IMAGE_FORMATS},
    "application/pdf": _read_pdf,
    **{t: _read_audio_video for t in _AUDIO_VIDEO},
    **{t: _read_office for t in _OFFICE},
}

#: The media types ``report`` has a reader for.
SUPPORTED_MEDIA_TYPES = frozenset(_READERS)


def report(data: bytes | BinaryIO, media_type: str) -> MetadataReport:
    """What metadata ``data`` carries, read as ``media_type``, without altering it.

    ``data`` is the whole file: bytes, or a seekable binary stream read from its start (its
    position is put back afterwards).

    Raises:
        Nothing: whatever goes wrong, from an unsupported type to hostile bytes, is in the
        report's ``error``.
    """
    out = _Builder()
    kind = _base_type(media_type)
    reader = _READERS.get(kind)
    if reader is None:
        out.fail(f"no metadata reader for {_text(kind, 80) or 'an empty media type'}")
        return out.build()
    stream = _open(data)
    position: int | None = None
    try:
        position = stream.tell()
        stream.seek(0)
        reader(stream, kind, out)
    except Exception as exc:
        out.fail("metadata unreadable", exc)
    finally:
        if position is not None:
            try:
                stream.seek(position)
            except Exception as exc:
                out.fail("stream position not restored", exc)
    return out.build()
