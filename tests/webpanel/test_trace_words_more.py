"""Steps of fsctl's plans that the simulator shows: none is left in developer English in Japanese.
The texts are fsctl.routing's own (collected from the routing tests' plans)."""

from __future__ import annotations

import re

import pytest

from webpanel.trace_words import what_words, why_words

WHAT = [
    "forward busy of 102 ignored",
    "forward always of 103 ignored",
    "no free slot",
    "parked in 705 too long",
    "pick up the call ringing on 102",
    "refused with a tone",
    "ringing 102 ended with NO_ANSWER",
    "ringing 102 ended with USER_BUSY",
    "the new target sees 0311112222",
    "transferred to voicemail by 101: voicemail of 101",
    "voicemail access",
    "102 did not answer",
    "101 transfers the call to park slot 705",
    "blind transfer of 102 to 0311112222 by 101",
    "channel count",
]
WHY = [
    "0312345678 is fixed",
    "09012345678 is mobile",
    "705 is park_slot",
    "0399998888 is not the tenant's number any more; representative number 0312345678",
    "102 busy: no voicemail",
    "handled as no answer",
    "it leads back into this call (loop cut)",
    "park again in 700-719",
    "parked in 705, or the next free slot when it is taken (never onto a parked call)",
    "personal schedule 'mornings' closed: outside the open hours (Tue 2026-12-01 10:00 JST)",
    "ring 102, who parked it, for 30 s",
    "the tenant's file name is not a safe path; default prompt used",
    "the transfer came from beta.kumo.test, not from acme.kumo.test",
    "user 102 leads back into this call (loop cut); ringing 103",
    "forward busy of 102; ring 101 (A); if 101 is busy, does not answer or is not registered; "
    "101 no answer: voicemail of 101",
    "a blind transfer goes only to the tenant's own extensions; use an attended transfer (call the "
    "number first) for anything else",
    "intercept the call last dialled to it (kept per tenant by `hash insert`), only while it rings",
]
# Names the texts carry (tenants, schedules, prompts) are not words to translate.
NAMES = re.compile(r"'[^']*'|[a-z0-9.-]+\.(?:test|example)|\b[A-Z]{2,}(?:_[A-Z]+)*\b|mornings")


@pytest.mark.parametrize(("words", "text"), [(what_words, t) for t in WHAT] + [(why_words, t) for t in WHY])
def test_every_step_reads_in_japanese(app, words, text):
    with app.test_request_context():
        from flask import session

        session["lang"] = "ja"
        shown = words(text)
    assert not re.search(r"[A-Za-z]{4,}", NAMES.sub("", shown)), shown


def test_voicemail_access_is_the_box_not_a_box_called_access(app):
    with app.test_request_context():
        from flask import session

        session["lang"] = "ja"
        assert what_words("voicemail access") == "留守番電話の再生"
        assert why_words("ring 102, who parked it, for 30 s") == "保留した 102 を 30 秒間呼び出します"
