"""Japanese for the music on hold page (webpanel/views/hold.py); merged into ja_source.JA."""

JA_HOLD = {
    "Music on hold": "保留音",
    "Your own music": "独自の保留音",
    "Standard music": "標準の保留音",
    "Held callers hear the platform's standard music.": "保留中の相手には標準の保留音が流れます。",
    "Use the standard music again": "標準の保留音に戻す",
    "Upload your own music": "独自の保留音をアップロード",
    "Replace your music": "保留音を差し替える",
    "At most %(mb)s MB and %(minutes)d minutes. It is converted for telephone calls and loops while a caller is on hold.": "%(mb)s MB・%(minutes)d分まで。電話用に変換され、保留中は繰り返し流れます。",
    "Use only music you have the right to play to callers.": "通話相手に流す権利のある音源だけを使ってください。",
    "Your music on hold is used from the next call.": "次の通話から独自の保留音が流れます。",
    "The standard music on hold is used from the next call.": "次の通話から標準の保留音が流れます。",
    "The file is too large: at most %(mb)s MB.": "ファイルが大きすぎます (%(mb)s MB まで)。",
    # fsctl.media.audio's refusals without numbers in them, shown through tr().
    "not a WAV or MP3 file": "WAV または MP3 のファイルではありません",
    "the file is empty": "ファイルが空です",
    "the recording is shorter than 0.2 seconds": "録音が0.2秒より短いです",
}
