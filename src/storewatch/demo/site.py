"""The demo's site file: one store, the sample camera, a few zones and rules that show what storewatch does.

Written once into the demo's data folder, then it is the demo's to keep: the dashboard's editors save their changes
to it (with a backup of the version before), and a person may edit it too (``storewatch config check`` it).

The zones fit the sample camera (PETS 2009 S2.L1, a plaza seen from a first floor, taken here as a shop floor):
people stop on the middle path (the "phones" shelf), now and then walk up the road at the back right (a "stock room"
only staff should enter) and leave on the left (the exit line). ``loitering`` is shortened so that the demo shows it
within a minute.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> path = write_demo_site(folder, "/videos/sample.avi", timezone="Europe/Madrid")
>>> from storewatch.config.loader import load_site_config
>>> site = load_site_config(path)
>>> cam = site.stores[0].cameras[0]
>>> cam.source, [z.kind.value for z in cam.zones], [ln.kind.value for ln in cam.lines]
('/videos/sample.avi', ['high_value', 'staff_only'], ['exit'])
"""

from __future__ import annotations

import json
from pathlib import Path

SITE_FILE = "site.yaml"
STORE, CAMERA = "shop", "floor"

TEMPLATE = """\
# The storewatch demo: one store, the sample camera, a few zones and rules (coordinates are fractions 0-1 of the
# frame's width and height). Change zones in the dashboard (Cameras > Shop floor > Edit zones) and rules (Rules):
# they are saved here, the previous file kept beside it as site.yaml.<time>.bak. Check a hand edit with:
#   storewatch config check {path}
site:
  id: demo
  name: storewatch demo
  timezone: {timezone}

stores:
  - id: {store}
    name: Demo shop
    cameras:
      - id: {camera}
        name: Shop floor
        source: {source}
        detect_fps: 5
        zones:
          - id: phones
            name: Phones shelf
            kind: high_value
            polygon: [[0.4, 0.36], [0.62, 0.36], [0.62, 0.52], [0.4, 0.52]]
          - id: stock-room
            name: Stock room
            kind: staff_only          # restricted_area raises anyone walking in
            polygon: [[0.76, 0.24], [0.96, 0.24], [0.96, 0.36], [0.76, 0.36]]
        lines:
          - id: exit
            name: Exit
            kind: exit
            points: [[0.2, 0.3], [0.2, 0.62]]
            direction_in: left        # the shop is on the right of the line (left of a->b, walking down it)

# Every rule runs with its defaults; these are shortened so the demo shows them soon.
rules:
  loitering: {{dwell_s: 20}}
  group_loitering: {{min_people: 2, dwell_s: 30}}

incidents:
  min_severity: medium
"""


def write_demo_site(folder: Path, source: str, *, timezone: str) -> Path:
    """Write the demo site file into ``folder`` (which must not have one) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SITE_FILE
    text = TEMPLATE.format(
        path=path, timezone=timezone, store=STORE, camera=CAMERA, source=json.dumps(source, ensure_ascii=False)
    )
    with path.open("x", encoding="utf-8") as out:
        out.write(text)
    return path
