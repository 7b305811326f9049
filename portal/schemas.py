"""Marshmallow views of records for the JSON API (what each audience may see)."""

from __future__ import annotations

from marshmallow import Schema, fields


class PublicInnovationView(Schema):
    """An innovation's public fields (``data/README.md``); communities are current ids."""

    id = fields.String()
    title = fields.String()
    summary = fields.String()
    description = fields.String()
    results = fields.String(allow_none=True)
    priorities = fields.List(fields.String())
    communities = fields.List(fields.String())
    phase = fields.String()
    innovation_type = fields.String()
    target_groups = fields.List(fields.String())
    evidence_level = fields.Integer(allow_none=True)
    organisation = fields.String()
    province = fields.String()
    places_applied = fields.Integer(allow_none=True)
    start_year = fields.Integer(allow_none=True)
    programmes = fields.List(fields.String())
    url = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    last_verified = fields.String(allow_none=True)
    created = fields.String(allow_none=True)
    status = fields.String()
