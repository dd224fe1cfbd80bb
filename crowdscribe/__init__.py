"""crowdscribe shell: settings, storage, CLI and web app around the audio/transcribe/review domain."""
