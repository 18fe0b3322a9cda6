"""Hot-path queries compiled to SQL once, then run with new parameters.

Building and compiling a queryset costs the ORM about a millisecond of CPU, every time, and the
agent API's busiest answers read five or six small queries. :func:`compiled` takes a function that
builds a ``values_list()`` queryset from its arguments (the queryset stays the one source of the
query's rules), compiles it once per database vendor and argument types with stand-in values, and
afterwards only binds the real arguments into the stored SQL. Rows come back as tuples through the
same converters the ORM applies (dates, decimals, booleans).

The stand-ins must reach the SQL parameters unchanged: a plain ``filter(field=arg)`` does; an
argument the ORM transforms (``__icontains``, a date lookup) or that changes the SQL's shape (``None``
becomes ``IS NULL``) does not, and such calls simply run through the ORM every time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_stand_ins = itertools.count(1)
_NOT_PLANNED: Any = object()


def _stand_in(value: Any) -> Any:
    n = next(_stand_ins)
    if isinstance(value, bool) or value is None:
        raise TypeError("booleans and None change the SQL, not only its parameters")
    if isinstance(value, int):
        return -(10**15) - n
    if isinstance(value, str):
        return f"\x00mesa-stand-in-{n}\x00"
    raise TypeError(f"{type(value).__name__} arguments are not compiled")


class _Plan:
    """The SQL of one queryset shape, where each argument goes in its parameters, and the converters."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], args: Sequence[Any]) -> None:
        stand_ins = [_stand_in(a) for a in args]
        queryset = build(*stand_ins)
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = compiler.as_sql()
        slots: list[tuple[bool, Any]] = []  # (is an argument, argument index or constant value)
        seen: set[int] = set()
        for param in params:
            found = next((i for i, s in enumerate(stand_ins) if param == s), None)
            if found is not None:
                slots.append((True, found))
                seen.add(found)
            elif any(isinstance(param, str) and isinstance(s, str) and s in param for s in stand_ins):
                raise TypeError("an argument is transformed by its lookup")
            else:
                slots.append((False, param))
        if len(seen) != len(stand_ins):
            raise TypeError("an argument does not reach the SQL as a parameter")
        self.slots = slots
        self.compiler = compiler
        self.converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])

    def run(self, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        params = [args[v] if is_arg else v for is_arg, v in self.slots]
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            return [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return [tuple(row) for row in rows]


class Compiled:
    """Call with the builder's arguments: the rows of ``build(*args)`` as a list of tuples."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self.build = build
        self.plans: dict[tuple[Any, ...], _Plan | None] = {}

    def __call__(self, *args: Any) -> list[tuple[Any, ...]]:
        key = (connections["default"].vendor, *(type(a) for a in args))
        plan = self.plans.get(key, _NOT_PLANNED)
        if plan is _NOT_PLANNED:
            try:
                plan = _Plan(self.build, args)
            except TypeError:
                plan = None  # this shape cannot be compiled: the ORM runs it every time
            self.plans[key] = plan
        if plan is None:
            return [tuple(row) for row in self.build(*args)]
        return plan.run(args)


def compiled(build: Callable[..., QuerySet[Any, Any]]) -> Compiled:
    """Wrap a builder of ``values_list()`` querysets (not ``flat``, not ``named``) as a compiled query."""
    return Compiled(build)
