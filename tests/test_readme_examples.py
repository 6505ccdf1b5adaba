"""Every ``miyun-spatial`` example in README.md runs as written.

Two kinds of examples: commands written out in the text (```miyun-spatial build --offline```),
run as they are; and the synopses of the Commands table (```mix [GPKG] [--use
current/planned/adjusted] [--indices]```), run with every optional part given, once per
alternative, the placeholders (GPKG, DIR, FILE, ...) filled in. They run in process through
click's CliRunner, in a scratch folder holding ``old.gpkg`` and ``geodata/miyun.gpkg`` copies
(the paths the text uses). ``watch`` gets ``--max-runs 0`` (build once, then stop).
"""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from click.testing import CliRunner
from conftest import REPO

from miyun_spatial.cli import cli

COMMANDS = {name: cli.get_command(None, name) for name in cli.list_commands(None)}

README = (REPO / "README.md").read_text(encoding="utf-8")
INLINE = re.compile(r"`miyun-spatial ([^`]+)`")
TABLE_ROW = re.compile(r"^\| `([a-z-]+(?: [^`]*)?)` \|", re.MULTILINE)
OPTIONAL = re.compile(r"\[([^\]]+)\]")


def inline_examples() -> list[str]:
    """Commands in the text; ``COMMAND --help`` stands for every command's help."""
    out = []
    for example in sorted(set(INLINE.findall(README))):
        if example.startswith("COMMAND "):
            out += [example.replace("COMMAND", name, 1) for name in sorted(COMMANDS)]
        else:
            out.append(example)
    return out


def commands_section() -> str:
    start = README.index("## Commands")
    return README[start : README.index("\n## ", start + 1)]


def synopsis_examples() -> list[str]:
    """Each synopsis of the Commands table as runnable command lines."""
    out = []
    for synopsis in TABLE_ROW.findall(commands_section()):
        choices = [_alternatives(part) for part in OPTIONAL.findall(synopsis)]
        base = OPTIONAL.sub("", synopsis).split()
        first = [c[0] for c in choices]
        variants = [first] + [
            [*first[:i], alt, *first[i + 1 :]] for i, c in enumerate(choices) for alt in c[1:]
        ]
        out += [" ".join(base + v) for v in variants]
    return out


def _alternatives(part: str) -> list[str]:
    """'--use current/planned/adjusted' -> one string per value; '--csv/--json' -> each flag."""
    words = part.split()
    if len(words) == 1 and "/" in words[0] and words[0].startswith("--"):
        return words[0].split("/")
    if len(words) == 2 and "/" in words[1] and not words[1].startswith(("/", ".")):
        return [f"{words[0]} {value}" for value in words[1].split("/")]
    return [part]


PLACEHOLDERS = {
    "GPKG": "geodata/miyun.gpkg",
    "OLD": "old.gpkg",
    "NEW": "geodata/miyun.gpkg",
    "DIR": "out",
    "B": "light",
    "KEY": "0123456789abcdef",
    "N": "2",
}


def _args(example: str) -> list[str]:
    args = [PLACEHOLDERS.get(word, word) for word in shlex.split(example)]
    if args[0] == "init-default":
        args = [("new.gpkg" if a == "FILE" else a) for a in args]
    if args[0] == "catalogue":
        args = [("LAYERS.md" if a == "FILE" else a) for a in args]
    if args[0] == "watch":
        args += ["--max-runs", "0"]
    return args


# Commands whose synopsis needs what a test cannot invent from the README alone: a delivery to
# import (its own tests build Shapefiles, FileGDBs, DXFs in code) or a PostgreSQL server (the
# PostGIS tests start one). Their synopses are checked option by option against the command.
NEEDS_OUTSIDE_INPUT = {"import", "publish", "export"}

EXAMPLES = inline_examples() + synopsis_examples()
RUNNABLE = [e for e in EXAMPLES if shlex.split(e)[0] not in NEEDS_OUTSIDE_INPUT]
DESCRIBED = [e for e in EXAMPLES if shlex.split(e)[0] in NEEDS_OUTSIDE_INPUT]


def test_the_readme_has_examples_of_every_command():
    commands = {shlex.split(e)[0] for e in EXAMPLES}
    assert commands == set(COMMANDS), commands ^ set(COMMANDS)
    assert "yield GPKG --table zones --grades 1.0,0.7,0.4" in EXAMPLES  # fixed: was A,B,C


@pytest.fixture
def scratch(tmp_path, monkeypatch, default_gpkg):
    (tmp_path / "geodata").mkdir()
    shutil.copyfile(default_gpkg, tmp_path / "geodata" / "miyun.gpkg")
    shutil.copyfile(default_gpkg, tmp_path / "old.gpkg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("example", DESCRIBED)
def test_readme_synopsis_names_only_real_options(example):
    words = shlex.split(example)
    command = COMMANDS[words[0]]
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    known |= {"--help", "-h"}
    options = {w for w in words[1:] if w.startswith("--")}
    assert options <= known, options - known
    assert CliRunner().invoke(cli, [words[0], "--help"]).exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("example", RUNNABLE)
def test_readme_example_runs_as_written(scratch, example):
    result = CliRunner().invoke(cli, _args(example), catch_exceptions=False)
    assert result.exit_code == 0, f"miyun-spatial {example}: {result.output}"
