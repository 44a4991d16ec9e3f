"""Safe YAML/JSON reading that remembers where each key is.

Every YAML file instrval reads (instruments, study files, mappings, codebooks) goes
through :func:`load_document`, which

* uses a safe loader: tags that would build Python objects are refused (reason
  ``yaml_tag``; other syntax errors are ``yaml_syntax``, both with the line);
* reads booleans the YAML 1.2 way (only ``true``/``false``), so that gate options such as
  ``yes`` and ``no`` stay text instead of silently turning into booleans;
* reports duplicate keys, which plain YAML readers silently collapse;
* returns a map from key paths (``constructs[1].items[0].id``) to 1-based line numbers, so
  that checks can name the line of a problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from instrval.errors import InstrvalError, Problem
from instrval.io.files import limits, read_input_bytes

__all__ = ["load_document", "loads_document", "dump_yaml", "dump_json", "Document"]


# libyaml's parser when PyYAML was built with it (several times faster), else pure Python;
# both construct with SafeConstructor, so no tag can build a Python object.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 booleans (``yes``/``no``/``on``/``off`` stay text)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes yes/no-like strings and writes multi-line text as blocks."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


class Document:
    """What :func:`load_document` returns: the data and the line of each key path."""

    __slots__ = ("data", "lines", "file")

    def __init__(self, data: Any, lines: dict[str, int], file: str | None):
        self.data = data
        self.lines = lines
        self.file = file


def load_document(path: str | Path, *, error: type[InstrvalError] = InstrvalError,
                  what: str = "file") -> Document:
    """Read a YAML or JSON file safely.

    Parameters
    ----------
    path : path-like
        ``.json`` files are read as JSON; anything else as YAML.
    error : type of InstrvalError
        The error class to raise (e.g. :class:`~instrval.errors.InstrumentError`).
    what : str
        What the file is, for messages ("instrument file", "study file").

    Raises
    ------
    InstrvalError (of class ``error``)
        When the file is missing, not UTF-8, not valid YAML/JSON, or has duplicate keys.
    """
    p = Path(path)
    name = str(path)
    raw = read_input_bytes(p, error=error, what=what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{name}:{line}: {what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
            f"position {exc.start}); save it as UTF-8",
            [Problem("encoding", "not UTF-8", file=name, line=line)],
        ) from None
    return loads_document(text, file=name, json_syntax=p.suffix.lower() == ".json",
                          error=error, what=what)


def loads_document(text: str, *, file: str | None = None, json_syntax: bool = False,
                   error: type[InstrvalError] = InstrvalError, what: str = "file") -> Document:
    """Parse YAML (or JSON) text; see :func:`load_document`."""
    name = file or "<text>"
    if not text.strip():
        raise error(f"{name}: {what} is empty",
                    [Problem("empty_file", f"{what} is empty", file=file)])
    if json_syntax:
        _check_depth(text, name=name, file=file, error=error, what=what)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(
                f"{name}:{exc.lineno}: invalid JSON at column {exc.colno}: {exc.msg}",
                [Problem("json_syntax", exc.msg, file=file, line=exc.lineno)],
            ) from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit integer, deep nesting
            raise _too_complex(name, file, error, what, str(exc)) from None
        lines: dict[str, int] = {}
        problems: list[Problem] = []
        try:  # JSON is YAML: use the YAML composer for key lines (best effort)
            node = yaml.compose(text, Loader=_Loader)
            if node is not None:
                _walk(node, "", lines, problems, file)
        except yaml.YAMLError:
            problems = []
        if problems:  # json.loads keeps the last of duplicate keys silently
            raise error.from_problems(problems, name)
        return Document(data, lines, file)
    _check_depth(text, name=name, file=file, error=error, what=what)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise error(f"{name}: {what} is empty",
                        [Problem("empty_file", f"{what} is empty", file=file)])
        _check_expansion(node, name=name, file=file, error=error, what=what)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        msg = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        reason = "yaml_syntax"
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in (exc.problem or ""):
            msg = (f"{msg}: tags that build objects are refused; write plain YAML "
                   "(mappings, lists, text, numbers, true/false)")
            reason = "yaml_tag"
        where = f"{name}:{line}" if line else name
        raise error(
            f"{where}: invalid YAML{f' at column {col}' if col else ''}: {msg}",
            [Problem(reason, msg, file=file, line=line)],
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{name}: invalid YAML: {exc}",
                    [Problem("yaml_syntax", str(exc), file=file)]) from None
    except (ValueError, RecursionError, OverflowError) as exc:
        raise _too_complex(name, file, error, what, str(exc)) from None
    finally:
        loader.dispose()
    lines = {}
    problems = []
    _walk(node, "", lines, problems, file)
    if problems:
        raise error.from_problems(problems, name)
    return Document(data, lines, file)


def _too_complex(name: str, file: str | None, error: type[InstrvalError], what: str,
                 detail: str) -> InstrvalError:
    msg = f"the {what} cannot be read: {detail}"
    return error(f"{name}: {msg}", [Problem("too_complex", msg, file=file)])


def _check_depth(text: str, *, name: str, file: str | None, error: type[InstrvalError],
                 what: str) -> None:
    """Refuse flow-style nesting deeper than the limit before a recursive parser sees it
    (``[[[[...]]]]`` would otherwise end in a RecursionError)."""
    limit = limits().max_nesting
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    line = 1
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\n":
                line += 1
            continue
        if ch in "[{":
            depth += 1
            if depth > limit:
                msg = (f"the {what} nests lists or mappings more than {limit} levels deep "
                       f"(line {line}); refusing to read it")
                raise error(f"{name}:{line}: {msg}",
                            [Problem("too_complex", msg, file=file, line=line)])
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == '"':
            quote = ch
        elif ch == "\n":
            line += 1


def _check_expansion(root: yaml.Node, *, name: str, file: str | None,
                     error: type[InstrvalError], what: str) -> None:
    """Refuse a document whose aliases expand past the node limit ("billion laughs"), or
    that refers to itself, before anything walks the expanded tree."""
    lim = limits()
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def fail(msg: str, node: yaml.Node) -> InstrvalError:
        line = node.start_mark.line + 1
        return error(f"{name}:{line}: {msg}",
                     [Problem("yaml_alias", msg, file=file, line=line)])

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise fail(f"the {what} contains an alias that refers to itself; refusing to "
                       "read it", node)
        if depth > lim.max_nesting:
            raise fail(f"the {what} nests more than {lim.max_nesting} levels deep", node)
        n = 1
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            active.add(key)
            children = (node.value if isinstance(node, yaml.SequenceNode)
                        else [x for kv in node.value for x in kv])
            for child in children:
                n += size(child, depth + 1)
                if n > lim.max_yaml_nodes:
                    raise fail(f"the {what} expands to more than {lim.max_yaml_nodes:,} "
                               "values through aliases (*name) that repeat anchors "
                               "(&name); refusing to read it (write the values out)", node)
            active.discard(key)
        sizes[key] = n
        return n

    size(root, 0)


def _walk(node: yaml.Node, path: str, lines: dict[str, int], problems: list[Problem],
          file: str | None) -> None:
    if path not in lines:
        lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for knode, vnode in node.value:
            key = str(knode.value)
            sub = f"{path}.{key}" if path else key
            line = knode.start_mark.line + 1
            if key in seen and knode.tag != "tag:yaml.org,2002:merge":
                problems.append(Problem(
                    "duplicate_key",
                    f"key {key!r} appears twice in the same mapping (first on line {seen[key]})",
                    file=file, key=sub, line=line, value=key))
            seen.setdefault(key, line)
            lines.setdefault(sub, line)
            _walk(vnode, sub, lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _walk(child, f"{path}[{i}]", lines, problems, file)


def dump_yaml(data: Any) -> str:
    """Serialise plain data as block-style YAML that :func:`load_document` reads back."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def dump_json(data: Any) -> str:
    """Serialise plain data as indented JSON (UTF-8, keys in insertion order)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
