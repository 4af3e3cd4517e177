"""Media features: voicemail index and e-mail, call recordings, IVR prompts, audio files."""
