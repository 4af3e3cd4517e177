"""Japanese for the gateways page (webpanel/views/gateways.py); merged into ja_source.JA."""

JA_GATEWAYS = {
    "Gateways": "ゲートウェイ",
    "Registration": "登録状態",
    "Channels in use": "使用中のチャネル",
    "Refused today": "本日の接続拒否",
    "Last refused": "最終拒否日時",
    "Static address %(address)s": "固定アドレス %(address)s",
    "Registered": "登録済み",
    "Not registered": "未登録",
    "%(used)s of %(total)s": "%(used)s / %(total)s",
    "No gateways.": "ゲートウェイはありません。",
    "A refusal is a call the gateway's channel limit turned away.": "接続拒否は、ゲートウェイのチャネル数の上限により受け付けられなかった通話です。",
}
