"""The API's FAX to e-mail: which numbers receive faxes (and mail them where), and the faxes received.

Routes on the API's blueprint (webpanel.api: same bearer token, same JSON errors naming the field).
A fax is addressed by its id inside the token's tenant: another tenant's id answers 404 like an
unknown one.
"""

from __future__ import annotations

from flask import abort, g, jsonify, send_file

from fsctl.fax.inbox import delete_fax, fax_pdf, fax_summary, tenant_fax, tenant_faxes
from webpanel.api import bp, error_response, json_body, numbers_out, own_number, save_document
from webpanel.document_edits import clear_fax, fax_of, set_fax
from webpanel.extensions import db
from webpanel.tenantdoc import current_document


def _fax_or_404(fax_id: int):
    fax = tenant_fax(db.session, g.tenant.id, fax_id)
    if fax is None:
        abort(error_response(404, [{"field": "id", "message": f"no fax {fax_id} in this tenant"}]))
    return fax


@bp.get("/v1/faxes")
def faxes_list():
    """The tenant's received (and failed) faxes, newest first."""
    return jsonify([fax_summary(f) for f in tenant_faxes(db.session, g.tenant.id)])


@bp.get("/v1/faxes/<int:fax_id>")
def faxes_get(fax_id: int):
    return jsonify(fax_summary(_fax_or_404(fax_id)))


@bp.get("/v1/faxes/<int:fax_id>/pdf")
def faxes_pdf(fax_id: int):
    fax = _fax_or_404(fax_id)
    path = fax_pdf(fax)
    if path is None:
        return error_response(404, [{"field": "pdf", "message": "this fax has no page to show"}])
    return send_file(path, mimetype="application/pdf", download_name=f"fax-{fax.id}.pdf", as_attachment=True)


@bp.delete("/v1/faxes/<int:fax_id>")
def faxes_delete(fax_id: int):
    delete_fax(db.session, _fax_or_404(fax_id))
    db.session.commit()
    return "", 204


def _number_with_fax(national: str) -> dict:
    doc = current_document(g.tenant)
    entry = next(n for n in numbers_out(doc) if n["number"] == national)
    fax = fax_of(doc, national)
    return dict(entry, fax={"emails": fax["emails"]} if fax else None)


@bp.get("/v1/numbers/<national>/fax")
def number_fax_get(national: str):
    """Whether the number receives faxes, and the addresses each fax is mailed to."""
    own_number(national)
    return jsonify(_number_with_fax(national))


@bp.put("/v1/numbers/<national>/fax")
def number_fax_set(national: str):
    """Make the number a fax number: {"emails": [...]} (at most 5; its destination is cleared)."""
    own_number(national)
    body = json_body()
    if unknown := sorted(set(body) - {"emails"}):
        return error_response(422, [{"field": k, "message": "unknown field"} for k in unknown])
    emails = body.get("emails", [])
    if not isinstance(emails, list):
        return error_response(422, [{"field": "emails", "message": "a list of e-mail addresses is required"}])
    faxes = current_document(g.tenant).get("fax", [])
    index = next((i for i, f in enumerate(faxes) if f["number"] == national), len(faxes))
    if failure := save_document(
        lambda d: set_fax(d, national, emails), "number.fax", national, ("fax", index)
    ):
        return failure
    return jsonify(_number_with_fax(national))


@bp.delete("/v1/numbers/<national>/fax")
def number_fax_clear(national: str):
    """The number stops receiving faxes (it has no destination until one is set)."""
    own_number(national)
    if failure := save_document(lambda d: clear_fax(d, national), "number.fax_off", national, ("fax",)):
        return failure
    return "", 204
