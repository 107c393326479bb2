"""``makemigrations --rename [app.]Model.old:new``: answer the rename question without input.

Interactive ``makemigrations`` asks "Was item.qty renamed to item.quantity?"; ``--noinput``
cannot, and a removed plus an added field of the same kind is refused (:mod:`.guesses`).
``--rename`` answers yes for the named pairs, so CI and scripts can write the rename
(``DualWriteRename``); every other question keeps the questioner's own answer. A
``--rename`` that no question matched (a typo, or fields of different kinds, which Django
never offers as a rename) stops the command, so nothing is silently written as a removal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import CommandError

_SPEC = re.compile(r"^(?:(?P<app>\w+)\.)?(?P<model>\w+)\.(?P<old>\w+):(?P<new>\w+)$")


@dataclass(frozen=True)
class Rename:
    model: str
    """Lower case, as the autodetector asks."""
    old: str
    new: str
    app: str = ""
    spec: str = ""


def parse_renames(specs: list[str] | None) -> list[Rename]:
    """``["shop.Item.qty:quantity"]`` -> :class:`Rename`s; a clear error for a bad one."""
    out = []
    for spec in specs or []:
        match = _SPEC.match(spec.strip())
        if match is None:
            raise CommandError(
                f"makemigrations --rename {spec!r}: write it as app.Model.old_field:new_field "
                "(the app is optional), e.g. --rename shop.Item.qty:quantity."
            )
        parts = match.groupdict()
        out.append(
            Rename(parts["model"].lower(), parts["old"], parts["new"], parts["app"] or "", spec)
        )
    return out


@dataclass
class RenameAnswers:
    """A questioner that says yes to the given renames and asks ``inner`` the rest."""

    inner: Any
    renames: list[Rename]
    used: set[Rename] = field(default_factory=set)

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        for rename in self.renames:
            if (rename.model, rename.old, rename.new) == (model_name.lower(), old_name, new_name):
                self.used.add(rename)
                return True
        return bool(self.inner.ask_rename(model_name, old_name, new_name, field))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def unused(self) -> list[str]:
        return [r.spec for r in self.renames if r not in self.used]


def refuse_unused(answers: Any) -> None:
    """Stop when a ``--rename`` matched no question Django asked."""
    unused = answers.unused() if isinstance(answers, RenameAnswers) else []
    if unused:
        raise CommandError(
            f"makemigrations --rename {', '.join(unused)}: no such rename was found (the old "
            "field must be gone from the model and the new one added, of the same kind and "
            "options). Check the names; nothing was written."
        )
