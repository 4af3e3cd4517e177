"""Japanese for the hardening work (issue 15): validation, sign-in throttling, password reset, quota."""

JA_HARDENING = {
    "must not contain control characters (tab, line break, ...)": "制御文字 (タブ・改行など) は使えません",
    "Sign-in disabled.": "サインインを無効にしました。",
    "Sign-in enabled.": "サインインを有効にしました。",
    "The sign-in of %(email)s is disabled.": "%(email)s のサインインは無効です。",
    "Enable the sign-in": "サインインを有効にする",
    "Disable the sign-in": "サインインを無効にする",
    "Too many failed sign-ins from your network. Try again in %(minutes)s minutes.": "サインインの失敗が続いたため、このネットワークからのサインインを一時的に止めています。%(minutes)s 分後にもう一度お試しください。",
}
