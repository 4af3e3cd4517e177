"""Japanese for the security pages (webpanel/views/security.py); merged into ja_source.JA."""

JA_SECURITY = {
    "Security": "セキュリティ",
    "Bans": "遮断",
    "A user blocked from one address after repeated failed sign-ins to the switch; the ban ends by itself.": "交換機への認証失敗が続いたため、そのアドレスからの利用者の接続を遮断しています。遮断は時間が経つと自動的に解除されます。",
    "User": "利用者",
    "Failures": "失敗回数",
    "Banned at": "遮断日時",
    "Until": "解除予定",
    "Reason": "理由",
    "every user": "全利用者",
    "Lift": "解除",
    "No active bans.": "有効な遮断はありません。",
    "Security events": "セキュリティイベント",
    "Subject": "対象",
    "Detail": "詳細",
    "No security events.": "セキュリティイベントはありません。",
    "The ban was lifted.": "遮断を解除しました。",
    "That ban no longer exists.": "その遮断はもうありません。",
}
