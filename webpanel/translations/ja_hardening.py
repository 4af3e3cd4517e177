"""Japanese for the hardening work (issue 15): validation, sign-in throttling, password reset, quota."""

JA_HARDENING = {
    "must not contain control characters (tab, line break, ...)": "制御文字 (タブ・改行など) は使えません",
}
