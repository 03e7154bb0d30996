#!/usr/bin/env python3
"""Writes python.json: what Python's re module answers for each case, the
golden data of pyre's tests. Run from this folder after changing CASES:
python3 gen.py > python.json"""
import json
import warnings
import re
import sys

warnings.simplefilter("ignore")
I, M, S, X = re.I, re.M, re.S, re.X
FLAGS = {"i": I, "m": M, "s": S, "x": X, "a": re.A}

# (op, pattern, flags, input[, replacement])
CASES = [
    # lookaround and backreferences, the reason for the engine
    ("search", r"^(?!.*no_pass_expiry)password\s+.*pam_unix\.so", "", "password [success=1 default=ignore] pam_unix.so obscure sha512"),
    ("search", r"^(?!.*no_pass_expiry)password\s+.*pam_unix\.so", "", "password [success=1] pam_unix.so no_pass_expiry sha512"),
    ("search", r"(?<=foo)bar", "", "foobar"),
    ("search", r"(?<!foo)bar", "", "foobar xbar"),
    ("search", r"^(REF) .* \1$", "", "REF this is a line for backrefs REF"),
    ("search", r"^(REF) .* \1$", "", "REF this is a line for backrefs REX"),
    ("search", r"(?P<w>\w+) (?P=w)", "", "say hello hello world"),
    ("search", r"(a)(?P<n>b)(c)", "", "xabc"),
    # anchors and $
    ("search", r"abc$", "", "abc\n"),
    ("search", r"abc$", "", "abc\n\n"),
    ("search", r"abc\Z", "", "abc\n"),
    ("search", r"abc\Z", "", "abc"),
    ("search", r"\Aabc", "", "abc"),
    ("search", r"^b", "", "a\nb"),
    ("search", r"^b", "m", "a\nb"),
    ("search", r"a$", "m", "a\nb"),
    ("search", r"(?m)a$", "", "a\nb"),
    ("search", r"a.b", "", "a\nb"),
    ("search", r"a.b", "s", "a\nb"),
    ("search", r"(?s)a.b", "", "a\nb"),
    ("search", r"ABC", "i", "xabcx"),
    ("search", r"(?i)ABC", "", "xabcx"),
    ("search", r"(?i:A)BC", "", "aBC abc"),
    ("search", r"(?u)\w+", "", "héllo"),
    ("search", r"(?x) a b  c # comment", "", "abc"),
    ("search", r"a b c # comment", "x", "abc"),
    ("search", r"[ ]x", "x", "a x"),
    ("search", r"\d+", "", "abc 123"),
    ("search", r"x{,2}y", "", "xxxy"),
    ("search", r"x{2,}", "", "xxxy"),
    ("search", r"a{1,2", "", "a{1,2"),
    ("search", r"[[]x", "", "[x"),
    ("search", r"[a-[]", "", "["),
    ("search", r"[]a]+", "", "x]a]"),
    ("search", r"[^]a]+", "", "]abc"),
    ("search", r"\U0001F600", "", "smile \U0001F600"),
    ("search", r"\u00e9", "", "caf\u00e9"),
    ("search", r"\x41", "", "xAx"),
    ("search", r"(?#comment)ab", "", "ab"),
    ("search", r"(a)?b", "", "b"),
    ("search", r"é(.)", "", "aébc"),
    ("search", r"^\s*#?\s*PermitRootLogin\s", "", "#PermitRootLogin yes"),
    ("search", r"(?:a|(b))+", "", "ab"),
    ("search", r"^(?P<key>[^=]+)=(?P<val>.*)$", "", "key=value"),
    # re.ASCII (lineinfile's bytes patterns) and (?a)
    ("search", r"\w+", "a", "héllo"),
    ("search", r"\w+", "", "héllo"),
    ("search", r"(?a)\w+", "", "héllo"),
    ("search", r"[\w.]+", "a", "é.ab"),
    ("search", r"\W", "a", "aéb"),
    ("search", r"\d+", "a", "\u0661\u0662 12"),
    ("search", r"\s", "a", "a\u00a0b c"),
    ("search", r"[^\d]+", "a", "12ab"),
    # match and fullmatch
    ("match", r"b", "", "ab"),
    ("match", r"a", "", "ab"),
    ("match", r"a|ab", "", "ab"),
    ("match", r"^b", "m", "a\nb"),
    ("fullmatch", r"a|ab", "", "ab"),
    ("fullmatch", r"a", "", "ab"),
    ("fullmatch", r"a", "", "a\n"),
    ("fullmatch", r"a$", "", "a\n"),
    ("fullmatch", r"a b # c", "x", "ab"),
    # findall / finditer
    ("findall", r"x*", "", "abxd"),
    ("findall", r"\d+", "", "1 22 333"),
    ("findall", r"(\w)=(\d)", "", "a=1 b=2"),
    ("findall", r"^\w", "m", "ab\ncd\n"),
    ("findall", r"(?<=,)\w+", "", "a,b,cd"),
    # sub with Python templates
    ("sub", r"x*", "", "abxd", "-"),
    ("sub", r"(\w+)@(\w+)", "", "me@host you@there", r"\2 at \1"),
    ("sub", r"(?P<user>\w+)@(?P<host>\w+)", "", "me@host", r"\g<host>/\g<user>/\g<0>/\g<1>"),
    ("sub", r"(a)", "", "a", r"$1 \1$"),
    ("sub", r"a", "", "a", r"\n\t\\x\.y"),
    ("sub", r"(a)(b)?", "", "a", r"[\2]"),
    ("sub", r"(a)", "", "a", r"\10"),
    ("sub", r"a", "", "a", r"\101\0"),
    ("sub", r"^", "m", "one\ntwo\n", "# "),
    ("sub", r"$", "m", "one\ntwo\n", ";"),
    ("sub", r"^(\s*)#\s*(PermitRootLogin)\s.*$", "m", "a\n#PermitRootLogin yes\nb\n", r"\1\2 no"),
    ("sub", r"é", "", "aébé", "e"),
    ("sub", r"", "", "ab", "-"),
    ("sub", r"(a)", "", "a", r"\2"),
    ("sub", r"(a)", "", "a", r"\g<x>"),
    ("sub", r"(a)", "", "a", r"\q"),
    # bad patterns
    ("search", r"(", "", "x"),
    ("search", r"[a", "", "x"),
    # escape
    ("escape", "", "", "a.b*c (d) [e] {f} ^$|?+\\-&~# \t\nxé_1"),
]


def groups(m):
    if m is None:
        return None
    return [m.group(0)] + [g for g in m.groups()]


def run(case):
    op, pat, fl, s = case[:4]
    flags = 0
    for c in fl:
        flags |= FLAGS[c]
    out = {"op": op, "pattern": pat, "flags": fl, "input": s}
    if op == "sub":
        out["repl"] = case[4]
    try:
        if op == "escape":
            out["result"] = re.escape(s)
            return out
        r = re.compile(pat, flags)
        if op in ("search", "match", "fullmatch"):
            out["groups"] = groups(getattr(r, op)(s))
        elif op == "findall":
            out["matches"] = [groups(m) for m in r.finditer(s)]
        elif op == "sub":
            res, n = r.subn(case[4], s)
            out["result"], out["count"] = res, n
    except (re.error, IndexError) as e:
        out["error"] = str(e)
    return out


json.dump([run(c) for c in CASES], sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
