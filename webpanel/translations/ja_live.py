"""Japanese for the live view (webpanel/views/live.py); merged into ja_source.JA."""

JA_LIVE = {
    "Active calls": "通話中",
    "Destination": "宛先",
    "State": "状態",
    "No calls right now.": "現在通話はありません。",
    "Parked calls": "保留中の通話 (パーク)",
    "Slot": "番号",
    "Parked by": "パークした内線",
    "Parked at": "パーク日時",
    "Ringing since": "呼出開始",
    "No parked calls.": "パーク中の通話はありません。",
    "Ringing": "呼出中",
    "Nothing is ringing.": "呼出中の通話はありません。",
    "Registered devices": "登録済みの端末",
    "Device": "端末",
    "Address": "アドレス",
    "Expires": "有効期限",
    "No devices registered.": "登録されている端末はありません。",
}
