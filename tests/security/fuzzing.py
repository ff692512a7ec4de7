"""Hypothesis strategies for any protobuf message, built from its descriptor.

Values mix the plausible (ids that exist in the world under test, the right currency) with the
hostile (empty, 300-character, unicode, NUL, int64 extremes, unknown enum numbers, NaN), so a
fuzz run reaches both the validators and the code behind them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
T = FieldDescriptor

hostile_text = st.one_of(
    st.just(""),
    st.text(max_size=24),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=300),
    st.sampled_from(["\x00", "a\x00b", "💥" * 5, "' OR 1=1 --", "../../etc/passwd", " ", "%s%n"]),
)


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    edges = [v for v in (0, 1, -1, 2, 100, 10**6, 10**12, lo, hi, hi - 1, lo + 1) if lo <= v <= hi]
    return st.one_of(st.sampled_from(edges), st.integers(max(lo, -(10**12)), min(hi, 10**12)))


class MessageStrategies:
    """`pools` maps a field name (or its suffix after '_', e.g. 'wallet_id') to plausible values."""

    def __init__(self, pools: Mapping[str, Sequence[Any]], max_depth: int = 3) -> None:
        self.pools = pools
        self.max_depth = max_depth

    def _pool(self, name: str) -> Sequence[Any] | None:
        if name in self.pools:
            return self.pools[name]
        for key, values in self.pools.items():
            if name.endswith(("_" + key, key + "s", key + "_ids")):
                return values
        return None

    def _text(self, name: str) -> st.SearchStrategy[str]:
        pool = self._pool(name)
        if pool:
            return st.one_of(st.sampled_from(list(pool)), st.sampled_from(list(pool)), hostile_text)
        return hostile_text

    def scalar(self, f: FieldDescriptor) -> st.SearchStrategy[Any]:
        t = f.type
        numbers = self.pools.get(f.name)
        if numbers and t != T.TYPE_STRING and all(isinstance(v, int | float) for v in numbers):
            return st.sampled_from(list(numbers))  # e.g. bounded business times
        if t == T.TYPE_STRING:
            return self._text(f.name)
        if t == T.TYPE_BYTES:
            return st.binary(max_size=64)
        if t == T.TYPE_BOOL:
            return st.booleans()
        if t in (T.TYPE_INT64, T.TYPE_SINT64, T.TYPE_SFIXED64):
            return _ints(*INT64)
        if t in (T.TYPE_INT32, T.TYPE_SINT32, T.TYPE_SFIXED32):
            return _ints(*INT32)
        if t in (T.TYPE_UINT64, T.TYPE_FIXED64):
            return _ints(0, 2**64 - 1)
        if t in (T.TYPE_UINT32, T.TYPE_FIXED32):
            return _ints(0, 2**32 - 1)
        if t in (T.TYPE_DOUBLE, T.TYPE_FLOAT):
            return st.floats(width=32 if t == T.TYPE_FLOAT else 64)
        if t == T.TYPE_ENUM:
            numbers = [v.number for v in f.enum_type.values]
            return st.one_of(st.sampled_from(numbers), st.sampled_from([-1, max(numbers) + 1, 99]))
        raise TypeError(f"no strategy for field type {t} ({f.full_name})")

    def message(self, descriptor: Descriptor, cls: Any, depth: int = 0) -> st.SearchStrategy[Any]:
        """Messages of `cls`: each field set or left default; repeated fields 0..3 long."""

        @st.composite
        def build(draw: Any) -> Any:
            msg = cls()
            for f in descriptor.fields:
                if not draw(st.booleans()):
                    continue
                repeated = (
                    f.is_repeated if hasattr(f, "is_repeated") else f.label == T.LABEL_REPEATED
                )
                if f.type == T.TYPE_MESSAGE:
                    if f.message_type.GetOptions().map_entry:
                        k, v = (
                            f.message_type.fields_by_name["key"],
                            f.message_type.fields_by_name["value"],
                        )
                        if v.type == T.TYPE_MESSAGE:
                            continue
                        entries = draw(st.dictionaries(self.scalar(k), self.scalar(v), max_size=3))
                        getattr(msg, f.name).update(entries)
                        continue
                    if depth >= self.max_depth:
                        continue
                    sub_cls = type(getattr(msg, f.name).add() if repeated else getattr(msg, f.name))
                    if repeated:
                        del getattr(msg, f.name)[:]
                    sub = self.message(f.message_type, sub_cls, depth + 1)
                    if repeated:
                        for item in draw(st.lists(sub, max_size=3)):
                            getattr(msg, f.name).add().CopyFrom(item)
                    else:
                        getattr(msg, f.name).CopyFrom(draw(sub))
                    continue
                if repeated:
                    getattr(msg, f.name).extend(draw(st.lists(self.scalar(f), max_size=3)))
                else:
                    setattr(msg, f.name, draw(self.scalar(f)))
            return msg

        return build()
