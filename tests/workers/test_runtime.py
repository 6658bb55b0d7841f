from __future__ import annotations

import gc
import importlib.util
import py_compile
import sys
from pathlib import Path

from workers.runtime import cache_bytecode, settle_heap


def test_settle_heap_freezes_start_up_objects_and_collects_less_often():
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == (10_000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def _module(tmp_path: Path):
    source = tmp_path / "some_workflow.py"
    source.write_text("ANSWER = 42\n")
    spec = importlib.util.spec_from_file_location("some_workflow", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bytecode_cache_is_written_even_when_python_would_not(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = _module(tmp_path)
    cache_bytecode(module)
    assert Path(importlib.util.cache_from_source(module.__file__)).is_file()


def test_a_tree_that_cannot_be_written_gets_a_private_cache(tmp_path, monkeypatch):
    module = _module(tmp_path)
    in_tree = importlib.util.cache_from_source(module.__file__)
    compile_for_real = py_compile.compile

    def refuse_in_tree(source, cfile, doraise):
        if cfile == in_tree:
            raise PermissionError("read-only file system")
        return compile_for_real(source, cfile=cfile, doraise=doraise)

    monkeypatch.setattr(py_compile, "compile", refuse_in_tree)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    cache_bytecode(module)
    private = Path(importlib.util.cache_from_source(module.__file__))
    assert sys.pycache_prefix is not None and private.is_file() and not Path(in_tree).exists()
