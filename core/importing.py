"""The registry behind `jindu import KIND FILE`: each app registers the kinds it can import."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImportKind:
    name: str
    help: str
    add_arguments: Callable[[Any], None]
    handle: Callable[..., int]  # returns the exit code


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    _KINDS[kind.name] = kind


def kinds() -> dict[str, ImportKind]:
    return dict(_KINDS)
