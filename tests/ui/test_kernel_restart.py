"""A session survives a kernel restart: the fresh kernel resumes it from the store.

Each test runs code in a real ipykernel (`jupyter_client.start_new_kernel`) whose
`TPR_WIDGETS_HOME` is the test's tmp dir, restarts that kernel, and checks from
the fresh kernel's printed output that `App(session_id=...)` and
`Workflow.resume` come back at the same stage with the same choices.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

jupyter_manager = pytest.importorskip("jupyter_client.manager")

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
MARK = "RESULT "

# Run first in every kernel: how a test finds the App's widgets by CSS class.
PRELUDE = textwrap.dedent(
    """
    import json, os, sys

    def find(widget, css):
        found, todo = [], [widget]
        while todo:
            item = todo.pop(0)
            if css in getattr(item, "_dom_classes", ()):
                found.append(item)
            todo.extend(getattr(item, "children", ()) or ())
        return found

    def html_of(widget):
        todo, text = [widget], []
        while todo:
            item = todo.pop(0)
            text.append(str(getattr(item, "value", "")) if hasattr(item, "value")
                        and isinstance(getattr(item, "value"), str) else "")
            todo.extend(getattr(item, "children", ()) or ())
        return "".join(text)

    def state_of(wf):
        return {"session_id": wf.session_id, "stage": wf.stage,
                "selections": wf.selections, "revision": wf.revision}

    def report(**values):
        print("RESULT " + json.dumps(values, default=str), flush=True)
    """
)


class Kernel:
    """A started kernel and its client, with `run(code) -> RESULT values`."""

    def __init__(self, manager: Any, client: Any) -> None:
        self.manager = manager
        self.client = client

    def run(self, code: str) -> dict[str, Any]:
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])))

        reply = self.client.execute_interactive(
            textwrap.dedent(code), timeout=TIMEOUT_S, output_hook=hook
        )
        text = "".join(out)
        assert reply["content"]["status"] == "ok", "\n".join(errors) or text
        lines = [line for line in text.splitlines() if line.startswith(MARK)]
        assert lines, f"the kernel printed no result:\n{text}"
        return dict(json.loads(lines[-1][len(MARK) :]))

    def restart(self) -> None:
        self.manager.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=TIMEOUT_S)
        self.run(PRELUDE + "\nreport(ok=True)")


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    env = {**os.environ, "TPR_WIDGETS_HOME": str(tmp_path / "store")}
    env.pop("TPR_WIDGETS_SECRET", None)
    manager, client = jupyter_manager.start_new_kernel(
        startup_timeout=TIMEOUT_S, kernel_name="python3", env=env, cwd=str(REPO)
    )
    kernel = Kernel(manager, client)
    try:
        kernel.run(PRELUDE + "\nreport(ok=True)")
        yield kernel
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _start_session(kernel: Kernel, *choices: str) -> dict[str, Any]:
    """In the kernel: a new App, the sample loaded by its button, then `choices`."""
    lines = [
        "from tpr_widgets import App",
        "app = App()",
        'find(app, "tpr-sample")[0].click()',
        *(f"app.workflow.select({choice!r})" for choice in choices),
        'report(pid=os.getpid(), home=os.environ["TPR_WIDGETS_HOME"],',
        '       message=find(app, "tpr-message")[0].value, **state_of(app.workflow))',
    ]
    return kernel.run("\n".join(lines))


def test_restart_resumes_stage_and_choices(kernel: Kernel, tmp_path: Path) -> None:
    before = _start_session(kernel, "Kwara", "primary")
    assert before["message"] == ""
    assert before["stage"] == "age_group"
    assert before["selections"] == {"state": "Kwara", "facility_level": "primary"}
    assert Path(before["home"]) == tmp_path / "store"
    session_id = before["session_id"]
    assert (tmp_path / "store" / "sessions" / session_id).is_dir()

    kernel.restart()
    after = kernel.run(
        f"""
        fresh = "tpr_widgets" not in sys.modules
        from tpr_widgets import App, Workflow
        app = App(session_id={session_id!r})
        resumed = Workflow.resume(None, {session_id!r})
        report(pid=os.getpid(), fresh=fresh, app=state_of(app.workflow),
               resumed=state_of(resumed), file=app.workflow.file)
        """
    )
    assert after["pid"] != before["pid"], "the kernel was not restarted"
    assert after["fresh"], "the package was already imported in the new kernel"
    want = {k: before[k] for k in ("session_id", "stage", "selections", "revision")}
    assert after["app"] == want
    assert after["resumed"] == want
    assert after["file"]["name"] == "nmep_sample_format_a.xlsx"


def test_restarted_app_widgets_show_the_resumed_stage(kernel: Kernel) -> None:
    before = _start_session(kernel, "Kwara", "primary")
    session_id = before["session_id"]
    kernel.restart()
    after = kernel.run(
        f"""
        from tpr_widgets import App
        from tpr_widgets.ui.app import _TITLES
        app = App(session_id={session_id!r})
        title = find(app, "tpr-body")[0].children[0].value
        picker = find(app, "tpr-choice")[0]
        shown = dict(title=title, want=_TITLES["age_group"], page=html_of(app),
                     options=[v for _, v in picker.options])
        picker.value = "u5"
        find(app, "tpr-next")[0].click()
        report(shown=shown, after=state_of(app.workflow), page=html_of(app),
               message=find(app, "tpr-message")[0].value)
        """
    )
    shown = after["shown"]
    assert shown["want"] in shown["title"]
    assert '<b class="tpr-current">age group</b>' in shown["page"]
    assert "nmep_sample_format_a.xlsx" in shown["page"]
    assert shown["options"] == ["u5", "o5", "pw", "all"]
    # The resumed widgets act on the session: Next moves it on and saves it.
    assert after["message"] == ""
    assert after["after"]["stage"] == "test_method"
    assert after["after"]["selections"]["age_group"] == "u5"
    assert after["after"]["revision"] == before["revision"] + 1
    assert '<b class="tpr-current">test method</b>' in after["page"]


def test_restart_at_review_resumes_and_finishes(kernel: Kernel) -> None:
    before = _start_session(kernel, "Kwara", "primary", "u5", "both", "all")
    assert before["stage"] == "review"
    kernel.restart()
    after = kernel.run(
        f"""
        from tpr_widgets import App
        app = App(session_id={before["session_id"]!r})
        review = html_of(app)
        find(app, "tpr-choice")[0].value = "keep"
        find(app, "tpr-next")[0].click()
        report(review=review, done=find(app, "tpr-results")[0].value,
               page=html_of(app), message=find(app, "tpr-message")[0].value,
               **state_of(app.workflow))
        """
    )
    assert '<b class="tpr-current">review</b>' in after["review"]
    assert "of 171 wards have a TPR above 50 %" in after["review"]
    assert after["message"] == ""
    assert after["stage"] == "results"
    assert "171 wards" in after["done"]
    assert "<td>Afon</td>" in after["page"]
