"""requirements.txt and constraints.txt agree: every direct pin is locked at the same version."""

import re

from helpers.course import COURSE

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (COURSE.root / name).read_text(encoding="utf-8")
    return {k.lower().replace("_", "-"): v for k, v in PIN.findall(text)}


def test_every_direct_pin_is_locked_at_the_same_version():
    direct, locked = _pins("requirements.txt"), _pins("constraints.txt")
    assert len(locked) > len(direct)
    differ = {k: (v, locked.get(k)) for k, v in direct.items() if locked.get(k) != v}
    assert not differ, f"refresh constraints.txt (README): {differ}"
