"""The catalog's wire format: a `GET /v1/models` body (OpenAI's list shape; Anthropic's
has the same `data` and `id`), with what gateways add (`display_name`,
`supported_endpoint_types`, OpenRouter-style `pricing`) → `catalog.CatalogModel`."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..catalog import CatalogModel
from .faults import raise_error_in


def parse(data: Any) -> list[CatalogModel]:
    """The models of a `GET /v1/models` body; entries without an id are skipped."""
    raise_error_in(data)
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise errors.BadResponse(reason="models_unreadable")
    models = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        types = item.get("supported_endpoint_types")
        pricing = item.get("pricing")
        if not isinstance(pricing, dict):
            pricing = {}
        models.append(
            CatalogModel(
                id=item["id"],
                owned_by=item.get("owned_by") if isinstance(item.get("owned_by"), str) else None,
                name=item.get("display_name") or item.get("name") or None,
                endpoint_types=[t for t in types if isinstance(t, str)]
                if isinstance(types, list)
                else None,
                price_in=_price(pricing.get("prompt")),
                price_out=_price(pricing.get("completion")),
            )
        )
    return models


def _price(value: Any) -> float | None:
    """Catalog prices come as strings ("0.000003"); anything unusable is no price."""
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return price if 0 <= price < 1 else None
