"""Models built from values that were checked before, without validating them again.

Two hot paths build many models from such values: a store reads back the events it validated
when it accepted them (:func:`contribnet.domain.events.stored`), and the credit engine builds each
split's explanations from values of the declared types (checked by mypy; the splits by the
property tests). Validating again there cost more than the arithmetic of a split. ``unchecked``
does what pydantic's ``model_construct`` does, without its per-field default resolution; tests
check that each model built this way equals the validated one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["unchecked"]

_M = TypeVar("_M", bound=BaseModel)


class _Blueprint:
    """A model's fields in order with the optional ones' defaults (a factory is called for each
    instance), the required ones, and the field each accepted key (a name or an alias) sets."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.template: dict[str, Any] = {}
        self.factories: dict[str, Any] = {}
        self.required: frozenset[str] = frozenset(
            name for name, info in model.model_fields.items() if info.is_required()
        )
        self.fields_of: dict[str, str] = {}
        for name, info in model.model_fields.items():
            self.template[name] = None if info.default_factory else info.default
            if info.default_factory is not None:
                self.factories[name] = info.default_factory
            self.fields_of[name] = name
            if info.alias and info.alias != name:
                self.fields_of[info.alias] = name
        self.order = tuple(self.template)


_BLUEPRINTS: dict[type[BaseModel], _Blueprint] = {}


def _blueprint(model: type[BaseModel]) -> _Blueprint:
    found = _BLUEPRINTS.get(model)
    if found is None:
        found = _BLUEPRINTS[model] = _Blueprint(model)
    return found


def unchecked(model: type[_M], values: dict[str, Any]) -> _M:
    """An instance of ``model`` holding ``values`` (by field name or alias) as given, the
    missing optional fields at their defaults; keys that are not fields are ignored; a missing
    required field is a ``TypeError`` (a bug, not bad input).

    >>> from contribnet.domain.split import StoreShare
    >>> unchecked(StoreShare, {"store": "st-a", "share": 1.0})
    StoreShare(store='st-a', brand=None, share=1.0)
    """
    plan = _BLUEPRINTS.get(model) or _blueprint(model)  # the hot paths call this ~30 times a deal
    if tuple(values) == plan.order:
        # every field given, in order (the engine's way): nothing to fill in or rename
        return _instance(model, dict(values), set(plan.order))
    fields_of = plan.fields_of
    given = {fields_of[key]: value for key, value in values.items() if key in fields_of}
    fields = plan.template.copy()  # in field order, as validation would make it
    fields.update(given)
    for name, factory in plan.factories.items():
        if name not in given:
            fields[name] = factory()
    if not plan.required <= given.keys():
        missing = plan.required - given.keys()
        raise TypeError(f"{model.__name__} needs {', '.join(sorted(missing))}")
    return _instance(model, fields, set(given))


#: Setters of the slots every pydantic model has (its ``__dict__`` among them): called directly,
#: they cost less than ``object.__setattr__`` by name, and the hot paths build ~30 models a deal.
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _instance(model: type[_M], fields: dict[str, Any], given: set[str]) -> _M:
    """What ``model_construct`` ends with: the instance (owning ``fields``), its fields and which
    were given."""
    instance = model.__new__(model)
    _SET_DICT(instance, fields)
    _SET_FIELDS_SET(instance, given)
    _SET_EXTRA(instance, None)
    _SET_PRIVATE(instance, None)
    return instance
