"""The base of every model class."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every model: a typo is an error, and a loaded region does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
