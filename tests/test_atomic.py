"""The one atomic writer: a file appears whole or not at all, and `exclusive` never replaces a file."""

from __future__ import annotations

import pytest

from motcua.atomic import atomic_open, atomic_path, write_bytes, write_text


def test_write_text_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_text(target, "một")
    write_text(target, "hai")
    assert target.read_text(encoding="utf-8") == "hai"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_exclusive_refuses_an_existing_file_and_cleans_up(tmp_path):
    target = tmp_path / "a.bin"
    write_bytes(target, b"first")
    with pytest.raises(FileExistsError):
        write_bytes(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_atomic_path_gives_a_hidden_name_in_the_same_folder(tmp_path):
    target = tmp_path / "chart.png"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".chart.png.")
        tmp.write_bytes(b"png")
        assert not target.exists()
    assert target.read_bytes() == b"png"
