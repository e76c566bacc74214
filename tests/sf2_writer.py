"""A minimal SoundFont 2 writer for test fixtures (not a test module).

Shared by tests/test_soundfont.py and tests/test_soundfont_notes.py, which
need small .sf2 files with known samples, ranges and envelopes.
"""

import struct
from typing import Dict, List, Sequence, Tuple

import numpy as np

# Generator numbers used by the tests (SoundFont 2.01, section 8.1.2).
ATTACK, HOLD, DECAY, SUSTAIN, RELEASE = 34, 35, 36, 37, 38
ATTENUATION, COARSE_TUNE, FINE_TUNE, SCALE_TUNING = 48, 51, 52, 56
INSTRUMENT, KEY_RANGE, VEL_RANGE, SAMPLE_ID = 41, 43, 44, 53
SAMPLE_MODES, ROOT_KEY = 54, 58
MONO, RIGHT, LEFT = 1, 2, 4
_PAD = 46  # Zero points after each sample, as the spec asks.


def timecents(seconds: float) -> int:
  return int(round(1200 * np.log2(seconds)))


def sine(freq: float, rate: int, num_samples: int,
         amplitude: float = 0.5) -> np.ndarray:
  """[num_samples] int16 sine."""
  t = np.arange(num_samples) / rate
  return np.round(amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(
      np.int16)


def _chunk(cid: bytes, data: bytes) -> bytes:
  return cid + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def _list(kind: bytes, chunks: Sequence[bytes]) -> bytes:
  return _chunk(b"LIST", kind + b"".join(chunks))


def _gens(zone: Dict[int, object]) -> List[Tuple[int, int]]:
  """(oper, u16 amount) in the spec's order: ranges first, terminal last."""
  order = sorted(zone, key=lambda g: (g != KEY_RANGE, g != VEL_RANGE,
                                      g in (INSTRUMENT, SAMPLE_ID), g))
  out = []
  for g in order:
    value = zone[g]
    amount = (value[0] | value[1] << 8 if isinstance(value, tuple)
              else int(value) & 0xFFFF)
    out.append((g, amount))
  return out


def _zones(items, header):
  """Headers (terminal record left to the caller), bags, mods and gens."""
  headers, bags, gens = b"", b"", b""
  num_bags, num_gens = 0, 0
  for item in items:
    headers += header(item, num_bags)
    for zone in item["zones"]:
      bags += struct.pack("<HH", num_gens, 0)
      for oper, amount in _gens(zone):
        gens += struct.pack("<HH", oper, amount)
        num_gens += 1
      num_bags += 1
  bags += struct.pack("<HH", num_gens, 0)
  gens += struct.pack("<HH", 0, 0)
  return headers, bags, b"\0" * 10, gens


def write_sf2(path, samples: Sequence[dict], instruments: Sequence[dict],
              presets: Sequence[dict], name: str = "fixture") -> str:
  """Writes a SoundFont 2 file.

  Args:
    path: Output file.
    samples: dicts with "name", "data" ([n] int16), "rate", "root",
      optional "loop" ((start, end) relative to the sample, end exclusive),
      "correction" (cents) and "type" (MONO, LEFT or RIGHT).
    instruments: dicts with "name" and "zones", a list of {generator:
      value}; a value is an int or a (low, high) range. A first zone without
      SAMPLE_ID is the global zone.
    presets: dicts with "name", "bank", "program" and "zones" ({generator:
      value}, with INSTRUMENT as the instrument's index).
    name: The bank's name (INFO INAM).

  Returns:
    str(path).
  """
  smpl, shdr = b"", b""
  offset = 0
  for s in samples:
    data = np.asarray(s["data"], np.int16)
    start, end = offset, offset + len(data)
    loop = s.get("loop", (0, len(data)))
    shdr += struct.pack("<20sIIIIIBbHH", s["name"].encode(), start, end,
                        start + loop[0], start + loop[1], s["rate"], s["root"],
                        s.get("correction", 0), 0, s.get("type", MONO))
    smpl += data.astype("<i2").tobytes() + b"\0\0" * _PAD
    offset = end + _PAD
  shdr += struct.pack("<20sIIIIIBbHH", b"EOS", 0, 0, 0, 0, 0, 0, 0, 0, 0)

  inst, ibag, imod, igen = _zones(
      instruments,
      lambda i, bag: struct.pack("<20sH", i["name"].encode(), bag))
  inst += struct.pack("<20sH", b"EOI", len(ibag) // 4 - 1)
  phdr, pbag, pmod, pgen = _zones(
      presets,
      lambda p, bag: struct.pack("<20sHHHIII", p["name"].encode(),
                                 p["program"], p["bank"], bag, 0, 0, 0))
  phdr += struct.pack("<20sHHHIII", b"EOP", 0, 0, len(pbag) // 4 - 1, 0, 0,
                      0)

  info = _list(b"INFO", [_chunk(b"ifil", struct.pack("<HH", 2, 1)),
                         _chunk(b"isng", b"EMU8000\0"),
                         _chunk(b"INAM", name.encode() + b"\0")])
  sdta = _list(b"sdta", [_chunk(b"smpl", smpl)])
  pdta = _list(b"pdta", [_chunk(cid, data) for cid, data in (
      (b"phdr", phdr), (b"pbag", pbag), (b"pmod", pmod), (b"pgen", pgen),
      (b"inst", inst), (b"ibag", ibag), (b"imod", imod), (b"igen", igen),
      (b"shdr", shdr))])
  with open(path, "wb") as f:
    f.write(_chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
  return str(path)
