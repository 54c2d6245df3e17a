"""Whether the `aws` found may run CLI v1 on one call and CLI v2 on the next.

The CLI itself is a program (the v2 installer's ``aws``) or a Python script that imports
``awscli`` (pip's console script, Homebrew's, a distribution's).  Anything else found as ``aws``
is a wrapper, and a wrapper can choose what it runs at each call: by an environment variable,
the directory, a file it reads.  One ``aws --version`` then says nothing about the next call, so
the call is judged under both CLIs' rules and the stricter verdict is taken
(:func:`awsguard.host.realcli.semantics`).

A wrapper whose choice cannot vary is read through instead: a shell script that hands its
arguments (``"$@"``) to one program spelled as a fixed absolute path (Nix's ``makeWrapper``
output, most hand-written wrappers) runs what that program runs, so the program is examined in
its place (at most :data:`MAX_HOPS` deep).  The shell is not run, only read, and only well enough
to find where the arguments go; whatever it cannot be sure of counts as a choice
(docs/ARCHITECTURE.md §10.3, "Wrappers").

Nothing here starts a process.  The result, and the files read to reach it, are kept in the
version probe's cache (``cli.marshal``), so a decision pays for this only when one of those
files changes.
"""

from __future__ import annotations

import os

from awsguard.host.findaws import _is_executable_file, _read_head

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# A wrapper longer than this is not read to the end, so it counts as one that may choose.
SCRIPT_MAX = 64 * 1024
# Wrappers of wrappers followed before the chain counts as one that may choose.
MAX_HOPS = 8

# Why an `aws` may run either CLI (shown by `explain`; never any of the file's own text).
MANAGER = "a version manager's shim: it picks the CLI by the directory and environment"
CHOOSES = "a script that chooses the program it runs as it runs (a variable, a branch, PATH)"
UNREAD = "a script awsguard cannot read to the end"
FOREIGN = "a script in a language awsguard does not read"
NOT_THE_CLI = "a Python script that does not import awscli"
INTERPRETER = "a script whose Python is itself a wrapper"
TOO_DEEP = f"a chain of more than {MAX_HOPS} wrappers"

# What a version manager's shim holds: it picks the CLI (and so v1 or v2) by the environment and
# the directory at each call.
MANAGER_MARKS = (
    b'/libexec/pyenv" exec ',  # pyenv (rbenv-style: `exec "$PYENV_ROOT/libexec/pyenv" exec …`)
    b"asdf exec ",  # asdf
    b"mise exec ",
    b"mise x ",
)
# Shims that are links to the manager's own program.
MANAGER_PROGRAMS = frozenset({"mise", "rtx", "aqua-proxy"})

_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "busybox"})

# Words that begin or end a compound command: the command proper follows them.
_PREFIX_WORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until"})
_PREFIX_WORDS |= frozenset({"!", "{", "}", "esac", "time"})
# Commands that take the arguments without running anything else.
_INERT = frozenset(
    {
        "set", "shift", "printf", "echo", ":", "true", "false", "test", "[", "[[", "local",
        "export", "readonly", "declare", "typeset", "unset", "return", "exit", "let", "for",
        "case", "select", "read", "getopts", "wait", "trap",
    }
)  # fmt: skip
# Commands that run the word after their own options: the program is looked for past them.
_RUNNERS = frozenset({"exec", "command", "builtin", "nohup", "nice", "env"})
# Words that pass the call's arguments on.
_FORWARDS = ("$@", "${@}", "$*", "${*}")


def examine(path: str, environ: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """(why the aws at ``path`` may run either CLI, or None when it always runs the same one;
    the files read to decide, the first being ``path``'s own real path)."""
    read: list[str] = []
    why = _examine(path, environ, read, 0)
    return why, read


def _examine(path: str, environ: Mapping[str, str], read: list[str], hops: int) -> str | None:
    if hops > MAX_HOPS:
        return TOO_DEEP
    real = os.path.realpath(path)
    read.append(real)
    if os.path.basename(real) in MANAGER_PROGRAMS:
        return MANAGER
    head = _read_head(real, SCRIPT_MAX + 1)
    # A program (or an executable nobody can read, which only a program can be) is the CLI.
    if head is None or not head.startswith(b"#!"):
        return None
    if any(mark in head for mark in MANAGER_MARKS):
        return MANAGER
    if len(head) > SCRIPT_MAX:
        return UNREAD
    python = python_interpreter(real, environ)
    if python is not None:
        if not _imports_awscli(head):
            return NOT_THE_CLI
        # `#!/usr/bin/env python3` can find a version manager's python shim.
        interp = _read_head(python[0], 2)
        read.append(os.path.realpath(python[0]))
        return INTERPRETER if interp is not None and interp.startswith(b"#!") else None
    shell = _shell(head)
    if shell is None:
        return FOREIGN
    read.append(os.path.realpath(shell))
    target = _forwarded_to(head.decode("utf-8", "surrogateescape"))
    if target is None:
        return CHOOSES
    if target == "":
        return None  # it passes the arguments to nothing: it is what it is (its probe says)
    return _examine(target, environ, read, hops + 1)


def _which(name: str, environ: Mapping[str, str]) -> str | None:
    for entry in environ.get("PATH", os.defpath).split(os.pathsep):
        if entry.startswith("/"):
            candidate = os.path.join(entry, name)
            if _is_executable_file(candidate) is not None:
                return candidate
    return None


def python_interpreter(script: str, environ: Mapping[str, str]) -> list[str] | None:
    """``[interpreter, *flags]`` a Python script runs under, from its ``#!`` line; else None.

    Understands ``#!/path/python3 [-flags]``, ``#!/usr/bin/env python3`` and pip's launcher for
    long or spaced interpreter paths (``#!/bin/sh`` then ``'''exec' "/path/python" "$0" "$@"``).
    """
    head = _read_head(script, 1024)
    if head is None or not head.startswith(b"#!"):
        return None
    lines = head.split(b"\n", 2)
    # Linux: the interpreter ends at the first blank; the rest of the line is one argument.
    first = os.fsdecode(lines[0][2:].strip(b" \t\r"))
    interp, _, arg = first.replace("\t", " ").partition(" ")
    arg = arg.strip()
    base = os.path.basename(interp)
    if base == "sh" and len(lines) > 1 and lines[1].startswith(b"'''exec' "):
        rest = os.fsdecode(lines[1][len(b"'''exec' ") :])
        quoted = rest.startswith('"')
        interp = rest[1:].partition('"')[0] if quoted else rest.partition(" ")[0]
        arg = ""
    elif base == "env":
        if not arg or arg.startswith("-") or " " in arg:
            return None
        found = arg if arg.startswith("/") else _which(arg, environ)
        if found is None:
            return None
        interp, arg = found, ""
    name = os.path.basename(interp)
    if not interp.startswith("/") or not name.startswith(("python", "pypy")):
        return None
    if (arg and not arg.startswith("-")) or _is_executable_file(interp) is None:
        return None
    return [interp, arg] if arg else [interp]


def _imports_awscli(head: bytes) -> bool:
    for line in head.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in (b"import", b"from"):
            module = words[1].rstrip(b",")
            if module == b"awscli" or module.startswith(b"awscli."):
                return True
    return False


def _shell(head: bytes) -> str | None:
    """The program of a ``#!`` line naming a shell (directly or through ``env``), or None."""
    first = head.split(b"\n", 1)[0][2:].decode("utf-8", "surrogateescape").split()
    if not first or not first[0].startswith("/"):
        return None
    name = os.path.basename(first[0])
    if name == "env" and len(first) > 1:
        name = os.path.basename(first[1])
    return first[0] if name in _SHELLS else None


def _forwarded_to(text: str) -> str | None:
    """The one program a shell script hands its arguments to: its absolute path; ``""`` when it
    hands them to none; None when that can vary (a variable or a relative name in the program's
    place, two different programs, ``eval``/``source``)."""
    functions = set()
    commands = list(_commands(text))
    for words in commands:
        if len(words) == 2 and words[1] == "()" and _is_name(words[0]):
            functions.add(words[0])
        elif len(words) >= 2 and words[0] == "function" and _is_name(words[1].rstrip("()")):
            functions.add(words[1].rstrip("()"))
    found: set[str] = set()
    for words in commands:
        if not any(forward in word for word in words for forward in _FORWARDS):
            continue
        program = _program(words)
        if program == "" or program in functions:
            continue
        if program is None or not _literal_absolute(program):
            return None
        found.add(_unquote(program))
    if len(found) > 1:
        return None
    return found.pop() if found else ""


def _program(words: list[str]) -> str | None:
    """The word in the program's place (quotes kept), ``""`` for a command that runs nothing
    (an inert builtin or keyword), None when it cannot be told."""
    i = 0
    while i < len(words) and (words[i] in _PREFIX_WORDS or _is_assignment(words[i])):
        i += 1
    if i < len(words) and words[i] == "function":  # `function NAME {`: its body follows
        i += 2
        while i < len(words) and words[i] in ("()", "{"):
            i += 1
    while i < len(words) and os.path.basename(_unquote(words[i])) in _RUNNERS:
        runner = os.path.basename(_unquote(words[i]))
        i += 1
        while i < len(words) and (words[i].startswith("-") or _is_assignment(words[i])):
            takes_value = (runner == "exec" and words[i] == "-a") or (
                runner == "nice" and words[i] == "-n"
            )
            takes_value = takes_value or (runner == "env" and words[i] in ("-u", "-C"))
            i += 2 if takes_value else 1
    if i >= len(words):
        return ""
    word = words[i]
    if word in _INERT:
        return ""
    if word in ("eval", ".", "source"):
        return None
    return word


def _literal_absolute(word: str) -> bool:
    if any(c in word for c in "$`*?[~\\"):
        return False
    return _unquote(word).startswith("/")


def _unquote(word: str) -> str:
    return word.replace('"', "").replace("'", "")


def _is_name(word: str) -> bool:
    return bool(word) and (word[0].isalpha() or word[0] == "_") and word.replace("_", "a").isalnum()


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and _is_name(name)


_SEPARATORS = frozenset(";&|()\n")


def _commands(text: str) -> list[list[str]]:
    """The simple commands of a shell script as lists of words (quotes kept, comments dropped).

    Only as much of the shell's grammar as finding "which program gets the arguments" needs:
    quotes, ``\\`` escapes, ``${…}``/``$(…)``/backquote substitutions kept inside their word,
    and ``; & | && || ( ) newline`` between commands.  Linear in the text; nesting is counted,
    not recursed.
    """
    commands: list[list[str]] = []
    words: list[str] = []
    word: list[str] = []
    i, n = 0, len(text)

    def end_word() -> None:
        if word:
            words.append("".join(word))
            word.clear()

    def end_command() -> None:
        end_word()
        if words:
            commands.append(list(words))
            words.clear()

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":
                word.append(text[i : i + 2])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = n - 1 if j < 0 else j
            word.append(text[i : j + 1])
            i = j + 1
        elif c == '"' or c == "`" or (c == "$" and i + 1 < n and text[i + 1] in "({"):
            j = _closing(text, i)
            word.append(text[i : j + 1])
            i = j + 1
        elif c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in " \t\r":
            end_word()
            i += 1
        elif c in _SEPARATORS:
            if c == "(" and text.startswith("()", i):
                end_word()
                words.append("()")
                end_command()  # a function's header: its body is commands of its own
                i += 2
                continue
            end_command()
            i += 1
        else:
            word.append(c)
            i += 1
    end_command()
    return commands


def _closing(text: str, start: int) -> int:
    """Where the quote or substitution opened at ``start`` ends (the text's end if never)."""
    n = len(text)
    opener = text[start]
    if opener == "$":
        close, opens = ("}" if text[start + 1] == "{" else ")"), text[start + 1]
        depth, i = 1, start + 2
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == "'" and close == ")":
                j = text.find("'", i + 1)
                i = n if j < 0 else j + 1
                continue
            if c == '"':
                i = _closing(text, i) + 1  # a double quote's own scan does not recurse
                continue
            if c == opens:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return n - 1
    i = start + 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == opener:
            return i
        i += 1
    return n - 1
