"""Members submit and follow their innovations; editors review them.

Two blueprints: ``members`` (submission form, own submissions, saved searches,
the signed verification link) and ``editorial`` (the review queue at ``/redactie``).
All writes go through :mod:`registry.editorial`.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from registry import editorial
from registry.db import transaction
from registry.models import Innovation, SavedSearch, User
from registry.records import record_to_dict
from registry.statuses import EDITED_BY_OWNER

from ..auth import requires
from ..backends import backends
from ..errors import domain_message, field_message
from ..mail import VERIFY_LINK_MAX_AGE_S, unsign
from ..submission import (
    FORM_FIELDS,
    errors_by_field,
    form_to_raw,
    posted_values,
    record_to_form,
)

members = Blueprint("members", __name__)
review = Blueprint("editorial", __name__, url_prefix="/redactie")


def _user(session) -> User:
    return session.get(User, current_user.user_id)


def _form_page(values: dict, errors: dict, record_id: str | None, status: int = 200,
               comments=()):  # fmt: skip
    taxonomy = backends().taxonomy()
    kinds = {field.name: field.kind for field in FORM_FIELDS}
    return render_template(
        "submit.html",
        fields=FORM_FIELDS,
        values=values,
        errors={
            name: [field_message(m, kinds.get(name, "text"), values.get(name)) for m in messages]
            for name, messages in errors.items()
        },
        record_id=record_id,
        taxonomy=taxonomy,
        active_communities={t.id for t in taxonomy.active_communities()},
        comments=comments,
    ), status


def _save(record_id: str | None):
    submit = request.form.get("action") == "submit"
    try:
        if record_id is None:
            saved_id = editorial.create_submission(
                backends().sessions, current_user.user_id, form_to_raw(request.form, None), submit
            )
        else:
            with transaction(backends().sessions) as session:
                raw = form_to_raw(request.form, record_to_dict(session.get(Innovation, record_id)))
                raw["id"] = record_id
                saved_id = editorial.save_submission(session, _user(session), raw, submit).id
    except ValidationError as exc:
        errors = errors_by_field(exc.messages)
        return _form_page(posted_values(request.form), errors, record_id, 400)
    except editorial.Forbidden:
        abort(403)
    except editorial.EditorialError as exc:
        errors = {"_form": [domain_message(exc)]}
        return _form_page(posted_values(request.form), errors, record_id, 409)
    step = "ingediend" if submit else "opgeslagen"
    return redirect(url_for("members.my_submissions", **{step: saved_id}))


@members.route("/innovaties/nieuw", methods=["GET", "POST"])
@requires("member")
def submit():
    """The submission form: save as draft or submit for review."""
    if request.method == "POST":
        return _save(None)
    return _form_page({}, {}, None)


@members.route("/innovaties/<record_id>/bewerken", methods=["GET", "POST"])
@requires("member")
def edit(record_id: str):
    """Edit an own draft (members) or any record (editors)."""
    with backends().sessions() as session:
        record = session.get(Innovation, record_id)
        if record is None:
            abort(404)
        user = _user(session)
        if not editorial.may_edit(user, record):
            # someone else's unpublished record does not exist for this member
            hidden = record.status in EDITED_BY_OWNER and record.owner_id != user.id
            abort(404 if hidden else 403)
        values = record_to_form(record_to_dict(record))
        comments = editorial.comments_for(session, record_id)
    if request.method == "POST":
        return _save(record_id)
    return _form_page(values, {}, record_id, comments=comments)


@members.get("/mijn/inzendingen")
@requires("member")
def my_submissions():
    """The member's own submissions with their status and the editors' comments.

    After a save (``opgeslagen=<id>``) or a submission (``ingediend=<id>``) it says
    what happened to which title.
    """
    with backends().sessions() as session:
        records = editorial.submissions_of(session, _user(session))
        comments = {r.id: editorial.comments_for(session, r.id) for r in records}
    titles = {r.id: r.title for r in records}
    saved = titles.get(request.args.get("opgeslagen", ""))
    submitted = titles.get(request.args.get("ingediend", ""))
    return render_template("my_submissions.html", records=records, comments=comments,
                           saved=saved, submitted=submitted)  # fmt: skip


@members.route("/innovaties/<record_id>/controleren/<token>", methods=["GET", "POST"])
def verify(record_id: str, token: str):
    """The signed, expiring "still correct" link of a verification reminder."""
    payload = unsign("verify", token, VERIFY_LINK_MAX_AGE_S)
    if not payload or payload.get("r") != record_id:
        return render_template("verify.html", state="invalid", record_id=record_id), 400
    if request.method == "POST":
        try:
            with transaction(backends().sessions) as session:
                editorial.confirm_verified(session, record_id, f"link:{payload.get('to', '?')}",
                                           dt.date.today())  # fmt: skip
        except editorial.EditorialError:
            return render_template("verify.html", state="invalid", record_id=record_id), 404
        return render_template("verify.html", state="done", record_id=record_id)
    return render_template("verify.html", state="ask", record_id=record_id, token=token)


@members.route("/mijn/zoekopdrachten", methods=["GET", "POST"])
@requires("member")
def saved_searches():
    """Saved searches: save the current search, list and delete them."""
    error = None
    with transaction(backends().sessions) as session:
        user = _user(session)
        if request.method == "POST":
            if request.form.get("delete"):
                try:
                    editorial.delete_search(session, user, request.form["delete"])
                except editorial.EditorialError:
                    abort(404)
            else:
                try:
                    editorial.save_search(session, user, request.form.get("name", ""),
                                          request.form.get("query", ""),
                                          bool(request.form.get("weekly")))  # fmt: skip
                except editorial.EditorialError as exc:
                    error = domain_message(exc)
        searches = [
            {"id": s.id, "name": s.name, "query": s.query, "weekly": s.weekly}
            for s in editorial.saved_searches(session, user)
        ]
    status = 400 if error else 200
    return render_template("saved_searches.html", searches=searches, error=error), status


@members.get("/zoekopdrachten/afmelden/<token>")
def unsubscribe(token: str):
    """Stop the weekly digest of one saved search (link in every digest mail)."""
    payload = unsign("unsubscribe", token)
    if not payload:
        return render_template("verify.html", state="invalid", record_id=""), 400
    with transaction(backends().sessions) as session:
        found = session.get(SavedSearch, payload.get("s"))
        if found is not None:
            found.weekly = False
    return render_template("verify.html", state="unsubscribed", record_id="")


@review.get("")
@requires("editor")
def queue():
    """Submissions in review and the verification backlog."""
    with backends().sessions() as session:
        waiting = editorial.review_queue(session)
        backlog = editorial.verification_backlog(session, dt.date.today())
    return render_template("editor_queue.html", waiting=waiting, backlog=backlog,
                           done=request.args.get("klaar"))  # fmt: skip


@review.get("/<record_id>")
@requires("editor")
def record(record_id: str):
    """One record for review: all fields (internal notes too), comments, audit log."""
    with backends().sessions() as session:
        row = session.get(Innovation, record_id)
        if row is None:
            abort(404)
        data = record_to_dict(row)
        comments = editorial.comments_for(session, record_id)
        log = editorial.audit_log(session, record_id)
    return render_template("editor_review.html", record=data, comments=comments, log=log,
                           taxonomy=backends().taxonomy(), error=None)  # fmt: skip


@review.post("/<record_id>/<action>")
@requires("editor")
def act(record_id: str, action: str):
    """Publish, archive or request changes (with a comment)."""
    steps = {
        "publiceren": editorial.publish,
        "archiveren": editorial.archive,
    }
    try:
        with transaction(backends().sessions) as session:
            editor = _user(session)
            if session.get(Innovation, record_id) is None:
                abort(404)
            if action == "wijzigingen-vragen":
                editorial.request_changes(
                    session, editor, record_id, request.form.get("comment", "")
                )
            elif action in steps:
                steps[action](session, editor, record_id)
            else:
                abort(404)
    except editorial.EditorialError as exc:
        with backends().sessions() as session:
            data = record_to_dict(session.get(Innovation, record_id))
            comments = editorial.comments_for(session, record_id)
            log = editorial.audit_log(session, record_id)
        page = render_template(
            "editor_review.html", record=data, comments=comments, log=log,
            taxonomy=backends().taxonomy(), error=domain_message(exc),
        )  # fmt: skip
        return page, 400
    return redirect(url_for("editorial.queue", klaar=record_id))
