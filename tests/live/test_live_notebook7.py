"""The live widgets' keys in Notebook 7 (which reads its shortcuts on the way down, before
the widget sees a key), driven by headless Chromium; see test_live_browser.py.

A module of its own: one Playwright session at a time, after JupyterLab's has ended.
"""

from __future__ import annotations

import pytest
from test_live_browser import keys_stay_in_the_widgets, serve


@pytest.fixture(scope='module')
def notebook7(tmp_path_factory):
    pytest.importorskip('notebook', reason='Notebook 7 is in the dev extra')
    yield from serve(tmp_path_factory, 'notebook')


def test_keys_stay_inside_the_focused_widget_in_notebook_7(notebook7):
    page, errors, _, _ = notebook7
    keys_stay_in_the_widgets(page)
    # Notebook 7.6.5 with JupyterLab 4.6.6 logs one error of its own at start-up
    assert [e for e in errors if "reading 'schema'" not in e] == []
