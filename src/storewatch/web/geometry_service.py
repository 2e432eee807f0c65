"""The zone editor's service: a camera's zones and lines, checked with the site schema and saved to the site file.

A save is checked twice, as the file will be read: each shape alone (``Zone`` / ``Line``: ids, kinds, corners in
0-1, no bow-tie polygon, two distinct line points), with its problems given by position so the editor shows them
next to the shape; then the whole site file with the change made (a rule or an action that watches a zone just
removed, a zone armed by a schedule the store lacks), as ``storewatch config check`` would. Only then is the file
written (``site_file``) and the running cameras told (``SiteSource.apply``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from storewatch.config.schema import Line, LineKind, SiteConfig, Zone, ZoneKind
from storewatch.web.config_schemas import (
    GeometryCheckPublic,
    GeometryIn,
    GeometryPublic,
    SavedPublic,
    ShapeEdit,
    ShapeProblem,
)
from storewatch.web.errors import ForbiddenError, InvalidError
from storewatch.web.scope import StoreScope
from storewatch.web.site_file import (
    SiteFileInvalidError,
    camera_node,
    flow_map,
    flow_points,
    set_or_drop,
    sync_map,
)
from storewatch.web.site_source import SiteSource, may_edit
from storewatch.web.users import User

ShapeName = Literal["zone", "line"]
SHAPES: dict[ShapeName, tuple[str, type[Zone] | type[Line]]] = {"zone": ("zones", Zone), "line": ("lines", Line)}


class ShapesInvalidError(InvalidError):
    """The shapes, or the site file with them, are not valid; ``check`` says where."""

    def __init__(self, check: GeometryCheckPublic) -> None:
        super().__init__(f"{len(check.problems) + len(check.general)} problem(s) with the zones and lines")
        self.check = check


class GeometryService:
    def __init__(self, source: SiteSource) -> None:
        self.source = source

    def geometry(self, scope: StoreScope, user: User, store: str, camera: str) -> GeometryPublic:
        snapshot = self.source.snapshot()
        _, cam = self.source.camera(scope, store, camera, snapshot.site)
        return GeometryPublic(
            camera=f"{store}/{camera}",
            version=snapshot.version,
            zones=[shape_json(z) for z in cam.zones],
            lines=[shape_json(ln) for ln in cam.lines],
            zone_kinds=[k.value for k in ZoneKind],
            line_kinds=[k.value for k in LineKind],
            can_edit=may_edit(user, scope, store),
            applies_live=self.source.applies_live,
        )

    def check(self, scope: StoreScope, store: str, camera: str, body: GeometryIn) -> GeometryCheckPublic:
        """The problems a save of ``body`` would have (nothing is written)."""
        try:
            self._change(scope, store, camera, body, dry_run=True)
        except ShapesInvalidError as exc:
            return exc.check
        return GeometryCheckPublic(ok=True, problems=[], general=[])

    def save(self, scope: StoreScope, user: User, store: str, camera: str, body: GeometryIn) -> SavedPublic:
        self.source.camera(scope, store, camera, self.source.snapshot().site)  # out of scope: not found
        if not may_edit(user, scope, store):
            raise ForbiddenError("only an administrator or the store's manager may change zones")
        saved_site, version, backup = self._change(scope, store, camera, body, dry_run=False)
        live = self.source.apply(saved_site)
        zones, lines = len(body.zones), len(body.lines)
        done = f"Saved {zones} zone{'s' * (zones != 1)} and {lines} line{'s' * (lines != 1)}"
        return SavedPublic(
            version=version,
            backup=backup,
            applied_live=live,
            message=f"{done}; the camera uses them now." if live else f"{done}; cameras take them at their next start.",
        )

    def _change(
        self, scope: StoreScope, store: str, camera: str, body: GeometryIn, *, dry_run: bool
    ) -> tuple[SiteConfig, str, str | None]:
        self.source.camera(scope, store, camera, self.source.snapshot().site)
        zones, zone_problems = _validate("zone", body.zones)
        lines, line_problems = _validate("line", body.lines)
        problems = zone_problems + line_problems
        if problems:
            raise ShapesInvalidError(GeometryCheckPublic(ok=False, problems=problems, general=[]))
        order: dict[str, list[int]] = {}

        def edit(doc: Any) -> None:
            node = camera_node(doc, store, camera)
            order["zones"] = _sync_shapes(node, "zones", body.zones, zones)
            order["lines"] = _sync_shapes(node, "lines", body.lines, lines)

        try:
            saved = self.source.change(body.version, edit, dry_run=dry_run)
        except SiteFileInvalidError as exc:
            raise ShapesInvalidError(_site_problems(exc, store, camera, order, self.source)) from exc
        return saved.site, saved.version, saved.backup.name if saved.backup else None


def shape_json(shape: BaseModel) -> dict[str, Any]:
    """A zone or line as the editor gets it: the keys the file sets, plus id, name and kind always."""
    out = shape.model_dump(mode="json", exclude_unset=True)
    out.update({k: v for k, v in shape.model_dump(mode="json").items() if k in ("id", "name", "kind")})
    return out


def _validate(shape: ShapeName, edits: list[ShapeEdit]) -> tuple[list[Zone | Line], list[ShapeProblem]]:
    model = SHAPES[shape][1]
    found: list[Zone | Line] = []
    problems: list[ShapeProblem] = []
    seen: dict[str, int] = {}
    for index, edit in enumerate(edits):
        try:
            valid = model.model_validate(edit.data)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                problems.append(ShapeProblem(shape=shape, index=index, field=field, message=_message(err)))
            continue
        if valid.id in seen:
            message = f"another {shape} ({seen[valid.id] + 1}) has the id {valid.id!r}; ids are unique per camera"
            problems.append(ShapeProblem(shape=shape, index=index, field="id", message=message))
        seen.setdefault(valid.id, index)
        found.append(valid)
    return found, problems


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        return "required"
    if err["type"] == "extra_forbidden":
        return "not a setting of a zone or line"
    return msg


def _sync_shapes(node: CommentedMap, key: str, edits: list[ShapeEdit], shapes: list[Zone | Line]) -> list[int]:
    """Make the camera's ``key`` list hold ``shapes``: kept ones changed in place (their comments and key order
    stay), removed ones dropped, new ones appended. Returns the position sent of each shape in file order."""
    old = node.get(key)
    seq = old if isinstance(old, CommentedSeq) else CommentedSeq()
    by_id = {str(m.get("id")): m for m in seq if isinstance(m, CommentedMap)}
    kept: dict[str, int] = {}
    for i, e in enumerate(edits):
        if e.was is not None and e.was in by_id:
            kept.setdefault(e.was, i)
    for i in reversed(range(len(seq))):
        if not (isinstance(seq[i], CommentedMap) and str(seq[i].get("id")) in kept):
            del seq[i]
    order = [kept[str(m.get("id"))] for m in seq]
    for index, (edit, shape) in enumerate(zip(edits, shapes, strict=True)):
        keeps = edit.was is not None and kept.get(edit.was) == index
        data = _file_data(shape, by_id[str(edit.was)] if keeps else None)
        if keeps:
            sync_map(by_id[str(edit.was)], data, convert=_yaml_value)
        else:
            seq.append(CommentedMap({k: _yaml_value(k, v) for k, v in data.items()}))
            order.append(index)
    if seq:
        seq.fa.set_block_style()
    set_or_drop(node, key, seq)
    return order


def _file_data(shape: BaseModel, old: CommentedMap | None) -> dict[str, Any]:
    """What the file holds for ``shape``: what differs from the defaults, and what the file already said."""
    full = shape.model_dump(mode="json")
    data = shape.model_dump(mode="json", exclude_defaults=True)
    for key in old or {}:
        if key in full and key not in data:
            data[key] = full[key]  # e.g. an explicit "anchor: foot": left as the person wrote it
    return {k: data[k] for k in full if k in data}


def _yaml_value(key: str, value: Any) -> Any:
    if key in ("polygon", "points"):
        return flow_points(value)
    if isinstance(value, dict):
        return flow_map(value)
    return value


_SHAPE_PATH = re.compile(r"^stores\[(\d+)\]\.cameras\[(\d+)\]\.(zones|lines)\[(\d+)\]\.?(\w*)")


def _site_problems(
    exc: SiteFileInvalidError, store: str, camera: str, order: dict[str, list[int]], source: SiteSource
) -> GeometryCheckPublic:
    """The whole-file problems: those inside one of the shapes given by its position sent, the rest in general."""
    site = source.snapshot().site
    s_index = next(i for i, s in enumerate(site.stores) if s.id == store)
    c_index = next(i for i, c in enumerate(site.stores[s_index].cameras) if c.id == camera)
    problems: list[ShapeProblem] = []
    general: list[str] = []
    for issue in exc.issues:
        found = _SHAPE_PATH.match(issue.key_path)
        if found and (int(found.group(1)), int(found.group(2))) == (s_index, c_index):
            key, at = found.group(3), int(found.group(4))
            positions = order.get(key, [])
            if at < len(positions):
                shape: ShapeName = "zone" if key == "zones" else "line"
                problems.append(
                    ShapeProblem(shape=shape, index=positions[at], field=found.group(5), message=issue.message)
                )
                continue
        general.append(f"{issue.key_path}: {issue.message}" if issue.key_path else issue.message)
    return GeometryCheckPublic(ok=False, problems=problems, general=general)
