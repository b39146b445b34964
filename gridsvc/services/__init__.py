"""Use cases shared by the API and the CLI: bulk matching, case intake and the closed loop.

``match_table`` is imported on first use: the intake writer process imports
``gridsvc.services.intake_process`` through this package, and an eager import here
gave it geopandas, scipy and the matcher (205 MB and 1.3 s) that it never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridsvc.services.matching import match_table

__all__ = ["match_table"]


def __getattr__(name: str) -> Any:
    if name == "match_table":
        from gridsvc.services.matching import match_table

        return match_table
    raise AttributeError(name)
