"""Generate the demo town 示范镇 (Shifan) used by gridsvc's tests, docs and demos.

Run from the repository root (``make demo-data``):

    .venv/bin/python data/generate_demo.py

which runs this package. Everything is written to ``data/demo/`` (see
``data/README.md``). The run is deterministic: a fixed numpy seed, no clock, no network. Geometry is
built in the CGCS2000 3-degree Gauss-Krüger zone of 120°E (EPSG:4549) and
written in CGCS2000 geographic coordinates (EPSG:4490).

How the territory is built, bottom-up, so that every level tiles its parent:

1. a jurisdiction boundary (irregular; the north edge follows a river);
2. arterial and secondary roads (long, gently bent, one diagonal, one curved),
   polygonized with the boundary into "superblocks";
3. local streets inside every superblock (jittered, staggered T-junctions,
   some curved, some dead ends);
4. the whole street network noded and polygonized into blocks (街坊); slivers
   are merged into a neighbour; large blocks are split by internal lanes into
   unit cells (单元网格) of roughly 10,000-20,000 m²;
5. region growing over block adjacency: superblocks into 3 basic management
   units, blocks into 14 responsibility grids, grids into 1-2 residents'
   committees; each level is the coverage union of the level below;
6. teams, departments, working groups, the responsibility list, the holiday
   calendar and a year of historical reports.
"""
