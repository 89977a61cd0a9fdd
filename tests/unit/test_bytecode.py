"""Bytecode is compiled once, in the background, only where Python does not write it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

from workbook.platform import bytecode


def test_nothing_to_do_when_python_writes_bytecode(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert not bytecode.needs_compile()
    assert not bytecode.compile_in_background()


def test_compiles_site_packages_once_when_python_does_not(monkeypatch, tmp_path):
    site, prefix = tmp_path / "site", tmp_path / "venv"
    site.mkdir(), prefix.mkdir()
    module = site / "fake_dagster.py"
    module.write_text("x = 1\n")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    monkeypatch.setattr(bytecode.sysconfig, "get_paths", lambda: {"purelib": str(site)})
    monkeypatch.setattr(bytecode.importlib.util, "find_spec",
                        lambda name: SimpleNamespace(origin=str(module)))  # fmt: skip
    assert bytecode.needs_compile()
    assert bytecode.compile_in_background()
    assert not bytecode.compile_in_background(), "a second compile while one runs"
    pyc = Path(bytecode.importlib.util.cache_from_source(str(module)))
    deadline = time.monotonic() + 60
    while (
        not pyc.exists() or (prefix / ".workbook-compiling").exists()
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pyc.exists() and not (prefix / ".workbook-compiling").exists()
    assert not bytecode.needs_compile()
