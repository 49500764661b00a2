"""The session state machine: the one place where session state changes.

A `Workflow` walks a user from an upload through the choice stages to the ward
table. Every public action follows the same path: validate against the current
stage, compute the new state, commit the checkpoint (the store refuses it with
`ConflictError` if another window changed the session first), and only then
update this object. A failed action leaves the object, the stored session and
its data exactly as they were.

The state is small JSON (stage, selections, summary, column roles, file
fingerprint, references to data); the canonical table and the uploaded bytes are
data files written once per upload. Results are cached as data files too (see
`results`), written in the commit of the choice that reaches the review stage,
so any process can resume any session at any stage without recomputing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import pandas as pd

from tpr_widgets import choices
from tpr_widgets.choices import Option
from tpr_widgets.errors import InputError, TPRWidgetsError
from tpr_widgets.ingest import ingest_many
from tpr_widgets.ingest.headers import INGEST_ROLES
from tpr_widgets.results import Results
from tpr_widgets.store import Checkpoint, Store, open_store, validate_session_id
from tpr_widgets.store.ids import short_id as _short
from tpr_widgets.store.jsonsafe import to_jsonable
from tpr_widgets.vocab import (
    COMBINE_CHOICES,
    FACILITY_LEVELS,
    STAGES,
    canonical_state,
)

__all__ = ["Option", "Workflow"]

log = logging.getLogger(__name__)

_OPTIONS: Final[dict[str, Callable[[pd.DataFrame, dict[str, Any]], list[Option]]]] = {
    "state": choices.state_options,
    "facility_level": choices.level_options,
    "age_group": choices.age_options,
    "test_method": choices.method_options,
    "period": choices.period_options,
}
# Stages passed on their own when they offer a single choice.
_AUTO_PASS: Final = ("state", "facility_level", "period")


def _shown(value: str, limit: int = 60) -> str:
    """A user's value quoted for a message, cut short if it is long."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


#: New sessions run the retention cleanup at most this often per process.
EXPIRY_EVERY_SECONDS: Final = 3600.0
_last_expiry: dict[str, float] = {}


def _expire_now_and_then(store: Store) -> None:
    """Remove expired sessions, at most once an hour per store and process."""
    key = repr(store)
    now = time.monotonic()
    if key in _last_expiry and now - _last_expiry[key] < EXPIRY_EVERY_SECONDS:
        return
    _last_expiry[key] = now
    try:
        removed = store.remove_expired()
    except TPRWidgetsError as error:  # a bad setting must not stop new sessions
        log.warning("retention cleanup skipped: %s", error)
        return
    if removed:
        log.info("retention cleanup removed %d old session(s)", len(removed))


def _as_bytes(data: object) -> bytes:
    """An upload's bytes, or an `InputError` for anything else."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(
            f"An upload must be the file's bytes, not {type(data).__name__}."
        )
    return bytes(data)


def _check_role(role: str) -> None:
    if role not in INGEST_ROLES:
        raise InputError(
            f"{role!r} is not a column role. Use one of: {', '.join(INGEST_ROLES)}."
        )


def _source_key(index: int) -> str:
    """The data key of the index-th uploaded file (the first is `source`)."""
    return "source" if index == 0 else f"source_{index}"


def _empty_state() -> dict[str, Any]:
    return {
        "stage": "upload",
        "selections": {},
        "summary": None,
        "columns": {},
        "column_overrides": {},
        "file": None,
        "label": None,
        "passed": [],
    }


class Workflow(Results):
    """One user's session: stages, choices, results, checkpointed on every change.

    Create with `Workflow.new(root)` or `Workflow.resume(root, session_id)`;
    `root` is a folder (default: `TPR_WIDGETS_HOME`, else `~/.tpr_widgets`).

    >>> wf = Workflow.new()                         # doctest: +SKIP
    >>> wf.load_file("export.xlsx")                 # doctest: +SKIP
    >>> wf.select("Kwara"); wf.select("primary")    # doctest: +SKIP
    """

    def __init__(self, store: Store, checkpoint: Checkpoint) -> None:
        self._store = store
        self._checkpoint = checkpoint
        self._table: pd.DataFrame | None = None
        self._tables: dict[str, pd.DataFrame] | None = None
        self._tables_key: str | None = None

    # -- creating and finding sessions ------------------------------------

    @classmethod
    def new(cls, root: str | os.PathLike[str] | None = None) -> Workflow:
        """A new session with a server-generated id, checkpointed at `upload`."""
        from tpr_widgets.store import new_session_id

        store = open_store(root)
        _expire_now_and_then(store)
        session_id = new_session_id()
        checkpoint = store.commit(session_id, 0, _empty_state(), {})
        log.info("new session %s", _short(session_id))
        return cls(store, checkpoint)

    @classmethod
    def resume(cls, root: str | os.PathLike[str] | None, session_id: str) -> Workflow:
        """The saved session `session_id`, at the stage and choices it was left.

        The manifest and the table it names are both verified here, so a damaged
        or tampered session is refused now (`IntegrityError`) rather than at the
        first choice; nothing is unpickled before its signature is checked.
        """
        session_id = validate_session_id(session_id)
        store = open_store(root)
        started = time.perf_counter()
        checkpoint = store.load(session_id)
        workflow = cls(store, checkpoint)
        if "table" in checkpoint.data:
            workflow.table  # noqa: B018 - read and verify it now
        log.info(
            "resumed session %s at %s (revision %d) in %.3f s",
            _short(session_id),
            checkpoint.state.get("stage"),
            checkpoint.revision,
            time.perf_counter() - started,
        )
        return workflow

    @staticmethod
    def sessions(root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
        """This store's sessions, newest first (for a researcher's own store)."""
        return [
            {
                "session_id": info.session_id,
                "revision": info.revision,
                "updated": info.updated,
                "created": info.created,
                "stage": info.stage,
                "label": info.label,
            }
            for info in open_store(root).sessions()
        ]

    def reload(self) -> None:
        """Take the session as it is now stored (after a `ConflictError`)."""
        self._checkpoint = self._store.load(self.session_id)
        self._table = None
        self._tables = None
        self._tables_key = None

    def delete(self) -> None:
        """Delete this session and all its data (manifest, table, upload) for good.

        Afterwards this object refuses every action with `InputError`, so a
        window still showing the session cannot save anything of it again.
        """
        from tpr_widgets.store.deleted import DeletedStore

        session_id = self.session_id
        self._store.delete(session_id)
        self._store = DeletedStore(session_id)
        self._table = None
        self._tables = None
        log.info("session %s deleted by its user", _short(session_id))

    # -- what the session holds -------------------------------------------

    @property
    def session_id(self) -> str:
        return self._checkpoint.session_id

    @property
    def revision(self) -> int:
        return self._checkpoint.revision

    @property
    def _state(self) -> dict[str, Any]:
        return self._checkpoint.state

    @property
    def stage(self) -> str:
        return cast(str, self._state["stage"])

    @property
    def selections(self) -> dict[str, Any]:
        return dict(self._state["selections"])

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self._state["summary"] or {})

    @property
    def columns(self) -> dict[str, str]:
        return dict(self._state["columns"])

    @property
    def file(self) -> dict[str, Any] | None:
        """Name, size and SHA-256 of the uploaded file, once there is one."""
        found = self._state.get("file")
        return dict(found) if found else None

    @property
    def files(self) -> list[dict[str, Any]]:
        """Name, size and SHA-256 of each loaded file (several for merged loads)."""
        found = self._state.get("files") or ([self.file] if self.file else [])
        return [dict(info) for info in found]

    @property
    def table(self) -> pd.DataFrame:
        """The canonical facility-month table (read from the store once)."""
        if self._table is None:
            ref = self._checkpoint.data.get("table")
            if ref is None:
                raise InputError("No file has been loaded yet; upload an export first.")
            loaded = self._store.read_data(self.session_id, ref)
            if not isinstance(loaded, pd.DataFrame):
                raise InputError(
                    "The stored table is not a table; upload the file again."
                )
            self._table = loaded
        return self._table

    # -- loading ------------------------------------------------------------

    def load_file(
        self, path: str | os.PathLike[str], *, state: str | None = None
    ) -> None:
        """Load an export from a path on this machine (xlsx, xls or csv).

        `state` names the state of a file that has no state column.
        """
        self.load_files([path], state=state)

    def load_files(
        self, paths: Sequence[str | os.PathLike[str]], *, state: str | None = None
    ) -> None:
        """Load several exports of one layout (per state or per year) as one."""
        if isinstance(paths, str | os.PathLike) or not paths:
            raise InputError("Give a list of one or more file paths.")
        files = []
        for path in paths:
            file = Path(path)
            if not file.is_file():
                raise InputError(f"There is no file at {str(file)!r}; check the path.")
            try:
                files.append((file.read_bytes(), file.name))
            except OSError as error:
                raise InputError(
                    f"The file {str(file)!r} could not be read ({error.strerror})."
                ) from None
        self._load(files, {}, state=state, reads=None)

    def load_bytes(
        self, data: bytes, filename: str, *, state: str | None = None
    ) -> None:
        """Load an uploaded export; the stages start over with the new file."""
        self._load([(_as_bytes(data), str(filename))], {}, state=state, reads=None)

    def load_sources(
        self,
        files: Sequence[tuple[bytes, str]],
        *,
        columns: Mapping[str, str] | None = None,
        state: str | None = None,
    ) -> None:
        """Load (bytes, filename) pairs with a mapping given up front (the CLI)."""
        loaded = [(_as_bytes(data), str(name)) for data, name in files]
        overrides = dict(columns or {})
        for role in overrides:
            _check_role(role)
        self._load(loaded, overrides, state=state, reads=None)

    def map_column(self, role: str, header: str) -> None:
        """Use the column `header` for `role`, re-reading the stored upload.

        The header row and sheet found at the first read are reused; the
        mapping is kept in the checkpoint. `map_column("state", "")` is not a
        mapping: name a whole file's state with `set_state`.
        """
        _check_role(role)
        if not isinstance(header, str) or not header.strip():
            raise InputError(f"Give the header of the column to use as {role!r}.")
        overrides = {**self._state.get("column_overrides", {}), role: header}
        self._reload(overrides, self._state.get("state_override"))

    def set_state(self, state: str) -> None:
        """Name the state of a loaded file that has no state column."""
        self._reload(dict(self._state.get("column_overrides", {})), state)

    def _reload(self, overrides: Mapping[str, str], state: str | None) -> None:
        files = self.files
        if not files:
            raise InputError("Upload a file before mapping its columns.")
        loaded: list[tuple[bytes, str]] = []
        for index, info in enumerate(files):
            ref = self._checkpoint.data.get(_source_key(index))
            if ref is None:
                raise InputError("The stored upload is missing; upload the file again.")
            data = self._store.read_data(self.session_id, ref)
            if not isinstance(data, bytes):
                raise InputError("The stored upload is damaged; upload the file again.")
            loaded.append((data, str(info["name"])))
        reads = self._state.get("reads")
        self._load(loaded, overrides, state=state, reads=reads)

    def _load(
        self,
        files: list[tuple[bytes, str]],
        overrides: Mapping[str, str],
        *,
        state: str | None,
        reads: list[dict[str, Any]] | None,
    ) -> None:
        started = time.perf_counter()
        named = [(data, Path(str(name)).name or "upload") for data, name in files]
        result = ingest_many(named, columns=overrides or None, reads=reads, state=state)
        parts = result.summary.get("files") or [result.summary]
        recorded = [
            {"header_row": part["header_row"], "sheet": part["sheet"]} for part in parts
        ]
        table_ref = self._store.write_data(self.session_id, result.table)
        data_refs = {"table": table_ref}
        for index, (data, _) in enumerate(named):
            data_refs[_source_key(index)] = self._store.write_data(
                self.session_id, bytes(data)
            )
        infos: list[dict[str, Any]] = [
            {
                "name": name,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for data, name in named
        ]
        label = str(infos[0]["name"])
        if len(infos) > 1:
            label += f" (+{len(infos) - 1} more)"
        new_state = {
            **_empty_state(),
            "stage": "state",
            "summary": result.summary,
            "columns": result.columns,
            "column_overrides": dict(overrides),
            "state_override": state,
            "reads": recorded,
            "file": infos[0],
            "files": infos,
            "label": label,
        }
        self._advance(new_state, result.table)
        self._commit(new_state, data_refs, result.table)
        log.info(
            "session %s loaded %r (%d records) in %.2f s",
            _short(self.session_id),
            label,
            result.summary["records"],
            time.perf_counter() - started,
        )

    # -- stages ---------------------------------------------------------------

    def options(self) -> list[Option]:
        """The choices of the current stage, with figures and a recommendation."""
        stage = self.stage
        if stage in _OPTIONS:
            return _OPTIONS[stage](self.table, self.selections)
        if stage == "review":
            return choices.review_options(self.table, self._base_tables()["ward"])
        return []

    def select(self, value: str | Option, **options: Any) -> None:
        """Make the current stage's choice, checkpoint it, and move on.

        `combine="max"` with `both` chooses the legacy NMEP rule. A value that is
        not offered raises `InputError` and changes nothing.
        """
        choice = value.value if isinstance(value, Option) else value
        stage = self.stage
        if stage not in STAGES[1:-1]:
            raise InputError(
                "There is nothing to choose at this stage"
                + (": upload a file first." if stage == "upload" else ".")
            )
        if not isinstance(choice, str):
            raise InputError(f"A choice must be text, not {type(choice).__name__}.")
        # A plain str, whatever subclass came in (its comparisons are not ours).
        choice = self._validate(stage, str.__str__(choice), options)

        state = self._copy_state()
        state["selections"][stage] = choice
        if stage == "test_method":
            state["selections"]["combine"] = options.get("combine", "sum")
            if options.get("include_impossible"):
                state["selections"]["include_impossible"] = True
        state["stage"] = STAGES[STAGES.index(stage) + 1]
        self._advance(state, self.table)
        data, tables, key = self._cached_results(state)
        self._commit(state, data, self._table)
        if tables is not None:
            self._tables, self._tables_key = tables, key
        log.info(
            "session %s chose %s=%s, now at %s",
            _short(self.session_id),
            stage,
            choice,
            state["stage"],
        )

    def _validate(self, stage: str, choice: str, options: Mapping[str, Any]) -> str:
        allowed = {"combine", "include_impossible"} if stage == "test_method" else set()
        unknown = set(options) - allowed
        if unknown:
            raise InputError(
                f"The option(s) {', '.join(sorted(unknown))} do not apply to the "
                f"{stage.replace('_', ' ')} stage."
            )
        if stage == "test_method":
            combine = options.get("combine", "sum")
            if combine not in COMBINE_CHOICES or (
                combine == "max" and choice != "both"
            ):
                raise InputError(
                    f"combine={combine!r} is not valid here; use 'sum', or 'max' "
                    "together with the test method 'both'."
                )
            include = options.get("include_impossible", False)
            if not isinstance(include, bool):
                raise InputError(
                    f"include_impossible={str(include)[:20]!r} is not valid; use "
                    "True (count pairs with more positives than tests, and say so) "
                    "or False (leave them out, the default)."
                )
        given = choice
        if stage == "state":
            choice = canonical_state(choice) or choice
        elif stage == "period":
            choice = choices.normalise_period(choice)
        else:
            choice = choice.strip().lower()
        offered = self.options()
        if stage == "period" and choice not in {o.value for o in offered}:
            choices.validate_period(self.table, self.selections, choice)
            return choice
        match = next((o for o in offered if o.value == choice), None)
        if match is None:
            values = ", ".join(o.value for o in offered)
            state = self.selections.get("state")
            level = self.selections.get("facility_level")
            hint = ""
            if stage != "state" and state and canonical_state(given) == state:
                hint = (
                    f" The state stage is already passed: the file has one state, "
                    f"{state}, and it was chosen for you."
                )
            elif level and given.strip().lower() in FACILITY_LEVELS:
                hint = (
                    " The facility level stage is already passed: the file offers "
                    f"only {level!r} there, and it was chosen for you."
                )
            raise InputError(
                f"{_shown(given)} is not a choice at the {stage.replace('_', ' ')} "
                f"stage; choose one of: {values}.{hint}"
            )
        if match.figures.get("tests") == 0 and stage in ("age_group", "test_method"):
            raise InputError(
                f"No tests are recorded for {match.label!r} in this selection; "
                "choose another option."
            )
        return choice

    def go_back(self, stage: str) -> None:
        """Return to `stage`, clearing its choice and everything after it."""
        if stage not in STAGES:
            raise InputError(
                f"{stage!r} is not a stage; the stages are {', '.join(STAGES)}."
            )
        if STAGES.index(stage) > STAGES.index(self.stage):
            raise InputError(
                f"The session is at the {self.stage!r} stage; it can only go back "
                f"to an earlier stage, not forward to {stage!r}."
            )
        if stage == "upload":
            self._commit(_empty_state(), {}, None)
            return
        state = self._copy_state()
        keep = STAGES[1 : STAGES.index(stage)]
        selections = state["selections"]
        state["selections"] = {k: v for k, v in selections.items() if k in keep}
        if "test_method" in state["selections"]:
            for option in ("combine", "include_impossible"):
                if option in selections:
                    state["selections"][option] = selections[option]
        state["passed"] = [s for s in state.get("passed", []) if s in keep]
        state["stage"] = stage
        self._commit(state, self._checkpoint.data, self._table)
        log.info("session %s went back to %s", _short(self.session_id), stage)

    @property
    def previous_stage(self) -> str:
        """The last stage before this one where the user chose (not auto-passed)."""
        passed = set(self._state.get("passed", []))
        earlier = STAGES[1 : STAGES.index(self.stage)]
        return next((s for s in reversed(earlier) if s not in passed), "upload")

    def _advance(self, state: dict[str, Any], table: pd.DataFrame) -> None:
        """Pass stages that offer a single choice, recording that choice."""
        while state["stage"] in _AUTO_PASS:
            offered = _OPTIONS[state["stage"]](table, state["selections"])
            if len(offered) != 1:
                return
            state["selections"][state["stage"]] = offered[0].value
            state["passed"] = [*state.get("passed", []), state["stage"]]
            state["stage"] = STAGES[STAGES.index(state["stage"]) + 1]

    # -- boundary file and recode table (outputs) ---------------------------------

    def load_boundaries(self, data: bytes, filename: str) -> None:
        """Keep a ward boundary file for the outputs (checked before it is kept)."""
        from tpr_widgets.geo.read import read_boundaries

        raw = _as_bytes(data)
        if self._checkpoint.data.get("table") is None:
            raise InputError("Upload an export before its ward boundaries.")
        name = Path(str(filename)).name or "boundaries"
        read_boundaries(raw, name)  # a bad file is refused here, nothing kept
        ref = self._store.write_data(self.session_id, raw)
        state = self._copy_state()
        state["boundaries"] = {
            "name": name,
            "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        self._commit(state, {**self._checkpoint.data, "boundaries": ref}, self._table)
        log.info("session %s boundaries %r kept", _short(self.session_id), name)

    @property
    def boundary_file(self) -> dict[str, Any] | None:
        """Name, size and SHA-256 of the boundary file, once there is one."""
        found = self._state.get("boundaries")
        return dict(found) if found else None

    def boundary_bytes(self) -> bytes | None:
        """The stored boundary file, or None."""
        ref = self._checkpoint.data.get("boundaries")
        if ref is None:
            return None
        data = self._store.read_data(self.session_id, ref)
        if not isinstance(data, bytes):
            raise InputError("The stored boundary file is damaged; upload it again.")
        return data

    def set_recode(self, table: pd.DataFrame) -> None:
        """Keep the manual recode table (LGA, WardName, BoundaryWard, WardCode)."""
        from tpr_widgets.geo.join import parse_recode

        if not isinstance(table, pd.DataFrame):
            raise InputError("The recode table must be a table of rows.")
        rows = parse_recode(table).to_dict(orient="records")
        state = self._copy_state()
        state["recode"] = [{str(k): str(v) for k, v in row.items()} for row in rows]
        self._commit(state, self._checkpoint.data, self._table)

    @property
    def recode(self) -> pd.DataFrame:
        """The manual recode table (empty when none was set)."""
        columns = ["LGA", "WardName", "BoundaryWard", "WardCode"]
        return pd.DataFrame(self._state.get("recode") or [], columns=columns)

    # -- committing ---------------------------------------------------------------

    def _copy_state(self) -> dict[str, Any]:
        state = dict(self._state)
        state["selections"] = dict(state["selections"])
        return state

    def _commit(
        self,
        state: dict[str, Any],
        data: Mapping[str, str],
        table: pd.DataFrame | None,
    ) -> None:
        started = time.perf_counter()
        checkpoint = self._store.commit(
            self.session_id, self.revision, to_jsonable(state), dict(data)
        )
        self._checkpoint = checkpoint
        self._table = table
        self._tables = None
        self._tables_key = None
        log.info(
            "session %s checkpoint %d in %.3f s",
            _short(self.session_id),
            checkpoint.revision,
            time.perf_counter() - started,
        )
