"""The ipywidgets view of a `Workflow`: one panel per stage.

The view holds no state of its own. Every button calls one workflow action; on
success the whole view is drawn again from the workflow, on failure the
workflow's message is shown and nothing else changes. Widget values are only
suggestions to the workflow (a browser can set any widget value), which
validates each one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from tpr_widgets.errors import ConflictError, TPRWidgetsError
from tpr_widgets.ingest.headers import INGEST_ROLES
from tpr_widgets.samples import sample_path
from tpr_widgets.ui import render
from tpr_widgets.ui.outputs import outputs_panel
from tpr_widgets.vocab import STAGES
from tpr_widgets.workflow import Workflow

log = logging.getLogger(__name__)

_TITLES = {
    "upload": "1. Upload an NMEP or DHIS2 export",
    "state": "2. Choose the state",
    "facility_level": "3. Choose the facility level",
    "age_group": "4. Choose the age group",
    "test_method": "5. Choose the test method",
    "period": "6. Choose the period",
    "review": "7. Review wards above 50 % before the results are final",
    "results": "8. Ward test positivity rates",
}


def _close_all(items: Any) -> None:
    """Close widgets no longer shown, with their layout and style widgets.

    A widget stays in the kernel until it is closed, so without this every panel
    ever drawn (uploaded files and result tables included) would be kept.
    """
    for item in items:
        _close_all(getattr(item, "children", ()) or ())
        for part in ("layout", "style"):
            owned = getattr(item, part, None)
            if isinstance(owned, widgets.Widget):
                owned.close()
        item.close()


def _button(text: str, css: str, style: str = "") -> widgets.Button:
    button = widgets.Button(description=text, button_style=style)
    button.add_class(css)
    button.layout.width = "auto"
    return button


class App(widgets.VBox):  # type: ignore[misc]
    """The stage selectors for a new or resumed session.

    `App()` starts a new session in the default store; `App(session_id=...)`
    resumes one. `link` is the page address a resumed session can be reached at
    (the Voilà app passes `?session=<id>`), shown to the user when given.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        session_id: str | None = None,
        *,
        workflow: Workflow | None = None,
        link: str | None = None,
        notice: str = "",
    ) -> None:
        super().__init__()
        self.add_class("tpr-app")
        if workflow is None:
            workflow = (
                Workflow.new(root)
                if session_id is None
                else Workflow.resume(root, session_id)
            )
        self.workflow = workflow
        self._link = link
        # The bytes of an upload that could not be read yet, so a column
        # mapping can be applied to it without choosing the file again.
        self._pending: tuple[bytes, str] | None = None
        self._style = widgets.HTML(render.STYLE)
        self._header = widgets.HTML()
        self._message = widgets.HTML()
        self._message.add_class("tpr-message")
        self._progress = widgets.IntProgress(value=0, min=0, max=100)
        self._progress.layout.visibility = "hidden"
        self._body = widgets.VBox()
        self._body.add_class("tpr-body")
        self._privacy = widgets.VBox()
        self._privacy.add_class("tpr-privacy")
        self.layout.max_width = "1100px"
        self.children = [
            self._style,
            self._header,
            self._message,
            self._progress,
            self._body,
            self._privacy,
        ]
        self._offer_delete()
        self._draw(notice)

    # -- acting ---------------------------------------------------------------

    def _act(self, action: Callable[[], Any], busy: str = "") -> None:
        if busy:
            self._progress.value = 20
            self._progress.layout.visibility = "visible"
            self._message.value = f"<p>{render.esc(busy)}</p>"
        try:
            action()
        except ConflictError as error:
            try:
                self.workflow.reload()
            except TPRWidgetsError as reload_error:
                self._message.value = (
                    f'<p class="tpr-error">{render.esc(str(error))} It could not be '
                    f"reloaded either: {render.esc(str(reload_error))}</p>"
                )
                return
            self._draw(f"{error} The session has been reloaded as it is now saved.")
            return
        except TPRWidgetsError as error:
            self._draw(str(error), error=True)
            return
        except Exception:  # the user gets a sentence, the log the traceback
            log.exception("unexpected failure in the app")
            self._draw(
                "Something went wrong inside the app; nothing was changed. Please "
                "try again, and report the problem if it happens again.",
                error=True,
            )
            return
        finally:
            self._progress.value = 100
            self._progress.layout.visibility = "hidden"
        self._draw()

    # -- drawing --------------------------------------------------------------

    def _draw(self, message: str = "", error: bool = False) -> None:
        wf = self.workflow
        link = ""
        if self._link:
            link = (
                '<p class="tpr-link">Your session link (bookmark it to come back): '
                f'<a href="{render.esc(self._link)}">{render.esc(self._link)}</a></p>'
            )
        file = wf.file
        loaded = f"<p>File: <b>{render.esc(file['name'])}</b></p>" if file else ""
        self._header.value = (
            "<h2>Ward malaria test positivity rate (TPR)</h2>"
            + render.trail(STAGES, wf.stage)
            + link
            + loaded
        )
        css = "tpr-error" if error else "tpr-note"
        self._message.value = (
            f'<p class="{css}">{render.esc(message)}</p>' if message else ""
        )
        title = widgets.HTML(f"<h3>{render.esc(_TITLES[wf.stage])}</h3>")
        if wf.stage == "upload":
            panel = self._upload_panel()
        elif wf.stage == "results":
            panel = self._results_panel()
        else:
            panel = self._choice_panel()
        shown = self._body.children
        self._body.children = [title, *panel]
        _close_all(shown)

    def _nav(self, *extra: widgets.Widget) -> widgets.HBox:
        wf = self.workflow
        items = list(extra)
        index = STAGES.index(wf.stage)
        if index > 0:
            back = _button("Back", "tpr-back")
            previous = wf.previous_stage
            back.on_click(lambda _: self._act(lambda: wf.go_back(previous)))
            items.insert(0, back)
        return widgets.HBox(items)

    def _upload_panel(self) -> list[widgets.Widget]:
        upload = widgets.FileUpload(
            accept=".xlsx,.xls,.csv", multiple=False, description="Upload file"
        )
        upload.add_class("tpr-upload")
        sample = _button("Try the sample workbook", "tpr-sample")

        def on_upload(change: dict[str, Any]) -> None:
            files = change["new"]
            if not files:
                return
            item = files[0]
            content = item.get("content") if isinstance(item, dict) else None
            if not isinstance(content, bytes | bytearray | memoryview):
                self._draw(
                    "The upload did not arrive as a file; choose it again.", True
                )
                return
            data, name = bytes(content), str(item.get("name") or "upload")
            self._pending = (data, name)

            def load() -> None:
                self.workflow.load_bytes(data, name)
                self._pending = None

            self._act(
                load,
                f"Reading {name} ({len(data) / 1024**2:.1f} MB)…",
            )

        def on_sample(_: object) -> None:
            path = sample_path()
            self._pending = None
            self._act(lambda: self.workflow.load_file(path), "Reading the sample…")

        upload.observe(on_upload, names="value")
        sample.on_click(on_sample)
        hint = widgets.HTML(
            "<p>An NMEP workbook (sheet <i>raw</i>) or a DHIS2 export, as .xlsx, "
            ".xls or .csv. The file stays in this session only.</p>"
        )
        panel: list[widgets.Widget] = [hint, widgets.HBox([upload, sample])]
        if self._pending is not None:
            panel.append(self._mapping_panel(open_=True))
        return panel

    def _choice_panel(self) -> list[widgets.Widget]:
        wf = self.workflow
        options = wf.options()
        picker = widgets.RadioButtons(
            options=[(o.label, o.value) for o in options],
            value=next((o.value for o in options if o.recommended), options[0].value)
            if options
            else None,
        )
        picker.add_class("tpr-choice")
        picker.layout.width = "max-content"
        next_button = _button("Next", "tpr-next", "primary")
        next_button.on_click(lambda _: self._act(lambda: wf.select(picker.value)))
        parts: list[widgets.Widget] = [
            picker,
            widgets.HTML(render.options_table(options)),
        ]
        if wf.stage == "review":
            parts.insert(0, widgets.HTML(self._review_html()))
        summary = self._summary_html() if wf.stage == "state" else ""
        if summary:
            parts.insert(0, widgets.HTML(summary))
        if self._just_loaded():
            parts.append(self._mapping_panel())
        return [*parts, self._nav(next_button)]

    # -- column mapping (upload stage) -------------------------------------------

    def _just_loaded(self) -> bool:
        """True at the first stage after an upload, before any choice of the user."""
        wf = self.workflow
        passed = set(wf._state.get("passed", []))
        return wf.file is not None and not (set(wf.selections) - passed - {"combine"})

    def _mapping_panel(self, open_: bool = False) -> widgets.Widget:
        """Detected column roles, and controls to set a role or the file's state."""
        wf = self.workflow
        detected = wf.columns if self._pending is None else {}
        headers = list(wf.summary.get("headers", [])) if self._pending is None else []
        rows = "".join(
            f"<tr><td>{render.esc(role)}</td><td>{render.esc(header)}</td></tr>"
            for role, header in detected.items()
        )
        listing = widgets.HTML(
            "<p>Each role the file's columns were given. If one is wrong or "
            "missing, choose the role and type (or pick) the column header.</p>"
            + (
                f'<table class="tpr-table"><tr><th>role</th><th>column</th></tr>'
                f"{rows}</table>"
                if rows
                else ""
            )
        )
        role = widgets.Dropdown(options=list(INGEST_ROLES), description="Role")
        role.add_class("tpr-map-role")
        header = widgets.Combobox(
            options=headers, placeholder="column header", description="Column"
        )
        header.add_class("tpr-map-header")
        state = widgets.Text(placeholder="e.g. Kwara", description="State", value="")
        state.add_class("tpr-map-state")
        apply = _button("Apply mapping", "tpr-map-apply")

        def on_apply(_: object) -> None:
            self._act(
                lambda: self._apply_mapping(
                    str(role.value), str(header.value), str(state.value)
                ),
                "Reading the file again with the new mapping…",
            )

        apply.on_click(on_apply)
        box = widgets.VBox(
            [
                listing,
                widgets.HBox([role, header]),
                widgets.HTML("<p>A file without a state column: name its state.</p>"),
                state,
                apply,
            ]
        )
        accordion = widgets.Accordion(
            children=[box], selected_index=0 if open_ else None
        )
        accordion.set_title(0, "Column roles")
        accordion.add_class("tpr-mapping")
        return accordion

    def _apply_mapping(self, role: str, header: str, state: str) -> None:
        wf = self.workflow
        state_name = state.strip() or None
        columns = {role: header} if header.strip() else {}
        if self._pending is not None:
            data, name = self._pending
            previous = dict(wf._state.get("column_overrides", {}))
            wf.load_sources(
                [(data, name)], columns={**previous, **columns}, state=state_name
            )
            self._pending = None
            return
        if columns:
            wf.map_column(role, header)
        if state_name:
            wf.set_state(state_name)

    def _summary_html(self) -> str:
        s = self.workflow.summary
        periods = s.get("periods", {})
        notes = "".join(f"<li>{render.esc(n)}</li>" for n in s.get("notes", []))
        places = (
            f"{len(s.get('states', {}))} state(s), {s.get('lgas', 0):,} LGAs and "
            f"{s.get('wards', 0):,} wards"
        )
        span = f"{periods.get('first')} to {periods.get('last')}"
        return (
            f"<p>Found <b>{s.get('records', 0):,}</b> facility-month records from "
            f"<b>{s.get('facilities', 0):,}</b> facilities in {render.esc(places)}, "
            f"{periods.get('count', 0)} periods ({render.esc(span)}).</p>"
            + (f"<ul>{notes}</ul>" if notes else "")
        )

    def _review_html(self) -> str:
        """The wards above 50 % with the figures to judge them, and the exclusions."""
        wf = self.workflow
        tables = wf.tables
        high = wf.high_wards
        total = len(tables["ward"])
        columns = [
            "State",
            "LGA",
            "WardName",
            "TPR",
            "Tested",
            "Positive",
            "Facilities",
            "Facilities_Reporting",
            "Completeness",
            "Flags",
        ]
        few = int((high["Facilities_Reporting"] < 5).sum()) if len(high) else 0
        text = (
            f"<p><b>{len(high)}</b> of {total} wards have a TPR above 50 %"
            + (
                f" ({few} of them with fewer than 5 reporting facilities)"
                if few
                else ""
            )
            + ". Check their figures before you use the results. The outpatient "
            "indicator, if you add it, is a separate column; TPR is not changed.</p>"
        )
        impossible = tables["impossible"]
        if len(impossible):
            how = (
                "included, as you asked"
                if bool(impossible["Included"].iloc[0])
                else "left out of both sums"
            )
            text += (
                f"<p>{len(impossible)} count pair(s) had more positives than tests "
                f"and were {render.esc(how)}:</p>" + render.frame_table(impossible, 20)
            )
        shown = high[columns] if len(high) else high
        return text + render.frame_table(shown, 100)

    def _results_panel(self) -> list[widgets.Widget]:
        wf = self.workflow
        tables = wf.tables
        ward = tables["ward"]
        links = [
            render.download_link(
                tables[name].to_csv(index=False).encode("utf-8"),
                f"{name}_tpr.csv",
                f"Download the {label} table (CSV)",
                "text/csv",
            )
            for name, label in (("ward", "ward"), ("lga", "LGA"), ("state", "state"))
        ]
        download = widgets.HTML(" ".join(links))
        shown = [
            ("Wards", "ward"),
            ("LGAs", "lga"),
            ("States", "state"),
            ("Per period", "period"),
            ("Trend", "trend"),
            ("Data quality", "quality"),
            ("Left out", "impossible"),
        ]
        panes = [(title, name) for title, name in shown if name in tables]
        tab = widgets.Tab(
            children=[
                *(widgets.HTML(render.frame_table(tables[n])) for _, n in panes),
                widgets.HTML(render.bar_chart(ward)),
            ]
        )
        for index, name in enumerate([*(t for t, _ in panes), "Chart"]):
            tab.set_title(index, name)
        choices = ", ".join(f"{k}: {v}" for k, v in wf.selections.items())
        done = widgets.HTML(
            f"<p>{len(ward):,} wards. Choices: {render.esc(choices)}.</p>"
        )
        done.add_class("tpr-results")
        restart = _button("Start again with another file", "tpr-restart")
        restart.on_click(lambda _: self._act(lambda: wf.go_back("upload")))
        return [done, download, tab, *outputs_panel(self), self._nav(restart)]

    # -- deleting the session -------------------------------------------------

    def _offer_delete(self) -> None:
        """Show the "delete this session and its data" action (asks first)."""
        ask = _button("Delete this session and its data", "tpr-delete")
        ask.on_click(lambda _: self._confirm_delete())
        shown = self._privacy.children
        self._privacy.children = [ask]
        _close_all(shown)

    def _confirm_delete(self) -> None:
        question = widgets.HTML(
            "<p>Delete this session, its uploaded file and its results from the "
            "server for good? The session link will stop working.</p>"
        )
        yes = _button("Yes, delete it", "tpr-delete-confirm", "danger")
        cancel = _button("Cancel", "tpr-delete-cancel")
        yes.on_click(lambda _: self.delete_session())
        cancel.on_click(lambda _: self._offer_delete())
        shown = self._privacy.children
        self._privacy.children = [question, widgets.HBox([yes, cancel])]
        _close_all(shown)

    def delete_session(self) -> None:
        """Delete the session and its data, then show only that it is gone."""
        try:
            self.workflow.delete()
        except TPRWidgetsError as error:
            self._draw(str(error), error=True)
            self._offer_delete()
            return
        self._link = None
        self._header.value = "<h2>Ward malaria test positivity rate (TPR)</h2>"
        self._message.value = (
            '<p class="tpr-note tpr-deleted">This session, its uploaded file and its '
            "results were deleted from the server. To start again, open the app's "
            "address without the session link.</p>"
        )
        shown = [*self._body.children, *self._privacy.children]
        self._body.children = []
        self._privacy.children = []
        _close_all(shown)
