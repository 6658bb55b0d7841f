"""docs/configuration.md is what `python -m config.reference` writes from `Settings`, and every setting is described."""

from config import Settings
from config.reference import render
from tests.conftest import REPO

DOC = REPO / "docs" / "configuration.md"


def test_the_configuration_document_is_written_from_settings():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md differs from Settings: write it again with "
        "`.venv/bin/python -m config.reference > docs/configuration.md`"
    )


def test_every_setting_is_described():
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
