"""``python -m gridsvc``: the command line, for processes gridsvc starts itself."""

from gridsvc.cli import app

app()
