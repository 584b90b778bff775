"""Build the docs site into site/ with ``mkdocs build --strict``, unless it is up to date.

``make docs`` runs this; so does tests/docs/test_docs.py, which needs the built site. The site is
up to date when site/.inputs holds the fingerprint (a SHA-256 over the names and bytes) of
everything the build reads: mkdocs.yml, docs/, the package, the notebooks and their
executed copies in build/executed/, README/BENCHMARKS/CHANGELOG. So ``make test`` builds the
site once, in its docs test, and its ``docs`` step finds it done.

Usage: python docs/build_site.py [--force]
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / 'site'
STAMP = SITE / '.inputs'


def inputs() -> list[Path]:
    """Every file the docs build reads."""
    files = [ROOT / 'mkdocs.yml', ROOT / 'README.md', ROOT / 'BENCHMARKS.md', ROOT / 'CHANGELOG.md']
    for folder, pattern in (('docs', '*'), ('microgrid', '*'), ('notebooks', '*.ipynb'),
                            ('build/executed', '*.ipynb')):  # fmt: skip
        files += (ROOT / folder).rglob(pattern)
    return sorted(
        p for p in files
        if p.is_file() and '__pycache__' not in p.parts and p.suffix != '.pyc'
    )  # fmt: skip


def fingerprint() -> str:
    h = hashlib.sha256()
    for path in inputs():
        h.update(path.relative_to(ROOT).as_posix().encode() + b'\0')
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def up_to_date() -> bool:
    return STAMP.exists() and STAMP.read_text().strip() == fingerprint()


def build(force: bool = False) -> float:
    """Build site/ if needed; return the seconds it took (0.0 when it was up to date)."""
    if not force and up_to_date():
        print('docs: site/ is up to date with its inputs')
        return 0.0
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, '-m', 'mkdocs', 'build', '--strict', '--clean',
         '--config-file', str(ROOT / 'mkdocs.yml'), '--site-dir', str(SITE)],
        cwd=ROOT, check=True, env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'},
    )  # fmt: skip
    STAMP.write_text(fingerprint() + '\n')  # after the build: it may execute lessons
    took = time.perf_counter() - start
    print(f'docs: built site/ in {took:.1f} s')
    return took


if __name__ == '__main__':
    try:
        build(force='--force' in sys.argv[1:])
    except subprocess.CalledProcessError as e:
        sys.exit(f'docs: mkdocs build --strict failed (exit {e.returncode}); see above')
