"""Japanese for fsctl's refusals in the panel's words (webpanel/error_words.py) and the simulator's steps
(webpanel/trace_words.py); merged into ja_source.JA."""

JA_WORDS = {
    "User": "ユーザー",
    "User %(ext)s (%(name)s)": "ユーザー %(ext)s (%(name)s)",
    "User %(ext)s": "ユーザー %(ext)s",
    "Key %(digit)s": "キー %(digit)s",
    "%(object)s, %(field)s": "%(object)s の「%(field)s」",
    "%(where)s: %(message)s": "%(where)s: %(message)s",
    "Fix it": "修正する",
    "%(x)s does not exist (removed, or never added)": "%(x)s は存在しません (削除されたか、まだ追加されていません)",
    "already used by %(x)s": "%(x)s がすでに使っています",
    "already the individual number of %(x)s": "すでに %(x)s の個別番号です",
    "there is no user with extension %(x)s": "内線 %(x)s のユーザーはいません",
    "there is no schedule named %(x)s": "%(x)s という名前のスケジュールはありません",
    "no uploaded audio named %(x)s (upload it first)": "%(x)s という音声はアップロードされていません (先にアップロードしてください)",
    "%(x)s belongs to another customer": "%(x)s は他のお客様の番号です",
    "a ring group needs at least one member": "着信グループには1人以上のメンバーが必要です",
    "a schedule cannot lead to another schedule": "スケジュールの転送先に別のスケジュールは指定できません",
}
