"""`rlhf-course`: the verbs' registry, --help, bad flags as one line, and progress display."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import types

import pytest

from helpers.course import cli as course_cli
from helpers.course.progress import Progress

VERBS = list(course_cli.VERB_MODULES)  # every registered verb gets the tests below


def test_the_registry_lists_verb_modules_with_add_parser_and_run():
    assert VERBS[:4] == ["report", "release", "site", "bench"]
    for name in VERBS:
        module = importlib.import_module(f"helpers.course.{name}")
        assert callable(module.add_parser) and callable(module.run), name


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(cli, verb):
    result = cli(verb, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: rlhf-course {verb}")
    assert "--root DIR" in result.stdout and not result.stderr


@pytest.mark.parametrize("verb", VERBS)
def test_an_unknown_flag_is_one_line_and_starts_nothing(cli, verb):
    message = cli.refuses(verb, "--bogus", status=2)
    assert message == f"rlhf-course {verb}: unrecognized arguments: --bogus (see rlhf-course {verb} --help)"
    assert not any(cli.cwd.iterdir()), "nothing written"


def test_help_imports_no_notebook_machinery():
    """--help answers at once: building the parser imports neither torch nor nbformat nor nbgrader."""
    code = ("import sys; from helpers.course.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'sympy', 'nbformat', 'nbclient', 'nbconvert', 'nbgrader') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"], ["site", "--bogus"], []],
                         ids=["help", "verb-help", "bad-flag", "no-verb"])
def test_python_m_helpers_course_is_the_same_command(cli, args):
    script, module = cli(*args), cli(*args, module=True)
    assert script.returncode == module.returncode
    assert (script.stdout, script.stderr) == (module.stdout, module.stderr)


def test_no_verb_is_a_usage_error(cli):
    result = cli()
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["rlhf-course: the following arguments are required: VERB "
                                          "(see rlhf-course --help)"]


def test_a_root_that_is_no_directory_is_one_line(cli, tmp_path):
    assert "not a directory" in cli.refuses("site", "--root", tmp_path / "nowhere")


def test_a_verb_is_one_module_with_add_parser_and_run(monkeypatch, capsys):
    echo = types.ModuleType("helpers.course.echo")

    def add_parser(subparsers):
        parser = course_cli.add_verb(subparsers, "echo", "print a word", "Print a word.")
        parser.add_argument("word")
        return parser

    def run(args):
        if args.word == "no":
            raise course_cli.CourseError("refused: no")
        print(args.word)
        return 0

    echo.add_parser, echo.run = add_parser, run
    monkeypatch.setitem(sys.modules, "helpers.course.echo", echo)
    monkeypatch.setattr(course_cli, "VERB_MODULES", (*course_cli.VERB_MODULES, "echo"))
    assert course_cli.main(["echo", "hello"]) == 0 and capsys.readouterr().out == "hello\n"
    assert course_cli.main(["echo", "no"]) == 1
    assert capsys.readouterr().err == "rlhf-course echo: refused: no\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_off_a_terminal():
    stream = io.StringIO()
    progress = Progress(2, stream)
    for name in ("01_a", "02_b"):
        progress.start(name)
        progress.done("ok")
    assert stream.getvalue() == "[1/2] 01_a ... ok\n[2/2] 02_b ... ok\n"


def test_progress_redraws_a_bar_on_a_terminal():
    stream = Terminal()
    progress = Progress(4, stream, width=4)
    progress.start("01_a")
    progress.done("ok")
    progress.start("02_b")
    assert stream.getvalue() == ("\r\x1b[K[....] 1/4 01_a ...\r\x1b[K[1/4] 01_a ... ok\n"
                                 "\r\x1b[K[#...] 2/4 02_b ...")


def test_progress_rejects_a_negative_total():
    with pytest.raises(ValueError, match="total"):
        Progress(-1)
