"""Map rendering (folium): coverage, hotspots and redraw impact, offline-capable.

Depends inward on the core; knows nothing of HTTP or SQL.
"""
