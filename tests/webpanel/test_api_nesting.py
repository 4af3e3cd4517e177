"""The API answers 400, not 500, to JSON nested deeper than the parser recurses."""

from __future__ import annotations

from test_api import make_token


def test_deeply_nested_json_is_a_400(app, admin):
    token = make_token(admin)
    nested = '{"extension": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = app.test_client().post(
        "/api/v1/users",
        data=nested,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "(body)"
