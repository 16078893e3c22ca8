"""Output serializers build their fields from a recipe worked out once per class
(``api.serializers.ReadModelSerializer.get_fields``): every instance still gets fields of its
own, with what the model columns allow."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers as drf

from api import serializers as s

OUTPUTS = [
    cls
    for cls in vars(s).values()
    if isinstance(cls, type) and issubclass(cls, s.ReadModelSerializer) and hasattr(cls, "Meta")
]


def _plain(cls: type[s.ReadModelSerializer]) -> dict[str, Any]:
    """The fields as ModelSerializer works them out, with the blank and null adjustments."""
    return cls()._model_fields()


@pytest.mark.parametrize("cls", OUTPUTS, ids=lambda c: c.__name__)
def test_each_instance_gets_fields_of_its_own(cls: type[s.ReadModelSerializer]) -> None:
    first: Any = cls().fields
    second: Any = cls().fields
    assert list(first) == list(second) == list(_plain(cls))
    for name in first:
        assert first[name] is not second[name], name
        assert first[name].parent is not second[name].parent, name
        child = getattr(first[name], "child", None)
        if child is not None:
            assert child is not second[name].child, name
            assert child.parent is first[name], name


@pytest.mark.parametrize("cls", OUTPUTS, ids=lambda c: c.__name__)
def test_the_recipe_keeps_what_the_columns_allow(cls: type[s.ReadModelSerializer]) -> None:
    built: Any = cls().fields
    for name, plain in _plain(cls).items():
        field = built[name]
        assert type(field) is type(plain), name
        assert field.read_only == plain.read_only, name
        assert field.allow_null == plain.allow_null, name
        if isinstance(plain, drf.ChoiceField):
            assert field.allow_blank == plain.allow_blank, name
            assert field.choices == plain.choices, name


def test_a_blank_outcome_and_a_null_assignee_are_allowed() -> None:
    fields: Any = s.DisputeSerializer().fields
    assert fields["outcome"].allow_blank
    assert fields["closed_at"].allow_null


def test_a_nested_list_is_its_own_per_instance() -> None:
    one: Any = s.OrderSerializer().fields["items"]
    two: Any = s.OrderSerializer().fields["items"]
    assert isinstance(one, drf.ListSerializer) and isinstance(two, drf.ListSerializer)
    child_one: Any = one.child
    child_two: Any = two.child
    assert child_one is not child_two
    assert child_one.parent is one and child_two.parent is two
