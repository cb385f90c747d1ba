from __future__ import annotations

import inspect
import subprocess
import sys

import refugium.vault

EXPECTED_API = {
    "EVENTS",
    "NORMALISED_TIME",
    "BundleItem",
    "BundleResult",
    "CustodyLog",
    "EncryptedStore",
    "FileChanged",
    "FileUpload",
    "Staged",
    "SweepReport",
    "TooLarge",
    "Upload",
    "commitment",
    "new_salt",
    "safe_file_name",
    "verify_bundle",
    "write_bundle",
}


def test_public_api() -> None:
    assert set(refugium.vault.__all__) == EXPECTED_API
    for name in refugium.vault.__all__:
        assert getattr(refugium.vault, name) is not None


def test_imports_no_django() -> None:
    code = "import sys, refugium.vault; print(sorted(m for m in sys.modules if 'django' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"


def test_every_public_method_documents_raises() -> None:
    methods = [
        (f"{name}.{attr}", member)
        for name in refugium.vault.__all__
        if inspect.isclass(cls := getattr(refugium.vault, name))
        and cls.__module__.startswith("refugium.vault.")
        for attr, member in vars(cls).items()
        if not attr.startswith("_") and inspect.isfunction(member)
    ]
    assert len(methods) >= 12
    assert [
        name for name, method in methods if "Raises:" not in (inspect.getdoc(method) or "")
    ] == []
