"""The publishing registry: immutable versions, no-op republish, atomic failure, locking."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from instrval.errors import InstrumentError, PublishError
from instrval.io.instrument import read_instrument, write_instrument
from instrval.io.registry import PublishResult, Registry, publish

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "instruments/iam/iam-2011.yaml"
BFI = ROOT / "instruments/bfi/bfi-1.0.yaml"


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (lock file excluded) and its bytes."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"} | {
        str(p.relative_to(root)) + "/": b"" for p in root.rglob("*") if p.is_dir()}


def test_publish_writes_file_and_index(tmp_path):
    reg = tmp_path / "reg"
    r = publish(IAM, reg)
    assert isinstance(r, PublishResult) and r.created
    target = reg / "iam" / "iam-2011.yaml"
    assert Path(r.path) == target
    assert target.read_bytes() == IAM.read_bytes()  # YAML stored byte for byte
    index = json.loads((reg / "index.json").read_text())
    assert index["format"] == "instrval-registry"
    (e,) = index["entries"]
    assert e["id"] == "iam" and e["version"] == "2011" and e["status"] == "validated"
    assert e["file"] == "iam/iam-2011.yaml"
    assert e["sha256"] == hashlib.sha256(IAM.read_bytes()).hexdigest() == r.sha256
    assert e["published_at"].endswith("+00:00")
    reg_ = Registry(reg)
    assert reg_.versions("iam") == ("2011",)
    assert reg_.get("iam", "2011") == read_instrument(IAM)
    assert reg_.ids() == ("iam",)
    assert list(reg_.to_frame()["id"]) == ["iam"]
    assert r.to_dict()["created"] is True


def test_same_content_again_is_a_noop(tmp_path):
    reg = tmp_path / "reg"
    first = publish(IAM, reg)
    before = _snapshot(reg)
    # same instrument, different formatting (canonical YAML, then JSON): still a no-op
    inst = read_instrument(IAM)
    again = publish(write_instrument(inst, tmp_path / "iam.json"), reg)
    assert not again.created
    assert "already published with the same content" in again.message
    assert again.published_at == first.published_at and again.sha256 == first.sha256
    assert publish(inst, reg).created is False
    assert _snapshot(reg) == before


def test_different_content_under_published_version_is_refused(tmp_path):
    reg = tmp_path / "reg"
    publish(IAM, reg)
    before = _snapshot(reg)
    changed = read_instrument(IAM).replace(title="Another title")
    with pytest.raises(PublishError, match=r"iam@2011 is already published .* different "
                                           r"content \(differs in: title\).*never overwritten"):
        publish(changed, reg)
    assert _snapshot(reg) == before
    # a new version is fine
    r = publish(changed.replace(version="2012"), reg)
    assert r.created and Registry(reg).versions("iam") == ("2011", "2012")


def test_drafts_are_published_with_their_status(tmp_path):
    reg = tmp_path / "reg"
    draft = read_instrument(BFI).replace(status="draft", version="1.1")
    r = publish(draft, reg)
    assert r.status == "draft"
    assert Registry(reg).entry("bfi", "1.1")["status"] == "draft"
    # the file of an Instrument object is canonical YAML
    assert read_instrument(r.path) == draft
    # the status is part of the content: the same version cannot become validated
    with pytest.raises(PublishError, match="differs in: status"):
        publish(draft.replace(status="validated"), reg)


def test_invalid_file_is_not_published(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(IAM.read_text().replace("kind: single_choice", "kind: rating"))
    reg = tmp_path / "reg"
    with pytest.raises(InstrumentError, match="'kind' must be one of"):
        publish(bad, reg)
    assert not (reg / "index.json").exists()


def test_failure_on_second_rename_leaves_registry_unchanged(tmp_path, monkeypatch):
    reg = tmp_path / "reg"
    publish(BFI, reg)
    before = _snapshot(reg)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # the index rename, after the instrument file's
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="No space left"):
        publish(IAM, reg)
    monkeypatch.setattr(os, "replace", real)
    assert calls["n"] == 2
    assert _snapshot(reg) == before  # no iam folder, no temporary files, same index
    assert Registry(reg).versions("iam") == ()
    # and publishing works afterwards
    assert publish(IAM, reg).created


def test_failure_on_first_rename_leaves_registry_unchanged(tmp_path, monkeypatch):
    reg = tmp_path / "reg"
    publish(BFI, reg)
    before = _snapshot(reg)

    def broken(src, dst):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        publish(IAM, reg)
    monkeypatch.undo()
    assert _snapshot(reg) == before


def test_orphan_file_from_an_interrupted_publish(tmp_path):
    reg = tmp_path / "reg"
    publish(BFI, reg)
    orphan = reg / "iam" / "iam-2011.yaml"
    orphan.parent.mkdir()
    orphan.write_bytes(IAM.read_bytes())  # as if the index rename never happened
    r = publish(IAM, reg)
    assert r.created and Registry(reg).versions("iam") == ("2011",)
    other = reg / "bfi" / "bfi-9.yaml"
    other.write_text("not: an instrument\n")
    with pytest.raises(PublishError, match="not in the registry index"):
        publish(read_instrument(BFI).replace(version="9"), reg)


def test_tampered_file_is_detected(tmp_path):
    reg = tmp_path / "reg"
    r = publish(IAM, reg)
    Path(r.path).write_text(Path(r.path).read_text() + "\n# edited\n")
    with pytest.raises(PublishError, match="modified after publication"):
        Registry(reg).get("iam", "2011")


def test_unknown_version_and_bad_version_label(tmp_path):
    reg = tmp_path / "reg"
    publish(IAM, reg)
    with pytest.raises(PublishError, match=r"iam@1999 is not in registry .*published "
                                           r"versions: 2011"):
        Registry(reg).get("iam", "1999")
    with pytest.raises(PublishError, match="no version of 'nope' is published"):
        Registry(reg).get("nope", "1")
    # the instrument checker refuses the label before the registry sees it
    with pytest.raises(InstrumentError, match="not a safe version label"):
        publish(read_instrument(IAM).replace(version="../../etc"), reg)


def test_corrupt_index_is_reported(tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "index.json").write_text("{not json")
    with pytest.raises(PublishError, match="registry index .* cannot be read"):
        Registry(reg).versions("iam")


def test_concurrent_publishers_are_serialised(tmp_path):
    reg = tmp_path / "reg"
    base = read_instrument(BFI)
    errors: list[BaseException] = []

    def work(v: int) -> None:
        try:
            publish(base.replace(version=f"2.{v}"), reg)
        except BaseException as exc:  # pragma: no cover - would fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(Registry(reg).versions("bfi")) == sorted(f"2.{v}" for v in range(8))



def test_written_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a private temporary file; the result gets the permissions
    of an ordinary write (0666 less the umask), not 0600."""
    import stat

    from instrval.io.atomic import _UMASK, atomic_write_text

    p = atomic_write_text(tmp_path / "x.txt", "hello")
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~_UMASK
