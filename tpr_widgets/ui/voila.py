"""Session identity in the public Voilà app: the id travels in the page URL.

A page opened without `?session=` starts a new session and shows the link that
resumes it; a page opened with a valid id of a saved session resumes it; an
unknown or malformed id gets a clear message and a new, server-generated
session (a client can never choose its own id). When the session store cannot
be used (unreachable, or set up wrongly), the page says so and asks to reload it
in a moment; it does not start a new session, since the one in the link is
still safe in the store.
Nothing here lists sessions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

import ipywidgets as widgets

from tpr_widgets.errors import StoreUnavailableError, TPRWidgetsError
from tpr_widgets.ui import render
from tpr_widgets.ui.app import App
from tpr_widgets.workflow import Workflow

log = logging.getLogger(__name__)


#: The Voilà template the app is served with: Voilà's lab page without the
#: stylesheets it would fetch from a public CDN. Voilà finds it when
#: `TEMPLATE_ROOT` is on `JUPYTER_PATH` (see `serve_environment`).
TEMPLATE = "tpr"
TEMPLATE_ROOT = Path(__file__).resolve().parent.parent / "share" / "jupyter"


def serve_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` (default: this process's) with the app's template on JUPYTER_PATH;
    start Voilà in it with `--template=tpr`."""
    env = dict(os.environ if environ is None else environ)
    paths = [
        str(TEMPLATE_ROOT),
        *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep)),
    ]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    return env


def _requested_id(query: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get("session")
    return values[-1] if values else None


def voila_app(root: str | os.PathLike[str] | None = None) -> App | widgets.HTML:
    """The app for the page Voilà is serving, resumed from `?session=` if given.

    Returns a short notice instead of the app when the store is unreachable.
    """
    query = os.environ.get("QUERY_STRING", "")
    page = os.environ.get("SCRIPT_NAME", "")
    requested = _requested_id(query)
    notice = ""
    workflow = None
    try:
        if requested is not None:
            try:
                workflow = Workflow.resume(root, requested)
            except StoreUnavailableError:
                raise
            except TPRWidgetsError as error:
                log.info("could not resume a requested session: %s", error)
                notice = (
                    "The session in this link could not be opened "
                    f"({error}). A new session was started instead."
                )
        if workflow is None:
            workflow = Workflow.new(root)
    except TPRWidgetsError as error:
        # Unreachable, or set up wrongly (no secret, a bad setting): the
        # administrator's message, and no session is started or replaced.
        log.warning("the session store cannot be used: %s", error)
        return unavailable(str(error))
    except Exception:  # the visitor gets a sentence, the log the traceback
        log.exception("the app could not open or start a session")
        return unavailable(
            "An unexpected error stopped the app; it has been logged for the "
            "administrator."
        )
    link = f"{page}?session={workflow.session_id}"
    return App(workflow=workflow, link=link, notice=notice)


def unavailable(reason: str) -> widgets.HTML:
    """The page shown while the session store cannot be reached."""
    return widgets.HTML(
        render.STYLE
        + "<h2>Ward malaria test positivity rate (TPR)</h2>"
        + '<p class="tpr-error">The app cannot use its session store right now, '
        "so no session can be opened or started. Saved sessions are not lost: "
        "reload this page in a minute (keep the session link).</p>"
        + f'<p class="tpr-note">{render.esc(reason)}</p>'
    )
