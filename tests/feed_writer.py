"""A writer process for the change-feed tests.

``python -m tests.feed_writer URL WRITER EDITS SEED`` makes ``EDITS`` edits, each in
its own transaction, to records ``feed-<WRITER>-<n>`` (two edits per record). Nine
edits in ten sleep a random 0-25 ms *after* their change-feed row is inserted and
before the commit, so transactions commit out of ``seq`` order. Prints one JSON
line: ``{record_id: final title}``.
"""

import json
import random
import sys
import time

from registry.db import make_engine, make_session_factory, transaction
from registry.records import upsert
from registry.schemas import InnovationSchema
from registry.taxonomy import load_taxonomy
from tests.conftest import read_data


def main(url: str, writer: int, edits: int, seed: int) -> None:
    """Run the edits; see the module docstring."""
    rng = random.Random(seed)
    factory = make_session_factory(make_engine(url))
    base = {k: v for k, v in read_data()[0].items() if k != "id"}
    with factory() as session:
        schema = InnovationSchema(load_taxonomy(session))
    final: dict[str, str] = {}
    records = max(1, edits // 2)
    for edit in range(edits):
        record_id = f"feed-{writer}-{edit % records}"
        title = f"Proefbewerking schrijver{writer} bewerking{edit}"
        data = schema.load({**base, "id": record_id, "title": title})
        with transaction(factory) as session:
            upsert(session, data)
            session.flush()
            if rng.random() < 0.9:
                time.sleep(rng.uniform(0, 0.025))
        final[record_id] = title
    print(json.dumps(final))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
