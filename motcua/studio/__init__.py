"""``motcua studio``: a local web workbench for planners — scenarios, the editor, runs, results, compare, exports.

Modules, from the bottom up: `guard` (tokens, CSRF, safe names), `problems` and `texts` (Vietnamese and English),
`workspace` (the planner's scenario files and "New from …"), `editor` (the form over the scenario schema, saved with
tomlkit), `jobs` (the queue of `motcua` commands run in the background), `views`, `plots` and `export` (what the
results pages show and download), `app` (configuration, middlewares, templates) and `pages` (the handlers).
`docs/decisions.md` (D1) says why the stack is aiohttp + Jinja2 with Plotly.js from the ``plotly`` wheel.
"""

from motcua.studio.app import StudioConfig, create_app

__all__ = ["StudioConfig", "create_app"]
