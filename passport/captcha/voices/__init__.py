"""Spoken characters of the audio CAPTCHA (es/<char>/default.wav) and their generator."""
