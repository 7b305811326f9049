"""The one submission form: field declarations and form → record conversion.

The form's fields are declared once here (label, help text, kind, vocabulary); the
template renders them and :func:`form_to_raw` turns posted values into the dict
that :class:`registry.schemas.InnovationSchema` (the import's schema) validates.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from registry.schemas import Reason


@dataclass(frozen=True)
class FormField:
    """One field of the submission form.

    ``kind``: text, textarea, select, multi (checkboxes), number, lines (one value
    per line), url, email. ``vocabulary`` names the taxonomy list of select/multi.
    """

    name: str
    label: object
    help: object
    kind: str = "text"
    vocabulary: str | None = None
    required: bool = False
    member_only: bool = False


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("title", _l("Title"), _l("A short name others will recognise."), required=True),
    FormField("summary", _l("Summary"), _l("One or two sentences: what is it and for whom?"),
              "textarea", required=True),
    FormField("description", _l("Description"),
              _l("How does it work, who takes part, what does it need?"), "textarea",
              required=True),
    FormField("priorities", _l("Priorities"), _l("At least one priority of the agenda."),
              "multi", "priorities", required=True),
    FormField("communities", _l("Communities of practice"), _l("One to three communities."),
              "multi", "communities", required=True),
    FormField("phase", _l("Phase"), _l("How far the innovation is."), "select", "phases",
              required=True),
    FormField("innovation_type", _l("Innovation type"), _l("What kind of innovation it is."),
              "select", "innovation_types", required=True),
    FormField("target_groups", _l("Target groups"), _l("Everyone it is meant for."), "multi",
              "target_groups", required=True),
    FormField("organisation", _l("Organisation"), _l("The library, POI or other organisation."),
              required=True),
    FormField("province", _l("Province"), _l("Where it runs; national or abroad also count."),
              "select", "provinces", required=True),
    FormField("results", _l("Results and effects"),
              _l("What came of it: reach, output, effects (optional)."), "textarea"),
    FormField("evidence_level", _l("Evidence level"),
              _l("How well the results are known, 0 (not yet) to 5 (strong evidence)."),
              "select", "evidence_levels"),
    FormField("places_applied", _l("Places applied"), _l("In how many places it runs."),
              "number"),
    FormField("start_year", _l("Start year"), _l("The year it started (optional)."), "number"),
    FormField("programmes", _l("Programmes"), _l("Programme or subsidy names, one per line."),
              "lines"),
    FormField("keywords", _l("Keywords"), _l("Search words, one per line."), "lines"),
    FormField("url", _l("Link"), _l("The project page or a source (https://…)."), "url"),
    FormField("contact_name", _l("Contact person"), _l("Only members see this."),
              member_only=True),
    FormField("contact_email", _l("Contact e-mail"), _l("Only members see this."), "email",
              member_only=True),
    FormField("contact_phone", _l("Contact phone"), _l("Only members see this."),
              member_only=True),
    FormField("budget_eur", _l("Budget (euro)"), _l("Only members see this."), "number",
              member_only=True),
    FormField("lessons_learned", _l("Lessons learned"),
              _l("What would you do differently? Only members see this."), "textarea",
              member_only=True),
)  # fmt: skip
"""Every field of the form, in display order."""

FORM_NAMES = {f.name for f in FORM_FIELDS}


def _number(value: str):
    value = value.strip()
    if not value:
        return None
    return int(value) if re.fullmatch(r"-?\d{1,18}", value) else value


def form_to_raw(form, record: dict | None) -> dict:
    """Posted form values → the record dict the schema validates.

    Keeps what the workflow owns (id, created, last_verified, internal notes) from
    ``record`` when editing; numbers that are not numbers are passed on as text so
    the schema reports them on their field.
    """
    raw: dict = {}
    for field in FORM_FIELDS:
        if field.name.startswith("contact_"):
            continue
        if field.kind == "multi":
            raw[field.name] = form.getlist(field.name)
        elif field.kind == "lines":
            raw[field.name] = [
                v.strip() for v in form.get(field.name, "").splitlines() if v.strip()
            ]
        elif field.kind == "number" or field.name == "evidence_level":
            raw[field.name] = _number(form.get(field.name, ""))
        else:
            value = form.get(field.name, "").strip()
            # an unchosen select is "no value" (the schema then says it is required)
            empty = None if field.kind == "select" or not field.required else ""
            raw[field.name] = value or empty
    contact = {k: form.get(f"contact_{k}", "").strip() or None for k in ("name", "email", "phone")}
    raw["contact"] = contact if contact["name"] else None
    if contact["name"] is None and (contact["email"] or contact["phone"]):
        raw["contact"] = {"name": "", **{k: v for k, v in contact.items() if k != "name"}}
    keep = record or {}
    raw["created"] = keep.get("created") or dt.date.today().isoformat()
    raw["last_verified"] = keep.get("last_verified")
    raw["internal_notes"] = keep.get("internal_notes")
    return raw


def posted_values(form) -> dict:
    """What the user typed, to show again next to the errors (nothing is lost)."""
    return {
        f.name: form.getlist(f.name) if f.kind == "multi" else form.get(f.name, "")
        for f in FORM_FIELDS
    }


def record_to_form(record: dict) -> dict:
    """A stored record → form values (lists joined per line, contact split)."""
    values = {}
    for field in FORM_FIELDS:
        if field.name.startswith("contact_"):
            values[field.name] = (record.get("contact") or {}).get(field.name[8:]) or ""
        elif field.kind == "lines":
            values[field.name] = "\n".join(record.get(field.name) or [])
        elif field.kind == "multi":
            values[field.name] = list(record.get(field.name) or [])
        else:
            value = record.get(field.name)
            values[field.name] = "" if value is None else str(value)
    return values


def errors_by_field(messages: dict) -> dict[str, list[str]]:
    """Marshmallow messages → ``{form field: [reasons]}`` (contact errors per sub-field).

    Reasons stay :class:`~registry.schemas.Reason` s; an error of one item of a list
    field gets ``params["item"]`` so :func:`portal.errors.field_message` words it as
    text, not as a choice."""
    out: dict[str, list[str]] = {}
    for name, value in messages.items():
        if name == "contact" and isinstance(value, dict):
            for sub, reasons in value.items():
                out.setdefault(f"contact_{sub}", []).extend(_flat(reasons))
            continue
        target = name if name in FORM_NAMES else "_form"
        out.setdefault(target, []).extend(_flat(value))
    return out


def _flat(value, item: bool = False) -> list[str]:
    if isinstance(value, str):
        if item and isinstance(value, Reason):
            return [Reason(value.code, value, **value.params, item=True)]
        return [value]
    if isinstance(value, dict):
        # a list field's errors per item index
        return [m for v in value.values() for m in _flat(v, item=True)]
    return [m for v in value for m in _flat(v, item)]
