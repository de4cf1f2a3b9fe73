"""Just enough of a Nix reader to list the option paths a NixOS module sets, and the `host.*` fields it reads.

Not an evaluator: it tokenizes (strings with interpolations, comments, brackets) and follows attribute sets,
looking through lib.mkIf / lib.mkDefault / lib.mkForce to the attribute set they wrap. What a value computes is
not its business: any other value ends the path there (the option that takes it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MODIFIERS = {
    "lib.mkIf": 1,
    "lib.mkDefault": 0,
    "lib.mkForce": 0,
    "lib.mkOptionDefault": 0,
    "lib.mkBefore": 0,
    # An attribute of lib.listToAttrs's result: the set is its value.
    "lib.nameValuePair": 1,
}
TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*|/\*.*?\*/)
    | (?P<indented>'')
    | (?P<string>")
    | (?P<path>\.{0,2}/[A-Za-z0-9._/+-]+)
    | (?P<name>[A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*)
    | (?P<number>[0-9]+(?:\.[0-9]+)?)
    | (?P<op>\$\{|==|!=|->|\+\+|//|&&|\|\||<=|>=|[{}()\[\];=.:,@?!<>+*/-])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def _string_end(source: str, start: int, closing: str) -> int:
    """The index just past the string that starts at `start` (after its opening quote)."""
    index = start
    while index < len(source):
        if closing == '"' and source[index] == "\\":
            index += 2
            continue
        if closing == "''" and source.startswith("'''", index):
            index += 3
            continue
        if closing == "''" and source.startswith("''$", index):
            index += 3
            continue
        if source.startswith("${", index):
            index = _interpolation_end(source, index + 2)
            continue
        if source.startswith(closing, index):
            return index + len(closing)
        index += 1
    raise ValueError("unterminated string")


def _interpolation_end(source: str, start: int) -> int:
    depth = 1
    index = start
    while depth:
        if source[index] == '"':
            index = _string_end(source, index + 1, '"')
            continue
        if source.startswith("''", index):
            index = _string_end(source, index + 2, "''")
            continue
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        index += 1
    return index


def tokens(source: str) -> list[Token]:
    found: list[Token] = []
    index = 0
    while index < len(source):
        match = TOKEN.match(source, index)
        if match is None:
            raise ValueError(f"cannot read {source[index : index + 30]!r}")
        kind = match.lastgroup or ""
        if kind == "string":
            end = _string_end(source, match.end(), '"')
            found.append(Token("string", source[match.start() : end]))
            index = end
            continue
        if kind == "indented":
            end = _string_end(source, match.end(), "''")
            found.append(Token("string", source[match.start() : end]))
            index = end
            continue
        if kind != "space":
            found.append(Token(kind, match.group()))
        index = match.end()
    return found


OPENING = {"{": "}", "(": ")", "[": "]", "${": "}"}


def _matching(toks: list[Token], start: int) -> int:
    """The index of the bracket that closes the one at `start`."""
    stack = [OPENING[toks[start].text]]
    index = start + 1
    while stack:
        text = toks[index].text
        if text in OPENING:
            stack.append(OPENING[text])
        elif text == stack[-1]:
            stack.pop()
        index += 1
    return index - 1


def _expression_end(toks: list[Token], start: int) -> int:
    """The index of the `;` that ends the binding value starting at `start` (a `let ... in` may hold others)."""
    index = start
    lets = 0
    while True:
        text = toks[index].text
        if text in OPENING:
            index = _matching(toks, index) + 1
            continue
        if text == "let":
            lets += 1
        elif text == "in" and lets:
            lets -= 1
        elif text == ";" and not lets:
            return index
        index += 1


def _attribute_path(toks: list[Token]) -> list[str]:
    """`a.b."c d".${x}` as ["a", "b", "c d", "<name>"]: an interpolated name stands for any."""
    path: list[str] = []
    index = 0
    while index < len(toks):
        token = toks[index]
        if token.kind == "name":
            path.extend(token.text.split("."))
        elif token.kind == "string":
            path.append("<name>" if "${" in token.text else token.text.strip('"'))
        elif token.text == "${":
            path.append("<name>")
            index = _matching(toks, index)
        elif token.text != ".":
            raise ValueError(f"not an attribute path: {' '.join(t.text for t in toks)}")
        index += 1
    return path


def _wrapped_set(toks: list[Token]) -> list[Token] | None:
    """The attribute set a value is, through lib.mkIf COND and the like; None if it is something else."""
    index = 0
    while index < len(toks) and toks[index].text in MODIFIERS:
        index += 1
        for _ in range(MODIFIERS[toks[index - 1].text]):
            index = _matching(toks, index) + 1 if toks[index].text in OPENING else index + 1
    if index < len(toks) and toks[index].text == "{" and _matching(toks, index) == len(toks) - 1:
        return toks[index + 1 : -1]
    return None


def _function_set(toks: list[Token]) -> list[Token] | None:
    """The attribute set a one-argument function (`nic: ...`) returns, if it is one."""
    if len(toks) > 2 and toks[0].kind == "name" and toks[1].text == ":":
        return _wrapped_set(toks[2:])
    return None


def _generated_sets(value: list[Token], functions: dict[str, list[Token]]) -> list[list[Token]]:
    """The attribute sets a value builds its attributes from: functions mapped over a list (`map f xs` under
    lib.listToAttrs), let-bound by name or written in place, each returning `lib.nameValuePair NAME { ... }`."""
    found = []
    for index, token in enumerate(value):
        body: list[Token] | None = None
        if token.text == "(" and index + 2 < len(value) and value[index + 2].text == ":":
            body = _function_set(value[index + 1 : _matching(value, index)])
        elif token.kind == "name" and token.text in functions:
            body = _function_set(functions[token.text]) or _wrapped_set(functions[token.text])
        if body is not None:
            found.append(body)
    return found


def _walk(
    body: list[Token], prefix: tuple[str, ...], functions: dict[str, list[Token]]
) -> list[tuple[tuple[str, ...], list[Token]]]:
    found: list[tuple[tuple[str, ...], list[Token]]] = []
    index = 0
    while index < len(body):
        if body[index].text == "inherit":
            index = _expression_end(body, index) + 1
            continue
        equals = next(i for i in range(index, len(body)) if body[i].text == "=")
        path = (*prefix, *_attribute_path(body[index:equals]))
        end = _expression_end(body, equals + 1)
        value = body[equals + 1 : end]
        inner = _wrapped_set(value)
        # An empty set is a value of its own (users.groups.x = { }).
        found.extend(_walk(inner, path, functions) if inner else [(path, value)])
        if inner is None:
            for generated in _generated_sets(value, functions):
                found.extend(_walk(generated, (*path, "<name>"), functions))
        index = end + 1
    return found


def set_paths(
    body: list[Token], prefix: tuple[str, ...] = (), functions: dict[str, list[Token]] | None = None
) -> list[tuple[str, ...]]:
    """The option paths the bindings of an attribute set's body set, each down to its value (and into the sets
    that functions in `functions`, or written in place, generate for it)."""
    return [path for path, _ in _walk(body, prefix, functions or {})]


def _let_bindings(toks: list[Token]) -> dict[str, list[Token]]:
    """`let NAME = VALUE; ... in`'s bindings by name (simple names only)."""
    bindings = {}
    index = 1
    while toks[index].text != "in":
        equals = next(i for i in range(index, len(toks)) if toks[i].text == "=")
        end = _expression_end(toks, equals + 1)
        if equals == index + 1 and toks[index].kind == "name":
            bindings[toks[index].text] = toks[equals + 1 : end]
        index = end + 1
    return bindings


def _top_values(source: str) -> list[tuple[tuple[str, ...], list[Token]]]:
    toks = tokens(source)
    index = 0
    if toks[0].text == "{" and toks[_matching(toks, 0) + 1].text == ":":  # the module's function arguments
        index = _matching(toks, 0) + 2
    functions: dict[str, list[Token]] = {}
    if toks[index].text == "let":
        functions = _let_bindings(toks[index:])
        index += next(i for i in range(len(toks) - index) if _is_body_start(toks, index + i))
    return _walk(toks[index + 1 : _matching(toks, index)], (), functions)


def _top_bindings(source: str) -> list[tuple[str, ...]]:
    return [path for path, _ in _top_values(source)]


def literal(value: list[Token]) -> str | bool | int | list[str] | None:
    """A value written as a literal: a string, a boolean, a number or a list of strings; None otherwise."""
    texts = [token.text for token in value]
    if len(value) == 1 and value[0].kind == "string" and "${" not in texts[0]:
        return texts[0].strip('"')
    if texts in (["true"], ["false"]):
        return texts == ["true"]
    if len(value) == 1 and value[0].kind == "number":
        return int(texts[0])
    if texts[:1] == ["["] and texts[-1:] == ["]"] and all(token.kind == "string" for token in value[1:-1]):
        return [text.strip('"') for text in texts[1:-1]]
    return None


def _configured(source: str) -> list[tuple[tuple[str, ...], list[Token]]]:
    """What a module's `config` sets (its whole body when it has no `config`), by option path, with the values'
    tokens."""
    values = _top_values(source)
    return [(path[1:], value) for path, value in values if path[0] == "config"] or values


def module_values(source: str) -> dict[tuple[str, ...], object]:
    """The literal values a module's `config` sets, by option path (see literal)."""
    return {path: literal(value) for path, value in _configured(source)}


def module_list_values(source: str, path: tuple[str, ...]) -> list[dict[tuple[str, ...], object]]:
    """The literal values (see literal) each attribute set sets in the list a module's `config` sets `path` to
    (`systemd.mounts = [ { ... } ];`), one dict per set, by path inside it."""
    found: list[dict[tuple[str, ...], object]] = []
    for option, value in _configured(source):
        if option != path or value[:1] == [] or value[0].text != "[":
            continue
        index = 1
        while index < _matching(value, 0):
            if value[index].text == "{":
                end = _matching(value, index)
                found.append({inner: literal(tokens) for inner, tokens in _walk(value[index + 1 : end], (), {})})
                index = end
            index += 1
    return found


def _is_body_start(toks: list[Token], index: int) -> bool:
    """Whether the module's body opens at `index`: the `{` right after the `in` of its top-level `let`."""
    return toks[index].text == "{" and toks[index - 1].text == "in" and _matching(toks, index) == len(toks) - 1


def module_options(source: str) -> list[tuple[str, ...]]:
    """The options a module declares (its `options`)."""
    return [path[1:] for path in _top_bindings(source) if path[0] == "options"]


def module_config(source: str) -> list[tuple[str, ...]]:
    """The option paths a NixOS module (or a host's configuration.nix) sets: its `config`, or its whole body
    when it declares no options; `imports` and `options` are not settings."""
    paths = _top_bindings(source)
    if any(path[0] in ("config", "options") for path in paths):
        return [path[1:] for path in paths if path[0] == "config"]
    return [path for path in paths if path[0] != "imports"]
