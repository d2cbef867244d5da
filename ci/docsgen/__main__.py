"""``python -m ci.docsgen [--check]``: rewrite the generated documents, or only
say which differ from what the code makes of them (ci/test runs --check)."""

from __future__ import annotations

import argparse
import pathlib
import sys

from ci.docsgen import matrix, readme

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m ci.docsgen"


def generated() -> tuple[dict[str, str], list[str]]:
    """{path relative to the repository: text it should have}, and what is wrong in the sources."""
    matrix_text, problems = matrix.generate(REPO)
    readme_text, readme_problems = readme.render((REPO / readme.PATH).read_text(encoding="utf-8"))
    return {matrix.PATH: matrix_text, readme.PATH: readme_text}, problems + readme_problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.docsgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a document is stale")
    args = parser.parse_args(argv)
    documents, problems = generated()
    for problem in problems:
        print(f"docsgen: {problem}", file=sys.stderr)
    if matrix.requirements_file(REPO) is None:
        print(f"docsgen: note: REQUIREMENTS.md not found beside the repository (set {matrix.REQUIREMENTS_ENV}); "
              "the requirement IDs were not compared with it", file=sys.stderr)
    stale = [path for path, text in documents.items()
             if (REPO / path).read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"docsgen: {path} is not what the code makes of it; regenerate it with: {COMMAND}",
                  file=sys.stderr)
        return 1 if stale or problems else 0
    if problems:
        return 1
    for path in stale:
        (REPO / path).write_text(documents[path], encoding="utf-8")
        print(f"docsgen: rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
