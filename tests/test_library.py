"""Library format: segments and limits, LibId, baid64 text form, mnemonic, strict encoding, files."""
from __future__ import annotations

import gzip
import hashlib
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aluvm.library import baid64
from aluvm.library import mnemonic
from aluvm.errors import LibraryError
from aluvm.library.armor import from_armored, to_armored
from aluvm.library.files import load_file, save_file
from aluvm.library.ids import ZERO_LIB_ID, LibSite, lib_id_display, parse_lib_id
from aluvm.library.lib import DEFAULT_ISAE, Lib, lib_id, parse_isae
from aluvm.tools.service import info

ROOT = Path(__file__).resolve().parent.parent
LOCAL_LIBID = ROOT / "tests" / "vectors" / "libid.jsonl.gz"
SHARED_LIBID = ROOT.parent / "shared" / "vectors" / "libid.jsonl.gz"

FLOAT_ID = "eb9d171cf9a15a95d6479454cf80798d78de0ea732ac75e9759c58697f607cee"
FLOAT_DISPLAY = "alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#plasma-tunnel-mama"
DEFAULT_EMPTY_DISPLAY = "alu:G1UTPjFj-mGee94A-Ivud73e-ZQZ8HC7-otPb6El-0o4tAxU#sunday-scorpio-museum"


def spec_hash(isae: str, code: bytes, data: bytes, libs=()) -> bytes:
    """The id formula of encoding.md §3.3, written out independently."""
    tag = hashlib.sha256(b"urn:ubideco:aluvm:lib:v01#230304").digest()
    assert tag.hex() == "05183a28eb27b6975024bdb514991f45a2548689fe362dcc9dfad26a408e210f"
    msg = tag + tag
    msg += bytes([len(isae) % 256]) + isae.encode()
    msg += (len(code) % 65536).to_bytes(2, "little") + code
    msg += (len(data) % 65536).to_bytes(2, "little") + data
    msg += bytes([len(libs)]) + b"".join(sorted(libs))
    return hashlib.sha256(msg).digest()


# ---------------------------------------------------------------------------------------------
# §3.3 id table


@pytest.mark.parametrize(
    "isae, code, data, expected",
    [
        ("FLOAT", "", "", FLOAT_ID),
        (DEFAULT_ISAE, "", "", "1b55133e316398679ef78008bee77bdde65067c1c2ee8b4f6fa125d28e2d0315"),
        (DEFAULT_ISAE, "300000000500", "aabb", "c83fee4464a3da716b6e2238e67e86a61e5952ace99bcff022433ddeea7d123f"),
        ("ALU BPDIGEST", "", "", "5eeb0909d5b7555b57c93cdde826afd5c1c9ca409a31a296fe509d51fc69b36b"),
    ],
)
def test_id_table(isae, code, data, expected):
    lib = Lib.with_(isae, bytes.fromhex(code), bytes.fromhex(data))
    assert lib.id.hex() == expected
    assert lib_id(isae, bytes.fromhex(code), bytes.fromhex(data)).hex() == expected
    assert spec_hash(isae, bytes.fromhex(code), bytes.fromhex(data)).hex() == expected


def test_display_table():
    float_id = bytes.fromhex(FLOAT_ID)
    assert lib_id_display(float_id) == FLOAT_DISPLAY
    assert lib_id_display(float_id, prefix=False) == FLOAT_DISPLAY[4:]
    assert lib_id_display(float_id, mnemonic=False) == FLOAT_DISPLAY.split("#")[0]
    assert lib_id_display(float_id, prefix=False, mnemonic=False) == "650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4"
    assert Lib.with_(DEFAULT_ISAE, b"").id_display() == DEFAULT_EMPTY_DISPLAY


def test_checksum_bytes_repeat_byte_one():
    payload = bytes.fromhex(FLOAT_ID)
    c = hashlib.sha256(hashlib.sha256(b"alu").digest() + payload).digest()
    assert baid64.checksum("alu", payload) == bytes([c[0], c[1], c[1], c[2]])
    assert baid64.mnemonic("alu", payload) == "plasma-tunnel-mama"


@pytest.mark.parametrize(
    "text",
    [
        FLOAT_DISPLAY,
        FLOAT_DISPLAY[4:],
        "alu:650XHPmhWpXWR5RUz4B5jXjeDqcyrHXpdZxYaX9gfO4",
        "alu:650XHPmhWpXWR5RUz4B5jXjeDqcyrHXpdZxYaX9gfO4#plasma-tunnel-mama",
        "650XHPmhWpXWR5RUz4B5jXjeDqcyrHXpdZxYaX9gfO4",
        "650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4",
        "alu:650XHPmhWpXWR5RUz4B5jXjeDqcyrHXpdZxYaX9gfO4#plasma tunnel mama",  # any separator
        "alu:650X-HPmhWpXWR5RUz4B5jXje-DqcyrHXpdZxYaX9gfO4--",  # dashes anywhere
    ],
)
def test_parse_variants(text):
    assert parse_lib_id(text) == bytes.fromhex(FLOAT_ID)


def test_parse_embedded_checksum():
    payload = bytes.fromhex(FLOAT_ID)
    embedded = baid64.display("alu", payload, embed_checksum=True, suffix=False)
    assert len(embedded.replace("alu:", "").replace("-", "")) == 48
    assert parse_lib_id(embedded) == payload
    broken = embedded[:-1] + ("A" if embedded[-1] != "A" else "B")
    with pytest.raises(LibraryError, match="checksum"):
        parse_lib_id(broken)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("bp:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4", "prefix"),
        ("ALU:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4", "prefix"),
        ("alu:alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4", "prefix"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#plasma-tunnel-mamb", "mnemonic"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#PLASMA-tunnel-mama", "mnemonic"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#plasma-tunnel", "mnemonic"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#", "mnemonic"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4#sunday-scorpio-museum", "checksum"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO", "trailing bits"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfA", "length"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4A", "length"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO5", "trailing bits"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO+", "symbol"),
        ("alu:650XHPmh WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gfO4", "symbol"),
        ("alu:650XHPmh-WpXWR5R-Uz4B5jX-jeDqcyr-HXpdZxY-aX9gf=", "symbol"),
        ("", "length"),
        ("alu:", "length"),
    ],
)
def test_parse_errors(text, fragment):
    with pytest.raises(LibraryError, match=fragment):
        parse_lib_id(text)


def test_parse_non_text():
    for bad in (None, 5, b"alu:650XHPmh", ["x"]):
        with pytest.raises(LibraryError):
            parse_lib_id(bad)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.booleans(), st.booleans())
def test_display_parse_round_trip(payload, prefix, mnemo):
    text = lib_id_display(payload, prefix=prefix, mnemonic=mnemo)
    assert parse_lib_id(text) == payload
    assert parse_lib_id(text.replace("-", "") if not mnemo else text.split("#")[0].replace("-", "")) == payload
    body = text.split("#")[0].split(":")[-1]
    assert [len(g) for g in body.split("-")] == [8, 7, 7, 7, 7, 7]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=120), st.text(alphabet="alu:#-ABCabc0189!$ plasmtuner", max_size=90)))
def test_parse_fuzz_only_library_error(text):
    try:
        result = parse_lib_id(text)
    except LibraryError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, bytes) and len(result) == 32


# ---------------------------------------------------------------------------------------------
# mnemonic


def test_mnemonic_crate_examples():
    data = bytes([101, 2, 240, 6, 108, 11, 20, 97])
    assert mnemonic.encode(data) == "digital-apollo-aroma--rival-artist-rebel"
    assert mnemonic.decode("digital-apollo-aroma--rival-artist-rebel") == data
    assert mnemonic.encode(bytes([0x01, 0xE2, 0x40])) == "consul-quiet-fax"
    assert mnemonic.decode("consul-quiet-fax") == bytes([0x01, 0xE2, 0x40])
    assert len(mnemonic.WORDS) == 1633 and mnemonic.WORDS[0] == "academy" and mnemonic.WORDS[-1] == "yes"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_mnemonic_round_trip(data):
    text = mnemonic.encode(data)
    assert len(text.replace("--", "-").split("-")) == (mnemonic.words_required(len(data)) or 1) or not data
    assert mnemonic.decode(text) == data


@pytest.mark.parametrize(
    "text",
    ["unknownword", "fax", "academy-fax-academy", "academy-academy-fax-academy", "academy-academy-yes-academy",
     "academy-academy-" + mnemonic.WORDS[1625], "zoom-zoom", "zoom"],
)
def test_mnemonic_rejects(text):
    with pytest.raises(mnemonic.MnemonicError):
        mnemonic.decode(text)


def test_mnemonic_overflowing_triple_rejected():
    # word 1624 in third position with a large low part would exceed 32 bits
    w = mnemonic.WORDS
    x = 1312672  # smallest low part that overflows
    text = f"{w[x % 1626]}-{w[x // 1626]}-{w[1624]}"
    with pytest.raises(mnemonic.MnemonicError):
        mnemonic.decode(text)
    x = 1312671  # the largest that fits: 0xFFFFFFFF
    assert mnemonic.decode(f"{w[x % 1626]}-{w[x // 1626]}-{w[1624]}") == b"\xff\xff\xff\xff"


# ---------------------------------------------------------------------------------------------
# segments and limits


def test_isae_parsing():
    assert parse_isae("SECP256K ALU ALU BPDIGEST") == ("ALU", "BPDIGEST", "SECP256K")
    lib = Lib.with_("ZK RGB ALU RGB", b"")
    assert lib.isae == ("ALU", "RGB", "ZK")
    assert lib.isae_string() == "ALU RGB ZK"
    assert lib.id == spec_hash("ALU RGB ZK", b"", b"")
    assert Lib.with_("AB", b"").isae == ("AB",)
    assert Lib.with_("ABCDEFG8", b"").isae == ("ABCDEFG8",)


@pytest.mark.parametrize(
    "isae, message",
    [
        ("", "ISA id  has a wrong name, specifically must contain at least one character."),
        ("ALU  BPDIGEST", "ISA id  has a wrong name, specifically must contain at least one character."),
        ("ALU ", "ISA id  has a wrong name, specifically must contain at least one character."),
        ("alu", "ISA id alu has a wrong name, specifically string 'alu' must not start with character 'a'."),
        ("1AB", "ISA id 1AB has a wrong name, specifically string '1AB' must not start with character '1'."),
        ("ALx", "ISA id ALx has a wrong name, specifically string 'ALx' contains invalid character 'x' at position 2."),
        ("AL_U", "ISA id AL_U has a wrong name, specifically string 'AL_U' contains invalid character '_' at position 2."),
        ("A", "ISA id A has a wrong name, specifically string has invalid length."),
        ("ABCDEFGH9", "ISA id ABCDEFGH9 has a wrong name, specifically string has invalid length."),
        ("ALU\tX", "ISA id ALU\\tX has a wrong name, specifically string 'ALU\\tX' contains invalid character '\\t' at position 3."),
    ],
)
def test_isae_errors(isae, message):
    with pytest.raises(LibraryError) as exc:
        Lib.with_(isae, b"")
    assert str(exc.value) == message
    assert info({"op": "info", "code": "", "data": "", "isae": isae}) == {"ok": False, "error": message}


def test_isae_count_limit():
    names = [f"A{i:02d}" for i in range(65)]
    assert len(Lib.with_(" ".join(names[:64]), b"").isae) == 64
    too_many = "ISA segment is invalid, specifically operation results in collection size 65 exceeding 64, which is prohibited"
    with pytest.raises(LibraryError, match=too_many):
        Lib.with_(" ".join(names), b"")
    # the reference refuses to push into a full set even when the name is a duplicate
    with pytest.raises(LibraryError, match=too_many):
        Lib.with_(" ".join(names[:64] + ["A00"]), b"")
    # a duplicate before the set is full is fine
    assert len(Lib.with_(" ".join(["A00"] + names[:64]), b"").isae) == 64


def test_isae_string_length_truncates_in_id():
    names = [f"ABCDEFG{i % 10}" for i in range(10)] + [f"ABCDEF{i:02d}" for i in range(54)]
    lib = Lib.with_(" ".join(names), b"\x01", b"\x02")
    assert len(lib.isae_string()) > 255
    assert lib.id == spec_hash(lib.isae_string(), b"\x01", b"\x02")


def test_segment_limits():
    Lib.with_(DEFAULT_ISAE, bytes(0xFFFF), bytes(0xFFFF))
    with pytest.raises(LibraryError) as exc:
        Lib.with_(DEFAULT_ISAE, bytes(0x10000))
    assert str(exc.value) == "the size of the CODE segment is 65536, which exceeds `CODE_SEGMENT_MAX_LEN`"
    # S13: an oversized data segment is reported with the code length
    with pytest.raises(LibraryError) as exc:
        Lib.with_(DEFAULT_ISAE, b"\x00\x01\x02", bytes(0x10000))
    assert str(exc.value) == "the size of the DATA segment is 3, which exceeds `DATA_SEGMENT_MAX_LEN`"
    # the ISAE is checked first
    with pytest.raises(LibraryError, match="ISA id"):
        Lib.with_("bad", bytes(0x10000), bytes(0x10000))
    libs = [i.to_bytes(32, "big") for i in range(256)]
    assert len(Lib.with_(DEFAULT_ISAE, b"", b"", libs[:255]).libs) == 255
    with pytest.raises(LibraryError, match="exceeding 255"):
        Lib.with_(DEFAULT_ISAE, b"", b"", libs)
    with pytest.raises(LibraryError, match="32 bytes"):
        Lib.with_(DEFAULT_ISAE, b"", b"", [b"\x01" * 31])
    with pytest.raises(LibraryError):
        Lib.with_(DEFAULT_ISAE, "00")  # type: ignore[arg-type]
    with pytest.raises(LibraryError):
        Lib.with_(None, b"")  # type: ignore[arg-type]


def test_libs_sorted_dedup_and_lib_at():
    a, b, c = b"\x03" * 32, b"\x01" * 32, b"\x02" * 32
    lib = Lib.with_(DEFAULT_ISAE, b"\xff", b"", [a, b, c, a])
    assert lib.libs == (b, c, a)
    assert lib.lib_at(0) == b and lib.lib_at(2) == a
    assert lib.lib_at(3) == ZERO_LIB_ID == bytes(32)
    assert lib.lib_at(255) == ZERO_LIB_ID
    assert lib.lib_index(c) == 1 and lib.lib_index(bytes(32)) is None
    assert lib.id == spec_hash(DEFAULT_ISAE, b"\xff", b"", [a, b, c])
    assert lib_id(DEFAULT_ISAE, b"\xff", b"", [c, a, b]) == lib.id
    # ids may be given as baid64 text too
    assert Lib.with_(DEFAULT_ISAE, b"\xff", b"", [lib_id_display(x) for x in (a, b, c)]) == lib


def test_immutable_and_identity():
    lib = Lib.with_(DEFAULT_ISAE, b"\x01\x02", b"\x03")
    with pytest.raises(AttributeError):
        lib.code = b""  # type: ignore[misc]
    with pytest.raises(AttributeError):
        lib.isae = ()  # type: ignore[misc]
    same = Lib.with_("SECP256K ED25519 BPDIGEST ALU", b"\x01\x02", b"\x03")
    assert lib == same and hash(lib) == hash(same)
    other = Lib.with_(DEFAULT_ISAE, b"\x01\x02")
    assert lib != other
    assert sorted([lib, other]) == sorted([other, lib])
    assert pickle.loads(pickle.dumps(lib)) == lib
    assert lib.id is lib.id  # cached
    assert "alu:" in repr(lib)


def test_lib_site():
    site = LibSite(bytes.fromhex(FLOAT_ID), 7)
    assert str(site) == f"7 @ {FLOAT_DISPLAY}"
    assert site.serialize() == bytes.fromhex(FLOAT_ID) + b"\x07\x00"
    assert LibSite.deserialize(site.serialize()) == site
    with pytest.raises(LibraryError):
        LibSite.deserialize(b"\x00" * 33)


# ---------------------------------------------------------------------------------------------
# strict serialization


def test_serialize_layout():
    lib = Lib.with_("BPDIGEST ALU", b"\xaa\xbb", b"\xcc", [b"\x02" * 32, b"\x01" * 32])
    blob = lib.serialize()
    expected = (
        b"\x02" + b"\x03ALU" + b"\x08BPDIGEST"
        + b"\x02\x00\xaa\xbb"
        + b"\x01\x00\xcc"
        + b"\x02" + b"\x01" * 32 + b"\x02" * 32
    )
    assert blob == expected
    assert Lib.deserialize(blob) == lib
    assert Lib.deserialize(bytearray(blob)).libs == lib.libs
    assert Lib(isae=(), code=b"").serialize() == b"\x00\x00\x00\x00\x00\x00"
    assert Lib.deserialize(b"\x00\x00\x00\x00\x00\x00").isae_string() == ""


isa_names = st.from_regex(r"[A-Z][A-Z0-9]{1,7}", fullmatch=True)
lib_ids = st.binary(min_size=32, max_size=32)
libs_strategy = st.builds(
    lambda isae, code, data, libs: Lib(isae, code, data, libs),
    st.lists(isa_names, min_size=0, max_size=70).map(lambda xs: xs[:64]),
    st.binary(max_size=300),
    st.binary(max_size=300),
    st.lists(lib_ids, max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(libs_strategy)
def test_serialize_round_trip(lib):
    blob = lib.serialize()
    back = Lib.deserialize(blob)
    assert (back.isae, back.code, back.data, back.libs) == (lib.isae, lib.code, lib.data, lib.libs)
    assert back.id == lib.id
    assert back.serialize() == blob
    if lib.isae:
        assert Lib.with_(lib.isae_string(), lib.code, lib.data, lib.libs) == lib
    with pytest.raises(LibraryError, match="trailing"):
        Lib.deserialize(blob + b"\x00")
    with pytest.raises(LibraryError, match="end of data"):
        Lib.deserialize(blob[:-1])


@settings(max_examples=40, deadline=None)
@given(libs_strategy)
def test_armored_round_trip(lib):
    text = to_armored(lib)
    body = text.split("\n\n")[1].split("\n")
    assert all(len(line) <= 80 for line in body)
    assert from_armored(text) == lib
    assert from_armored(text, check_headers=True) == lib


@pytest.mark.parametrize(
    "blob, fragment",
    [
        (b"", "end of data"),
        (b"\x41", "exceeding 64"),
        (b"\x01\x03alu\x00\x00\x00\x00\x00", "wrong name"),
        (b"\x01\x01A\x00\x00\x00\x00\x00", "invalid length"),
        (b"\x01\x09ABCDEFGHI\x00\x00\x00\x00\x00", "invalid length"),
        (b"\x01\x00\x00\x00\x00\x00\x00", "at least one character"),
        (b"\x01\x03AL\xc3\x00\x00\x00\x00\x00", "non-ASCII"),
        (b"\x02\x02ZK\x03ALU\x00\x00\x00\x00\x00", "ascending"),
        (b"\x02\x03ALU\x03ALU\x00\x00\x00\x00\x00", "repeated"),
        (b"\x00\x00\x00\x00\x00\x02" + b"\x02" * 32 + b"\x01" * 32, "ascending"),
        (b"\x00\x00\x00\x00\x00\x02" + b"\x02" * 32 + b"\x02" * 32, "repeated"),
        (b"\x00\x05\x00ab", "end of data"),
        (b"\x00\x00\x00\x00\x00\x01" + b"\x02" * 31, "end of data"),
    ],
)
def test_deserialize_errors(blob, fragment):
    with pytest.raises(LibraryError, match=fragment):
        Lib.deserialize(blob)


def test_deserialize_non_bytes():
    with pytest.raises(LibraryError):
        Lib.deserialize("00")  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    # mostly well-formed prefixes with random tails, to reach the deeper checks
    st.tuples(st.integers(0, 3), st.binary(max_size=60)).map(lambda t: bytes([t[0]]) + t[1]),
    libs_strategy.map(lambda lib: lib.serialize()).flatmap(
        lambda b: st.tuples(st.just(b), st.integers(0, max(0, len(b) - 1)), st.integers(0, 255))
    ).map(lambda t: t[0][: t[1]] + bytes([t[2]]) + t[0][t[1] + 1:]),
))
def test_deserialize_fuzz_only_library_error(blob):
    try:
        lib = Lib.deserialize(blob)
    except LibraryError as exc:
        assert "\n" not in str(exc)
    else:
        assert lib.serialize() == blob


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_armor_fuzz_only_library_error(text):
    for candidate in (text, "-----BEGIN ALUVM LIB-----\n" + text + "\n-----END ALUVM LIB-----\n"):
        try:
            from_armored(candidate)
        except LibraryError as exc:
            assert "\n" not in str(exc)


# ---------------------------------------------------------------------------------------------
# ASCII armor and files


def test_armor_format():
    dep = bytes.fromhex(FLOAT_ID)
    lib = Lib.with_("ALU BPDIGEST", bytes(range(100)), b"data", [dep])
    text = to_armored(lib)
    lines = text.split("\n")
    assert lines[0] == "-----BEGIN ALUVM LIB-----"
    assert lines[1] == f"Id: {lib.id_display()}"
    assert lines[2] == "ISA-Extensions: ALU BPDIGEST"
    assert lines[3] == f"Dependency: {FLOAT_DISPLAY}"
    assert lines[4] == f"Check-SHA256: {hashlib.sha256(lib.serialize()).hexdigest()}"
    assert lines[5] == ""
    assert text.endswith("\n\n-----END ALUVM LIB-----\n")
    assert text.isascii()


def test_armor_checks():
    lib = Lib.with_(DEFAULT_ISAE, b"\x01\x02\x03", b"\x04")
    text = to_armored(lib)
    # a wrong checksum is rejected
    digest = hashlib.sha256(lib.serialize()).hexdigest()
    bad = text.replace(digest, digest[:-1] + ("0" if digest[-1] != "0" else "1"))
    with pytest.raises(LibraryError, match="checksum"):
        from_armored(bad)
    # structure
    with pytest.raises(LibraryError, match="not an ASCII-armored"):
        from_armored(text.replace("ALUVM LIB", "ALUVM LIBX", 1))
    with pytest.raises(LibraryError, match="not an ASCII-armored"):
        from_armored(text + "\n")
    # headers are informational (as in the reference) unless check_headers is asked for
    wrong_id = text.replace(lib.id_display(), FLOAT_DISPLAY)
    assert from_armored(wrong_id) == lib
    with pytest.raises(LibraryError, match="Id header"):
        from_armored(wrong_id, check_headers=True)
    # the checksum header is optional; CRLF line ends are fine
    no_ck = "\n".join(line for line in text.split("\n") if not line.startswith("Check-SHA256"))
    assert from_armored(no_ck) == lib
    assert from_armored(text.replace("\n", "\r\n")) == lib
    # a base64 body is accepted too
    import base64

    b64 = f"-----BEGIN ALUVM LIB-----\nId: {lib.id_display()}\n\n{base64.b64encode(lib.serialize()).decode()}\n-----END ALUVM LIB-----\n"
    assert from_armored(b64) == lib


def test_files(tmp_path):
    lib = Lib.with_(DEFAULT_ISAE, bytes(range(256)) * 3, b"\x00" * 10, [b"\x07" * 32])
    raw = tmp_path / "lib.bin"
    save_file(lib, raw)
    assert raw.read_bytes() == lib.serialize()
    assert load_file(raw) == lib
    armored = tmp_path / "lib.alu"
    save_file(lib, armored, armored=True)
    assert armored.read_text().startswith("-----BEGIN ALUVM LIB-----\n")
    assert load_file(str(armored)) == lib
    with pytest.raises(LibraryError, match="cannot read"):
        load_file(tmp_path / "missing.lib")
    (tmp_path / "junk").write_bytes(b"\x05junk")
    with pytest.raises(LibraryError):
        load_file(tmp_path / "junk")
    (tmp_path / "junk2").write_bytes(b"-----BEGIN ALUVM LIB-----\n\xff\xfe\n")
    with pytest.raises(LibraryError):
        load_file(tmp_path / "junk2")


# ---------------------------------------------------------------------------------------------
# `info` and the reference vectors


def test_info_other_errors():
    assert info({"op": "info", "code": "zz", "data": ""})["ok"] is False
    assert info({"op": "info", "code": "00" * 65536, "data": ""}) == {
        "ok": False,
        "error": "the size of the CODE segment is 65536, which exceeds `CODE_SEGMENT_MAX_LEN`",
    }
    assert info({"op": "info", "code": "", "data": ""}) == {
        "ok": True,
        "lib_id": "1b55133e316398679ef78008bee77bdde65067c1c2ee8b4f6fa125d28e2d0315",
        "lib_id_display": DEFAULT_EMPTY_DISPLAY,
        "isae": DEFAULT_ISAE,
        "default_isae": DEFAULT_ISAE,
    }


def _vectors(path: Path):
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _check_vectors(vectors):
    mismatches = []
    for v in vectors:
        got = info(v["request"])
        if got != v["expect"]:
            mismatches.append((v["id"], got, v["expect"]))
        if v["expect"].get("ok"):
            assert parse_lib_id(v["expect"]["lib_id_display"]).hex() == v["expect"]["lib_id"]
    assert not mismatches, f"{len(mismatches)} of {len(vectors)} differ; first: {mismatches[0]}"


def test_libid_vectors_committed_slice():
    vectors = _vectors(LOCAL_LIBID)
    assert len(vectors) >= 100
    _check_vectors(vectors)


@pytest.mark.skipif(not SHARED_LIBID.is_file(), reason="shared vectors not present")
def test_libid_vectors_shared():
    vectors = _vectors(SHARED_LIBID)
    assert len(vectors) == 1500
    _check_vectors(vectors)
