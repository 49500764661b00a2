"""Ward boundaries: read an uploaded boundary file and join it to the ward table.

- `read.read_boundaries(data, filename)`: GeoJSON, zipped shapefile or
  GeoPackage bytes, guarded like any upload, to a GeoDataFrame in EPSG:4326
  with the standard columns `WardName, WardCode, LGA, LGACode, State,
  StateCode` (missing values as None).
- `lgas.derive_lgas(frame, state)`: LGA names from the national ward list.
- `join.join_wards(ward_table, boundaries, recode)`: one row per boundary
  feature, with every match, unmatched name and null geometry reported.
"""

from tpr_widgets.geo.join import JoinResult, join_wards
from tpr_widgets.geo.lgas import derive_lgas
from tpr_widgets.geo.read import read_boundaries

__all__ = ["JoinResult", "derive_lgas", "join_wards", "read_boundaries"]
