"""SiteProfile keys are stable digests: the same in every process, whatever PYTHONHASHSEED."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from xpostcheck.checks.siteprofile import SiteProfile, line_key, link_key

LINES = ["Source: Global Research", "We republish  GLOBAL RESEARCH!", "ok"]
HREFS = ["https://www.globalresearch.ca/", "http://globalresearch.ca/some-article/5812345?utm=x"]

_PRINT_KEYS = (
    "import json, sys\n"
    "from xpostcheck.checks.siteprofile import line_key, link_key\n"
    "lines, hrefs = json.loads(sys.argv[1])\n"
    "print(json.dumps([[line_key(x) for x in lines], [link_key(h) for h in hrefs]]))\n"
)


def _keys_in_process(seed: str) -> list[list[int | None]]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_KEYS, json.dumps([LINES, HREFS])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    keys: list[list[int | None]] = json.loads(out.stdout)
    return keys


def test_keys_are_the_same_in_every_process() -> None:
    here = [[line_key(x) for x in LINES], [link_key(h) for h in HREFS]]
    assert _keys_in_process("1") == _keys_in_process("2") == here


def test_keys_are_64_bit_digests_of_normalised_text() -> None:
    assert line_key("ok") is None  # too short to tell anything
    assert line_key("Source: Global Research") == line_key("source -- GLOBAL research")
    key = line_key("Source: Global Research")
    assert key is not None and 0 <= key < 2**64
    assert link_key("https://www.globalresearch.ca/") == link_key("http://globalresearch.ca")


def test_profile_answers_by_stable_key() -> None:
    profile = SiteProfile()
    for i in range(3):
        profile.add_parts(f"https://blog.example/{i}", "Blogroll: Global Research\nbody", ["/x"])
    assert profile.is_chrome_text("blogroll global research")
    assert profile.is_chrome_link("/x")
    assert not profile.is_chrome_text("Source: Global Research")
