"""Japanese for the call history page (webpanel/views/history.py); merged into ja_source.JA."""

JA_HISTORY = {
    "From date": "開始日",
    "To date": "終了日",
    "Incoming": "着信",
    "Outgoing": "発信",
    "Internal": "内線通話",
    "Download CSV": "CSV ダウンロード",
    "%(n)s calls": "%(n)s件の通話",
    "Charge": "通話料",
    "Not answered": "不応答",
    "No calls.": "通話はありません。",
    "Page %(page)s of %(pages)s": "%(page)s / %(pages)s ページ",
}
