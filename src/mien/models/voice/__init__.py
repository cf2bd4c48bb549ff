"""The voice models: speech, speakers, prosody and vocal bursts."""
