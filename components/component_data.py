"""What a custom component (v2) is given: its data as JSON text, under the key "json".

Streamlit looks through the values of a component's data for dataframes, and looking at
a list or a dict (or at a bare string) imports pandas and pyarrow: about 66 MB a server,
and a pause on the first page that draws such a component. A string inside a dict is
passed as it is; each component's script reads it with `JSON.parse(component.data.json)`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def component_data(payload: Mapping[str, object]) -> dict[str, str]:
    return {"json": json.dumps(payload, separators=(",", ":"))}
