"""The streamed decode (section by section, vmdesc device by device) writes exactly the
bytes the whole-document path writes: ``json.dump(to_document(...), indent=2)``; the
streamed verify reports exactly what the whole-stream verify reports; the streamed encode
writes exactly the stream the whole-document encode writes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmcompat import dumps
from vmcompat.strategies.streams import KINDS, corrupt_streams
from vmcompat.stream import reader
from vmcompat.stream.document import from_document, to_document, write_document, write_from_document
from vmcompat.stream.jsontext import Irregular, Pull, indented, members
from vmcompat.stream.reader import read_stream
from vmcompat.stream.source import open_source
from vmcompat.stream.verify import _verify_streamed, _verify_whole
from vmcompat.stream.writer import to_bytes

ROOT = Path(__file__).resolve().parents[2]
STREAMS = sorted(ROOT.glob("golden/qemu-*/streams/*.bin"))


def _whole(path: Path) -> tuple[bytes, bytes] | None:
    """The whole-document path's text and pages; None for a stream without a
    configuration section (the streamed path leaves those to it)."""
    pages = io.BytesIO()
    with open_source(str(path)) as data:
        s = read_stream(data)
        if s.configuration is None:
            return None
        doc = to_document(s, pages=pages.write, pages_file="p.bin")
    return (json.dumps(doc, indent=2) + "\n").encode(), pages.getvalue()


def _streamed(path: Path) -> tuple[bytes, bytes]:
    out, pages = io.BytesIO(), io.BytesIO()
    with open_source(str(path)) as data:
        write_document(data, out.write, pages=pages.write, pages_file="p.bin")
    return out.getvalue(), pages.getvalue()


@pytest.mark.parametrize("path", [p for p in STREAMS if "2.0" not in p.name],
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")
@pytest.mark.parametrize("keep", [True, False], ids=["vmdesc-kept", "vmdesc-read-again"])
def test_streamed_equals_whole_document(path: Path, keep: bool,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams before 2.4 have no configuration: their layout is known only after EOF,
    so the streamed path declines them (the CLI then takes the whole path). A small
    vmdesc is kept as parsed for writing, a big one read again: both write the same."""
    monkeypatch.setattr(reader, "KEEP_PARSED_VMDESC", reader.KEEP_PARSED_VMDESC if keep else -1)
    whole = _whole(path)
    if whole is None:
        with pytest.raises(Irregular):
            _streamed(path)
    else:
        assert _streamed(path) == whole


def test_the_real_streams_are_mostly_streamed() -> None:
    assert sum(_whole(p) is not None for p in STREAMS if "2.0" not in p.name) >= 12


@pytest.mark.parametrize("obj", [
    {}, [], {"a": [], "b": {}, "c": [1, -2, True, None, "x\u00e9\"\n"]},
    {"s": [{"t": [[1, 2], {"u": False}]}], "n": 10 ** 30}, "plain", 0])
def test_indented_is_json_dumps(obj: object) -> None:
    assert indented(obj, "\n") == json.dumps(obj, indent=2)


@pytest.mark.parametrize("obj", [1.5, {1: 2}, b"x", {"a": {"b": (1,)}, "c": 2.0}])
def test_indented_refuses_what_it_does_not_know(obj: object) -> None:
    with pytest.raises(Irregular):
        indented(obj, "\n")


@pytest.mark.parametrize("text", ['{}', ' {"devices" : [ ] } ', '{"page_size": 4096, '
                                  '"devices": [{"a": [1]}, 2], "z": null}'])
def test_members_read_what_json_loads_reads(text: str) -> None:
    got = {k: list(v) if k == "devices" and not isinstance(v, list) else v
           for k, v in members(text, "devices")}
    assert got == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"a": 1} x', '[1]', '{"devices": [1,]}',
                                  '{"a" 1}', ''])
def test_members_refuse_the_irregular(text: str) -> None:
    with pytest.raises(Irregular):
        for k, v in members(text, "devices"):
            if k == "devices":
                list(v)


# ----------------------------------------------------------------------------- verify
VERIFIED = ("pc-i440fx-7.2", "pc-q35-7.2")
_DAMAGE = {m: corrupt_streams((ROOT / "golden" / "qemu-7.2" / "streams" / f"{m}.bin")
                              .read_bytes(), kinds=KINDS) for m in VERIFIED}


def _same_defects(data: bytes, dump: dict | None = None) -> bool:
    """The section-by-section verify reports what the whole-stream verify reports, or
    declines (Irregular); True when it took the stream."""
    whole = _verify_whole(data, None, dump, None)
    try:
        streamed = _verify_streamed(data, dump, None)
    except Irregular:
        return False
    assert streamed == whole
    return True


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_streamed_verify_equals_whole(path: Path) -> None:
    taken = _same_defects(path.read_bytes())
    assert taken == (path.stem != "pc-i440fx-2.0")  # 2.0-2.2 streams have no vmdesc


def test_streamed_verify_with_a_dump_equals_whole() -> None:
    golden = ROOT / "golden" / "qemu-7.2"
    dump = dumps.from_dump(json.loads((golden / "dumps" / "pc-i440fx-7.2.json").read_text()))
    assert _same_defects((golden / "streams" / "pc-i440fx-7.2.bin").read_bytes(), dump)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VERIFIED).flatmap(lambda m: _DAMAGE[m]))
def test_streamed_verify_equals_whole_on_damaged_streams(damaged: object) -> None:
    _same_defects(damaged.data)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- encode
def _encoded(doc_path: Path) -> bytes:
    """The stream the streamed encode writes from a document file."""
    out = io.BytesIO()
    with ExitStack() as stack:
        write_from_document(str(doc_path), out.write, sidecar=lambda name: stack.enter_context(
            open_source(os.path.join(doc_path.parent, name))))
    return out.getvalue()


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
@pytest.mark.parametrize("canonical", [True, False], ids=["vmdesc", "vmdesc_text"])
def test_streamed_encode_equals_whole(path: Path, canonical: bool, tmp_path: Path) -> None:
    """Documents of every golden, with the vmdesc as an object and (as for a vmdesc
    ``json.dumps`` does not reproduce) as text too, which wins; the pages inline."""
    data = path.read_bytes()
    try:
        doc = to_document(read_stream(data))
    except Exception:
        return
    if not canonical and doc["vmdesc"] is not None:
        doc["vmdesc_text"] = json.dumps(doc["vmdesc"], separators=(",", ":"))
    (tmp_path / "d.json").write_text(json.dumps(doc, indent=1))
    whole = to_bytes(from_document(doc))
    assert _encoded(tmp_path / "d.json") == whole
    assert (whole == data) == canonical


@pytest.mark.parametrize("change", [
    lambda d: d.pop("vmdesc"), lambda d: d.update(vmdesc=None),
    lambda d: d.update(vmdesc_from=d["vmdesc"]), lambda d: d.update(vmdesc_hex="00")])
def test_streamed_encode_declines_other_vmdescs(change: object, tmp_path: Path) -> None:
    doc = to_document(read_stream((STREAMS[0]).read_bytes()))
    change(doc)  # type: ignore[operator]
    (tmp_path / "d.json").write_text(json.dumps(doc))
    with pytest.raises(Irregular):
        _encoded(tmp_path / "d.json")


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                     | st.floats(allow_nan=False), lambda kids: st.lists(kids, max_size=4)
                     | st.dictionaries(st.text(max_size=4), kids, max_size=4), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=5), st.sampled_from([None, 0, 2]),
       st.integers(1, 9))
def test_pull_reads_what_json_loads_reads(obj: dict, indent: int | None, chunk: int) -> None:
    """Whatever the chunk size (values cut anywhere, numbers too), walking the object
    key by key and its arrays element by element gives ``json.loads``'s values."""
    text = json.dumps(obj, indent=indent)
    p = Pull(io.StringIO(text), chunk=chunk)
    got = {}
    for k in p.object():
        got[k] = [p.value(3) for _ in p.elements()] if p.peek() == "[" else p.value(2)
    p.end()
    assert got == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"a": 1} x', '[1]', '{"a": [1,]}',
                                  '{"a" 1}', '', '{"a": 1', '{"a": 12'])
def test_pull_refuses_the_irregular(text: str) -> None:
    with pytest.raises(Irregular):
        p = Pull(io.StringIO(text), chunk=2)
        for _k in p.object():
            if p.peek() == "[":
                for _ in p.elements():
                    p.value(3)
            else:
                p.value(2)
        p.end()


def test_streamed_encode_declines_a_vmdesc_text_that_is_not_text(tmp_path: Path) -> None:
    """The whole path refuses it (the text wins over the object): so must this one."""
    doc = to_document(read_stream((STREAMS[0]).read_bytes()))
    doc["vmdesc_text"] = None
    (tmp_path / "d.json").write_text(json.dumps(doc))
    with pytest.raises(Irregular):
        _encoded(tmp_path / "d.json")


_TEXT = st.text(st.sampled_from('a"\\/\n\t\x01\u00e9\u2028\U0001f600\ud800\udc00'), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.booleans(), st.integers(1, 9))
def test_pull_reads_a_string_in_pieces_as_json_loads_does(s: str, ascii: bool, chunk: int
                                                         ) -> None:
    """Cut anywhere (inside an escape, between the two halves of a surrogate pair), the
    pieces join to ``json.loads``'s string, and the reading goes on after it."""
    text = json.dumps({"k": s, "z": ['a\\"b', 1]}, ensure_ascii=ascii)
    try:
        want = json.loads(text)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, unescaped: not a file's text
        return
    p = Pull(io.StringIO(text), chunk=chunk)
    got = {k: "".join(p.string()) if p.peek() == '"' else p.value(2) for k in p.object()}
    p.end()
    assert got == want


@pytest.mark.parametrize("text", ['"abc', '"a\\x"', '"a\x01"', '"\\u12"', '"\\u12x4"', "1"])
def test_pull_refuses_an_irregular_string(text: str) -> None:
    with pytest.raises(Irregular):
        "".join(Pull(io.StringIO(text + " " * 20), chunk=2).string())


def test_streamed_encode_reads_a_long_vmdesc_text_in_pieces(tmp_path: Path) -> None:
    """A vmdesc text longer than a piece, with escapes and characters outside ASCII (a
    surrogate pair once escaped), is written exactly as the whole path writes it."""
    doc = to_document(read_stream((STREAMS[0]).read_bytes()))
    text = json.dumps(doc["vmdesc"], separators=(",", ":"))
    doc["vmdesc_text"] = ('{"note":"' + '\\u00e9\U0001f600\\"\\\\ ' * 200_000 + '",'
                          + text[1:])
    (tmp_path / "d.json").write_text(json.dumps(doc))
    whole = to_bytes(from_document(doc))
    assert len(whole) > (3 << 20)
    assert _encoded(tmp_path / "d.json") == whole


@pytest.mark.parametrize("change", [
    lambda d: d.update(vmdesc_text="\ud800"),  # the whole path names the field
    lambda d: d.update({"vmdesc": d.pop("vmdesc"), "sections": d.pop("sections")})])
def test_streamed_encode_declines_a_vmdesc_it_cannot_write_in_place(change: object,
                                                                    tmp_path: Path) -> None:
    """A vmdesc text that is not UTF-8 (a lone surrogate), a vmdesc before the sections
    (its bytes go after them)."""
    doc = to_document(read_stream((STREAMS[0]).read_bytes()))
    change(doc)  # type: ignore[operator]
    (tmp_path / "d.json").write_text(json.dumps(doc))
    with pytest.raises(Irregular):
        _encoded(tmp_path / "d.json")


def test_streamed_encode_never_holds_the_vmdesc_whole(tmp_path: Path) -> None:
    """Of a 16 MiB vmdesc text only a few pieces of about 1 MiB are held at a time (the
    whole path, and this one before, held its text and its bytes: twice its size)."""
    doc = to_document(read_stream((ROOT / "golden" / "qemu-7.2" / "streams" /
                                   "pc-i440fx-7.2.bin").read_bytes()))
    text = json.dumps(doc["vmdesc"], separators=(",", ":"))
    doc["vmdesc_text"] = text[:-1] + " " * (16 << 20) + "}"  # as long as 2000 devices
    (tmp_path / "d.json").write_text(json.dumps(doc))
    got, want = hashlib.sha256(), hashlib.sha256(to_bytes(from_document(doc)))
    del doc
    tracemalloc.start()
    try:
        write_from_document(str(tmp_path / "d.json"), got.update, sidecar=lambda name: b"")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.digest() == want.digest()
    assert peak < 12 << 20, peak
