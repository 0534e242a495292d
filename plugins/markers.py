"""The pluggy markers of the ``jiceng`` project: ``hookimpl`` is what a scenario decorates its hooks with."""

import pluggy

PROJECT = "jiceng"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
