"""One new row inserted, or one row's fields set, through SQL built once per model: what
``Model.objects.create()`` and ``filter(pk=…).update(…)`` write, for less.

Each ``create()`` builds an insert compiler and its SQL again and goes through ``save()``'s bookkeeping
(signals, the state checks of an update-or-insert): about 0.2 ms of CPU per row. A comment writes four
rows (the comment, its activity row, two events) inside the one write transaction that every other writer
queues behind, so the cost counts twice. :func:`insert` keeps what matters of ``save()`` for a new row:
field defaults (set when the instance was made), ``pre_save`` (``auto_now`` / ``auto_now_add`` stamps),
each field's own conversion to the database, and the new primary key on the instance. It sends no
``pre_save`` / ``post_save`` signals: Mesa's domain flow uses none (the brief's rule), and a model that
needs them must keep ``create()``.

:func:`update_by_pk` is ``Model.objects.filter(pk=pk).update(**values)`` for plain values (no ``F()``
expressions): the ORM builds the query, its filter and its compiler again for every call (about
0.2 ms), and a comment bumps its issue's ``updated_at`` inside the write transaction.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField

M = TypeVar("M", bound=Model)

_AUTO = (AutoField, BigAutoField, SmallAutoField)
_plans: dict[tuple[type[Model], str], tuple[str, list[Any], bool]] = {}
_update_plans: dict[tuple[type[Model], str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _plan(model: type[Model], alias: str) -> tuple[str, list[Any], bool]:
    """The INSERT's SQL, the fields in its column order, and whether it returns the new key itself."""
    key = (model, alias)
    plan = _plans.get(key)
    if plan is None:
        connection = connections[alias]
        qn = connection.ops.quote_name
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not isinstance(f, _AUTO)]
        columns = ", ".join(qn(str(f.column)) for f in fields)
        values = ", ".join(["%s"] * len(fields))
        assert meta.pk is not None  # every Mesa model has a primary key
        pk = qn(str(meta.pk.column))
        sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({values})"
        returning = bool(connection.features.can_return_columns_from_insert)
        if returning:
            sql += f" RETURNING {pk}"
        plan = _plans[key] = (sql, fields, returning)
    return plan


def insert(obj: M) -> M:
    """INSERT ``obj`` (new, with an automatic primary key) and return it with its ``pk`` set."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    sql, fields, returning = _plan(model, alias)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj._state.adding = False
    obj._state.db = alias
    return obj


def update_by_pk(model: type[Model], pk: Any, **values: Any) -> int:
    """UPDATE the row of ``model`` with primary key ``pk``, setting the fields named in ``values``
    (plain values, converted as the field converts them); the number of rows changed (0 or 1)."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    key = (model, alias, tuple(values))
    plan = _update_plans.get(key)
    if plan is None:
        qn = connection.ops.quote_name
        meta = model._meta
        fields: list[Any] = [meta.get_field(name) for name in values]
        assert meta.pk is not None  # every Mesa model has a primary key
        sets = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
        sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(str(meta.pk.column))} = %s"
        plan = _update_plans[key] = (sql, fields)
    sql, fields = plan
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return int(cursor.rowcount)
