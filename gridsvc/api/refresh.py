"""Rebuilding this worker's matching state after the active layers change."""

from __future__ import annotations

from fastapi import FastAPI

from gridsvc.services.setup import load_reference


def refresh_matching(app: FastAPI) -> None:
    """Load the active versions again and swap in a new matcher (old one serves until then)."""
    settings = app.state.settings
    ref = load_reference(app.state.engine)
    matcher = ref.town.matcher(settings.street_radius_m, settings.cell_m)
    app.state.town = ref.town
    app.state.matcher = matcher
    app.state.cases.matcher = matcher
    app.state.cases.layer_versions = {k.value: v for k, v in ref.versions.items()}
