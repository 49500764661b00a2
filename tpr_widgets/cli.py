"""The command line: `inspect` a file, `compute` its ward TPR.

A `compute` run is a workflow driven by arguments (in a throw-away store), so
the command line and the app can never disagree. Exit status: 0 on success; 2
for a usage error or bad input, with one `error:` line on standard error; 1 for
an unexpected failure, with the traceback in a log file named in the message.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tpr_widgets._version import __version__
from tpr_widgets.errors import InputError, TPRWidgetsError
from tpr_widgets.vocab import (
    AGE_CHOICES,
    COMBINE_CHOICES,
    LEVEL_CHOICES,
    METHOD_CHOICES,
)

EXAMPLES = """\
examples:
  python -m tpr_widgets inspect "TPR data.xlsx"
  python -m tpr_widgets inspect export.xls --json
  python -m tpr_widgets compute "TPR data.xlsx" --state Kwara \\
      --facility-level primary --age-group u5 --test-method both
  python -m tpr_widgets compute kano_2024.xlsx --period 2024-01:2024-06 --out kano
  python -m tpr_widgets compute cleaned.csv --state Niger \\
      --column ward="Ward Name" --column facility=HF
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's usage, then our line
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def _column(text: str) -> tuple[str, str]:
    role, sep, header = text.partition("=")
    if not sep or not role.strip() or not header:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not ROLE=HEADER (for example ward="Ward Name")'
        )
    return role.strip(), header


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("the output folder name is empty")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m tpr_widgets",
        description="Ward-level malaria test positivity rates from NMEP / DHIS2 "
        "facility exports.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"tpr_widgets {__version__}"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    inspect = commands.add_parser(
        "inspect",
        help="show what a file holds",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument(
        "file", type=Path, nargs="+", help="one export, or several of one layout"
    )
    inspect.add_argument("--state", help="the state of a file that has no state column")
    inspect.add_argument(
        "--json", action="store_true", help="print the summary as JSON"
    )
    inspect.add_argument(
        "--column",
        action="append",
        type=_column,
        default=[],
        metavar="ROLE=HEADER",
        help='use HEADER for ROLE (repeatable), e.g. --column ward="Ward Name"',
    )

    compute = commands.add_parser(
        "compute",
        help="compute the ward TPR table and write it with LGA and state tables",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compute.add_argument(
        "file", type=Path, nargs="+", help="one export, or several of one layout"
    )
    compute.add_argument(
        "--state",
        help="a state name, or 'all' (optional when the file has one state); for "
        "a file without a state column, the state it covers",
    )
    compute.add_argument("--facility-level", default="all", choices=LEVEL_CHOICES)
    compute.add_argument("--age-group", default="u5", choices=AGE_CHOICES)
    compute.add_argument("--test-method", default="both", choices=METHOD_CHOICES)
    compute.add_argument(
        "--combine",
        default="sum",
        choices=COMBINE_CHOICES,
        help="with --test-method both: sum pools test events (default); max is the "
        "legacy NMEP rule",
    )
    compute.add_argument(
        "--period",
        default="all",
        help="all (default), a year 2024, a month 2024-03, or a range FROM:TO "
        "(2024-01:2024-06, 2022:2024; months may also be written 202401 or "
        "'January 2024')",
    )
    compute.add_argument(
        "--include-impossible",
        action="store_true",
        help="count pairs with more positives than tests instead of leaving them "
        "out (the ward is flagged POS_GT_TESTED_INCLUDED either way)",
    )
    compute.add_argument(
        "--outpatient-indicator",
        action="store_true",
        help="add positives per 100 outpatient attendances beside TPR (needs an "
        "outpatient attendance column; TPR is not changed)",
    )
    compute.add_argument(
        "--column",
        action="append",
        type=_column,
        default=[],
        metavar="ROLE=HEADER",
        help="use HEADER for ROLE (repeatable)",
    )
    compute.add_argument(
        "--boundaries",
        type=Path,
        metavar="FILE",
        help="ward boundaries (GeoJSON, zipped shapefile or GeoPackage) to join, "
        "map and write as GeoJSON and shapefile",
    )
    compute.add_argument(
        "--recode",
        type=Path,
        metavar="FILE",
        help="CSV of manual ward matches: LGA, WardName and BoundaryWard or WardCode",
    )
    compute.add_argument(
        "--out",
        type=_folder,
        help="output folder (default: a new folder under ./tpr_outputs/)",
    )
    return parser


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"There is no file at {str(path)!r}; check the path.")
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(
            f"The file {str(path)!r} could not be read ({error.strerror})."
        ) from None


def _print_summary(summary: dict[str, Any]) -> None:
    periods = summary["periods"]
    lines = [
        f"file:        {summary['file']} ({summary['format']}, "
        f"layout {summary['layout']})",
        f"sheet:       {summary['sheet'] or '-'}, header row {summary['header_row']}",
        f"records:     {summary['records']:,} facility-month rows "
        f"({summary['rows_read']:,} read)",
        f"places:      {len(summary['states'])} states, {summary['lgas']:,} LGAs, "
        f"{summary['wards']:,} wards, {summary['facilities']:,} facilities",
        f"periods:     {periods['count']} ({periods['first']} to {periods['last']})",
        "states:",
    ]
    for name, figures in summary["states"].items():
        lines.append(
            f"  {name:<26} {figures['lgas']:>4} LGAs {figures['wards']:>5} wards "
            f"{figures['facilities']:>6} facilities {figures['records']:>8,} records"
        )
    lines.append("completeness (share of rows with a tested count):")
    for age, methods in summary["completeness"].items():
        cells = "  ".join(f"{m} {100 * v:5.1f} %" for m, v in methods.items())
        lines.append(f"  {age:<4} {cells}")
    lines.append("columns:")
    lines += [f"  {role:<24} {header}" for role, header in summary["columns"].items()]
    if summary["notes"]:
        lines.append("notes:")
        lines += [f"  - {note}" for note in summary["notes"]]
    print("\n".join(lines))


def _files(paths: list[Path]) -> list[tuple[bytes, str]]:
    return [(_read(path), path.name) for path in paths]


def _named_state(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() == "all" else value


def _inspect(args: argparse.Namespace) -> int:
    from tpr_widgets.ingest import ingest_many

    result = ingest_many(
        _files(args.file),
        columns=dict(args.column) or None,
        state=_named_state(args.state),
    )
    if args.json:
        print(json.dumps(result.summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(result.summary)
    return 0


def _choose(wf: Any, stage: str, value: str, **options: Any) -> None:
    if wf.stage == stage:
        wf.select(value, **options)
    elif wf.selections.get(stage) != value:
        recorded = wf.selections.get(stage)
        raise InputError(
            f"--{stage.replace('_', '-')} {value} cannot be used: this file offers "
            f"only {recorded!r} at that stage."
        )


def _compute(args: argparse.Namespace) -> int:
    from tpr_widgets.choices import normalise_period, quality_notes
    from tpr_widgets.export import write_run
    from tpr_widgets.workflow import Workflow

    files = _files(args.file)
    with tempfile.TemporaryDirectory(prefix="tpr-widgets-cli-") as root:
        wf = Workflow.new(root)
        wf.load_sources(
            files, columns=dict(args.column), state=_named_state(args.state)
        )
        if wf.stage == "state":
            if args.state is None:
                states = ", ".join(wf.summary["states"])
                raise InputError(
                    f"The file has several states ({states}); choose one with "
                    "--state NAME, or --state all for every state."
                )
            wf.select(args.state)
        elif args.state is not None and args.state != "all":
            _choose(wf, "state", wf.selections["state"])
            from tpr_widgets.vocab import canonical_state

            if canonical_state(args.state) != wf.selections["state"]:
                raise InputError(
                    f"--state {args.state} does not match the file's only state, "
                    f"{wf.selections['state']}."
                )
        _choose(wf, "facility_level", args.facility_level)
        _choose(wf, "age_group", args.age_group)
        _choose(
            wf,
            "test_method",
            args.test_method,
            combine=args.combine,
            include_impossible=args.include_impossible,
        )
        _choose(wf, "period", normalise_period(args.period))
        if args.outpatient_indicator and not wf.summary.get("has_outpatient"):
            raise InputError(
                "--outpatient-indicator needs an outpatient attendance column, and "
                "this file has none; map one with --column outpatient=HEADER or "
                "leave the option out."
            )
        wf.select("add_outpatient" if args.outpatient_indicator else "keep")
        tables = wf.tables
        summary, selections, files_info = wf.summary, wf.selections, wf.files

    out = args.out or _default_out(args.file[0], selections)
    extra, provenance, notes = _outputs(args, tables, summary, selections, files_info)
    written = write_run(tables, out, provenance, extra)
    for note in [*summary["notes"], *notes]:
        print(f"note: {note}", file=sys.stderr)
    for note in quality_notes(tables):
        print(f"note: {note}", file=sys.stderr)
    print(f"{len(tables['ward']):,} wards written to {out.resolve()}", file=sys.stderr)
    print(written["ward"].resolve())
    return 0


def _outputs(
    args: argparse.Namespace,
    tables: dict[str, Any],
    summary: dict[str, Any],
    selections: dict[str, Any],
    files: list[dict[str, Any]],
) -> tuple[dict[str, bytes], dict[str, Any], list[str]]:
    """The further files of a run (boundary join, map, workbook, report)."""
    from tpr_widgets.outputs import build_outputs, file_record, provenance

    inputs = [{"role": "export", **file} for file in files]
    joined, recode = None, None
    if args.recode is not None:
        from tpr_widgets.geo.run import read_recode

        data = _read(args.recode)
        recode = read_recode(data, args.recode.name)
        inputs.append(file_record(data, args.recode.name, "recode"))
    if args.boundaries is not None:
        from tpr_widgets.geo.run import boundary_join

        data = _read(args.boundaries)
        joined = boundary_join(
            tables["ward"], data, args.boundaries.name, selections.get("state"), recode
        )
        inputs.append(file_record(data, args.boundaries.name, "boundaries"))
    elif recode is not None:
        raise InputError(
            "--recode applies to the boundary join; add --boundaries FILE."
        )
    record = provenance(inputs, selections, summary)
    built = build_outputs(tables, record, joined, summary)
    notes = []
    if joined is not None:
        counts = joined.counts
        notes = [
            f"{counts['matched']} of {counts['boundary_wards']} boundary wards have "
            f"data; {counts['review']} matches to review, "
            f"{counts['data_wards_unmatched']} data wards unmatched",
            *joined.notes,
        ]
    return built.files, record, notes


def _default_out(file: Path, selections: dict[str, Any]) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    state = str(selections.get("state", "all")).replace(" ", "_")
    base = Path("tpr_outputs") / f"{file.stem}_{state}_{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _inspect(args) if args.command == "inspect" else _compute(args)
    except TPRWidgetsError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 2
    except Exception:
        log = (
            Path(tempfile.gettempdir())
            / f"tpr_widgets-error-{datetime.now():%Y%m%d-%H%M%S}.log"
        )
        log.write_text(traceback.format_exc(), encoding="utf-8")
        sys.stderr.write(
            f"error: an unexpected internal failure; the details are in {log}. "
            "Please report it with that file.\n"
        )
        return 1
