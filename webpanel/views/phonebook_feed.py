"""The company directory for desk phones: one link per tenant that its phones fetch (a "remote phonebook"
in Yealink's words, an XML directory in Cisco's), with the tenant's extensions and its shared
phonebook's contacts. Desk phones cannot sign in, so the link's token is the key: an administrator
makes one (shown once, only its SHA-256 kept), replaces it or turns it off on the phonebook page.

Two dialects of the same list, for the phones Japanese offices use most:
- `.../yealink.xml`: `YealinkIPPhoneDirectory`, one entry per contact with up to three numbers
  (Yealink's remote phonebook; Fanvil and others read it too);
- `.../cisco.xml`: `CiscoIPPhoneDirectory`, one entry per number (Cisco, Grandstream, Snom...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from lxml import etree
from sqlalchemy import select

from fsctl import models
from fsctl.schedule_override import aware
from webpanel.extensions import db
from webpanel.platform import base_url
from webpanel.security import admin_required
from webpanel.tenantdoc import audit
from webpanel.views.common import actor

log = logging.getLogger(__name__)
bp = Blueprint("phonebook_feed", __name__, url_prefix="/phonebook")

DIALECTS = ("yealink", "cisco")
# Yealink's directory entry takes at most three Telephone elements.
YEALINK_NUMBERS = 3
# A phone refreshes its remote phonebook every hour or so; `last_used_at` is written at most this often.
USE_RECORDED_EVERY = dt.timedelta(minutes=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def directory(tenant_id: int) -> list[tuple[str, list[str]]]:
    """(name, numbers) of the tenant's extensions, by extension, then of its phonebook's contacts, by
    company and name; a contact's company goes before its name, as phones list a single field."""
    users = db.session.execute(
        select(models.User.extension, models.User.name)
        .where(models.User.tenant_id == tenant_id)
        .order_by(models.User.extension)
    ).all()
    contacts = db.session.execute(
        select(models.PhonebookEntry.name, models.PhonebookEntry.company, models.PhonebookEntry.numbers)
        .where(models.PhonebookEntry.tenant_id == tenant_id)
        .order_by(models.PhonebookEntry.company, models.PhonebookEntry.name, models.PhonebookEntry.id)
    ).all()
    entries = [(f"{name} ({extension})" if name else extension, [extension]) for extension, name in users]
    for name, company, numbers in contacts:
        label = f"{company} {name}".strip() if company else name
        if numbers.split():
            entries.append((label, numbers.split()))
    return entries


def render(dialect: str, title: str, entries: list[tuple[str, list[str]]]) -> bytes:
    if dialect == "yealink":
        root = etree.Element("YealinkIPPhoneDirectory")
        for name, numbers in entries:
            entry = etree.SubElement(root, "DirectoryEntry")
            etree.SubElement(entry, "Name").text = name
            for number in numbers[:YEALINK_NUMBERS]:
                etree.SubElement(entry, "Telephone").text = number
    else:
        root = etree.Element("CiscoIPPhoneDirectory")
        etree.SubElement(root, "Title").text = title
        etree.SubElement(root, "Prompt").text = title
        for name, numbers in entries:
            for number in numbers:
                entry = etree.SubElement(root, "DirectoryEntry")
                etree.SubElement(entry, "Name").text = name
                etree.SubElement(entry, "Telephone").text = number
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@bp.get("/feed/<token>/<dialect>.xml")
def fetch(token: str, dialect: str):
    """What a desk phone fetches; 404 for an unknown token or dialect (nothing says which)."""
    if dialect not in DIALECTS:
        abort(404)
    feed = db.session.scalar(
        select(models.PhonebookFeed).where(models.PhonebookFeed.token_hash == _hash(token[:100]))
    )
    if feed is None:
        abort(404)
    tenant = db.session.get(models.Tenant, feed.tenant_id)
    if tenant is None or tenant.status == models.TenantStatus.SUSPENDED:
        abort(404)
    body = render(dialect, tenant.name, directory(tenant.id))
    now = dt.datetime.now(dt.UTC)
    last = aware(feed.last_used_at)
    if last is None or now - last > USE_RECORDED_EVERY:
        feed.last_used_at = now
        db.session.commit()
    return Response(body, mimetype="text/xml", headers={"Cache-Control": "no-store"})


@bp.post("/feed")
@admin_required
def create():
    """A new link for the desk phones; the one before it stops working."""
    token = secrets.token_urlsafe(24)
    feed = current_feed(g.tenant.id)
    if feed is None:
        feed = models.PhonebookFeed(tenant_id=g.tenant.id)
        db.session.add(feed)
    feed.token_hash, feed.created_by = _hash(token), actor()
    feed.created_at, feed.last_used_at = dt.datetime.now(dt.UTC), None
    audit(actor(), "phonebook.feed_created", "desk phone directory link", g.tenant.id)
    db.session.commit()
    links = {
        dialect: f"{base_url()}{url_for('phonebook_feed.fetch', token=token, dialect=dialect)}"
        for dialect in DIALECTS
    }
    return render_template("phonebook/feed.html", links=links)


@bp.post("/feed/delete")
@admin_required
def delete():
    feed = current_feed(g.tenant.id)
    if feed is not None:
        db.session.delete(feed)
        audit(actor(), "phonebook.feed_deleted", "desk phone directory link", g.tenant.id)
        db.session.commit()
        flash(gettext("The desk phone directory link no longer works."), "ok")
    return redirect(url_for("phonebook.index"))


def current_feed(tenant_id: int) -> models.PhonebookFeed | None:
    """The tenant's link, for the phonebook page (when it was made, when a phone last fetched it)."""
    return db.session.scalar(select(models.PhonebookFeed).where(models.PhonebookFeed.tenant_id == tenant_id))
