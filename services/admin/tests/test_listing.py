"""The shared list machinery: bad filters, sorts and tokens are INVALID_ARGUMENT with paths."""

from __future__ import annotations

import pytest

from skyloom_admin.listing import Column, Kind, Listing, Sql, encode_token
from skyloom_common.errors import InvalidArgument
from skyloom_idl.admin import common_pb2, task_pb2
from skyloom_idl.core import identifier_pb2

from .conftest import DOMAIN, PROJECT, Running, fails, register_task, task_template

Op = common_pb2.Filter.Operator
LISTING = Listing(
    columns={"name": Column("name"), "created_at": Column("created_at", Kind.TIME)},
    tiebreak="seq",
    labels="labels",
)


def plan(
    *filters: common_pb2.Filter, sort: str = "", token: str = ""
) -> tuple[list[str], list[object]]:
    sql = Sql()
    page = LISTING.query(
        sql, filters, common_pb2.Sort(key=sort), common_pb2.PageRequest(token=token)
    )
    return page.where, sql.params


def test_values_never_reach_sql_text() -> None:
    where, params = plan(
        common_pb2.Filter(field="name", op=Op.OPERATOR_EQ, values=["x'; DROP TABLE t; --"]),
        common_pb2.Filter(field="labels.a'b", op=Op.OPERATOR_VALUE_IN, values=["1", "2"]),
    )
    assert "DROP" not in " ".join(where)
    assert "a'b" not in " ".join(where)
    assert params == ["x'; DROP TABLE t; --", "a'b", ["1", "2"]]


def test_every_problem_is_reported_with_its_path() -> None:
    with pytest.raises(InvalidArgument) as caught:
        plan(
            common_pb2.Filter(field="secret_column", op=Op.OPERATOR_EQ, values=["1"]),
            common_pb2.Filter(field="created_at", op=Op.OPERATOR_GT, values=["yesterday"]),
            common_pb2.Filter(field="name", op=Op.OPERATOR_EQ, values=["a", "b"]),
            common_pb2.Filter(field="name", values=["a"]),
            sort="secret_column",
            token="@@@",
        )
    assert set(caught.value.field_paths) == {
        "filter_by[0].field",
        "filter_by[1].values[0]",
        "filter_by[2].values",
        "filter_by[3].op",
        "sort_by.key",
        "page.token",
    }


def test_token_from_other_filters_is_refused() -> None:
    token = encode_token({"f": "0" * 16, "v": "a", "k": 1})
    with pytest.raises(InvalidArgument) as caught:
        plan(sort="name", token=token)
    assert caught.value.field_paths == ("page.token",)


@pytest.mark.integration
async def test_bad_list_requests_over_grpc(admin: Running, project: str) -> None:
    await register_task(admin, task_template("a.t"))
    named = identifier_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN)
    error = await fails(
        admin.stub.ListTasks(
            task_pb2.ListTasksRequest(
                id=named,
                filter_by=[common_pb2.Filter(field="digest", op=Op.OPERATOR_EQ, values=["x"])],
            )
        )
    )
    assert isinstance(error, InvalidArgument)
    assert error.field_paths == ("filter_by[0].field",)
    bad_page = await fails(
        admin.stub.ListTasks(
            task_pb2.ListTasksRequest(id=named, page=common_pb2.PageRequest(token="bm9wZQ"))
        )
    )
    assert isinstance(bad_page, InvalidArgument)
    bad_scope = await fails(
        admin.stub.ListTasks(
            task_pb2.ListTasksRequest(
                id=identifier_pb2.NamedEntityIdentifier(project=PROJECT, domain="nowhere")
            )
        )
    )
    assert isinstance(bad_scope, InvalidArgument)
    assert bad_scope.field_paths == ("id.domain",)
