"""Settings: TOML defaults in config/, overridden by environment variables, then by CLI flags."""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

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
}


class ConfigError(ValueError):
    """A setting has a value newsdesk cannot use; the message names the setting and the fix."""


def _coerce(value: str, like: Any, name: str) -> Any:
    if isinstance(like, bool):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name}={value!r} is not a boolean; use true or false")
    if isinstance(like, int):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if isinstance(like, float):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a number") from None
    if isinstance(like, list):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Settings:
    """All settings as nested sections, e.g. ``settings.get("retrieval", "rrf_k")``."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "Settings":
        """Read defaults, then the file in NEWSDESK_CONFIG (if any), then env, then overrides."""
        env = os.environ if env is None else env
        try:
            data = tomllib.loads((path or DEFAULT_CONFIG).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path or DEFAULT_CONFIG}: {exc}") from None
        _anchor_paths(data, PROJECT_ROOT)
        extra_path = env.get("NEWSDESK_CONFIG")
        if extra_path:
            try:
                extra = tomllib.loads(Path(extra_path).read_text(encoding="utf-8"))
                _anchor_paths(extra, Path(extra_path).resolve().parent)
                data = _merge(data, extra)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"NEWSDESK_CONFIG={extra_path}: {exc}") from None
        for var, (section, key) in ENV_OVERRIDES.items():
            if env.get(var) not in (None, ""):
                like = data.get(section, {}).get(key, "")
                data.setdefault(section, {})[key] = _coerce(env[var], like, var)
        if overrides:
            data = _merge(data, {s: {k: v for k, v in kv.items() if v is not None} for s, kv in overrides.items()})
        return cls(data)

    def section(self, name: str) -> dict[str, Any]:
        """One section as a dict (a copy); empty when the config has none."""
        return dict(self.data.get(name, {}))

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.data.get(section, {}).get(key, default)

    @property
    def index_dir(self) -> Path:
        return resolve_path(self.get("index", "dir", "index"))

    @property
    def seed_dir(self) -> Path:
        return resolve_path(self.get("index", "seed_dir", "seeds"))


PATH_KEYS = (("index", "dir"), ("index", "seed_dir"))


def _anchor_paths(data: dict[str, Any], base: Path) -> None:
    """Paths written in a config file are relative to that file's project, not to the cwd."""
    for section, key in PATH_KEYS:
        value = data.get(section, {}).get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            data[section][key] = str(base / value)


def resolve_path(value: str | Path) -> Path:
    """Paths from flags and environment are relative to the current directory, as typed."""
    return Path(value).expanduser()
