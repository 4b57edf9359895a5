"""Turns the README's walk-throughs into one bash script (scripts/readme/run.sh runs it).

    python3 extract.py README.md BASE_URL > walkthrough.sh

Takes every ```sh block from the heading "## Walk-through with curl" up to the next
heading "## Configuration", in order, except a block right after the comment
`<!-- readme: not run -->` (one that starts a long-running program). In each block:

- `http://127.0.0.1:8080` becomes BASE_URL (the test server's free port);
- a comment line `# -> NNN ...` (a status first) becomes `readme_expect NNN`: the
  last request must have answered NNN. Any other answer of 400 or more that no such
  line expects fails the run (scripts/readme/prelude.sh).

Each block is preceded by an echo naming it, and followed by `readme_block_done`.
"""

import re
import sys

START = "## Walk-through with curl"
END = "## Configuration"
SKIP = "<!-- readme: not run -->"
EXPECT = re.compile(r"^(\s*)# -> (\d{3})\b")


def blocks(text):
    lines = text.splitlines()
    try:
        start = lines.index(START)
        end = lines.index(END, start)
    except ValueError as missing:
        raise SystemExit(f"README.md: heading not found: {missing}")
    section = ""
    skip_next = False
    index = start
    while index < end:
        line = lines[index]
        if line.startswith("#"):
            section = line.lstrip("# ").strip()
        if line.strip() == SKIP:
            skip_next = True
        elif line.strip() == "```sh":
            body = []
            index += 1
            while lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            if not skip_next:
                yield section, index + 1, body
            skip_next = False
        elif line.strip() and not line.startswith("<!--"):
            # A paragraph between the comment and the block cancels nothing, but a
            # heading does.
            if line.startswith("#"):
                skip_next = False
        index += 1


def main(path, base_url):
    text = open(path, encoding="utf-8").read()
    out = []
    count = 0
    for section, line_no, body in blocks(text):
        count += 1
        out.append(f"readme_block_start {count} {line_no} {section!r}")
        for line in body:
            line = line.replace("http://127.0.0.1:8080", base_url)
            match = EXPECT.match(line)
            if match:
                line = f"{match.group(1)}readme_expect {match.group(2)}"
            out.append(line)
        out.append("readme_block_done")
    if count == 0:
        raise SystemExit("README.md: no sh block in the walk-throughs")
    print("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
