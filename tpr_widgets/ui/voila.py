"""Session identity in the public Voilà app: the id travels in the page URL.

A page opened without `?session=` starts a new session and shows the link that
resumes it; a page opened with a valid id of a saved session resumes it; an
unknown or malformed id gets a clear message and a new, server-generated
session (a client can never choose its own id). Nothing here lists sessions.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import parse_qs

from tpr_widgets.errors import TPRWidgetsError
from tpr_widgets.ui.app import App
from tpr_widgets.workflow import Workflow

log = logging.getLogger(__name__)


def _requested_id(query: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get("session")
    return values[-1] if values else None


def voila_app(root: str | os.PathLike[str] | None = None) -> App:
    """The app for the page Voilà is serving, resumed from `?session=` if given."""
    query = os.environ.get("QUERY_STRING", "")
    page = os.environ.get("SCRIPT_NAME", "")
    requested = _requested_id(query)
    notice = ""
    workflow = None
    if requested is not None:
        try:
            workflow = Workflow.resume(root, requested)
        except TPRWidgetsError as error:
            log.info("could not resume a requested session: %s", error)
            notice = (
                "The session in this link could not be opened "
                f"({error}). A new session was started instead."
            )
    if workflow is None:
        workflow = Workflow.new(root)
    link = f"{page}?session={workflow.session_id}"
    return App(workflow=workflow, link=link, notice=notice)
