#!/usr/bin/python3
"""The house rules of src/ (src/README), checked from the C text.

  src-rules.py lengths [SRC]   every function body in SRC/**/*.c is at most
                               80 lines, or the comment right above it says
                               "long because"
  src-rules.py includes [SRC]  every #include runs down the layers that
                               SRC/README lists; every file is in one layer

SRC defaults to src/. Each finding is one line "FILE:LINE: what"; the exit
status is 1 when there is one, 2 when the table itself is unusable.
"""

import fnmatch
import os
import re
import sys

MAX_BODY = 80
MARKER = "long because"


def unusable(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def c_files(src, exts=(".c",)):
    for top, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(exts):
                yield os.path.relpath(os.path.join(top, f), src)


def blank_out(text):
    """The text with comments, string and character literals and preprocessor
    lines turned into spaces (newlines kept, so line numbers hold)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            # a directive, with its backslash continuations
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        line_start = c == "\n"
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def comment_above(lines, first):
    """The comment that ends on the line right above line index first."""
    k = first - 1
    if k < 0 or not lines[k].rstrip().endswith("*/"):
        if k >= 0 and lines[k].lstrip().startswith("//"):
            block = []
            while k >= 0 and lines[k].lstrip().startswith("//"):
                block.insert(0, lines[k])
                k -= 1
            return "\n".join(block)
        return ""
    block = []
    while k >= 0:
        block.insert(0, lines[k])
        if "/*" in lines[k]:
            break
        k -= 1
    return "\n".join(block)


def functions(text):
    """(name, first line index of the definition, '{' line index, '}' line
    index) of every function definition: a '{' at file level whose
    preceding token is the ')' closing a parameter list."""
    code = blank_out(text)
    depth = 0
    i = 0
    result = []
    while i < len(code):
        c = code[i]
        if c == "{":
            if depth == 0:
                fn = definition_before(code, i)
                if fn:
                    end = matching_brace(code, i)
                    result.append((fn[0], code.count("\n", 0, fn[1]),
                                   code.count("\n", 0, i), code.count("\n", 0, end)))
                    i = end + 1
                    continue
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return result


def matching_brace(code, i):
    depth = 0
    for j in range(i, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def definition_before(code, brace):
    """(name, offset where the declaration starts) when the '{' at brace
    opens a function body, else None."""
    j = brace - 1
    while j >= 0 and code[j].isspace():
        j -= 1
    # __attribute__((...)) after the parameter list would also end in ')':
    # a parameter list is a ')' whose '(' follows a name.
    if j < 0 or code[j] != ")":
        return None
    depth = 0
    while j >= 0:
        if code[j] == ")":
            depth += 1
        elif code[j] == "(":
            depth -= 1
            if depth == 0:
                break
        j -= 1
    m = re.search(r"([A-Za-z_]\w*)\s*$", code[:j])
    if not m or m.group(1) in ("if", "while", "for", "switch", "return", "sizeof"):
        return None
    # the declaration starts after the previous ';', '}' or blank line
    start = max(code.rfind(";", 0, m.start()), code.rfind("}", 0, m.start()),
                code.rfind("\n\n", 0, m.start()) + 1)
    while start < m.start() and code[start] in ";}\n \t":
        start += 1
    return m.group(1), start


def check_lengths(src):
    bad = 0
    for rel in c_files(src):
        text = open(os.path.join(src, rel), encoding="utf-8", errors="replace").read()
        lines = text.split("\n")
        for name, first, open_l, close_l in functions(text):
            body = close_l - open_l - 1
            if body <= MAX_BODY:
                continue
            if MARKER in comment_above(lines, first).lower():
                continue
            print(f"{os.path.join(src, rel)}:{first + 1}: {name}() has {body} lines of body"
                  f" (at most {MAX_BODY}, or say why above it with \"{MARKER}\")")
            bad += 1
    return bad


def read_layers(src):
    """[(name, patterns, uses or None)] from SRC/README, lowest layer first."""
    table = []
    path = os.path.join(src, "README")
    try:
        readme = open(path, encoding="utf-8").read()
    except OSError as e:
        unusable(f"{path}: {e.strerror}")
    for ln, line in enumerate(readme.split("\n"), 1):
        m = re.match(r"(layer|leaf) ([\w-]+): (.*)$", line)
        if not m:
            continue
        kind, name, rest = m.groups()
        uses = None
        if kind == "leaf":
            pats, sep, used = rest.partition(" uses ")
            if not sep:
                unusable(f"{path}:{ln}: a leaf says which layers it uses (\"uses ...\")")
            uses = used.split()
            rest = pats
            known = {t[0] for t in table if t[2] is None}
            for u in uses:
                if u not in known:
                    unusable(f"{path}:{ln}: {u}: no such layer above this line")
        table.append((name, rest.split(), uses))
    if not table:
        unusable(f"{path}: no \"layer NAME: PATTERNS\" lines")
    return table


def place(table, rel):
    hits = [i for i, (_, pats, _) in enumerate(table) if any(fnmatch.fnmatchcase(rel, p) for p in pats)]
    return hits


def may_include(table, a, b):
    """Whether a file of table entry a may include a header of entry b."""
    name_a, _, uses_a = table[a]
    name_b, _, uses_b = table[b]
    if a == b:
        return True
    if uses_b is not None:          # another leaf's header
        return False
    if uses_a is not None:
        return name_b in uses_a
    return b < a


def resolve(src, rel, header):
    """The file under src a quoted #include names: next to the includer
    first, then src/ itself (the build's -Isrc); None when neither has it."""
    for cand in (os.path.join(os.path.dirname(rel), header), header):
        cand = os.path.normpath(cand)
        if os.path.isfile(os.path.join(src, cand)):
            return cand
    return None


def check_includes(src):
    table = read_layers(src)
    bad = 0
    where = {}
    for rel in c_files(src, (".c", ".h")):
        hits = place(table, rel)
        if len(hits) != 1:
            what = "no layer" if not hits else "more than one layer (" + ", ".join(table[h][0] for h in hits) + ")"
            print(f"{os.path.join(src, rel)}:1: in {what} of {os.path.join(src, 'README')}")
            bad += 1
        else:
            where[rel] = hits[0]
    for rel, layer in where.items():
        lines = open(os.path.join(src, rel), encoding="utf-8", errors="replace").read().split("\n")
        for ln, line in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^">]+)[">]', line)
            if not m:
                continue
            target = resolve(src, rel, m.group(2))
            if target is None:
                if m.group(1) == '"':
                    print(f"{os.path.join(src, rel)}:{ln}: #include \"{m.group(2)}\": no such file in src/")
                    bad += 1
                continue
            if target not in where:
                continue            # reported above
            if not may_include(table, layer, where[target]):
                print(f"{os.path.join(src, rel)}:{ln}: {table[layer][0]} includes {target}"
                      f" of {table[where[target]][0]}, which it may not (src/README)")
                bad += 1
    return bad


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("lengths", "includes"):
        unusable(__doc__.strip())
    src = sys.argv[2] if len(sys.argv) == 3 else "src"
    bad = check_lengths(src) if sys.argv[1] == "lengths" else check_includes(src)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
