#!/usr/bin/env python3
"""Checks communique knowledge-base TOML files against the rules the loader enforces
(services/domain/src/kb.rs) plus the house rules of the shipped knowledge base.

Usage:
    python3 check_kb.py                      # the shipped files: every *.toml next to this script
    python3 check_kb.py PATH...              # these files / directories (*.toml inside, by name)
    python3 check_kb.py --extra PATH...      # the shipped files, then PATH as user extensions

Shipped files must give every id once across all files and kinds. Files passed with --extra
are checked the way the worker loads `--kb PATH` files: an entry that repeats an id of the same
kind extends that entry (aliases and roles are added); repeating an id of another kind is an error.

Exits 1 when there are errors; warnings are printed but do not fail. Python 3.11+, stdlib only.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import tomllib
from pathlib import Path

TOP_KEYS = {"country", "organization", "person", "location"}
ALLOWED = {
    "country": ({"code", "name"}, {"aliases", "demonyms", "capital", "seats"}),
    "organization": ({"id", "name", "kind"}, {"aliases", "government_code", "speaks_for"}),
    "person": ({"id", "name"}, {"aliases", "roles"}),
    "location": ({"id", "name"}, {"aliases", "country"}),
}
ROLE_KEYS = ({"government", "role"}, {"start", "end"})
STRING_LIST_KEYS = {"aliases", "demonyms", "seats"}
ID_RE = re.compile(r"^[a-z0-9-]+$")
COUNTRY_CODE_RE = re.compile(r"^[A-Z]{3}$")
GOV_CODE_RE = re.compile(r"^[A-Z]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Mirrors fold_char in services/domain/src/id.rs.
_FOLD = {}
for _chars, _to in [
    ("àáâãäåāÀÁÂÃÄÅĀ", "a"), ("çÇčČ", "c"), ("èéêëēÈÉÊËĒ", "e"), ("ìíîïīÌÍÎÏİı", "i"),
    ("ñÑ", "n"), ("òóôõöøōÒÓÔÕÖØŌ", "o"), ("ùúûüūÙÚÛÜŪ", "u"), ("ýÿÝ", "y"),
    ("šŠşŞ", "s"), ("žŽ", "z"), ("ğĞ", "g"), ("ß", "s"),
]:
    for _c in _chars:
        _FOLD[_c] = _to
_SEPARATORS = set(" -‐–—_/\t\n\r")
_DROPPED = set("'’‘.,\"“”()")


def normalize_name(name: str) -> str:
    """Python twin of normalize_name in services/domain/src/id.rs."""
    out: list[str] = []
    pending_space = False
    for c in name:
        if c.isascii() and c.isalnum():
            folded = c
        elif c in _SEPARATORS:
            folded = " "
        elif c in _DROPPED:
            folded = None
        elif c in _FOLD:
            folded = _FOLD[c]
        elif c.isalnum():
            folded = c
        elif c.isspace():
            folded = " "
        else:
            folded = None
        if folded == " ":
            pending_space = bool(out)
        elif folded is not None:
            if pending_space:
                out.append(" ")
                pending_space = False
            out.append(folded.lower())
    return "".join(out)


def slugify(name: str) -> str:
    """Python twin of slugify in services/domain/src/id.rs."""
    dashed = "".join(c if (c.isascii() and c.isalnum()) else "-" for c in normalize_name(name))
    return "-".join(part for part in dashed.split("-") if part)


def parse_date(text: str) -> datetime.date | None:
    if not isinstance(text, str) or not DATE_RE.match(text.strip()):
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # id -> (kind, source) for every entity, including capitals.
        self.ids: dict[str, tuple[str, str]] = {}
        self.capitals: dict[str, str] = {}  # capital id -> country code
        self.country_codes: dict[str, str] = {}  # code -> source
        self.governments: dict[str, str] = {}  # government code -> source
        self.speaks_for: list[tuple[str, str, str]] = []  # (where, entity, code)
        self.location_country: list[tuple[str, str, str]] = []
        self.roles: list[tuple[str, str, str]] = []  # (where, role, government)
        self.counts = {"country": 0, "capital": 0, "organization": 0, "intergovernmental": 0,
                       "speaks_for": 0, "person": 0, "role": 0, "location": 0}

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}: {message}")

    # --- helpers ---------------------------------------------------------------------------

    def check_keys(self, where: str, entry: dict, required: set, optional: set) -> bool:
        ok = True
        for key in entry:
            if key not in required | optional:
                self.error(where, f"unknown key {key!r} (allowed: {', '.join(sorted(required | optional))})")
                ok = False
        for key in required:
            if key not in entry:
                self.error(where, f"missing required key {key!r}")
                ok = False
        for key, value in entry.items():
            if key in STRING_LIST_KEYS:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    self.error(where, f"{key} must be a list of strings")
                    ok = False
                else:
                    for v in value:
                        if not v.strip():
                            self.error(where, f"{key} holds an empty string")
                            ok = False
                    # Variants that differ only in accents, case or punctuation ("Erdogan" beside
                    # "Erdoğan", "U.S." beside "US") are kept on purpose; exact repeats are not.
                    dupes = sorted({v for v in value if value.count(v) > 1})
                    if dupes:
                        self.warn(where, f"{key} list the same string twice: {dupes}")
            elif key != "roles" and not isinstance(value, str):
                self.error(where, f"{key} must be a string")
                ok = False
        return ok

    def check_name(self, where: str, entry: dict) -> None:
        name = entry.get("name")
        if isinstance(name, str) and not name.strip():
            self.error(where, "name must not be empty")
        aliases = entry.get("aliases")
        if isinstance(name, str) and isinstance(aliases, list):
            if name in aliases:
                self.warn(where, "an alias repeats the name")

    def claim_id(self, where: str, entity_id: str, kind: str, source: str, extending: bool) -> None:
        existing = self.ids.get(entity_id)
        if existing is None:
            self.ids[entity_id] = (kind, source)
            return
        old_kind, old_source = existing
        if old_kind != kind:
            self.error(where, f"id {entity_id!r} is already a {old_kind} ({old_source}), not a {kind}")
        elif not extending:
            self.error(where, f"duplicate id {entity_id!r} (first in {old_source}); the shipped "
                              "files give every id once")

    # --- entries ---------------------------------------------------------------------------

    def country(self, source: str, entry: dict, extending: bool) -> None:
        where = f"{source}: country {entry.get('code', '?')!r}"
        if not self.check_keys(where, entry, *ALLOWED["country"]):
            return
        self.check_name(where, entry)
        code = entry["code"].strip()
        if not COUNTRY_CODE_RE.match(code):
            self.error(where, "code must be an ISO 3166-1 alpha-3 code in upper case")
            return
        new = code not in self.country_codes
        if not new and not extending:
            self.error(where, f"duplicate country code {code} (first in {self.country_codes[code]})")
        if code in self.governments and new:
            self.error(where, f"government code {code} is already an intergovernmental body's")
        self.country_codes.setdefault(code, source)
        self.governments.setdefault(code, source)
        self.claim_id(where, code.lower(), "country", source, extending)
        self.counts["country"] += 1 if new else 0
        capital = entry.get("capital")
        if capital is not None:
            if not capital.strip():
                self.error(where, "capital must not be empty")
                return
            capital_id = slugify(capital)
            if not capital_id:
                self.error(where, f"capital {capital!r} folds to an empty id")
                return
            existing = self.ids.get(capital_id)
            if existing is None:
                self.ids[capital_id] = ("capital location", source)
                self.capitals[capital_id] = code
                self.counts["capital"] += 1
            elif self.capitals.get(capital_id) == code:
                pass  # the same country repeated in an extension file
            else:
                self.error(where, f"capital {capital!r} has id {capital_id!r}, already taken by a "
                                  f"{existing[0]} ({existing[1]}): the loader would skip it")

    def organization(self, source: str, entry: dict, extending: bool) -> None:
        where = f"{source}: organization {entry.get('id', '?')!r}"
        if not self.check_keys(where, entry, *ALLOWED["organization"]):
            return
        self.check_name(where, entry)
        oid = entry["id"]
        if not ID_RE.match(oid):
            self.error(where, "id must be lower-case ASCII letters, digits and hyphens")
            return
        kind = entry["kind"]
        if kind not in ("intergovernmental", "organization"):
            self.error(where, "kind must be \"intergovernmental\" or \"organization\"")
            return
        code = entry.get("government_code")
        if kind == "intergovernmental":
            if code is None:
                self.error(where, "an intergovernmental organization needs a government_code")
            elif not GOV_CODE_RE.match(code):
                self.error(where, "government_code must be upper-case letters")
            else:
                if code in self.governments and not extending:
                    self.error(where, f"government code {code} is already defined ({self.governments[code]})")
                if code not in self.governments:
                    self.counts["intergovernmental"] += 1
                self.governments.setdefault(code, source)
        elif code is not None:
            self.warn(where, "government_code is ignored on an organization of kind \"organization\"")
        new = oid not in self.ids
        if "speaks_for" in entry:
            self.speaks_for.append((where, oid, entry["speaks_for"]))
            self.counts["speaks_for"] += 1
        self.claim_id(where, oid, "intergovernmental organization" if kind == "intergovernmental"
                      else "organization", source, extending)
        self.counts["organization"] += 1 if new else 0

    def location(self, source: str, entry: dict, extending: bool) -> None:
        where = f"{source}: location {entry.get('id', '?')!r}"
        if not self.check_keys(where, entry, *ALLOWED["location"]):
            return
        self.check_name(where, entry)
        lid = entry["id"]
        if not ID_RE.match(lid):
            self.error(where, "id must be lower-case ASCII letters, digits and hyphens")
            return
        if lid in self.capitals and not extending:
            self.error(where, f"{lid!r} is already the capital of {self.capitals[lid]}: "
                              "capitals come from countries.toml, leave this entry out")
            return
        new = lid not in self.ids
        if "country" in entry:
            self.location_country.append((where, lid, entry["country"]))
        existing = self.ids.get(lid)
        if existing is not None and existing[0] == "capital location" and extending:
            pass  # an extension file adding aliases to a capital
        else:
            self.claim_id(where, lid, "location", source, extending)
        self.counts["location"] += 1 if new else 0

    def person(self, source: str, entry: dict, extending: bool) -> None:
        where = f"{source}: person {entry.get('id', '?')!r}"
        if not self.check_keys(where, entry, *ALLOWED["person"]):
            return
        self.check_name(where, entry)
        pid = entry["id"]
        if not ID_RE.match(pid):
            self.error(where, "id must be lower-case ASCII letters, digits and hyphens")
            return
        for alias in entry.get("aliases", []):
            if len(alias.split()) < 2:
                self.error(where, f"alias {alias!r} is a single word: person aliases are full-name "
                                  "variants, never a bare surname")
        if len(entry["name"].split()) < 2:
            self.warn(where, "name is a single word")
        roles = entry.get("roles", [])
        if not isinstance(roles, list):
            self.error(where, "roles must be a list of tables")
            roles = []
        for index, role in enumerate(roles):
            rwhere = f"{where} role {index + 1}"
            if not isinstance(role, dict):
                self.error(rwhere, "a role must be a table { government, role, start, end }")
                continue
            required, optional = ROLE_KEYS
            bad = [k for k in role if k not in required | optional]
            if bad:
                self.error(rwhere, f"unknown key(s) {bad} (allowed: government, role, start, end)")
            missing = [k for k in required if k not in role]
            if missing:
                self.error(rwhere, f"missing key(s) {missing}")
                continue
            if not all(isinstance(v, str) for v in role.values()):
                self.error(rwhere, "role values must be strings")
                continue
            if not role["role"].strip():
                self.error(rwhere, "role must not be empty")
            self.roles.append((rwhere, role["role"], role["government"]))
            start = end = None
            for key in ("start", "end"):
                if key in role:
                    parsed = parse_date(role[key])
                    if parsed is None:
                        self.error(rwhere, f"{key} {role[key]!r} is not a real YYYY-MM-DD date")
                    elif key == "start":
                        start = parsed
                    else:
                        end = parsed
            if start and end and end < start:
                self.error(rwhere, f"{role['role']!r} ends ({end}) before it starts ({start})")
            if start and start > datetime.date(2027, 1, 1):
                self.warn(rwhere, f"starts in the future ({start})")
            self.counts["role"] += 1
        new = pid not in self.ids
        self.claim_id(where, pid, "person", source, extending)
        self.counts["person"] += 1 if new else 0

    # --- files -----------------------------------------------------------------------------

    def load(self, path: Path, extending: bool) -> None:
        source = str(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as error:
            self.error(source, f"not valid knowledge-base TOML: {error}")
            return
        for key, value in data.items():
            if key not in TOP_KEYS:
                self.error(source, f"unknown top-level key {key!r} (allowed: [[country]], "
                                   "[[organization]], [[person]], [[location]])")
                continue
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                self.error(source, f"{key} must be an array of tables ([[{key}]])")
        # The loader's order within a file: countries, organizations, locations, then people.
        for kind in ("country", "organization", "location", "person"):
            entries = data.get(kind, [])
            if isinstance(entries, list):
                for entry in entries:
                    if isinstance(entry, dict):
                        getattr(self, kind)(source, entry, extending)

    def finish(self) -> None:
        for where, role, government in self.roles:
            if government not in self.governments:
                self.error(where, f"role {role!r} names government {government!r}, which no country "
                                  "or intergovernmental organization defines")
        for where, _, code in self.speaks_for:
            if code not in self.governments:
                self.error(where, f"speaks_for names government {code!r}, which nothing defines")
        for where, _, code in self.location_country:
            if code not in self.country_codes:
                if code in self.governments:
                    self.warn(where, f"country {code!r} is an intergovernmental body, not a state")
                else:
                    self.error(where, f"country {code!r} names a state that nothing defines")


def toml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file())
    return [path]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="files or directories to check as shipped files (default: this directory)")
    parser.add_argument("--extra", nargs="+", type=Path, default=[],
                        help="user files or directories loaded after the shipped ones, as `--kb PATH`")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args()

    base = args.paths or [Path(__file__).resolve().parent]
    checker = Checker()
    for path in base:
        if not path.exists():
            checker.error(str(path), "no such file or directory")
            continue
        for file in toml_files(path):
            checker.load(file, extending=False)
    for path in args.extra:
        if not path.exists():
            checker.error(str(path), "no such file or directory")
            continue
        for file in toml_files(path):
            checker.load(file, extending=True)
    checker.finish()

    if not args.quiet:
        for warning in checker.warnings:
            print(f"warning: {warning}")
    for error in checker.errors:
        print(f"error: {error}")
    c = checker.counts
    print(f"countries: {c['country']} (capitals: {c['capital']}); "
          f"organizations: {c['organization']} (intergovernmental: {c['intergovernmental']}, "
          f"with speaks_for: {c['speaks_for']}); people: {c['person']} (roles: {c['role']}); "
          f"locations: {c['location']}; government codes: {len(checker.governments)}")
    print(f"{len(checker.errors)} error(s), {len(checker.warnings)} warning(s)")
    return 1 if checker.errors else 0


if __name__ == "__main__":
    sys.exit(main())
