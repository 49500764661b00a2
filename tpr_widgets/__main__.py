"""`python -m tpr_widgets`: the command line (see `tpr_widgets.cli`)."""

from tpr_widgets.cli import main

raise SystemExit(main())
