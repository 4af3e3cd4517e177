"""Japanese for the hardening work (issue 15): validation, sign-in throttling, password reset, quota."""

JA_HARDENING = {
    "must not contain control characters (tab, line break, ...)": "制御文字 (タブ・改行など) は使えません",
    "Sign-in disabled.": "サインインを無効にしました。",
    "Sign-in enabled.": "サインインを有効にしました。",
    "The sign-in of %(email)s is disabled.": "%(email)s のサインインは無効です。",
    "Enable the sign-in": "サインインを有効にする",
    "Disable the sign-in": "サインインを無効にする",
    "Too many failed sign-ins from your network. Try again in %(minutes)s minutes.": "サインインの失敗が続いたため、このネットワークからのサインインを一時的に止めています。%(minutes)s 分後にもう一度お試しください。",
    "Forgot your password?": "パスワードをお忘れですか?",
    "If an account exists for that address, we have sent it a link to choose a new password. The link works once, for 30 minutes.": "そのアドレスのアカウントがある場合は、新しいパスワードを設定するためのリンクをお送りしました。リンクは30分間、1回だけ使えます。",
    "Enter the e-mail address you sign in with. We will send you a link to choose a new password.": "サインインに使うメールアドレスを入力してください。新しいパスワードを設定するためのリンクをお送りします。",
    "Send the link": "リンクを送る",
    "Choose a new password": "新しいパスワードの設定",
    "This link is not valid: it was used already, has expired, or was mistyped.": "このリンクは使えません。使用済み、期限切れ、または入力の誤りです。",
    "Ask for a new link": "リンクをもう一度送ってもらう",
    "Your password was changed. Sign in with the new one.": "パスワードを変更しました。新しいパスワードでサインインしてください。",
    "Not enough storage: %(used)s MB of %(quota)s MB are used and this file needs %(needed)s MB. Delete an upload first, or ask us for a larger plan.": "保存容量が足りません。%(quota)s MB のうち %(used)s MB を使用中で、このファイルには %(needed)s MB 必要です。不要なファイルを削除するか、プランの変更をご相談ください。",
    "Storage for uploads: %(used)s MB of %(quota)s MB used.": "アップロードの保存容量: %(quota)s MB のうち %(used)s MB を使用中です。",
    "set: leave empty to keep it": "設定済み (変更しない場合は空欄のまま)",
    "Remove the PIN": "暗証番号を削除する",
}
