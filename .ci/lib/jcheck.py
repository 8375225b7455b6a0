"""Checks a saved answer with a few lines of Python: `python3 jcheck.py FILE CODE [EXTRA...]`.

CODE runs with `text` (FILE's text), `d` (its JSON, or None when it is not JSON) and `extra`
(the JSON of each EXTRA file, for checks that compare answers). It passes when it raises
nothing, and may set `note` to a short string that the caller prints after the check's name.
Exit status 0 when it passes; otherwise 1, with the error, the line of CODE that raised it and
the start of the answer on stdout.
"""

import json
import sys
import traceback


def load_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def main() -> int:
    path, code, extra_paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    extra = []
    for extra_path in extra_paths:
        with open(extra_path, encoding="utf-8") as f:
            extra.append(load_json(f.read()))
    scope = {"text": text, "d": load_json(text), "extra": extra, "note": ""}
    try:
        exec(compile(code, "<check>", "exec"), scope)  # noqa: S102 - the CI script's own code
    except Exception as e:  # noqa: BLE001 - any error fails the check, with its reason
        print(f"{type(e).__name__}: {e}")
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == "<check>"]
        code_lines = code.splitlines()
        if frames and 0 < frames[-1].lineno <= len(code_lines):
            print("at: " + code_lines[frames[-1].lineno - 1].strip())
        print("answer starts: " + " ".join(text[:600].split()))
        return 1
    if scope.get("note"):
        print(scope["note"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
