"""The hostile-input fuzzer: damaged real streams, payloads, vmdescs, descriptions and stream
documents through the library and the CLI. Every answer is a typed error (or a clean
result); the CLI exits 0, 1 or 2, never "internal error" (issue 10, section 3).

Each test runs twice over: ``[ci]`` small (a few seconds in all, the examples fixed by the
``ci`` profile's ``derandomize``) and ``[nightly]`` large and random, marked ``slow`` (the
nightly ``slow`` run; ``VMCOMPAT_FUZZ_EXAMPLES`` examples per test, default 2000).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_inputs import (
    cli,
    damaged,
    decodes,
    description_bases,
    hostile_json,
    payload_bases,
    roundtrip,
    stream_bases,
    typed,
    vmdesc_bases,
    with_vmdesc,
)
from hypothesis import event, given, settings
from hypothesis import strategies as st

from vmcompat import descjson, dumps, schema
from vmcompat.catalog._sample import sample_state
from vmcompat.compat.checker import compare
from vmcompat.formats import FORMATS
from vmcompat.state import to_json
from vmcompat.stream import find_vmdesc, from_document, to_bytes, to_document, verify

NIGHTLY = int(os.environ.get("VMCOMPAT_FUZZ_EXAMPLES", "2000"))
SIZES = [pytest.param("ci"), pytest.param("nightly", marks=pytest.mark.slow)]


def fuzz(size: str, ci_examples: int, strategy: st.SearchStrategy[Any],
         target: Callable[[Any], None]) -> None:
    """Run ``target`` on ``strategy``'s examples at ``size``."""
    common: dict[str, Any] = {"deadline": None}
    if size == "ci":
        s = settings(settings.default, max_examples=ci_examples, **common)
    else:
        s = settings(settings.default, max_examples=NIGHTLY, derandomize=False, **common)

    @s
    @given(strategy)
    def run(example: Any) -> None:
        target(example)

    run()


# ----------------------------------------------------------------------------- streams
def _stream(example: Any) -> None:
    base, data, kinds = example
    for k in kinds:
        event(k)
    verify(data, vmdesc_from=base.context)  # every problem is a defect line
    find_vmdesc(data)
    s = decodes(data, base.context)
    if s is not None:
        event("decoded")
        doc = json.loads(json.dumps(to_document(s)))
        back = typed(from_document, doc)
        if back is not None:
            typed(to_bytes, back)


@pytest.mark.parametrize("size", SIZES)
def test_damaged_streams(size: str) -> None:
    fuzz(size, 12, damaged(stream_bases()), _stream)


def _stream_cli(example: Any) -> None:
    base, data, _ = example
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.bin"
        p.write_bytes(data)
        extra = []
        if base.context is not None:
            (Path(tmp) / "v.json").write_text(json.dumps(base.context))
            extra = ["--vmdesc-from", str(Path(tmp) / "v.json")]
        cli("stream", "verify", str(p), *extra)
        cli("stream", "decode", str(p), "-o", str(Path(tmp) / "d.json"), *extra)
        cli("stream", "vmdesc", str(p), "-o", str(Path(tmp) / "v.json"))


@pytest.mark.parametrize("size", SIZES)
def test_damaged_streams_cli(size: str) -> None:
    fuzz(size, 3, damaged(stream_bases()), _stream_cli)


def _vmdesc(example: Any) -> None:
    name, obj = example
    descs = typed(dumps.from_vmdesc, obj)
    for d in (descs or {}).values():
        typed(schema.schema, d)
    stream = next(b for b in stream_bases() if b.name == name)
    data = with_vmdesc(stream.data, obj)
    verify(data)
    decodes(data, None)


@pytest.mark.parametrize("size", SIZES)
def test_corrupted_vmdescs(size: str) -> None:
    fuzz(size, 6, hostile_json(vmdesc_bases()), _vmdesc)


# ----------------------------------------------------------------------------- payloads
def _payload(example: Any) -> None:
    base, data, kinds = example
    history, src, wire = base.context
    for k in kinds:
        event(k)
    for dst in history.versions:
        typed(FORMATS[wire].decode, dst, data, src.version_id, None)
    typed(FORMATS[wire].decode, src, data, src.version_id, sample_state(src))


@pytest.mark.parametrize("size", SIZES)
def test_damaged_payloads(size: str) -> None:
    fuzz(size, 30, damaged(payload_bases()), _payload)


def _payload_cli(example: Any) -> None:
    base, data, _ = example
    _, src, wire = base.context
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "p.bin"
        p.write_bytes(data)
        name = base.name.split("/")[0]
        cli("decode", f"catalog:{name}", str(p), "--version-id", str(src.version_id),
            "--wire", wire)


@pytest.mark.parametrize("size", SIZES)
def test_damaged_payloads_cli(size: str) -> None:
    fuzz(size, 4, damaged(payload_bases()), _payload_cli)


# ----------------------------------------------------------------------------- descriptions
def _description(example: Any) -> None:
    name, obj = example
    d = typed(descjson.from_json, obj)
    if d is None:
        return
    event("accepted")
    schema.schema(d)
    descjson.from_json(descjson.to_json(d))
    base = descjson.from_json(dict(description_bases())[name])
    compare(d.name, base, d)
    compare(d.name, d, base)
    state = typed(sample_state, d)
    if state is not None:
        roundtrip(d, state)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_descriptions(size: str) -> None:
    fuzz(size, 25, hostile_json(description_bases()), _description)


def _description_cli(example: Any) -> None:
    name, obj = example
    base = dict(description_bases())[name]
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for key, value in (("d", obj), ("base", base),
                           ("state", to_json(sample_state(descjson.from_json(base))))):
            files[key] = str(Path(tmp) / f"{key}.json")
            Path(files[key]).write_text(json.dumps(value))
        out = str(Path(tmp) / "p.bin")
        cli("schema", files["d"])
        cli("check", files["base"], files["d"])
        if cli("encode", files["d"], files["state"], "-o", out).exit_code == 0:
            cli("decode", files["d"], out, "--version-id", str(base["version_id"]))


@pytest.mark.parametrize("size", SIZES)
def test_hostile_descriptions_cli(size: str) -> None:
    fuzz(size, 5, hostile_json(description_bases()), _description_cli)


# ----------------------------------------------------------------------------- documents
def _document_bases() -> tuple[tuple[str, Any], ...]:
    out = []
    for b in stream_bases():
        if b.name in ("pc-i440fx-1.4", "pc-i440fx-7.2"):
            s = decodes(b.data, b.context)
            out.append((b.name, json.loads(json.dumps(to_document(s)))))
    return tuple(out)


def _document(example: Any) -> None:
    _, doc = example
    s = typed(from_document, doc)
    if s is not None:
        event("accepted")
        typed(to_bytes, s)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_stream_documents(size: str) -> None:
    fuzz(size, 8, hostile_json(_document_bases()), _document)


def _document_cli(example: Any) -> None:
    _, doc = example
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "doc.json"
        p.write_text(json.dumps(doc))
        cli("stream", "encode", str(p), "-o", str(Path(tmp) / "s.bin"))


@pytest.mark.parametrize("size", SIZES)
def test_hostile_stream_documents_cli(size: str) -> None:
    fuzz(size, 3, hostile_json(_document_bases()), _document_cli)
