"""workbench.files: versioned reads, atomic writes, no lost edit."""
from __future__ import annotations

import os
import threading

import pytest

from workbench import files


def test_write_with_the_read_version_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "faq.yml"
    path.write_text("version: \"3.1\"\n", encoding="utf-8")
    os.chmod(path, 0o640)
    text, version = files.read(path)
    new_version = files.write(path, text + "# правка\n", version)
    assert path.read_text(encoding="utf-8") == "version: \"3.1\"\n# правка\n"
    assert files.read(path)[1] == new_version != version
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["faq.yml"]  # no temporary file left behind


def test_a_stale_version_is_refused_in_russian_and_the_newer_file_kept(tmp_path):
    path = tmp_path / "responses.yml"
    path.write_text("а\n", encoding="utf-8")
    _, version = files.read(path)
    files.write(path, "б\n", version)  # the other trainer saved first
    with pytest.raises(files.EditConflict) as refused:
        files.write(path, "в\n", version, shown_as="data/responses.yml")
    assert "Файл data/responses.yml изменён другим тренером" in refused.value.message
    assert "обновите страницу" in refused.value.message
    assert path.read_text(encoding="utf-8") == "б\n"


def test_a_missing_file_is_created_with_the_missing_version_only_once(tmp_path):
    path = tmp_path / "stories" / "new.yml"
    assert files.read(path) == ("", files.MISSING)
    files.write(path, "stories: []\n", files.MISSING)
    assert path.read_text(encoding="utf-8") == "stories: []\n"
    with pytest.raises(files.EditConflict):
        files.write(path, "stories: [x]\n", files.MISSING)


def test_two_concurrent_writers_from_one_version_one_wins_the_other_gets_a_conflict(tmp_path, monkeypatch):
    path = tmp_path / "nlu.yml"
    path.write_text("начало\n", encoding="utf-8")
    _, version = files.read(path)
    # Widen the window between the check and the replace, so an unlocked
    # implementation would let both writers through.
    real_replace = files._replace
    both_waiting = threading.Barrier(2, timeout=5)

    def slow_replace(target, data):
        threading.Event().wait(0.2)
        real_replace(target, data)

    monkeypatch.setattr(files, "_replace", slow_replace)
    results = {}

    def writer(name):
        try:
            both_waiting.wait()
        except threading.BrokenBarrierError:
            pass
        try:
            files.write(path, f"правка {name}\n", version)
            results[name] = "written"
        except files.EditConflict:
            results[name] = "conflict"

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("анна", "пётр")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results.values()) == ["conflict", "written"]
    winner = next(n for n, r in results.items() if r == "written")
    assert path.read_text(encoding="utf-8") == f"правка {winner}\n"


def test_read_modify_write_under_editing_is_not_interleaved(tmp_path):
    path = tmp_path / "counter.yml"
    path.write_text("0", encoding="utf-8")

    def add_one():
        for _ in range(25):
            with files.editing(path) as (text, version):
                files.write(path, str(int(text) + 1), version)

    threads = [threading.Thread(target=add_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert path.read_text(encoding="utf-8") == "100"


def test_paths_from_a_request_stay_inside_the_project(tmp_path):
    project = tmp_path / "project"
    (project / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("x")
    (project / "data" / "link.yml").symlink_to(tmp_path / "secret.txt")
    assert files.inside(project, "data/nlu/faq.yml") == (project / "data" / "nlu" / "faq.yml").resolve()
    for bad in ("../secret.txt", "/etc/passwd", "data/../../secret.txt", "data/link.yml", ""):
        with pytest.raises(files.OutsideProject):
            files.inside(project, bad)
