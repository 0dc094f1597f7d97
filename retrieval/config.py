"""Settings: TOML defaults in config/, overridden by environment variables, then by CLI flags.

config/default.toml is the one home of every default and the list of every valid setting:
the schema (which sections and keys exist, and the type of each) is read from it, so a key
added there is valid everywhere at once. Every value is checked once, when settings are
loaded; a mistake names the setting, where it came from (file, environment variable or
flag) and what it accepts, and a misspelled section or key names the closest valid one.
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import NewsdeskError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"

# Environment variable -> (section, key). Values are parsed to the type of the default.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "NEWSDESK_INDEX_DIR": ("index", "dir"),
    "NEWSDESK_SEED_DIR": ("index", "seed_dir"),
    "NEWSDESK_MODEL": ("model", "name"),
    "NEWSDESK_BATCH_SIZE": ("model", "batch_size"),
    "NEWSDESK_MODE": ("retrieval", "mode"),
    "NEWSDESK_FUSION": ("retrieval", "fusion"),
    "NEWSDESK_CROSS_ENCODER": ("rerank", "cross_encoder"),
    "NEWSDESK_STORE": ("store", "backend"),
    "NEWSDESK_MILVUS_URI": ("store", "milvus_uri"),
}
# The flag that sets a setting, for naming it in errors.
FLAGS: dict[tuple[str, str], str] = {
    ("index", "dir"): "--index",
    ("retrieval", "mode"): "--mode",
    ("model", "name"): "--model",
    ("index", "writer_wait_seconds"): "--wait",
}
# Settings whose value is one of a few words; the rest are checked by the default's type.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("retrieval", "mode"): ("bm25", "dense", "hybrid"),
    ("retrieval", "fusion"): ("features", "rrf", "weighted"),
    ("retrieval", "vector_index"): ("auto", "flat", "hnsw"),
    ("telegram", "mode"): ("polling", "webhook"),
    ("ingest", "date_order"): ("MDY", "DMY"),
    ("store", "backend"): ("local", "milvus"),
    ("model", "query_runtime"): ("onnxruntime", "torch"),
    ("model", "query_precision"): ("float32", "int8"),
    ("rerank", "ce_context"): ("none", "title", "previous"),
}
# Numbers below which a setting means nothing (a batch of 0, a negative wait).
MINIMUM: dict[tuple[str, str], float] = {
    ("model", "batch_size"): 1,
    ("retrieval", "k"): 1,
    ("retrieval", "candidates"): 1,
    ("retrieval", "rrf_k"): 0,
    ("rerank", "passages"): 0,
    ("answer", "max_question_chars"): 1,
    ("split", "min_sentence_chars"): 0,
    ("index", "max_segments"): 1,
    ("index", "writer_wait_seconds"): 0,
    ("index", "reload_seconds"): 0,
    ("index", "progress_seconds"): 0,
    ("store", "batch_rows"): 1,
    ("store", "retries"): 0,
    ("store", "timeout_seconds"): 0.1,
    ("time", "week_days"): 1,
    ("time", "few_days"): 1,
    ("time", "recent_days"): 1,
    ("time", "latest_margin"): 0,
    ("time", "latest_candidates"): 1,
}
PATH_KEYS = (("index", "dir"), ("index", "seed_dir"))


class ConfigError(NewsdeskError, ValueError):
    """A setting has a value newsdesk cannot use; the message names the setting and the fix."""


def _kind(value: Any) -> str:
    """A value's type in the words a person reading a config file would use."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _accepts(like: Any, choices: tuple[str, ...] | None, minimum: float | None) -> str:
    if choices:
        return "one of " + ", ".join(f'"{c}"' for c in choices)
    at_least = f" of at least {minimum:g}" if minimum is not None else ""
    if isinstance(like, bool):
        return "true or false"
    if isinstance(like, int):
        return f"a whole number{at_least}"
    if isinstance(like, float):
        return f"a number{at_least}"
    if isinstance(like, list):
        return "a list" + (f" of {_kind(like[0])}s" if like else "")
    if isinstance(like, dict):
        return "a table of numbers"
    return "a string"


def _typed(value: Any, like: Any) -> Any:
    """``value`` as the type of the default ``like``, or raise ValueError."""
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(like, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(like, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(like, str):
        if isinstance(value, str):
            return value
    elif isinstance(like, list):
        if isinstance(value, list) and (not like or all(_kind(v) == _kind(like[0]) for v in value)):
            return value
    elif isinstance(like, dict):
        if isinstance(value, dict) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
        ):
            return {k: float(v) for k, v in value.items()}
    raise ValueError


def _parse_env(text: str, like: Any) -> Any:
    """An environment variable's text as the type of the default; unparsable text stays text
    (and is then refused by _check with the setting's name)."""
    if isinstance(like, bool):
        lowered = text.strip().lower()
        return {
            "1": True,
            "true": True,
            "yes": True,
            "on": True,
            "0": False,
            "false": False,
            "no": False,
            "off": False,
        }.get(lowered, text)
    for kind in (int,) if isinstance(like, int) else (float,) if isinstance(like, float) else ():
        try:
            return kind(text)
        except ValueError:
            return text
    if isinstance(like, list):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


@dataclass(frozen=True)
class Schema:
    """Every valid section and key, with its default: config/default.toml itself."""

    defaults: dict[str, dict[str, Any]]

    def names(self) -> list[str]:
        return [f"[{s}] {k}" for s, keys in self.defaults.items() for k in keys]

    def check_key(self, section: str, key: str | None, source: str) -> None:
        """Raise ConfigError when the section (or key) is not one newsdesk knows."""
        if section not in self.defaults:
            close = difflib.get_close_matches(section, list(self.defaults), n=1, cutoff=0.5)
            hint = (
                f"did you mean [{close[0]}]?" if close else f"sections are {', '.join(f'[{s}]' for s in self.defaults)}"
            )
            raise ConfigError(f"unknown section [{section}] in {source}: {hint}")
        if key is None or key in self.defaults[section]:
            return
        keys = list(self.defaults[section])
        words = set(key.lower().split("_"))
        # A misspelling in the section; a key named as a person would say it ("top_k" for k);
        # a key put in the wrong section; or anything close among all settings.
        near = [f"[{section}] {k}" for k in difflib.get_close_matches(key, keys, n=1, cutoff=0.6)]
        near += [f"[{section}] {k}" for k in keys if k in words]
        near += [f"[{s}] {k}" for s, ks in self.defaults.items() for k in ks if k == key or k in words]
        near += difflib.get_close_matches(f"[{section}] {key}", self.names(), n=1, cutoff=0.5)
        hint = f"did you mean {near[0]}?" if near else f"[{section}] has {', '.join(keys) or 'no keys'}"
        raise ConfigError(f"unknown setting [{section}] {key} in {source}: {hint}")

    def check(self, section: str, key: str, value: Any, source: str) -> Any:
        """The value typed as its default; ConfigError naming setting, source and what it accepts."""
        self.check_key(section, key, source)
        like = self.defaults[section][key]
        choices, minimum = CHOICES.get((section, key)), MINIMUM.get((section, key))
        try:
            typed = _typed(value, like)
            if choices and typed not in choices:
                raise ValueError
            if minimum is not None and typed < minimum:
                raise ValueError
        except (ValueError, TypeError):
            raise ConfigError(
                f"[{section}] {key} = {value!r} from {source} is not usable: use {_accepts(like, choices, minimum)}"
            ) from None
        return typed


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


@dataclass
class Settings:
    """All settings, checked and typed, as nested sections: ``settings.get("retrieval", "k")``.

    ``sources`` says where each value came from (for error messages); ``default_index_dir``
    is the index folder of config/default.toml, the only folder seeded without being asked.
    """

    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    default_index_dir: Path | None = None

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Settings:
        """Read defaults, then the file in NEWSDESK_CONFIG (if any), then env, then overrides."""
        env = os.environ if env is None else env
        default_path = path or DEFAULT_CONFIG
        data = _read_toml(default_path, "config")
        _anchor_paths(data, PROJECT_ROOT)
        schema = Schema(copy.deepcopy(data))
        sources = {(s, k): f"file {default_path}" for s, keys in data.items() for k in keys}
        default_index = Path(data.get("index", {}).get("dir", "index"))
        for section, keys in data.items():
            for key, value in keys.items():
                schema.check(section, key, value, f"file {default_path}")
        extra_path = env.get("NEWSDESK_CONFIG")
        if extra_path:
            extra = _read_toml(Path(extra_path), "NEWSDESK_CONFIG file")
            _anchor_paths(extra, Path(extra_path).resolve().parent)
            _apply_file(schema, data, sources, extra, f"file {extra_path} (NEWSDESK_CONFIG)")
        for var, (section, key) in ENV_OVERRIDES.items():
            if env.get(var) not in (None, ""):
                source = f"environment variable {var}"
                data[section][key] = schema.check(section, key, _parse_env(env[var], data[section][key]), source)
                sources[(section, key)] = source
        for section, keys in (overrides or {}).items():
            for key, value in keys.items():
                if value is None:
                    continue
                flag = FLAGS.get((section, key))
                source = f"flag {flag}" if flag else "command line"
                data.setdefault(section, {})[key] = schema.check(section, key, value, source)
                sources[(section, key)] = source
        return cls(data, sources, default_index)

    def section(self, name: str) -> dict[str, Any]:
        """One section as a dict (a copy)."""
        return dict(self.data[name])

    def get(self, section: str, key: str) -> Any:
        """One setting; every setting has a value, since config/default.toml gives each one."""
        return self.data[section][key]

    def source(self, section: str, key: str) -> str:
        """Where the setting's value came from: a file, an environment variable or a flag."""
        return self.sources.get((section, key), "config")

    @property
    def index_dir(self) -> Path:
        return resolve_path(self.get("index", "dir"))

    @property
    def seed_dir(self) -> Path:
        return resolve_path(self.get("index", "seed_dir"))

    def is_default_index(self) -> bool:
        """The index folder is config/default.toml's own (`index/` of this project)."""
        if self.default_index_dir is None:
            return False
        return _same_path(self.index_dir, self.default_index_dir)

    def with_setting(self, section: str, key: str, value: Any) -> Settings:
        """A copy with one setting changed (checked by the caller)."""
        data = copy.deepcopy(self.data)
        data[section][key] = value
        return Settings(data, {**self.sources, (section, key): "command line"}, self.default_index_dir)

    def with_index_dir(self, index_dir: Path) -> Settings:
        """A copy pointing at ``index_dir``."""
        data = copy.deepcopy(self.data)
        data["index"]["dir"] = str(index_dir)
        return Settings(data, {**self.sources, ("index", "dir"): "command line"}, self.default_index_dir)


def _apply_file(
    schema: Schema, data: dict[str, Any], sources: dict[tuple[str, str], str], extra: Mapping[str, Any], source: str
) -> None:
    for section, keys in extra.items():
        schema.check_key(section, None, source)
        if not isinstance(keys, Mapping):
            raise ConfigError(f"[{section}] in {source} must be a section of settings, got {_kind(keys)} {keys!r}")
        for key, value in keys.items():
            data[section][key] = schema.check(section, key, value, source)
            sources[(section, key)] = source


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.expanduser().resolve() == b.expanduser().resolve()
    except OSError:
        return False


def _anchor_paths(data: dict[str, Any], base: Path) -> None:
    """Paths written in a config file are relative to that file's project, not to the cwd."""
    for section, key in PATH_KEYS:
        value = data.get(section, {}).get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            data[section][key] = str(base / value)


def resolve_path(value: str | Path) -> Path:
    """Paths from flags and environment are relative to the current directory, as typed."""
    return Path(value).expanduser()
