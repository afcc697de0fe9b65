"""Typed response models of the exchange routes (the feed page, as ``protocols.feed`` draws it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FeedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="<bank>/<entry id>: stable upstream id of the entry")
    bank: str
    op: Literal["add", "delete"] = Field(description="add: matches here; delete: disabled or removed here")
    signal_type: str
    value: str
    labels: list[str]


class FeedPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: str
    after: int = Field(description="the checkpoint asked from (echoed)")
    after_entry: int | None = Field(None, description="the entry asked from inside a range (echoed)")
    next: int = Field(description="where to go on reading")
    next_entry: int | None = Field(None, description="the page stopped inside a range: go on "
                                                    "after this entry (after_entry)")
    settled: int = Field(description="where a later sync starts again (<= next)")
    more: bool = Field(description="true: ask again at once")
    items: list[FeedItem]
