"""Blueprints of the panel; each feature registers its pages here."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from webpanel import api, api_fax  # noqa: F401 - api_fax adds the fax routes to the API's blueprint
    from webpanel.extensions import csrf
    from webpanel.views import (
        admins,
        auth,
        billing,
        fax,
        gateways,
        history,
        hold,
        ivr,
        live,
        media,
        numbers,
        operator,
        phonebook,
        phonebook_csv,
        phonebook_feed,
        provision,
        queues,
        reset,
        ringgroups,
        rooms,
        schedules,
        screening,
        security,
        tenant,
        trace,
        users,
        users_csv,
    )

    for module in (
        auth,
        admins,
        tenant,
        users,
        users_csv,
        numbers,
        ringgroups,
        schedules,
        rooms,
        queues,
        phonebook,
        phonebook_csv,
        phonebook_feed,
        fax,
        trace,
        operator,
        api,
        media,
        live,
        history,
        billing,
        gateways,
        security,
        ivr,
        hold,
        screening,
        reset,
        provision,
    ):
        app.register_blueprint(module.bp)
    # The API authenticates every request with a bearer token, never with the session cookie.
    csrf.exempt(api.bp)
