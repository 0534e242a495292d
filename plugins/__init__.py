"""The plugin contract: hook specifications, the scenario manifest, loading and the manager.

This package is the bottom layer: it knows nothing of the core or the SDK.
The core is the host that loads scenarios and calls their hooks; vendors see
all of this through ``jiceng.sdk``.
"""
