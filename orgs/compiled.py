"""Hot-path queries compiled to SQL once, then run with new parameters.

Building and compiling a queryset costs the ORM about a millisecond of CPU, every time, and the
agent API's busiest answers read five or six small queries. :func:`compiled` takes a function that
builds a ``values_list()`` queryset from its arguments (the queryset stays the one source of the
query's rules), compiles it once per database vendor and argument types with stand-in values, and
afterwards only binds the real arguments into the stored SQL. Rows come back as tuples through the
same converters the ORM applies (dates, decimals, booleans). :func:`compiled_models` does the same
for a queryset of model instances (with its ``select_related`` objects), built as the ORM builds them.

A builder whose query changes shape with its arguments (which filters a request asks for) takes the
shape as a tuple argument: tuples are passed to it as they are, and each distinct tuple has a plan of
its own. :meth:`Compiled.page` and :meth:`Compiled.count` give a page and the total of the same query.

The stand-ins must reach the SQL parameters unchanged: a plain ``filter(field=arg)`` does; an
argument the ORM transforms (``__icontains``, a date lookup) or that changes the SQL's shape (``None``
becomes ``IS NULL``) does not, and such calls simply run through the ORM every time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

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
        # A tuple argument is part of the shape: passed as it is, and a key of the plan (see Compiled).
        self.stand_ins = [a if isinstance(a, tuple) else _stand_in(a) for a in args]
        self.queryset = build(*self.stand_ins)
        self.alias = self.queryset.db
        compiler = self.queryset.query.get_compiler(using=self.alias)
        self.sql, self.slots = self._bind(compiler)
        self.compiler = compiler
        self.converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        self.counting: tuple[str, list[tuple[bool, Any]]] | None = None

    def _bind(self, compiler: Any) -> tuple[str, list[tuple[bool, Any]]]:
        """The compiler's SQL and, per parameter, (True, the argument's index) or (False, a constant)."""
        sql, params = compiler.as_sql()
        stand_ins = self.stand_ins
        slots: list[tuple[bool, Any]] = []
        seen: set[int] = set()
        for param in params:
            found = next((i for i, s in enumerate(stand_ins) if not isinstance(s, tuple) and param == s), None)
            if found is not None:
                slots.append((True, found))
                seen.add(found)
            elif any(isinstance(param, str) and isinstance(s, str) and s in param for s in stand_ins):
                raise TypeError("an argument is transformed by its lookup")
            else:
                slots.append((False, param))
        if len(seen) != sum(1 for s in stand_ins if not isinstance(s, tuple)):
            raise TypeError("an argument does not reach the SQL as a parameter")
        return sql, slots

    def run(self, args: Sequence[Any], *, offset: int = 0, limit: int | None = None) -> list[tuple[Any, ...]]:
        params = [args[v] if is_arg else v for is_arg, v in self.slots]
        sql = self.sql
        if limit is not None:
            # A page of the compiled query: LIMIT / OFFSET as parameters (SQLite and PostgreSQL alike).
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        elif offset:
            raise ValueError("an offset needs a limit")
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.converters:
            return [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return [tuple(row) for row in rows]

    def count(self, args: Sequence[Any]) -> int:
        if self.counting is None:
            # The same rows without their order (sorting them only to count them is wasted), compiled once.
            unordered = self.queryset.order_by()
            sql, slots = self._bind(unordered.query.get_compiler(using=self.alias))
            self.counting = (f"SELECT COUNT(*) FROM ({sql}) mesa_counted", slots)
        sql, slots = self.counting
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, [args[v] if is_arg else v for is_arg, v in slots])
            return int(cursor.fetchone()[0])


class _ModelPlan(_Plan):
    """A plan whose rows become model instances (with their ``select_related`` objects), as the ORM makes them."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], args: Sequence[Any]) -> None:
        super().__init__(build, args)
        compiler = self.compiler
        klass_info = compiler.klass_info
        if klass_info is None or compiler.annotation_col_map:
            raise TypeError("only plain model querysets (select_related allowed) are compiled as models")
        fields = klass_info["select_fields"]
        self.model = klass_info["model"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in compiler.select[self.start : self.end]]
        # Django 5.2's signature (the type stubs describe a later one).
        self.populators = get_related_populators(klass_info, compiler.select, self.alias)  # type: ignore[call-arg]

    def instances(self, args: Sequence[Any]) -> list[Any]:
        out = []
        for row in self.run(args):
            obj = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out


class Compiled:
    """Call with the builder's arguments: the rows of ``build(*args)`` as a list of tuples."""

    plan_class: type[_Plan] = _Plan

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self.build = build
        self.plans: dict[tuple[Any, ...], _Plan | None] = {}

    def plan(self, args: Sequence[Any]) -> _Plan | None:
        key = (connections["default"].vendor, *(a if isinstance(a, tuple) else type(a) for a in args))
        plan = self.plans.get(key, _NOT_PLANNED)
        if plan is _NOT_PLANNED:
            try:
                plan = self.plan_class(self.build, args)
            except (TypeError, EmptyResultSet):
                plan = None  # this shape cannot be compiled (or matches nothing): the ORM runs it every time
            self.plans[key] = plan
        return plan

    def __call__(self, *args: Any) -> list[tuple[Any, ...]]:
        plan = self.plan(args)
        if plan is None:
            return [tuple(row) for row in self.build(*args)]
        return plan.run(args)

    def page(self, *args: Any, offset: int, limit: int) -> list[tuple[Any, ...]]:
        """The rows ``offset`` to ``offset + limit`` of ``build(*args)`` (which must be ordered)."""
        plan = self.plan(args)
        if plan is None:
            return [tuple(row) for row in self.build(*args)[offset : offset + limit]]
        return plan.run(args, offset=offset, limit=limit)

    def count(self, *args: Any) -> int:
        """How many rows ``build(*args)`` has."""
        plan = self.plan(args)
        if plan is None:
            return int(self.build(*args).count())
        return plan.count(args)


class CompiledModels(Compiled):
    """Call with the builder's arguments: the model instances of ``build(*args)``, as a list."""

    plan_class = _ModelPlan

    def __call__(self, *args: Any) -> list[Any]:
        plan = self.plan(args)
        if plan is None:
            return list(self.build(*args))
        assert isinstance(plan, _ModelPlan)
        return plan.instances(args)

    def first(self, *args: Any) -> Any | None:
        """The first instance of ``build(*args)``, or None: for a read of one row by its key (no LIMIT is added)."""
        found = self(*args)
        return found[0] if found else None


def compiled(build: Callable[..., QuerySet[Any, Any]]) -> Compiled:
    """Wrap a builder of ``values_list()`` querysets (not ``flat``, not ``named``) as a compiled query."""
    return Compiled(build)


def compiled_models(build: Callable[..., QuerySet[Any, Any]]) -> CompiledModels:
    """Wrap a builder of model querysets (``select_related``, ``only``/``defer`` allowed; no annotations)."""
    return CompiledModels(build)
