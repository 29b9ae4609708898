"""Alerts from monitoring: read the three payload shapes, map them by rules, suggest the draft.

Pure rules. Alertmanager (webhook version 4) and Grafana unified alerting send the same outer
shape: a group with `status` and `alerts[]`, each alert with `status`, `labels`, `annotations`,
`startsAt` and a `fingerprint`. The generic shape is one alert, or `{"alerts": [...]}`, with
`title`, `status` and optional `labels` and `fingerprint`.

Text from monitoring is made printable (control characters dropped), never refused: losing an
alert over a stray byte would be worse. None of it is copied into the public message: alert
names and summaries are written for engineers, so the suggested message names only components.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from statusboard.domain import text
from statusboard.domain.errors import InvalidInput
from statusboard.domain.statuses import ComponentStatus, Impact

FIRING = "firing"
RESOLVED = "resolved"
FORMATS = ("alertmanager", "grafana", "generic")
MAX_ALERTS = 500
MAX_LABEL = 1000

# The impact a rule gives, as the status of the components the alert concerns.
IMPACT_STATUS = {
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.NONE: ComponentStatus.DEGRADED_PERFORMANCE,
}
DEFAULT_IMPACT = Impact.MINOR
_IMPACT_ORDER = [Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL]
_WHAT = {
    ComponentStatus.DEGRADED_PERFORMANCE: "degraded performance on",
    ComponentStatus.PARTIAL_OUTAGE: "elevated errors on",
    ComponentStatus.MAJOR_OUTAGE: "an outage of",
}


@dataclass(frozen=True)
class ParsedAlert:
    status: str  # firing | resolved
    fingerprint: str
    title: str
    labels: Mapping[str, str]  # labels, then annotations and other fields rules may match
    raw: str  # this alert's own JSON, as received


def _line(value: Any, limit: int = MAX_LABEL) -> str:
    value = unicodedata.normalize("NFC", text.printable_line(str(value)))
    return value[:limit]


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be an object of strings", field=where)
    return {_line(k, 120): _line(v) for k, v in value.items() if not isinstance(v, dict | list)}


def _status(value: Any, where: str) -> str:
    status = str(value or "").lower()
    if status not in (FIRING, RESOLVED):
        raise InvalidInput(f'{where} must be "firing" or "resolved"', field=where)
    return status


def _fingerprint(given: Any, labels: Mapping[str, str], title: str) -> str:
    if isinstance(given, str | int) and str(given).strip():
        return _line(given, 200)
    # No fingerprint sent: the same labels and title are the same alert.
    basis = json.dumps([sorted(labels.items()), title], ensure_ascii=False)
    return "sb-" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _group_alert(item: Any, index: int) -> ParsedAlert:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    labels = _strings(item.get("labels"), f"{where}.labels")
    annotations = _strings(item.get("annotations"), f"{where}.annotations")
    title = annotations.get("summary") or labels.get("alertname") or "alert"
    merged = {**{f"annotations.{k}": v for k, v in annotations.items()}, **labels}
    return ParsedAlert(
        status=_status(item.get("status"), f"{where}.status"),
        fingerprint=_fingerprint(item.get("fingerprint"), labels, title),
        title=title,
        labels=merged,
        raw=json.dumps(item, ensure_ascii=False),
    )


def _generic_alert(item: Any, index: int | None) -> ParsedAlert:
    where = "body" if index is None else f"alerts[{index}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    title = _line(item.get("title") or "")
    if not title:
        raise InvalidInput(f"{where}.title is required: say what is wrong", field=f"{where}.title")
    labels = _strings(item.get("labels"), f"{where}.labels")
    return ParsedAlert(
        status=_status(item.get("status", FIRING), f"{where}.status"),
        fingerprint=_fingerprint(item.get("fingerprint"), labels, title),
        title=title,
        labels={**labels, "title": title},
        raw=json.dumps(item, ensure_ascii=False),
    )


def parse(format: str, payload: Any) -> list[ParsedAlert]:
    """The alerts in a payload, or InvalidInput saying what is wrong with it."""
    if not isinstance(payload, dict):
        raise InvalidInput("send a JSON object", field="body")
    if format == "generic" and "alerts" not in payload:
        return [_generic_alert(payload, None)]
    if format == "alertmanager" and str(payload.get("version", "")) != "4":
        raise InvalidInput(
            'this source takes Alertmanager webhooks, version "4"; '
            f"got version {payload.get('version')!r}",
            field="version",
        )
    items = payload.get("alerts")
    if not isinstance(items, list) or not items:
        raise InvalidInput("alerts must be a non-empty list", field="alerts")
    if len(items) > MAX_ALERTS:
        raise InvalidInput(f"at most {MAX_ALERTS} alerts per request", field="alerts")
    if format == "generic":
        return [_generic_alert(item, i) for i, item in enumerate(items)]
    return [_group_alert(item, i) for i, item in enumerate(items)]


@dataclass(frozen=True)
class Rule:
    """`key` = `value` → this component (public id) and/or this impact."""

    key: str
    value: str
    component: str | None = None
    impact: Impact | None = None
    rule_id: str = ""


@dataclass(frozen=True)
class RuleMatch:
    components: tuple[str, ...] = ()
    impact: Impact | None = None
    rules: tuple[str, ...] = field(default_factory=tuple)


def worse(a: Impact | None, b: Impact | None) -> Impact | None:
    if a is None or b is None:
        return a or b
    return max(a, b, key=_IMPACT_ORDER.index)


def apply_rules(rules: Sequence[Rule], labels: Mapping[str, str]) -> RuleMatch:
    """Every matching rule adds its component; the worst matching impact wins."""
    components: list[str] = []
    impact: Impact | None = None
    matched = []
    for rule in rules:
        if labels.get(rule.key) != rule.value:
            continue
        matched.append(rule.rule_id)
        if rule.component and rule.component not in components:
            components.append(rule.component)
        impact = worse(impact, rule.impact)
    return RuleMatch(components=tuple(components), impact=impact, rules=tuple(matched))


def suggested_name(component_names: Sequence[str]) -> str:
    if not component_names:
        return "Investigating a problem"
    return f"Problems with {_join(component_names)}"[: text.INCIDENT_NAME]


def suggested_body(component_names: Sequence[str], impact: Impact) -> str:
    if not component_names:
        return "We are investigating a problem and will post an update soon."
    return f"We are investigating {_WHAT[IMPACT_STATUS[impact]]} {_join(component_names)}."


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
