"""Cross-check of the state strategy: states generated from each catalog version's JSON Schema
(hypothesis-jsonschema ``from_schema``) are valid states that every wire round-trips
(to the oracle's projection: e.g. a subsection held but not needed is not sent).

JSON Schema cannot say that a variable array's length equals its count field, nor that a
direct-key gtree's keys are unique and increasing: :func:`vmcompat.schema.sync` makes a
generated object consistent first (documented post-map).
"""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import Phase, given, settings
from hypothesis_jsonschema import from_schema

from vmcompat.compat.oracle import EITHER, expect
from vmcompat.compat.verdict import Verdict
from vmcompat.errors import LoadError
from vmcompat.formats import FORMATS
from vmcompat.matrix.engine import judge, prior_for
from vmcompat.schema import catalog_versions, schema, sync
from vmcompat.state import from_json, to_json

VERSIONS = catalog_versions()


@pytest.mark.parametrize(("name", "desc"), VERSIONS,
                         ids=[f"{n}@{d.version_id}" for n, d in VERSIONS])
def test_states_from_the_schema_round_trip(name: str, desc) -> None:
    sc = schema(desc)
    validator = jsonschema.Draft202012Validator(sc)

    # no shrinking: hypothesis-jsonschema examples of big schemas shrink for minutes
    @settings(max_examples=3, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate))
    @given(from_schema(sc))
    def check(obj: dict) -> None:
        obj = sync(desc, obj)
        validator.validate(obj)
        state = from_json(desc, obj)
        for fmt in FORMATS.values():
            into = prior_for(desc, desc, state)
            exp = expect(desc, desc, state, into, self_describing=fmt.self_describing)
            data = fmt.encode(desc, state)
            try:
                out, error = fmt.decode(desc, data, desc.version_id, into), None
            except LoadError as e:
                out, error = None, e
            verdict = judge(exp, out, error).verdict
            if fmt.self_describing:
                assert verdict is Verdict.COMPATIBLE, f"{fmt.name}: {error or exp.detail}"
            else:  # the legacy wire can be ambiguous (a 0x05 byte where subsections may follow)
                assert verdict is Verdict.COMPATIBLE or (exp.kind == EITHER and
                                                          verdict is Verdict.REFUSED), exp.detail
            # what a wire decodes into a device holding a complete state is a valid state
            validator.validate(to_json(fmt.decode(desc, fmt.encode(desc, state),
                                                  desc.version_id, state)))

    check()
