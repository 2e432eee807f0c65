"""The rules editor's service: the site-wide ``rules:`` settings and each camera's overrides, as forms made from
each rule's settings model, validated by that model and saved to the site file.

A form holds only what is set at its level: empty fields inherit (a camera from the site, the site from the rule's
defaults), so the file keeps only what someone chose. A camera's values are checked merged over the site's, as the
runner merges them (``SiteConfig.rule_settings``); then the whole file is checked (a zone id a rule names must
exist on the camera; a schedule it is armed by, in the store) before it is written and the running cameras told.
Site-wide settings reach every store: only an administrator saves them; a camera's, also its store's manager.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from storewatch.behaviour.backtest import CameraDay, backtest, find_history
from storewatch.behaviour.engine import rule_configs
from storewatch.behaviour.rules.base import RuleConfig
from storewatch.behaviour.rules.registry import RULES
from storewatch.config.schema import SiteConfig
from storewatch.errors import StorewatchError
from storewatch.web.config_schemas import SavedPublic
from storewatch.web.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from storewatch.web.jobs import Job, JobRunner, JobsBusyError, Progress
from storewatch.web.rule_forms import FieldSpec, field_specs, parse, rule_title, show
from storewatch.web.scope import StoreScope
from storewatch.web.site_file import SiteFileInvalidError, camera_node, flow_map, sync_map
from storewatch.web.site_source import SiteSource, may_edit, may_edit_site
from storewatch.web.users import User

SITE = "site"
"""The target of the site-wide settings; a camera's is ``store/camera``."""


@dataclass(frozen=True, slots=True)
class FieldView:
    spec: FieldSpec
    key: str
    """Form field name: ``rule.setting``."""
    value: str
    """What is set at this level ('' : inherited)."""
    inherited: str
    """The value used when nothing is set here (site's or default)."""
    inherited_from: str
    error: str | None


@dataclass(frozen=True, slots=True)
class RuleView:
    name: str
    title: str
    summary: Markup
    """What the rule finds, its settings named as the form labels them."""
    enabled: bool
    fields: list[FieldView]
    overrides: int
    errors: int

    @property
    def own(self) -> list[FieldView]:
        return [f for f in self.fields if not f.spec.common and f.spec.name != "enabled"]

    @property
    def common(self) -> list[FieldView]:
        return [f for f in self.fields if f.spec.common and f.spec.name != "enabled"]

    @property
    def switch(self) -> FieldView:
        return next(f for f in self.fields if f.spec.name == "enabled")


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    label: str
    can_edit: bool


@dataclass
class RulesPage:
    target: Target
    targets: list[Target]
    version: str
    rules: list[RuleView]
    applies_live: bool
    general: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> int:
        return sum(r.enabled for r in self.rules)


class RulesInvalidError(InvalidError):
    """Settings a rule's model or the site file refuses; ``errors`` by form field, ``general`` the rest."""

    def __init__(self, errors: dict[str, str], general: list[str]) -> None:
        super().__init__(f"{len(errors) + len(general)} setting(s) are not right")
        self.errors, self.general = errors, general


class RulesService:
    def __init__(self, source: SiteSource) -> None:
        self.source = source

    def page(
        self,
        scope: StoreScope,
        user: User,
        target: str | None,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        general: list[str] | None = None,
    ) -> RulesPage:
        """The rules of ``target`` (default: site-wide); ``values``/``errors``: a refused form shown again."""
        snapshot = self.source.snapshot()
        site = snapshot.site
        targets = self._targets(site, scope, user)
        chosen = next((t for t in targets if t.key == (target or SITE)), None)
        if chosen is None:
            raise NotFoundError(f"no camera {target!r} among yours")
        own, inherited, source_name = _levels(site, chosen.key)
        errors = errors or {}
        views = []
        for name, cls in RULES.items():
            given = own.get(name, {})
            fields = []
            for spec in field_specs(cls.Config):
                key = f"{name}.{spec.name}"
                value = values.get(key, "") if values is not None else show(spec, given.get(spec.name))
                used = getattr(inherited[name], spec.name)
                fields.append(FieldView(spec, key, value, show(spec, used), source_name, errors.get(key)))
            title, summary = rule_title(cls)
            if values is None:
                enabled = _effective(inherited[name], given).enabled
            else:
                enabled = _form_enabled(values, name, inherited[name])
            views.append(
                RuleView(
                    name=name,
                    title=title,
                    summary=_mention_settings(summary, [f.spec for f in fields]),
                    enabled=enabled,
                    fields=fields,
                    overrides=sum(1 for f in fields if f.value),
                    errors=sum(1 for f in fields if f.error),
                )
            )
        return RulesPage(chosen, targets, snapshot.version, views, self.source.applies_live, list(general or []))

    def save(
        self, scope: StoreScope, user: User, target: str, form: Mapping[str, str], version: str | None
    ) -> SavedPublic:
        """Validate ``form`` (fields ``rule.setting``) with each rule's model and save it to the site file."""
        chosen, edit = self._edit(scope, user, target, form)
        try:
            saved = self.source.change(version, edit)
        except SiteFileInvalidError as exc:
            raise RulesInvalidError(*_issues_to_fields(exc)) from exc
        live = self.source.apply(saved.site)
        where = "site-wide" if target == SITE else f"for {chosen.label}"
        return SavedPublic(
            version=saved.version,
            backup=saved.backup.name if saved.backup else None,
            applied_live=live,
            message=f"Rule settings {where} saved; "
            + ("the cameras use them now." if live else "cameras take them at their next start."),
        )

    def start_backtest(
        self,
        scope: StoreScope,
        user: User,
        target: str,
        form: Mapping[str, str],
        version: str | None,
        *,
        tracks: Path,
        jobs: JobRunner,
    ) -> Job:
        """Replay the recorded track history of the target's cameras (within ``scope``) under the saved settings
        and under ``form``'s, as a job (``backtest.json``: events per camera-day per rule, before and after).
        Nothing is saved."""
        chosen, edit = self._edit(scope, user, target, form)
        current = self.source.snapshot().site
        try:
            candidate = self.source.change(version, edit, dry_run=True).site
        except SiteFileInvalidError as exc:
            raise RulesInvalidError(*_issues_to_fields(exc)) from exc
        cameras = {t.key for t in self._targets(current, scope, user) if t.key != SITE}
        if target != SITE:
            cameras &= {target}
        try:
            history = [d for d in find_history(tracks) if d.camera in cameras]
        except StorewatchError as exc:
            history, reason = [], exc.message
        else:
            reason = "none of them is of these cameras"
        if not history:
            raise ConflictError(
                f"no recorded track history to replay ({reason}); the runner keeps it when runtime.record_tracks is on"
            )

        def work(progress: Progress, folder: Path) -> Path:
            done = 0

            def replayed(day: CameraDay) -> None:
                nonlocal done
                done += 1
                progress(
                    done / len(history), f"Replayed {done} of {len(history)} camera-days ({day.camera}, {day.day})"
                )

            progress(0.0, f"Replaying {len(history)} camera-days twice (saved and new settings)")
            result = backtest(current, candidate, history, on_file=replayed)
            rows = [r for r in result.table() if r["current_per_camera_day"] or r["candidate_per_camera_day"]]
            out = folder / "backtest.json"
            summary = {"target": chosen.label, "camera_days": result.camera_days, "rules": rows}
            out.write_text(json.dumps(summary, indent=2))
            return out

        store = target.partition("/")[0] if target != SITE else None
        try:
            return jobs.submit("backtest", f"Backtest: {chosen.label}", owner=user.id, store=store, work=work)
        except JobsBusyError as exc:
            raise ConflictError(exc.message) from exc

    def _edit(
        self, scope: StoreScope, user: User, target: str, form: Mapping[str, str]
    ) -> tuple[Target, Callable[[Any], None]]:
        """The target (one the user may edit) and the change ``form`` makes to the site file, validated by each
        rule's settings model (``RulesInvalidError`` with a message per field)."""
        site = self.source.snapshot().site
        chosen = next((t for t in self._targets(site, scope, user) if t.key == target), None)
        if chosen is None:
            raise NotFoundError(f"no camera {target!r} among yours")
        if not chosen.can_edit:
            who = "an administrator" if target == SITE else "an administrator or the store's manager"
            raise ForbiddenError(f"only {who} may change these rule settings")
        given, errors = _read(form)
        under, _, _ = _levels(site, SITE) if target != SITE else ({}, None, None)
        settings: dict[str, dict[str, Any]] = {}
        for name, cls in RULES.items():
            mine = given.get(name, {})
            try:
                model = cls.Config.model_validate({**under.get(name, {}), **mine})
            except ValidationError as exc:
                for err in exc.errors():
                    key = f"{name}.{err['loc'][0]}" if err["loc"] else f"{name}.enabled"
                    message = str(err["msg"]).removeprefix("Value error, ")
                    errors.setdefault(key, message if key.split(".", 1)[1] in mine else f"(set site-wide) {message}")
                continue
            if mine:
                settings[name] = {k: _tidy(v) for k, v in model.model_dump(mode="json", include=set(mine)).items()}
        if errors:
            raise RulesInvalidError(errors, [])

        def edit(doc: Any) -> None:
            if target == SITE:
                _sync_rules(doc, settings)
            else:
                store, _, camera = target.partition("/")
                _sync_rules(camera_node(doc, store, camera), settings)

        return chosen, edit

    def _targets(self, site: SiteConfig, scope: StoreScope, user: User) -> list[Target]:
        found = [Target(SITE, "Site-wide", may_edit_site(user))]
        for store in site.stores:
            if scope.allows(store.id):
                for cam in store.cameras:
                    label = f"{cam.name or cam.id} · {store.name or store.id}"
                    found.append(Target(f"{store.id}/{cam.id}", label, may_edit(user, scope, store.id)))
        return found


def _levels(site: SiteConfig, target: str) -> tuple[dict[str, dict[str, Any]], dict[str, RuleConfig], str]:
    """What ``target`` sets itself, what it inherits (every rule's settings without its own), and from where."""
    if target == SITE:
        return dict(site.rules), rule_configs(), "default"
    store_id, _, camera_id = target.partition("/")
    store = next(s for s in site.stores if s.id == store_id)
    camera = next(c for c in store.cameras if c.id == camera_id)
    return dict(camera.rules), rule_configs(site.rules), "site"


_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _mention_settings(text: str, specs: list[FieldSpec]) -> Markup:
    """``text`` with each setting it names (``dwell_s``) shown as its label (*Dwell*)."""
    labels = {s.name: s.label for s in specs}
    out, last = Markup(""), 0
    for found in _IDENTIFIER.finditer(text):
        if found.group(0) in labels:
            out += text[last : found.start()] + Markup('<em class="setting-ref">{}</em>').format(labels[found.group(0)])
            last = found.end()
    return out + text[last:]


def _tidy(value: Any) -> Any:
    """``20`` rather than ``20.0`` in the file for a whole number (the model reads either)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    return value


def _effective(inherited: RuleConfig, given: Mapping[str, Any]) -> RuleConfig:
    merged = {**inherited.model_dump(exclude_unset=True), **given}
    return type(inherited).model_validate(merged) if given else inherited


def _form_enabled(values: Mapping[str, str], name: str, inherited: RuleConfig) -> bool:
    chosen = values.get(f"{name}.enabled", "")
    return inherited.enabled if chosen == "" else chosen == "true"


def _read(form: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The form's non-empty fields by rule, parsed; fields that cannot even be read, as errors."""
    specs = {(name, s.name): s for name, cls in RULES.items() for s in field_specs(cls.Config)}
    given: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for key, raw in form.items():
        rule, _, setting = key.partition(".")
        spec = specs.get((rule, setting))
        if spec is None or not raw.strip():
            continue
        try:
            given.setdefault(rule, {})[setting] = parse(spec, raw)
        except ValueError as exc:
            errors[key] = str(exc)
    return given, errors


def _sync_rules(node: Any, settings: dict[str, dict[str, Any]]) -> None:
    """Make ``node['rules']`` hold ``settings``: a rule's mapping changed in place, new rules added in flow style
    (``loitering: {dwell_s: 90}``), rules with nothing set removed, and the key dropped when none is left."""
    rules = node.get("rules")
    if not isinstance(rules, CommentedMap):
        rules = CommentedMap()
    for name in [k for k in rules if k not in settings]:
        del rules[name]
    for name, values in settings.items():
        existing = rules.get(name)
        if isinstance(existing, CommentedMap):
            sync_map(existing, values, convert=lambda _k, v: flow_map(v) if isinstance(v, dict) else v)
        else:
            rules[name] = flow_map(values)
    if rules:
        node["rules"] = rules
    elif "rules" in node:
        del node["rules"]


_RULE_IN_MESSAGE = re.compile(r"rule (\w+)")
_SETTING_IN_MESSAGE = re.compile(r"(?:watches zone|armed by schedule)")


def _issues_to_fields(exc: SiteFileInvalidError) -> tuple[dict[str, str], list[str]]:
    """Whole-file problems next to the setting they are about when the message names a rule and its zones or
    schedule; the rest above the form."""
    errors: dict[str, str] = {}
    general: list[str] = []
    for issue in exc.issues:
        rule = _RULE_IN_MESSAGE.search(issue.message)
        about = _SETTING_IN_MESSAGE.search(issue.message)
        if rule and rule.group(1) in RULES and about:
            setting = "zones" if "zone" in about.group(0) else "armed"
            errors.setdefault(f"{rule.group(1)}.{setting}", issue.message)
        else:
            general.append(f"{issue.key_path}: {issue.message}" if issue.key_path else issue.message)
    return errors, general
