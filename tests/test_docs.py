"""docs/data-model.md names every collection, field and index the models declare."""

from pathlib import Path

import pytest

from convostore.migrations.indexes import declared_indexes
from convostore.models import DOCUMENT_MODELS

DATA_MODEL = (Path(__file__).parent.parent / "docs" / "data-model.md").read_text()
NOT_STORED = {"id", "revision_id"}


@pytest.mark.parametrize("model", DOCUMENT_MODELS, ids=lambda m: m.__name__)
def test_every_field_and_index_is_documented(model):
    collection = model.Settings.name
    assert f"## {collection}" in DATA_MODEL or f"`{collection}`" in DATA_MODEL
    for field in set(model.model_fields) - NOT_STORED:
        assert f"`{field}`" in DATA_MODEL, f"{collection}.{field} is not documented"
    for index in declared_indexes()[collection]:
        assert f"`{index.name}`" in DATA_MODEL, f"index {collection}.{index.name}"
