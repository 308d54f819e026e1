"""The shell blocks of Markdown files as one script that runs them in order, in
one shell, and checks what each one's requests answered.

    python3 blocks.py BASE FILE... > script.sh

BASE (http://127.0.0.1:PORT) takes the place of the documents'
http://127.0.0.1:8080: the port is all that changes. A block fails when a request
answers 400 or more that the block does not expect, or 000 (no answer); one that
expects a status must get it. The line before a block's fence may say so:

    <!-- docs-test: expect 404 412 -->
    <!-- docs-test: skip: builds the service -->

A block that builds, installs, runs tests or a benchmark, starts a server or
reaches a host other than 127.0.0.1 must be marked skip: an unmarked one is an
error here, so that a new one cannot slip in untested.
"""

import re
import shlex
import sys

FENCE = re.compile(r"^```sh\s*$")
MARK = re.compile(r"^<!--\s*docs-test:\s*(skip|expect)\b:?\s*(.*?)\s*-->\s*$")
# What a block may not do unmarked: a command that builds, installs, tests or
# serves, or a request to another host.
COMMAND = re.compile(
    r"^\s*(cargo|npm|npx|docker|apt-get|apt|pip|python3 -m venv|bench/|tests/|\.ci/|seesac-api)\b"
)
OUTSIDE = re.compile(r"curl\b[^#]*?\bhttps?://(?!127\.0\.0\.1[:/])")

PRELUDE = r"""
set -u
__status=$(mktemp)
__failed=0
# Every curl of a block, as written, with its status noted on the side.
curl() { command curl -w '%{stderr}@@status %{http_code}\n' "$@" 2>>"$__status"; }
__begin() { __where=$1; __expect=" $2 "; : >"$__status"; echo "--- docs: $1"; }
__end() {
    local tag code seen=" "
    while read -r tag code; do
        [ "$tag" = @@status ] || continue
        seen="$seen$code "
        if [ "$code" = 000 ] || { [ "$code" -ge 400 ] && [[ $__expect != *" $code "* ]]; }; then
            echo "docs: FAIL: $__where: a request answered $code, which the block does not expect" >&2
            __failed=1
        fi
    done <"$__status"
    for code in $__expect; do
        if [[ $seen != *" $code "* ]]; then
            echo "docs: FAIL: $__where: expects a $code, and no request answered it" >&2
            __failed=1
        fi
    done
    grep -v '^@@status' "$__status" >&2 || true
}
"""

EPILOGUE = r"""
rm -f "$__status"
if [ "$__failed" != 0 ]; then
    echo "docs: FAILED" >&2
    exit 1
fi
echo "docs: every block answered as it says"
"""


def blocks(path):
    """(line, mark, argument, text) of each shell block of the file at `path`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found = []
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            mark = MARK.match(lines[i - 1]) if i > 0 else None
            start = i + 1
            end = start
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            found.append(
                (
                    start,
                    mark.group(1) if mark else None,
                    mark.group(2) if mark else "",
                    "\n".join(lines[start:end]),
                )
            )
            i = end
        i += 1
    return found


def main():
    base, files = sys.argv[1], sys.argv[2:]
    out = [PRELUDE]
    errors = []
    for path in files:
        for line, mark, argument, text in blocks(path):
            where = f"{path}:{line}"
            if mark == "skip":
                out.append(f'echo "--- docs: {where}: skipped ({argument})"')
                continue
            risky = [
                code
                for code in text.split("\n")
                if not code.lstrip().startswith("#")
                and (COMMAND.search(code) or OUTSIDE.search(code))
            ]
            if risky:
                errors.append(f"{where}: unmarked, and it runs {risky[0].strip()!r}")
                continue
            expect = argument if mark == "expect" else ""
            if not all(code.isdigit() for code in expect.split()):
                errors.append(f"{where}: expect takes statuses, not {expect!r}")
                continue
            body = text.replace("http://127.0.0.1:8080", base)
            out.append(f"__begin {shlex.quote(where)} {shlex.quote(expect)}\n{body}\n__end")
    if errors:
        for error in errors:
            print(f"docs: {error}: mark it <!-- docs-test: skip: why --> or change it", file=sys.stderr)
        sys.exit(2)
    out.append(EPILOGUE)
    print("\n".join(out))


if __name__ == "__main__":
    main()
