"""Reading a stack file: one located line for whatever keeps it from being a YAML mapping, the line of every field,
and the config keys that look meant for ORION but would be ignored."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from orion_infra.model import StackConfigError, load_stack, read_stack_file
from orion_infra.model.problems import StackProblem


def written(directory: Path, text: str) -> Path:
    path = directory / "Pulumi.orion.yaml"
    path.write_text(text)
    return path


def read_problems(path: Path) -> list[StackProblem]:
    with pytest.raises(StackConfigError) as rejected:
        read_stack_file(path)
    return rejected.value.located


def load_problems(path: Path, today: datetime.date) -> list[str]:
    with pytest.raises(StackConfigError) as rejected:
        load_stack(read_stack_file(path), today=today)
    return [problem.located() for problem in rejected.value.located]


def line_of(path: Path, text: str) -> int:
    found = [number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, found
    return found[0]


def test_a_syntax_error_is_one_line_with_file_line_column_and_what_the_parser_expected(tmp_path: Path) -> None:
    path = written(tmp_path, "config:\n  orion:dns:\n    domain: [orion.home.arpa\n    dnssec: true\n")
    assert [problem.located() for problem in read_problems(path)] == [
        f"{path}:4:11: expected ',' or ']', but got ':' (while parsing a flow sequence from line 3)"
    ]


def test_a_tab_in_the_indentation_is_located(tmp_path: Path) -> None:
    path = written(tmp_path, "config:\n  orion:dns:\n\tdomain: x\n")
    assert [problem.located() for problem in read_problems(path)] == [
        f"{path}:3:1: found character '\\t' that cannot start any token (while scanning for the next token)"
    ]


def test_two_documents_in_one_file_are_one_line(tmp_path: Path) -> None:
    path = written(tmp_path, "config: {}\n---\nconfig: {}\n")
    assert [problem.located() for problem in read_problems(path)] == [
        f"{path}:2:1: but found another document (expected a single document in the stream from line 1)"
    ]


def test_an_unknown_tag_is_one_line(tmp_path: Path) -> None:
    path = written(tmp_path, "config:\n  orion:dns: !vault abc\n")
    (problem,) = read_problems(path)
    assert problem.located().startswith(f"{path}:2:14: could not determine a constructor for the tag '!vault'")


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.orion.yaml"
    path.write_bytes(b"config:\n  orion:dns: {domain: caf\xe9}\n")
    assert [problem.located() for problem in read_problems(path)] == [f"{path}:2:26: not UTF-8 text: byte 0xe9"]


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but a comment\n"])
def test_an_empty_file_says_so(tmp_path: Path, text: str) -> None:
    """Was nine 'is required but missing' lines, one per section."""
    path = written(tmp_path, text)
    (problem,) = read_problems(path)
    assert problem.located() == (
        f"{path}: the file is empty; expected `config:` with ORION's keys (orion:hosts, orion:networks, orion:bgp, "
        "orion:dns, orion:vms, orion:monitoring, orion:backup, orion:access, orion:bootstrap)"
    )


@pytest.mark.parametrize("text", ["config:\n", "config: {}\n", "config:\n  proxmoxve:insecure: 'false'\n"])
def test_a_file_without_orion_keys_is_one_line(tmp_path: Path, text: str, today: datetime.date) -> None:
    path = written(tmp_path, text)
    assert load_problems(path, today) == [
        f"{path}:1: config: no ORION configuration; expected `config:` with ORION's keys (orion:hosts, "
        "orion:networks, orion:bgp, orion:dns, orion:vms, orion:monitoring, orion:backup, orion:access, "
        "orion:bootstrap)"
    ]


def test_a_repeated_key_is_refused_naming_both_lines(tmp_path: Path, default_stack_file: Path) -> None:
    """YAML keeps the last of two equal keys without a word: a VM's second `cores:` or a second `orion:dns:`
    section would silently replace the first."""
    text = default_stack_file.read_text().replace("      cores: 8\n", "      cores: 8\n      cores: 6\n", 1)
    text = text.replace("  orion:backup:\n", "  orion:dns:\n    domain: example.org\n  orion:backup:\n", 1)
    path = written(tmp_path, text)
    cores = line_of(path, "cores: 8")
    dns = [number for number, line in enumerate(text.splitlines(), 1) if line == "  orion:dns:"]
    assert [problem.located() for problem in read_problems(path)] == [
        f"{path}:{cores + 1}: vms.router.cores: 'cores' is given twice, on lines {cores} and {cores + 1}; YAML would "
        "silently keep the last: remove one",
        f"{path}:{dns[1]}: dns: 'orion:dns' is given twice, on lines {dns[0]} and {dns[1]}; YAML would silently "
        "keep the last: remove one",
    ]


def test_a_repeated_key_in_a_flow_mapping_and_outside_orion_is_refused_too(tmp_path: Path) -> None:
    path = written(tmp_path, "config:\n  proxmoxve:insecure: 'true'\n  proxmoxve:insecure: 'false'\n")
    assert [str(problem) for problem in read_problems(path)] == [
        "proxmoxve:insecure: 'proxmoxve:insecure' is given twice, on lines 2 and 3; YAML would silently keep the "
        "last: remove one"
    ]
    path = written(tmp_path, "config:\n  orion:dns: {domain: a, domain: b}\n")
    assert [str(problem) for problem in read_problems(path)] == [
        "dns.domain: 'domain' is given twice, on lines 2 and 2; YAML would silently keep the last: remove one"
    ]


def test_every_field_problem_has_the_line_of_its_field(
    tmp_path: Path, default_stack_file: Path, today: datetime.date
) -> None:
    text = default_stack_file.read_text()
    text = text.replace("{name: mgmt, bridge: vmbr0,", "{name: mgmt, bridge: vmbr9,", 1)
    text = text.replace("    vms: [200, 300, 100]\n", "    vms: [200, 300, 101]\n", 1)
    path = written(tmp_path, text)
    assert load_problems(path, today) == [
        f"{path}:{line_of(path, 'bridge: vmbr9')}: vms.router.nics[3].bridge: bridge 'vmbr9' is not defined "
        "(defined: vmbr0, vmbr1, vmbr2, vmbr3, vmbr4)",
        # An item of a flow list is on its list's line.
        f"{path}:{line_of(path, 'vms: [200, 300, 101]')}: backup.vms[2]: VM 101 is not defined (VM ids: 100, 200, 300)",
    ]


def test_a_missing_field_has_the_line_of_the_mapping_that_lacks_it(
    tmp_path: Path, default_stack_file: Path, today: datetime.date
) -> None:
    text = default_stack_file.read_text().replace("    dnssec: true\n", "", 1)
    text = text.replace("    domain: orion.home.arpa\n", "", 1)
    path = written(tmp_path, text)
    assert load_problems(path, today) == [f"{path}:{line_of(path, 'orion:dns:')}: dns.domain: is required but missing"]


def test_a_missing_section_has_the_line_of_config(
    tmp_path: Path, default_stack_file: Path, today: datetime.date
) -> None:
    text = default_stack_file.read_text()
    start = text.index("  orion:backup:\n")
    path = written(tmp_path, text[:start] + text[text.index("  orion:access:\n") :])
    assert load_problems(path, today) == [f"{path}:{line_of(path, 'config:')}: backup: is required but missing"]


@pytest.mark.parametrize(
    ("misspelt", "meant"),
    [("orin:bgp", "orion:bgp"), ("oiron:bgp", "orion:bgp"), ("orion2:bgp", "orion:bgp"), ("network:bgp", "orion:bgp")],
)
def test_a_misspelt_namespace_is_named_not_ignored(
    tmp_path: Path, default_stack_file: Path, today: datetime.date, misspelt: str, meant: str
) -> None:
    """Was silently ignored: the section was reported missing, or (for a secret) left unset."""
    path = written(tmp_path, default_stack_file.read_text().replace("  orion:bgp:\n", f"  {misspelt}:\n", 1))
    namespace = misspelt.partition(":")[0]
    assert load_problems(path, today) == [
        f"{path}:{line_of(path, misspelt)}: {misspelt}: is in namespace {namespace!r}, not this project's, so ORION "
        f"does not read it; did you mean {meant}?"
    ]


def test_a_secret_in_a_misspelt_namespace_is_named(
    tmp_path: Path, default_stack_file: Path, today: datetime.date
) -> None:
    text = default_stack_file.read_text().replace("config:\n", "config:\n  orino:idracPassword: {secure: v1:abc}\n", 1)
    path = written(tmp_path, text)
    assert load_problems(path, today) == [
        f"{path}:7: orino:idracPassword: is in namespace 'orino', not this project's, so ORION does not read it; did "
        "you mean orion:idracPassword?"
    ]


def test_the_providers_and_pulumi_namespaces_are_left_alone(
    tmp_path: Path, default_stack_file: Path, today: datetime.date
) -> None:
    others = "".join(
        f"  {key}: 'x'\n"
        for key in ("proxmoxve:insecure", "pulumi:tags", "command:shell", "random:seed", "aws:region", "tls:x")
    )
    path = written(tmp_path, default_stack_file.read_text().replace("config:\n", "config:\n" + others, 1))
    assert load_stack(read_stack_file(path), today=today)


def test_a_value_that_contains_itself_is_one_located_line(tmp_path: Path) -> None:
    path = written(tmp_path, "config:\n  orion:hosts: &hosts [*hosts]\n")
    assert [problem.located() for problem in read_problems(path)] == [
        f"{path}:2: hosts[0]: an alias refers to a node that contains it, a value without end: write the value out"
    ]


@pytest.mark.parametrize(
    ("depth", "said"),
    [
        (990, "nested too deeply to be read (hundreds of levels); a stack file needs a handful"),
        (1500, "2:1014: exceeded maximum nesting depth (while increasing flow level from line 2)"),
    ],
)
def test_nesting_deeper_than_any_stack_file_is_one_line(tmp_path: Path, depth: int, said: str) -> None:
    path = written(tmp_path, "config:\n  orion:hosts: " + "[" * depth + "]" * depth + "\n")
    (problem,) = read_problems(path)
    assert problem.located().startswith(str(path))
    assert problem.located().endswith(said)
