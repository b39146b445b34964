"""``python -m gridsvc.cli``, as before the command line became a package."""

from gridsvc.cli import app

app()
