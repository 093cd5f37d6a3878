"""`rlhf-course VERB ...`: one command for the course tooling (also `python -m helpers.course`).

A verb is a module of this package with two functions, registered in VERB_MODULES:
`add_parser(subparsers) -> argparse.ArgumentParser` adds its sub-command (name, help, flags) and
`run(args) -> int` does the work and returns the exit status. A refusal or bad input is raised as
`CourseError` and printed as one line, `rlhf-course VERB: <message>`, with exit status 1; a bad
flag exits 2 the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from helpers.course import ROOT, CourseError

PROG = "rlhf-course"
VERB_MODULES = ("report", "release", "site", "bench", "slips")  # modules of helpers.course, in --help order


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: `rlhf-course VERB: <message>`, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_verb(subparsers, name: str, summary: str, doc: str) -> argparse.ArgumentParser:
    """A sub-command `name`: `summary` in the verb list, `doc` (a module docstring) as its --help."""
    description = "\n".join(line for line in doc.splitlines() if not line.startswith("    "))
    return subparsers.add_parser(name, help=summary, description=description.strip(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def add_root_argument(parser: argparse.ArgumentParser) -> None:
    """The --root flag every verb takes: the course checkout to work on."""
    parser.add_argument("--root", type=Path, default=ROOT, metavar="DIR",
                        help="the course checkout: holds notebooks/ and CLAIMS.md (default: %(default)s)")


def build_parser() -> Parser:
    """The `rlhf-course` parser with one sub-command per module of VERB_MODULES."""
    parser = Parser(prog=PROG, description="The course tooling. `rlhf-course VERB --help` describes a "
                    "verb; `python -m helpers.course VERB` does the same as `rlhf-course VERB`.")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERB_MODULES:
        module = importlib.import_module(f"helpers.course.{name}")
        verb = module.add_parser(subparsers)
        add_root_argument(verb)
        verb.set_defaults(run=module.run, verb_parser=verb)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the command line), run the verb, return its exit status."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # reported by the verb's own parser, so the message names the verb
        args.verb_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not args.root.is_dir():
        return fail(args.verb, f"--root {args.root}: not a directory")
    try:
        return args.run(args)
    except CourseError as exc:
        return fail(args.verb, str(exc))
    except KeyboardInterrupt:
        return fail(args.verb, "interrupted", status=130)


def fail(verb: str, message: str, status: int = 1) -> int:
    """Print `rlhf-course VERB: message` on standard error; return `status`."""
    print(f"{PROG} {verb}: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
