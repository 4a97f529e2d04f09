"""Regenerate the Spanish voices of the audio CAPTCHA (run by hand, not at run time).

The ``captcha`` package ships English recordings only. These files are spoken by eSpeak NG
(``apt-get install espeak-ng``), voice ``es-419`` (Latin American Spanish), and converted to
the package's format: mono, 8000 Hz, unsigned 8-bit PCM, one ``<char>/default.wav`` per
character. Usage::

    python -m passport.captcha.voices.generate
"""

from __future__ import annotations

import array
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent / "es"
RATE = 8000

# How each character is read aloud in Peru (letter names of the RAE; "uve" and "doble u").
NAMES = {
    "0": "cero", "1": "uno", "2": "dos", "3": "tres", "4": "cuatro",
    "5": "cinco", "6": "seis", "7": "siete", "8": "ocho", "9": "nueve",
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "efe", "G": "ge",
    "H": "hache", "I": "i", "J": "jota", "K": "ka", "L": "ele", "M": "eme", "N": "ene",
    "O": "o", "P": "pe", "Q": "cu", "R": "erre", "S": "ese", "T": "te", "U": "u",
    "V": "uve", "W": "doble u", "X": "equis", "Y": "ye", "Z": "zeta",
}  # fmt: skip


def to_captcha_format(source: Path, target: Path) -> None:
    """Convert a 16-bit PCM WAV of any rate to 8 kHz unsigned 8-bit mono."""
    with wave.open(str(source)) as reader:
        rate = reader.getframerate()
        if reader.getsampwidth() != 2 or reader.getnchannels() != 1:
            raise ValueError(f"{source}: expected 16-bit mono PCM")
        samples = array.array("h", reader.readframes(reader.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    count = int(len(samples) * RATE / rate)
    # Nearest-sample decimation, after a 3-tap average to soften aliasing.
    out = bytearray(count)
    for index in range(count):
        position = int(index * rate / RATE)
        window = samples[max(0, position - 1) : position + 2]
        value = sum(window) // len(window)
        out[index] = max(0, min(255, (value >> 8) + 128))
    # eSpeak pads with silence; the CAPTCHA adds its own random gaps between characters.
    loud = [i for i, v in enumerate(out) if abs(v - 128) > 2]
    if loud:
        out = out[loud[0] : loud[-1] + 1]
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(1)
        writer.setframerate(RATE)
        writer.writeframes(bytes(out))


def main() -> None:
    """Speak every character and write ``es/<char>/default.wav``."""
    with tempfile.TemporaryDirectory() as scratch:
        for char, name in NAMES.items():
            spoken = Path(scratch) / f"{char}.wav"
            subprocess.run(  # noqa: S603 - fixed arguments, run by a developer
                ["espeak-ng", "-v", "es-419", "-s", "130", "-w", str(spoken), name],  # noqa: S607
                check=True,
            )
            to_captcha_format(spoken, HERE / char / "default.wav")


if __name__ == "__main__":
    main()
