"""The course as static HTML, without MkDocs: ``python -m microgrid.course html``.

``build_html(notebooks, out)`` writes every lesson, executed, as one HTML page with its
pictures embedded, and an index. The pages are the student's pages: ``student_notebook``
(also used by the docs site's hooks) drops cells tagged ``check`` or ``solution``, shows a
note where a live widget would need a kernel, and turns GIFs into images. ``make
course-html`` runs this same builder.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

__all__ = ['HIDDEN_TAGS', 'LITE_LINK', 'SEE', 'WIDGET_NOTE', 'build_html', 'student_notebook']

# Cells with these tags are for the tests and the teacher, not the student's page.
HIDDEN_TAGS = frozenset({'check', 'solution'})
"""Cells with these tags are left out of the student's page."""

WIDGET = 'application/vnd.jupyter.widget-view+json'

WIDGET_NOTE = (
    '<div class="admonition note"><p class="admonition-title">Live widget</p><p>In Jupyter a '
    'live widget from <code>microgrid.live</code> appears here; it needs a running kernel, so '
    'this page cannot show it. Open the lesson in JupyterLab (<code>make course</code>) to use '
    'it{see}.</p></div>'
)
"""The note shown where a live widget would be (it needs a running kernel)."""
SEE = ', or see the <a href="{0}#live-widgets">screenshots of the live widgets</a>'
"""The note's link to the screenshots, when the builder knows where they are."""
LITE_LINK = (
    '[Open this lesson in the browser]({0}/lab/index.html?path={1}): the course as a '
    'JupyterLite site (`make lite`), nothing to install.'
)
"""The first line of each page: the same lesson, runnable in the browser."""


def student_notebook(nb: Any, instruments: str = '') -> Any:
    """The executed notebook ``nb`` (a dict or NotebookNode, changed in place) as a student's
    page shows it: no cells tagged check/solution, live widgets as a note (linking to the
    ``instruments`` page's screenshots when given), GIFs as ``<img>`` (nbconvert's templates
    show no GIF)."""
    nb.get('metadata', {}).pop('widgets', None)
    nb['cells'] = [
        c for c in nb.get('cells', [])
        if not HIDDEN_TAGS & set(c.get('metadata', {}).get('tags', []))
    ]  # fmt: skip
    note = WIDGET_NOTE.format(see=SEE.format(html.escape(instruments)) if instruments else '')
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if WIDGET in data:
                out['data'] = {'text/html': note, 'text/plain': data.get('text/plain', '')}
                continue
            if 'image/gif' in data and 'text/html' not in data:
                gif = ''.join(data.pop('image/gif')).replace('\n', '')
                data['text/html'] = f'<img alt="animation" src="data:image/gif;base64,{gif}">'
    return nb


def _executed(lesson: Path, executed: Path) -> Any:
    """The lesson executed: build/executed/<name> if newer than the lesson, else run it."""
    import nbformat

    cached = executed / lesson.name
    if cached.exists() and cached.stat().st_mtime >= lesson.stat().st_mtime:
        return nbformat.read(cached, as_version=4)
    from nbclient import NotebookClient

    nb = nbformat.read(lesson, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}  # Jupyter's inline backend
    client = NotebookClient(
        nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(lesson.parent)}}
    )
    client.execute(env=env)
    executed.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    return nb


def _title(nb: Any, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            return str(cell.source).split('\n', 1)[0].lstrip('# ')
    return default


def build_html(
    notebooks: str | Path = 'notebooks',
    out: str | Path = 'build/course-html',
    executed: str | Path = 'build/executed',
    instruments: str = '',
    lite: str = '../lite-site',
) -> list[Path]:
    """Write each lesson of ``notebooks``, executed, as ``out/<lesson>.html``, and an index.

    Pictures are embedded in the pages (PNG and GIF as data URIs, SVG inline), so the
    folder can be published as it is. Each page begins with a link to the lesson in the
    JupyterLite site of ``make lite`` at ``lite`` (a URL or a path relative to ``out``; the
    default is build/lite-site/ beside build/course-html/; '' for no link). Returns the
    pages written, the index last.
    """
    import nbformat
    from nbconvert import HTMLExporter

    lessons = sorted(Path(notebooks).glob('[0-9][0-9]_*.ipynb'))
    if not lessons:
        raise FileNotFoundError(f'no lessons (NN_name.ipynb) in {notebooks}')
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name='lab')
    pages, items = [], []
    for lesson in lessons:
        nb = nbformat.from_dict(student_notebook(_executed(lesson, Path(executed)), instruments))
        title = _title(nb, lesson.stem)
        if lite:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(LITE_LINK.format(lite, lesson.name)))
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': lesson.stem}})
        page = target / f'{lesson.stem}.html'
        page.write_text(body, encoding='utf-8')
        pages.append(page)
        items.append(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a></li>')
        print(f'wrote {page}')
    index = target / 'index.html'
    index.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>microgrid: the course</title>'
        '</head><body><h1>microgrid: the course</h1><ol>' + ''.join(items) + '</ol></body></html>',
        encoding='utf-8',
    )
    return [*pages, index]
