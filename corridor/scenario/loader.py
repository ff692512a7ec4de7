"""Load scenario files: YAML with line tracking, presets, ``extends``, dotted overrides.

Every problem is reported as ``FILE:LINE: FIELD: REASON`` — the file it came from (a
preset, a file it ``extends``, or ``overrides`` for values set on the command line), the
line of the key (for a missing key: the line of the mapping that lacks it), the dotted
field path with ``[i]`` for list items, and a reason a person can act on (the closest
known key for a typo, the bound for an out-of-range number, the value that was given).
"""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import re
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from corridor.scenario.schema import Scenario, parse_start_at

PRESETS_DIR = Path(__file__).parent / "presets"
_REPO_ROOT = Path(__file__).resolve().parents[2]

Path_ = tuple[str | int, ...]


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ScenarioProblem:
    """One thing wrong with a scenario, located as precisely as the input allows."""

    source: str  # file path, or "overrides"
    line: int | None
    field: str  # dotted path, e.g. corridors[2].weight ("" for file-level problems)
    reason: str
    column: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; ``str()`` is one ``FILE:LINE: FIELD: REASON`` per line."""

    def __init__(self, problems: list[ScenarioProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _fail(source: str, line: int | None, field: str, reason: str, column: int | None = None):
    return ScenarioError([ScenarioProblem(source, line, field, reason, column)])


def dotted(path: Path_) -> str:
    """``("corridors", 2, "weight")`` -> ``corridors[2].weight``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --------------------------------------------------------------------------- YAML reading


class _ScenarioYamlLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 surprises: ``16:00`` stays text (not 960), ``NO`` stays
    text (not false), ``010`` is ten; ``1e9`` is a float."""


_ScenarioYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":int", ":float"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ScenarioYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_ScenarioYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0b[01_]+)$"),
    list("-+0123456789"),
)
_ScenarioYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    return int(text, 0) if text.lstrip("+-").startswith(("0x", "0b")) else int(text)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


@dataclass
class _Document:
    """One YAML file's data with the line of every key and list item in it."""

    source: str
    data: dict[str, Any]
    lines: dict[Path_, tuple[int, bool]]  # path -> (1-based line, value is a mapping)
    path: Path | None = None  # the file, when it came from one


def _index_lines(node: yaml.Node, path: Path_, line: int, doc: _Document, seen: set[int]) -> None:
    """Record where each key/item is, and reject duplicate keys (YAML keeps the last)."""
    is_map = isinstance(node, yaml.MappingNode)
    doc.lines[path] = (line, is_map)
    if id(node) in seen:  # an alias: already indexed under its anchor
        return
    seen.add(id(node))
    if is_map:
        first_at: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges: their keys stay located at the anchor
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key in first_at:
                raise _fail(
                    doc.source, key_line, dotted(path + (key,)),
                    f"duplicate key {key!r} (first given at line {first_at[key]})",
                )  # fmt: skip
            first_at[key] = key_line
            _index_lines(value_node, path + (key,), key_line, doc, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), item.start_mark.line + 1, doc, seen)


def _parse_yaml(text: str, source: str) -> _Document:
    try:
        # The reader checks for non-printable characters as it is built: keep it inside the try.
        loader = _ScenarioYamlLoader(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise _fail(
            source, line, "", f"YAML error: {getattr(exc, 'problem', None) or exc}"
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise _fail(
                source, 1, "", "the file is empty; a scenario needs at least name and question"
            )
        doc = _Document(source, {}, {})
        _index_lines(node, (), node.start_mark.line + 1, doc, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            started = exc.context_mark.line + 1 if exc.context_mark else None
            what += f" ({exc.context}" + (f" from line {started})" if started else ")")
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise _fail(source, line, "", f"YAML syntax error: {what}", column) from None
    except yaml.YAMLError as exc:
        raise _fail(source, None, "", f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise _fail(
            source, node.start_mark.line + 1, "",
            f"a scenario file must be a mapping of sections (got {_kind_of(data)})",
        )  # fmt: skip
    doc.data = data
    return doc


# --------------------------------------------------------------------------- presets, extends


def list_presets() -> list[str]:
    """Names of the scenario presets shipped in corridor/scenario/presets/."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_REPO_ROOT))
    except ValueError:
        return str(path)


def _resolve(name_or_path: str | os.PathLike[str], relative_to: Path | None) -> tuple[Path, str]:
    """A preset name or a file path -> (path, how to name it in messages)."""
    text = os.fspath(name_or_path)
    looks_like_path = text.endswith((".yaml", ".yml")) or "/" in text or os.sep in text
    if not looks_like_path:
        preset = PRESETS_DIR / f"{text}.yaml"
        if preset.is_file():
            return preset, _display(preset)
        if not Path(text).is_file():
            names = list_presets()
            close = difflib.get_close_matches(text, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise _fail(
                text, None, "",
                f"no such scenario: {hint}presets are {', '.join(names)}, or give a .yaml file path",
            )  # fmt: skip
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if not path.is_file():
        raise _fail(text, None, "", "no such file")
    return path, text if relative_to is None else _display(path)


def _read_chain(name_or_path: str | os.PathLike[str]) -> list[_Document]:
    """The file and every file it ``extends``, base first."""
    chain: list[_Document] = []
    path, shown = _resolve(name_or_path, None)
    visited: list[Path] = []
    while True:
        if path.resolve() in visited:
            raise _fail(shown, None, "extends", "circular extends")
        visited.append(path.resolve())
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(shown, None, "", f"cannot read: {exc}") from None
        doc = _parse_yaml(text, shown)
        doc.path = path
        chain.insert(0, doc)
        parent = doc.data.pop("extends", None)
        if parent is None:
            return chain
        if not isinstance(parent, str):
            line = doc.lines.get(("extends",), (None, False))[0]
            raise _fail(shown, line, "extends", "expected a preset name or a file path")
        try:
            path, shown = _resolve(parent, path.parent)
        except ScenarioError as exc:
            line = doc.lines.get(("extends",), (None, False))[0]
            reason = exc.problems[0].reason
            raise _fail(doc.source, line, "extends", f"{parent!r}: {reason}") from None


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _deep_merge(base[k], v) if k in base else v
        return out
    return over


# --------------------------------------------------------------------------- locating problems


class _Locator:
    """Maps a field path of the merged scenario back to the file and line it came from."""

    def __init__(self, docs: list[_Document], overridden: list[Path_]) -> None:
        self.docs = docs
        self.overridden = overridden

    def locate(self, path: Path_) -> tuple[str, int | None]:
        for o in self.overridden:
            if path[: len(o)] == o:
                return "overrides", None
        best: tuple[int, str, int | None] = (-1, self.docs[-1].source, 1)
        for doc in reversed(self.docs):  # most derived first
            for k in range(len(path), -1, -1):
                hit = doc.lines.get(path[:k])
                if hit is None:
                    continue
                line, is_map = hit
                if k > best[0]:
                    best = (k, doc.source, line)
                if k == len(path) or not is_map:
                    # Exact, or this file replaced the whole subtree: bases cannot be nearer.
                    return best[1], best[2]
                break
        return best[1], best[2]


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."


def _strip_annotations(tp: Any) -> list[Any]:
    """The concrete alternatives of a type: Annotated and Optional peeled off."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _strip_annotations(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(tp):
            if arg is not type(None):
                out.extend(_strip_annotations(arg))
        return out
    return [tp]


def _field_annotation(model: type[BaseModel], key: str) -> Any | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _descend(tp: Any, part: str | int) -> Any | None:
    """The schema type one step down a path, or None when the schema does not know it."""
    for alt in _strip_annotations(tp):
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            if isinstance(part, str):
                found = _field_annotation(alt, part)
                if found is not None:
                    return found
        elif get_origin(alt) is list and isinstance(part, int):
            return get_args(alt)[0]
        elif get_origin(alt) is dict:
            return get_args(alt)[1]
        elif alt is Any:
            return Any
    return None


def _schema_type(path: Path_) -> Any | None:
    tp: Any = Scenario
    for part in path:
        tp = _descend(tp, part)
        if tp is None:
            return None
    return tp


def _model_at(path: Path_) -> type[BaseModel] | None:
    tp = _schema_type(path)
    for alt in _strip_annotations(tp) if tp is not None else []:
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            return alt
    return None


def _unknown_key_reason(key: str, parent: Path_) -> str:
    model = _model_at(parent)
    known = _known_keys(model) if model else []
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return (
        f"unknown key {key!r} (known keys: {', '.join(known)})" if known else f"unknown key {key!r}"
    )


def _trim_loc(loc: tuple[Any, ...], data: Any, keep_last: bool) -> Path_:
    """Follow a pydantic location through the data, dropping union/validator tags."""
    path: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        if (
            isinstance(current, dict)
            and part in current
            or isinstance(current, list)
            and isinstance(part, int)
            and 0 <= part < len(current)
        ):
            current = current[part]
            path.append(part)
        elif keep_last and i == len(loc) - 1 and isinstance(part, str | int):
            path.append(part)
    return tuple(path)


_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "a mapping of keys to values",
    "model": "a mapping of keys to values",
    "decimal": "a decimal number like 3.25",
    "date": "a date like 2025-03-10",
    "datetime": "an ISO datetime like 2025-03-10T00:00:00Z",
}


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reason(err: Any, path: Path_) -> str:
    kind: str = err["type"]
    ctx = err.get("ctx") or {}
    got = f" (got {_kind_of(err.get('input'))})"
    if kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        return f"must be {op} {_number(ctx.get(key))}{got}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_key_reason(str(path[-1]), path[:-1])
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return f"does not have the expected form {ctx.get('pattern')}{got}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s){got}"
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} item(s)"
    if kind == "decimal_max_places":
        return f"allows at most {ctx.get('decimal_places')} decimal places{got}"
    if kind in ("int_from_float",):
        return f"expected a whole number{got}"
    for prefix, words in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_"):
            return f"expected {words}{got}"
    return f"{err['msg']}{got}"


def _problems_from_validation(
    exc: ValidationError, data: dict[str, Any], locator: _Locator
) -> list[ScenarioProblem]:
    problems = []
    for err in exc.errors(include_url=False):
        keep_last = err["type"] in ("missing", "extra_forbidden")
        path = _trim_loc(err["loc"], data, keep_last)
        source, line = locator.locate(path)
        problems.append(ScenarioProblem(source, line, dotted(path), _reason(err, path)))
    return problems


# --------------------------------------------------------------------------- overrides


def _split_dotted(key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(p == "" for p in parts):
        raise _fail(
            "overrides", None, key, "a path needs dot-separated keys, e.g. rails.cbdc.fee_bps"
        )
    return parts


def apply_overrides(scenario_dict: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``scenario_dict`` with each dotted path set, e.g.
    ``{"stablecoin.shocks.0.bp": 200, "rails.cbdc.fee_bps": 5}``.

    A path must name keys the schema knows (or existing keys and list indices inside the
    free-form ``stablecoin`` / ``params`` sections); a bad one names itself, with the
    closest known key. Values are validated later, with the rest of the scenario.
    """
    out = copy.deepcopy(scenario_dict)
    for key, value in overrides.items():
        parts = _split_dotted(key)
        if parts[0] == "stablecoin" and isinstance(out.get("stablecoin"), dict):
            out["stablecoin"] = _expand_stablecoin_preset(out["stablecoin"])
        current: Any = out
        schema_path: list[str | int] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            here = ".".join(parts[: i + 1])
            if isinstance(current, list):
                if not part.lstrip("-").isdigit() or not -len(current) <= int(part) < len(current):
                    raise _fail(
                        "overrides", None, here,
                        f"{part!r} is not an index of this list (it has {len(current)} items)",
                    )  # fmt: skip
                idx = int(part) % len(current)
                schema_path.append(idx)
                if last:
                    current[idx] = value
                else:
                    current = current[idx]
                continue
            if not isinstance(current, dict):
                raise _fail("overrides", None, here, f"cannot set a key inside {_kind_of(current)}")
            schema_path.append(part)
            if part not in current and _schema_type(tuple(schema_path)) is None:
                raise _fail(
                    "overrides", None, here, _unknown_key_reason(part, tuple(schema_path[:-1]))
                )
            if last:
                current[part] = value
            else:
                if current.get(part) is None:
                    if parts[i + 1].lstrip("-").isdigit():
                        raise _fail(
                            "overrides", None, here,
                            "is not set here, so it has no items to index",
                        )  # fmt: skip
                    current[part] = {}
                current = current[part]
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["rails.cbdc.fee_bps=5", "days=3"]`` -> a dict; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise _fail("overrides", None, pair, "expected KEY=VALUE, e.g. rails.cbdc.fee_bps=5")
        try:
            out[key.strip()] = yaml.load(raw, Loader=_ScenarioYamlLoader) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise _fail(
                "overrides", None, key.strip(), f"cannot read value {raw!r}: {exc}"
            ) from None
    return out


def _override_paths(data: dict[str, Any], overrides: dict[str, Any]) -> list[Path_]:
    paths: list[Path_] = []
    for key in overrides:
        path: list[str | int] = []
        current: Any = data
        for part in key.split("."):
            if isinstance(current, list) and part.lstrip("-").isdigit():
                idx = int(part) % max(len(current), 1)
                path.append(idx)
                current = current[idx] if idx < len(current) else None
            else:
                path.append(part)
                current = current.get(part) if isinstance(current, dict) else None
        paths.append(tuple(path))
    return paths


# --------------------------------------------------------------------------- entry points


def load_scenario(
    name_or_path: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> Scenario:
    """Load a preset by name (``baseline``) or a YAML file, apply dotted overrides, validate.

    Raises ScenarioError (a ValueError) whose message is one ``FILE:LINE: FIELD: REASON``
    per problem.
    """
    docs = _read_chain(name_or_path)
    return _build(docs, overrides)


def load_scenario_text(
    text: str, source: str = "<text>", overrides: dict[str, Any] | None = None
) -> Scenario:
    """Like load_scenario, for YAML already in memory (``extends`` resolves presets/cwd)."""
    doc = _parse_yaml(text, source)
    docs = [doc]
    parent = doc.data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise _fail(source, doc.lines[("extends",)][0], "extends", "expected a preset name")
        docs = _read_chain(parent) + docs
    return _build(docs, overrides)


def _build(docs: list[_Document], overrides: dict[str, Any] | None) -> Scenario:
    data: dict[str, Any] = {}
    for doc in docs:
        data = _deep_merge(data, doc.data)
    overridden: list[Path_] = []
    if overrides:
        data = apply_overrides(data, overrides)
        overridden = _override_paths(data, overrides)
    locator = _Locator(docs, overridden)
    try:
        scenario = Scenario.model_validate(data, context={"defer_cross_checks": True})
    except ValidationError as exc:
        problems = _problems_from_validation(exc, data, locator)
        raise ScenarioError(sorted(problems, key=_problem_order)) from None
    cross = []
    for path, reason in scenario.cross_check():
        where = _trim_loc(path, data, keep_last=True)
        source, line = locator.locate(where)
        if path[0] not in data:
            reason += f" (`{path[0]}` is not in the file, so its defaults apply)"
        cross.append(ScenarioProblem(source, line, dotted(path), reason))
    cross += _check_typologies(scenario, data, locator)
    if cross:
        raise ScenarioError(sorted(cross, key=_problem_order))
    scenario._source = docs[-1].source
    _resolve_stablecoin(scenario, docs)
    return scenario


def _optional_module(name: str, what: str) -> Any:
    """A sibling service's module used for deeper validation, or None when unavailable.

    Not installed: silently None. Installed but failing to import (work in progress
    elsewhere): a warning, and the scenario loads without that check.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        warnings.warn(f"{what} not validated: cannot import {name}: {exc}", stacklevel=3)
    except Exception as exc:  # noqa: BLE001 - their import failure must not block a scenario
        warnings.warn(f"{what} not validated: cannot import {name}: {exc}", stacklevel=3)
    return None


def _check_typologies(
    scenario: Scenario, data: dict[str, Any], locator: _Locator
) -> list[ScenarioProblem]:
    """Typology names must be ones the supervision service detects (when it is installed)."""
    if scenario.supervision is None or not scenario.supervision.typologies:
        return []
    detectors = _optional_module("services.supervision.detectors", "typology names")
    if detectors is None:
        return []
    TYPOLOGIES: tuple[str, ...] = tuple(detectors.TYPOLOGIES)
    problems = []
    for i, typology in enumerate(scenario.supervision.typologies):
        if typology.name not in TYPOLOGIES:
            path: Path_ = ("supervision", "typologies", i, "name")
            source, line = locator.locate(_trim_loc(path, data, keep_last=True))
            close = difflib.get_close_matches(typology.name, TYPOLOGIES, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(TYPOLOGIES)}"
            reason = f"unknown typology {typology.name!r} ({hint})"
            problems.append(ScenarioProblem(source, line, dotted(path), reason))
    return problems


def _problem_order(p: ScenarioProblem) -> tuple[str, int]:
    return (p.source, p.line or 0)


def _resolve_stablecoin(scenario: Scenario, docs: list[_Document]) -> None:
    """Hand the ``stablecoin`` section to the stablecoin team's loader when it is installed.

    Its ``preset: NAME`` convention is theirs: the named preset with this section laid over it.
    """
    if scenario.stablecoin is None:
        return
    stablecoin_spec = _optional_module("services.stablecoin.spec", "the stablecoin section")
    if stablecoin_spec is None:
        return  # the comparator is not installed: keep the raw dict
    # Lines come from the most derived file that states the section.
    doc = next((d for d in reversed(docs) if ("stablecoin",) in d.lines), docs[-1])
    lines = {path[1:]: line for path, (line, _) in doc.lines.items() if path[:1] == ("stablecoin",)}
    preset = scenario.stablecoin.get("preset")
    ours = doc.path is not None and doc.path.resolve().parent == PRESETS_DIR.resolve()
    if isinstance(preset, str) and preset not in stablecoin_spec.list_presets() and ours:
        # Transitional: one of our presets names a stablecoin preset not shipped yet.
        warnings.warn(
            f"{doc.source}: stablecoin preset {preset!r} is not shipped yet; "
            "the stablecoin section is kept unvalidated",
            stacklevel=2,
        )
        return
    # One clock per run: the comparator's episode must start when the scenario starts (its
    # shocks are timed from its start); the scenario's length is the run's length.
    section = dict(scenario.stablecoin)
    given = section.get("start_at")
    try:
        if given is None and isinstance(preset, str):
            given = stablecoin_spec.load_preset(preset).start_at
    except stablecoin_spec.SpecError:
        given = None  # an unknown preset: their loader reports it below, located
    if given is not None and parse_start_at(given) != scenario.start_at:
        key_line = lines.get(("start_at",), lines.get((), None))
        origin = f"preset {preset!r}" if "start_at" not in section else "the section"
        raise _fail(
            doc.source, key_line, "stablecoin.start_at",
            f"the stablecoin episode ({origin}) starts at {parse_start_at(given).isoformat()} but "
            f"the scenario at {scenario.start_at.isoformat()}; set start_at to match",
        )  # fmt: skip
    section["start_at"] = scenario.start_at
    section["days"] = scenario.days
    try:
        scenario._stablecoin_spec = stablecoin_spec.load_stablecoin_spec(
            section, doc.source, lines=lines, field_prefix="stablecoin"
        )
    except stablecoin_spec.SpecError as exc:
        raise ScenarioError(
            [ScenarioProblem(exc.path, exc.line, exc.field or "stablecoin", exc.message)]
        ) from None


def _expand_stablecoin_preset(section: dict[str, Any]) -> dict[str, Any]:
    """The section with its ``preset`` laid underneath, so overrides can reach preset keys."""
    module = _optional_module("services.stablecoin.spec", "the stablecoin section")
    name = section.get("preset")
    if module is None or not isinstance(name, str) or name not in module.list_presets():
        return section
    read = getattr(module, "read_preset_data", None) or getattr(module, "_read_preset_data", None)
    if read is None:
        return section
    return {**_deep_merge(read(name), section), "preset": name}


def dump_scenario(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (what a results directory records)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
