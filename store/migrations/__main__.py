"""Write the next migration from what the models have that the newest revision does not:

    .venv/bin/python -m store.migrations "slack message refs"

Alembic compares the models with a scratch database brought to the newest revision. It does not compare indexes on
expressions (see store.schema.comparing): write those by hand; tests/store/test_schema.py finds any that differ.
Read what it wrote before you commit it.
"""

import argparse

from store.schema import new_revision

parser = argparse.ArgumentParser(prog="python -m store.migrations", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("message", help="what the migration changes, in a few words: its file is named after them")
print(new_revision(parser.parse_args().message))
