"""The widget layer: the only part of tpr_widgets that imports ipywidgets."""

from tpr_widgets.ui.app import App
from tpr_widgets.ui.picker import SessionPicker
from tpr_widgets.ui.voila import voila_app

__all__ = ["App", "SessionPicker", "voila_app"]
