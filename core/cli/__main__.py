"""``python -m jiceng.core.cli`` is the ``jiceng`` command."""

from jiceng.core.cli.main import app

app(prog_name="jiceng")
