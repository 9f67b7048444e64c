import pytest
from django.core.exceptions import FieldError
from django.db import models
from django.test.utils import isolate_apps

from core import crypto
from core.fields import BlindIndexField, EncryptedTextField, blind_lookup, encrypted_fields, index_fields


@pytest.fixture(autouse=True)
def keys(tmp_path, settings, monkeypatch):
    monkeypatch.delenv("JINDU_FIELD_KEY", raising=False)
    settings.DATA_DIR = tmp_path
    crypto.create_key_file()
    yield
    crypto.reset_keyring()


@pytest.fixture
def model():
    with isolate_apps("core"):
        class Holder(models.Model):
            id_number = EncryptedTextField(blank=True)
            id_number_index = BlindIndexField(source="id_number")

            class Meta:
                app_label = "core"

            def __str__(self):
                return "holder"

        yield Holder


def test_prep_value_encrypts_and_db_value_decrypts(model):
    field = model._meta.get_field("id_number")
    stored = field.get_prep_value("11010119900307123X")
    assert stored.startswith("sm4gcm:") and "11010119900307123X" not in stored
    assert field.from_db_value(stored, None, None) == "11010119900307123X"
    assert field.get_prep_value(stored) == stored  # never encrypted twice
    assert field.get_prep_value("") == ""


def test_only_isnull_lookups_on_ciphertext(model):
    field = model._meta.get_field("id_number")
    assert field.get_lookup("isnull") is not None
    with pytest.raises(FieldError):
        field.get_lookup("exact")
    with pytest.raises(FieldError):
        model.objects.filter(id_number="11010119900307123X")


def test_blind_index_follows_the_value_on_save(model):
    holder = model(id_number="11010119900307123x")
    index = model._meta.get_field("id_number_index").pre_save(holder, add=True)
    assert holder.id_number_index == index and len(index) == 64
    # exact look-up normalises the same way (upper-case X, no spaces)
    assert blind_lookup(model, "id_number", " 11010119900307123X ") == {"id_number_index": index}
    assert blind_lookup(model, "id_number", "110101199003071242") != {"id_number_index": index}
    holder.id_number = ""
    assert model._meta.get_field("id_number_index").pre_save(holder, add=False) == ""


def test_introspection_for_key_rotation(model):
    assert [f.name for f in encrypted_fields(model)] == ["id_number"]
    assert [f.name for f in index_fields(model)] == ["id_number_index"]
    with pytest.raises(FieldError):
        blind_lookup(model, "name", "x")
