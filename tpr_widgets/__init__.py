"""Ward-level malaria test positivity rates from NMEP / DHIS2 facility exports.

`Workflow` is the scriptable, widget-free session; `App` is its ipywidgets view
(imported lazily, so the engine, the CLI and the tests run without a frontend).
The errors a user can cause are in `tpr_widgets.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tpr_widgets._version import __version__
from tpr_widgets.errors import (
    ConflictError,
    InputError,
    IntegrityError,
    StoreError,
    StoreUnavailableError,
    TPRWidgetsError,
)

if TYPE_CHECKING:
    from tpr_widgets.ui import App
    from tpr_widgets.workflow import Option, Workflow

__all__ = [
    "App",
    "ConflictError",
    "InputError",
    "IntegrityError",
    "Option",
    "StoreError",
    "StoreUnavailableError",
    "TPRWidgetsError",
    "Workflow",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import tpr_widgets.store` stays light and the
    # widget layer loads only where a frontend exists.
    if name == "App":
        from tpr_widgets.ui import App

        return App
    if name in ("Workflow", "Option"):
        from tpr_widgets import workflow

        return getattr(workflow, name)
    raise AttributeError(f"module 'tpr_widgets' has no attribute {name!r}")
