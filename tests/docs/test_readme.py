"""The README's examples run, and it gives exactly the two set-up commands."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / 'README.md').read_text()


def python_blocks() -> list[str]:
    return re.findall(r'```python\n(.*?)```', README, flags=re.S)


def test_readme_examples_run_as_written() -> None:
    blocks = python_blocks()
    assert blocks, 'the README has no python example'
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict = {}
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, globs, f'README block {i}', 'README.md', 0)
        if not test.examples:  # a plain code block: it must run
            exec(compile(block, f'README block {i}', 'exec'), globs)
            continue
        result = runner.run(test)
        assert result.failed == 0, f'README block {i}: {result.failed} examples failed'


def test_readme_has_the_two_setup_commands() -> None:
    setup = README.split('## Set-up', 1)[1].split('##', 1)[0]
    commands = re.findall(r'^make \w+', setup, flags=re.M)
    assert commands == ['make demo', 'make test']
    assert 'make test' in (ROOT / '.ci' / 'run').read_text()
