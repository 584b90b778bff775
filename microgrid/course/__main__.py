"""``python -m microgrid.course html [notebooks] [out]``: the lessons as static HTML."""

import sys

from microgrid.course.html import build_html

__all__: list[str] = []

if __name__ == '__main__':
    args = sys.argv[1:]
    if not args or args[0] != 'html' or len(args) > 3:
        sys.exit('usage: python -m microgrid.course html [notebooks] [out]')
    build_html(*args[1:])
