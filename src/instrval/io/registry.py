"""An immutable registry of published instrument versions: a folder of files plus an index.

Layout of a registry folder ``DIR``::

    DIR/index.json              what is published: one entry per instrument version
    DIR/<id>/<id>-<version>.yaml  the published file, never overwritten
    DIR/.lock                   lock file taken while publishing (POSIX fcntl)

``index.json`` holds ``{"format": "instrval-registry", "format_version": "1.0",
"entries": [...]}``; each entry has ``id``, ``version``, ``status``, ``title``, ``file``
(path relative to ``DIR``), ``sha256`` (of the file's bytes), ``published_at`` (UTC,
ISO 8601) and ``format_version`` (of the instrument file), in publication order.

Rules:

* Only instruments that pass ``instrval instrument check`` are published.
* Any status (draft, validated, retired) may be published; the status is recorded in the
  index. A published version is immutable, status included: to mark a draft as
  validated, publish it under a new version.
* Publishing the same content again (the same instrument, compared as data, so comments
  and formatting do not matter) is a no-op and says so; different content under a version
  already published is refused with :class:`~instrval.errors.PublishError`.
* A YAML source file is stored byte for byte (its comments are part of the record);
  a JSON file or an :class:`Instrument` object is stored as canonical YAML.
* Writes are atomic (temporary file, then rename), the instrument file first and the
  index last; if anything fails the new file is removed again, so a failed or interrupted
  publish leaves the registry as it was. Concurrent publishers are serialised by an
  exclusive ``fcntl`` lock on ``DIR/.lock`` (on systems without ``fcntl`` no lock is taken).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from instrval._result import Result
from instrval.errors import InstrumentError, Problem, PublishError
from instrval.io.atomic import atomic_write_bytes
from instrval.io.files import read_input_bytes
from instrval.io.instrument import dumps_instrument, loads_instrument, read_instrument
from instrval.io.yamlfile import dump_json
from instrval.model.checks import VERSION_PATTERN, check_instrument_data
from instrval.model.instrument import Instrument

__all__ = ["Registry", "PublishResult", "publish", "REGISTRY_FORMAT_VERSION"]

REGISTRY_FORMAT_VERSION = "1.0"
INDEX_NAME = "index.json"
#: Versions become file names: letters, digits and ``. _ + -`` only.


@dataclass(frozen=True, repr=False)
class PublishResult(Result):
    """What :func:`publish` did.

    Attributes
    ----------
    id, version, status : str
        The instrument version.
    path : str
        The published file.
    sha256 : str
        Checksum of the published file's bytes.
    published_at : str
        When it was first published (UTC, ISO 8601).
    created : bool
        False when the same content was already published (nothing was written).
    message : str
        One sentence for people.
    """

    id: str
    version: str
    status: str
    path: str
    sha256: str
    published_at: str
    created: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Registry:
    """A registry folder of published instrument versions.

    Parameters
    ----------
    root : path-like
        The registry folder (created on first publish).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = publish("instruments/iam/iam-2011.yaml", folder)
    >>> reg = Registry(folder)
    >>> reg.versions("iam")
    ('2011',)
    >>> reg.get("iam", "2011").counts()
    {'constructs': 4, 'items': 23, 'gates': 2}
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # ----------------------------------------------------------------- reading
    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def entries(self) -> list[dict[str, Any]]:
        """The index entries, in publication order (empty for a new registry)."""
        p = self.index_path
        if not p.exists():
            return []
        try:
            data = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PublishError(f"registry index {p} cannot be read: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise PublishError(f"registry index {p} is not an instrval registry index "
                               "(expected an object with an 'entries' list)")
        out = []
        for i, e in enumerate(data["entries"]):
            bad = "not an object" if not isinstance(e, dict) else next(
                (f"{k!r} is missing or not text" for k in ("id", "version", "file", "sha256")
                 if not isinstance(e.get(k), str)), None)
            if bad is None and not self._inside(e["file"]):
                bad = f"'file' {e['file']!r} points outside the registry"
            if bad is not None:
                raise PublishError(
                    f"registry index {p} is damaged: entry {i + 1}: {bad}; restore the "
                    "index from a backup",
                    [Problem("corrupt_index", bad, file=str(p), key=f"entries[{i}]")])
            out.append(dict(e))
        return out

    def _inside(self, rel: str) -> bool:
        """True when ``rel`` names a file inside the registry folder."""
        if not rel or rel.startswith(("/", "\\")) or "\x00" in rel:
            return False
        root = self.root.resolve()
        try:
            (root / rel).resolve().relative_to(root)
        except (ValueError, OSError):
            return False
        return True

    def to_frame(self) -> pd.DataFrame:
        """The index as a table: id, version, status, title, file, sha256, published_at."""
        cols = ["id", "version", "status", "title", "file", "sha256", "published_at",
                "format_version"]
        return pd.DataFrame(self.entries(), columns=cols)

    def ids(self) -> tuple[str, ...]:
        """The instrument ids published, in order of first publication."""
        return tuple(dict.fromkeys(e["id"] for e in self.entries()))

    def versions(self, id: str) -> tuple[str, ...]:
        """The published versions of instrument ``id``, in publication order."""
        return tuple(e["version"] for e in self.entries() if e["id"] == id)

    def entry(self, id: str, version: str) -> dict[str, Any]:
        """The index entry of one version; :class:`PublishError` if not published."""
        for e in self.entries():
            if e["id"] == id and e["version"] == str(version):
                return e
        known = self.versions(id)
        have = f"published versions: {', '.join(known)}" if known else \
            f"no version of {id!r} is published"
        raise PublishError(f"{id}@{version} is not in registry {self.root} ({have})")

    def path(self, id: str, version: str) -> Path:
        """The file of a published version."""
        return self.root / self.entry(id, version)["file"]

    def get(self, id: str, version: str) -> Instrument:
        """Read a published version, after checking its sha256 against the index.

        Raises
        ------
        PublishError
            When the version is not published, or its file was changed or removed after
            publication.
        """
        e = self.entry(id, version)
        p = self.root / e["file"]
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise PublishError(f"published file {p} of {id}@{version} cannot be read: "
                               f"{exc.strerror}") from None
        if _sha256(raw) != e["sha256"]:
            raise PublishError(f"published file {p} was modified after publication "
                               f"(sha256 differs from the index); published files must "
                               f"not be edited")
        return loads_instrument(raw.decode("utf-8-sig"), fmt="yaml", file=str(p))

    def file_for(self, id: str, version: str) -> Path:
        """Where version ``version`` of ``id`` is (or would be) stored."""
        return self.root / id / f"{id}-{version}.yaml"

    # ----------------------------------------------------------------- writing
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the registry (POSIX ``fcntl.flock``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def publish(self, instrument_or_path: Instrument | str | os.PathLike[str]
                ) -> PublishResult:
        """Publish an instrument version; see :func:`publish`."""
        inst, content = _load(instrument_or_path)
        if not VERSION_PATTERN.match(inst.version):
            raise PublishError(
                f"version {inst.version!r} of {inst.id} cannot name a registry file: use "
                "letters, digits and . _ + - only, starting with a letter or digit")
        target = self.file_for(inst.id, inst.version)
        rel = target.relative_to(self.root).as_posix()
        for e in self.entries():  # the same content again: nothing to write, no lock
            if e["id"] == inst.id and e["version"] == inst.version:
                return self._republish(inst, e)
        with self.lock():
            entries = self.entries()
            for e in entries:
                if e["id"] == inst.id and e["version"] == inst.version:
                    return self._republish(inst, e)
            if target.exists():  # left by a publish that died between its two renames
                try:
                    orphan = read_instrument(target)
                except InstrumentError:
                    orphan = None
                if orphan != inst:
                    raise PublishError(
                        f"{target} exists but is not in the registry index (left by an "
                        f"interrupted publish?) and holds different content; inspect and "
                        f"remove it, then publish again")
                content = target.read_bytes()
            digest = _sha256(content)
            now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
            entry = {"id": inst.id, "version": inst.version, "status": inst.status,
                     "title": inst.title, "file": rel, "sha256": digest,
                     "published_at": now, "format_version": inst.format_version}
            index = {"format": "instrval-registry", "format_version": REGISTRY_FORMAT_VERSION,
                     "entries": [*entries, entry]}
            created_dir = not target.parent.exists()
            existed = target.exists()
            try:
                if not existed:
                    atomic_write_bytes(target, content)
                atomic_write_bytes(self.index_path, dump_json(index).encode("utf-8"))
            except BaseException:
                if not existed:
                    with contextlib.suppress(OSError):
                        target.unlink()
                    if created_dir:
                        with contextlib.suppress(OSError):
                            target.parent.rmdir()
                raise
        return PublishResult(
            id=inst.id, version=inst.version, status=inst.status, path=str(target),
            sha256=digest, published_at=now, created=True,
            message=f"published {inst.label} ({inst.status}) to {target}")

    def _republish(self, inst: Instrument, e: dict[str, Any]) -> PublishResult:
        p = self.root / e["file"]
        try:
            current = self.get(inst.id, inst.version)
        except InstrumentError as exc:  # pragma: no cover - registry damaged by hand
            raise PublishError(f"published file {p} cannot be read: {exc.summary}") from None
        if current != inst:
            a, b = current.to_dict(), inst.to_dict()
            keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
            raise PublishError(
                f"{inst.label} is already published ({p}, {e['published_at']}) with "
                f"different content (differs in: {', '.join(keys)}); a published version "
                "is never overwritten: give this content a new version (see "
                "'instrval instrument diff')")
        return PublishResult(
            id=inst.id, version=inst.version, status=e["status"], path=str(p),
            sha256=e["sha256"], published_at=e["published_at"], created=False,
            message=f"{inst.label} is already published with the same content "
                    f"({p}); nothing to do")


def publish(instrument_or_path: Instrument | str | os.PathLike[str],
            registry: Registry | str | os.PathLike[str]) -> PublishResult:
    """Publish an instrument version into a registry folder.

    Parameters
    ----------
    instrument_or_path : Instrument or path-like
        An instrument, or an instrument file (YAML or JSON) which is checked first.
    registry : Registry or path-like
        The registry (folder created if needed).

    Returns
    -------
    PublishResult
        ``created`` is False when the same content was already published.

    Raises
    ------
    InstrumentError
        When the file does not pass ``instrval instrument check``.
    PublishError
        When different content is already published under this version, or the version
        label cannot name a file.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> r = publish("instruments/iam/iam-2011.yaml", folder)
    >>> os.path.relpath(r.path, folder)
    'iam/iam-2011.yaml'
    """
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    return reg.publish(instrument_or_path)


def _load(src: Instrument | str | os.PathLike[str]) -> tuple[Instrument, bytes]:
    if isinstance(src, Instrument):
        check_instrument_data(src.to_dict(), file=src.label, raise_on_error=True)
        return src, dumps_instrument(src).encode("utf-8")
    p = Path(src)
    # read once: the bytes checked are the bytes stored (a file changed in between
    # cannot slip into the registry unchecked)
    raw = read_input_bytes(p, error=InstrumentError, what="instrument file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InstrumentError(f"{p}:{line}: the instrument file is not UTF-8 text; save it "
                              "as UTF-8", [Problem("encoding", "not UTF-8", file=str(p),
                                                   line=line)]) from None
    json_file = p.suffix.lower() == ".json"
    inst = loads_instrument(text, fmt="json" if json_file else "yaml", file=str(p))
    if json_file:
        return inst, dumps_instrument(inst).encode("utf-8")
    return inst, raw


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()
