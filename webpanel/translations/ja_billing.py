"""Japanese for the billing page (webpanel/views/billing.py); merged into ja_source.JA."""

JA_BILLING = {
    "Billing": "ご請求",
    "Item": "項目",
    "Quantity": "数量",
    "Amount": "金額",
    "Subtotal (tax excluded)": "小計 (税抜)",
    "Consumption tax": "消費税",
    "Total": "合計",
    "This month so far (as of %(date)s)": "今月の利用額 (%(date)s 時点)",
    "Nothing billed this month yet.": "今月のご利用はまだありません。",
    "Forecast for the whole month": "今月の見込み額",
    "Call charges so far, extrapolated to the end of the month.": "これまでの通話料を月末まで日割りで延長した見込みです。",
    "Past statements": "過去のご請求",
    "Month": "対象月",
    "Invoice number": "請求書番号",
    "PDF": "PDF",
    "No statements yet.": "ご請求はまだありません。",
}
