"""Feature modules of the workbench, one per section: each exposes
``register(app)`` (see the workbench package docstring)."""
