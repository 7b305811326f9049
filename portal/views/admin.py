"""Administrators re-map communities (``/beheer/communities``) and keep the thesaurus
of search (``/beheer/thesaurus``).

Every operation goes through a preview page (which innovations change, counts
before and after; for a split, a per-innovation assignment with suggestions) and
is applied only from that page. Forms are CSRF-protected by Flask-WTF's global
CSRFProtect; the operation is validated again when applied.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry import jsonlimits, thesaurus
from registry.db import transaction
from registry.models import Innovation, TaxonomyEvent
from registry.taxonomy_ops import (
    Operation,
    TaxonomyError,
    apply,
    last_undoable,
    preview,
    published_counts,
    suggest_parts,
    undo,
)
from registry.text import words

from ..auth import requires
from ..backends import backends
from ..errors import domain_message
from .common import current_lang

bp = Blueprint("admin", __name__, url_prefix="/beheer")

MAX_OPERATION_CHARS = 200_000
"""Longest ``operation`` field accepted (a split of every community stays far below)."""
MAX_OPERATION_DEPTH = 4
"""Deepest nesting of the ``operation`` field: the preview writes at most three levels
(operation → labels → a split part's names)."""


def _overview(error: str | None = None, status: int = 200, form: dict | None = None):
    be = backends()
    taxonomy = be.taxonomy()
    with be.sessions() as session:
        history = list(session.scalars(select(TaxonomyEvent).order_by(TaxonomyEvent.seq.desc())))
        undoable = last_undoable(session)
        counts = published_counts(session, taxonomy)
    applied = request.args.get("toegepast", "")
    page = render_template(
        "admin_communities.html",
        communities=taxonomy.terms("communities"),
        groups=sorted({t.attributes.get("group") for t in taxonomy.terms("communities")} - {None}),
        counts=counts,
        history=history,
        undoable=undoable,
        error=error,
        form=form or {},
        selected_sources=form.getlist("sources") if form else [],
        lang=current_lang(),
        applied=applied if applied.isdigit() else None,
    )
    return page, status


@bp.get("/communities")
@requires("admin")
def communities():
    """The communities, their counts and history, and the operation forms."""
    return _overview()


def _operation_from_form(form) -> Operation:
    """Build an :class:`Operation` from the overview form (raises TaxonomyError)."""
    op = form.get("op", "")
    labels = {"nl": form.get("label_nl", "").strip(), "en": form.get("label_en", "").strip()}
    target = form.get("target", "").strip() or None
    if op == "merge":
        return Operation("merge", form.getlist("sources"), target, labels=labels)
    if op == "rename":
        return Operation("rename", [form.get("source", "")], target, labels=labels)
    if op == "retire":
        return Operation("retire", [form.get("source", "")], target, labels=labels)
    if op == "create":
        return Operation("create", [], target, labels=labels, group=form.get("group") or None)
    if op == "split":
        parts = [p.strip() for p in form.get("parts", "").split(",") if p.strip()]
        part_labels = {p: {"nl": form.get(f"label_nl_{p}", "") or p} for p in parts}
        return Operation("split", [form.get("source", "")], parts=parts, labels=part_labels)
    raise TaxonomyError("choose an operation", "unknown_operation", op=op)


@bp.post("/communities/voorbeeld")
@requires("admin")
def preview_page():
    """Preview of an operation: affected innovations and counts before and after."""
    try:
        op = _operation_from_form(request.form)
        be = backends()
        with be.sessions() as session:
            result = preview(session, op)
            suggestions = {}
            if op.op == "split":
                part_labels = {p: op.labels.get(p, {}).get("nl", p) for p in op.parts}
                for record_id, *_ in result.affected:
                    row = session.get(Innovation, record_id)
                    text = " ".join([row.title, row.summary, row.description, *row.keywords])
                    suggestions[record_id] = suggest_parts(text, part_labels) or list(op.parts)
    except TaxonomyError as exc:
        return _overview(domain_message(exc), 400, request.form)
    return render_template(
        "admin_preview.html",
        result=result,
        op=op,
        op_json=json.dumps(op.__dict__, ensure_ascii=False),
        suggestions=suggestions,
        taxonomy=backends().taxonomy(),
        lang=current_lang(),
    )


@bp.post("/communities/toepassen")
@requires("admin")
def apply_page():
    """Apply a previewed operation (split assignments come from the preview form)."""
    try:
        try:
            raw = jsonlimits.loads(
                request.form.get("operation", ""), MAX_OPERATION_CHARS, MAX_OPERATION_DEPTH
            )
        except ValueError:
            # not JSON, too long or too deeply nested: never what the preview wrote
            raise TaxonomyError(
                "the operation was damaged; start again from the preview", "invalid_operation"
            ) from None
        op = Operation.from_dict(raw)
        if op.op == "split":
            op.assignments = {
                key.removeprefix("assign:"): request.form.getlist(key)
                for key in request.form
                if key.startswith("assign:")
            }
        with transaction(backends().sessions) as session:
            event = apply(session, op, f"admin:{current_user.email}")
            seq = event.seq
    except TaxonomyError as exc:
        return _overview(domain_message(exc), 400)
    return redirect(url_for("admin.communities", toegepast=seq))


@bp.post("/communities/ongedaan")
@requires("admin")
def undo_page():
    """Undo the last operation."""
    try:
        with transaction(backends().sessions) as session:
            event = undo(session, f"admin:{current_user.email}")
            seq = event.seq
    except TaxonomyError as exc:
        return _overview(domain_message(exc), 400)
    return redirect(url_for("admin.communities", toegepast=seq))


def _split_terms(raw: str) -> list[str]:
    """Terms typed one per line or separated by commas."""
    return [t for t in (part.strip() for part in re.split(r"[\n,;]", raw)) if t]


def _thesaurus_page(error: str | None = None, status: int = 200, form=None):
    with backends().sessions() as session:
        sets = thesaurus.list_sets(session)
        history = thesaurus.history(session)
        undoable = thesaurus.last_undoable(session)
    wanted = request.args.get("zoek", "").strip()[:100]
    if wanted:
        key = " ".join(words(wanted))
        sets = [
            s
            for s in sets
            if any(key in " ".join(words(t)) for t in s["terms"] + [s["broader"] or ""])
        ]
    applied = request.args.get("toegepast", "")
    page = render_template(
        "admin_thesaurus.html",
        sets=sets,
        history=history,
        undoable=undoable,
        error=error,
        form=form or {},
        prefill=request.args.get("toevoegen", "")[: thesaurus.MAX_TERM_LENGTH],
        wanted=wanted,
        applied=applied if applied.isdigit() else None,
        max_term=thesaurus.MAX_TERM_LENGTH,
    )
    return page, status


@bp.get("/thesaurus")
@requires("admin")
def thesaurus_page():
    """The synonym sets, a form to add one (``?toevoegen=`` prefills a term), import,
    export and the history with undo; ``?zoek=`` filters the list by a term."""
    return _thesaurus_page()


def _thesaurus_change(session, form, actor: str):
    """Apply the change the form asks for; returns the history entry."""
    action = form.get("action", "")
    if action == "add":
        kind = form.get("kind", "equivalent")
        terms = _split_terms(form.get("terms", ""))
        spec = thesaurus.validate_set(
            kind, terms, form.get("broader", "") if kind == "broader" else None
        )
        thesaurus.add_set(session, spec, actor)
    elif action == "remove":
        set_id = form.get("set_id", "")
        if not set_id.isdigit() or len(set_id) > 9:
            raise thesaurus.ThesaurusError("not_found", "no such set")
        thesaurus.remove_set(session, int(set_id), actor)
    elif action == "import":
        upload = request.files.get("file")
        raw = upload.read(thesaurus.MAX_DOCUMENT_CHARS + 1) if upload else b""
        specs = thesaurus.parse_text(raw)
        thesaurus.import_sets(session, specs, actor, replace=form.get("replace") == "1")
    elif action == "undo":
        return thesaurus.undo(session, actor)
    else:
        raise thesaurus.ThesaurusError("invalid_kind", "unknown action")
    return thesaurus.history(session, 1)[0]


@bp.post("/thesaurus")
@requires("admin")
def thesaurus_post():
    """Add, remove, import or undo (field ``action``); validated before anything is
    written, so a bad entry leaves the thesaurus in force as it was."""
    try:
        with transaction(backends().sessions) as session:
            seq = _thesaurus_change(session, request.form, f"admin:{current_user.email}").seq
    except thesaurus.ThesaurusError as exc:
        return _thesaurus_page(domain_message(exc), 400, request.form)
    return redirect(url_for("admin.thesaurus_page", toegepast=seq))


@bp.get("/thesaurus/export")
@requires("admin")
def thesaurus_export():
    """The thesaurus as a JSON file (the shape ``import`` takes)."""
    with backends().sessions() as session:
        doc = thesaurus.export_sets(session)
    response = Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = "attachment; filename=thesaurus.json"
    return response
