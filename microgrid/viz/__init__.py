"""Pictures of a computation graph and of training.

- ``draw``: the graph as Graphviz DOT (``microgrid.draw(root)``), with highlights and names;
- ``render``: finding and running a renderer (Graphviz's ``dot`` or graphviz-pure);
- ``player``: backward step by step, as an HTML player, frames or a GIF;
- ``raster``: the renderers' SVG as a PNG, without a browser;
- ``plot``: loss curves, decision boundaries and weight images with matplotlib.

The public names are at the top level (``microgrid.draw``, ``microgrid.backprop_player``,
``microgrid.plot``); this package imports nothing, so ``import microgrid`` stays fast.
"""

__all__: list[str] = []
