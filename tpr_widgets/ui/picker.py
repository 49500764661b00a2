"""A researcher's session picker for JupyterLab: list own sessions, reopen one.

`SessionPicker(root)` lists `Workflow.sessions(root)` (newest first, with the
stage, the file and the time of the last change) and opens the chosen one as an
`App` below the list. It reads a store the researcher owns; the public Voilà app
never uses it, since there session ids are secrets and nothing is listed.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets

from tpr_widgets.errors import TPRWidgetsError
from tpr_widgets.ui import render
from tpr_widgets.ui.app import App, _button, _close_all
from tpr_widgets.workflow import Workflow

__all__ = ["SessionPicker", "session_label"]


def session_label(info: dict[str, Any]) -> str:
    """One line for a session: time of the last change, stage, file, short id."""
    updated = str(info.get("updated") or "")[:16].replace("T", " ")
    stage = str(info.get("stage") or "?").replace("_", " ")
    label = info.get("label") or "no file yet"
    return f"{updated} UTC · {stage} · {label} · {str(info['session_id'])[:6]}…"


class SessionPicker(widgets.VBox):  # type: ignore[misc]
    """Pick one of your saved sessions and reopen it (JupyterLab only)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.add_class("tpr-picker")
        self._root = root
        #: The App of the session opened last, if any.
        self.app: App | None = None
        self._list = widgets.Select(options=[], rows=8)
        self._list.add_class("tpr-sessions")
        self._list.layout.width = "100%"
        self._open = _button("Open", "tpr-open", "primary")
        self._refresh = _button("Refresh", "tpr-refresh")
        self._message = widgets.HTML()
        self._message.add_class("tpr-message")
        self._shown = widgets.VBox()
        self._open.on_click(lambda _: self._open_selected())
        self._refresh.on_click(lambda _: self.refresh())
        self.children = [
            widgets.HTML("<h3>Your saved sessions</h3>"),
            self._list,
            widgets.HBox([self._open, self._refresh]),
            self._message,
            self._shown,
        ]
        self.refresh()

    def refresh(self) -> None:
        """Read the list of sessions again from the store."""
        try:
            found = Workflow.sessions(self._root)
        except TPRWidgetsError as error:
            self._say(str(error), error=True)
            return
        self._list.options = [
            (session_label(info), info["session_id"]) for info in found
        ]
        self._list.value = found[0]["session_id"] if found else None
        self._open.disabled = not found
        self._say("" if found else "There are no saved sessions in this store yet.")

    def open_session(self, session_id: str) -> App:
        """Open the session `session_id` below the list and return its App."""
        app = App(self._root, session_id=session_id)
        shown = self._shown.children
        self._shown.children = [app]
        _close_all(shown)
        self.app = app
        return app

    def _open_selected(self) -> None:
        chosen = self._list.value
        if not isinstance(chosen, str):
            self._say("Choose a session in the list first.", error=True)
            return
        try:
            self.open_session(chosen)
        except TPRWidgetsError as error:
            self._say(str(error), error=True)
            return
        self._say("")

    def _say(self, text: str, error: bool = False) -> None:
        css = "tpr-error" if error else "tpr-note"
        self._message.value = f'<p class="{css}">{render.esc(text)}</p>' if text else ""
