"""The READMEs quote only what the result files hold.

Every paragraph, list item or table of `results/README.md`, and of the
sections of the top-level README that report experiments, that quotes a
measured number cites the JSON it comes from, as a markdown link to a
`.json` file or to a folder of them (all of its JSON files, recursively). A
sentence ending in ":" lends its citations to the list or table under it.
Each such number must then equal a number of those files at the precision
it is written with (a percentage as its fraction), or the sample std of one
of their lists of per-seed values (the ± of s2l.report).

What is not checked, by writing convention:
- integers (counts, settings: 1000 labels, 10 bands, 3 seeds);
- derived numbers, written signed or as a ratio: +0.09, −15%, ×1.9, or
  followed by σ (standard deviations): 1.9σ;
- the paper's numbers, inside a parenthesis that starts with "paper";
- settings in `inline code` (`1e-5`, `width 0.25`), and sizes and times
  followed by a unit (0.9 GB, 2.5 s).
"""

import glob
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Document -> the "## " sections checked (None: all of it).
DOCUMENTS = {
    "results/README.md": None,
    "README.md": ("Quick start (fresh Python 3.11 machine)",
                  "Pre-training against an untrained encoder"),
}
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`[^`]*`")
_PAPER = re.compile(r"\((?:the )?paper\b[^()]*(?:\([^()]*\)[^()]*)*\)",
                    re.IGNORECASE)
_UNIT = (r"\s*(?:GB|MB|GiB|MiB|kB|kHz|Hz|ms|s\b|min\b|minutes|seconds|"
         r"hours|steps/s|examples/s|×|σ)")
_NUMBER = re.compile(r"(?<![\w.+\-−±×Δ/])(\d+\.\d+|\d+(?=%))(%?)(?!\d)")
_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s")


def _blocks(text):
  """(section, lines) of each paragraph, list item or table, outside code."""
  section, block, blocks, fenced = None, [], [], False
  def flush():
    if block:
      blocks.append((section, list(block)))
      block.clear()
  for line in text.splitlines():
    if line.startswith("```"):
      fenced = not fenced
      flush()
      continue
    if fenced:
      continue
    if line.startswith("#"):
      flush()
      if line.startswith("## "):
        section = line[3:].strip()
      continue
    if not line.strip():
      flush()
      continue
    is_row = line.lstrip().startswith("|")
    if block and (_ITEM.match(line) or
                  is_row != block[-1].lstrip().startswith("|")):
      flush()
    block.append(line)
  flush()
  return blocks


def _cited_files(block_text, folder):
  files = []
  for _, target in _LINK.findall(block_text):
    path = os.path.normpath(os.path.join(folder, target.split("#")[0]))
    if target.endswith(".json"):
      files.append(path)
    elif target.endswith("/") or os.path.isdir(path):
      files += sorted(glob.glob(os.path.join(path, "**", "*.json"),
                                recursive=True))
  return files


def _numbers_of(value, out):
  if isinstance(value, bool):
    return
  if isinstance(value, (int, float)):
    out.append(float(value))
  elif isinstance(value, dict):
    for v in value.values():
      _numbers_of(v, out)
  elif isinstance(value, list):
    numbers = [v for v in value if isinstance(v, (int, float))
               and not isinstance(v, bool)]
    if len(numbers) >= 2 and len(numbers) == len(value):
      mean = sum(numbers) / len(numbers)
      out.append((sum((v - mean) ** 2 for v in numbers) /
                  (len(numbers) - 1)) ** 0.5)
    for v in value:
      _numbers_of(v, out)


def quoted_numbers(text):
  """(text, value, decimals) of every checked number of a block."""
  text = _LINK.sub(lambda m: m.group(1), text)
  text = _CODE.sub(" ", text)
  text = _PAPER.sub(" ", text)
  found = []
  for match in _NUMBER.finditer(text):
    if re.match(_UNIT, text[match.end():]):
      continue
    digits, percent = match.group(1), match.group(2)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value = float(digits)
    if percent:
      value, decimals = value / 100, decimals + 2
    found.append((match.group(0), value, decimals))
  return found


def _check(document):
  path = os.path.join(ROOT, document)
  folder = os.path.dirname(path)
  with open(path) as f:
    text = f.read()
  sections = DOCUMENTS[document]
  problems, lent, cache = [], [], {}
  for section, lines in _blocks(text):
    block = "\n".join(lines)
    cited = _cited_files(block, folder)
    continues = _ITEM.match(lines[0]) or lines[0].lstrip().startswith("|")
    if not continues:
      lent = []
    files = cited + lent
    if block.rstrip().endswith(":"):
      lent = files
    if sections is not None and section not in sections:
      continue
    for file in cited:
      if not os.path.exists(file):
        problems.append(f"{document}: cites {file}, which does not exist")
    numbers = quoted_numbers(block)
    if not numbers:
      continue
    if not files:
      problems.append(f"{document} [{section}]: quotes "
                      f"{[n for n, _, _ in numbers]} without citing a JSON:"
                      f"\n    {block[:200]}")
      continue
    pool = []
    for file in files:
      if file not in cache:
        cache[file] = []
        if os.path.exists(file):
          with open(file) as f:
            _numbers_of(json.load(f), cache[file])
      pool += cache[file]
    for shown, value, decimals in numbers:
      if not any(abs(v - value) <= 0.5 * 10 ** -decimals + 1e-9
                 for v in pool):
        problems.append(f"{document} [{section}]: {shown} is in none of "
                        f"{[os.path.relpath(f, ROOT) for f in files]}:\n    "
                        f"{block[:200]}")
  return problems


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_every_quoted_number_is_in_the_json_it_cites(document):
  problems = _check(document)
  assert not problems, "\n".join(problems)


def test_the_check_reads_numbers_as_written():
  assert [(t, round(v, 6), d) for t, v, d in quoted_numbers(
      "family 0.685 ± 0.010 vs 0.596, pitch 44.1, 79% along; +0.09, "
      "−15%, 1.9σ, 1.5×; 1000 labels, 0.9 GB (paper: 0.85) `lr 1e-5`"
      " [x 0.5](a.json)")] == [
          ("0.685", 0.685, 3), ("0.010", 0.01, 3), ("0.596", 0.596, 3),
          ("44.1", 44.1, 1), ("79%", 0.79, 2), ("0.5", 0.5, 1)]


def test_a_number_not_in_the_cited_json_is_caught(tmp_path, monkeypatch):
  (tmp_path / "r.json").write_text(json.dumps(
      {"a": {"values": [0.5, 0.7], "mean": 0.6}}))
  (tmp_path / "doc.md").write_text(
      "## S\n\nWe saw 0.60 ± 0.14 ([r](r.json)).\n\n"
      "Then 0.61 ([r](r.json)).\n\nAnd 0.6 with no citation.\n\n"
      "Rows from [r](r.json):\n\n| a | 0.60 |\n| b | 0.62 |\n")
  monkeypatch.setitem(DOCUMENTS, str(tmp_path / "doc.md"), None)
  problems = _check(str(tmp_path / "doc.md"))
  assert len(problems) == 3, problems
  assert "0.61 is in none of" in problems[0]
  assert "without citing" in problems[1]
  assert "0.62 is in none of" in problems[2]
