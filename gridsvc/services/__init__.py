"""Use cases shared by the API and the CLI: bulk matching, case intake and the closed loop."""

from gridsvc.services.matching import match_table

__all__ = ["match_table"]
