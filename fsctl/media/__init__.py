"""Media features (issue 5): voicemail index and e-mail, call recordings, IVR prompts, audio files."""
