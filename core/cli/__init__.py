"""The ``jiceng`` command line (Typer); help and messages follow JICENG_LANG or LANG."""
