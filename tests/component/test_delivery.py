"""The keystore file is a deployed artefact: preview and up say when keystore.path does not hold the deployed keystore."""

import os

import pytest

from mytimetable_emulation.engine import EmulatedEngineError
from support.harness import minimal_config

PATH = "keystore-prod.jks"


def delivery_warnings(deployment):
    return [w for w in deployment.warnings if w.startswith("keystore file")]


def test_an_intact_keystore_file_gives_no_warning_and_a_first_preview_has_nothing_to_compare(deploy):
    assert delivery_warnings(deploy(minimal_config(), preview=True)) == []
    first = deploy(minimal_config())
    assert os.path.exists(PATH)
    assert delivery_warnings(deploy(minimal_config(), prior=first, preview=True)) == []
    assert delivery_warnings(deploy(minimal_config(), prior=first)) == []


def test_a_deleted_keystore_file_is_reported_with_its_path_and_the_fix_in_preview_and_in_an_up_that_changes_nothing(deploy):
    first = deploy(minimal_config())
    os.remove(PATH)
    (warning,) = delivery_warnings(deploy(minimal_config(), prior=first, preview=True))
    assert f"keystore file {PATH} is missing" in warning and "`make keystore STACK=prod`" in warning
    again = deploy(minimal_config(), prior=first)
    assert again.changes() == [] and not os.path.exists(PATH)  # the hook did not run: nothing changed
    assert len(delivery_warnings(again)) == 1
    os.mkdir(PATH)  # something other than a file at the path
    (warning,) = delivery_warnings(deploy(minimal_config(), prior=first, preview=True))
    assert "cannot be read" in warning and PATH in warning


def test_a_keystore_file_with_other_bytes_is_reported_as_stale_without_showing_the_keystore(deploy):
    first = deploy(minimal_config())
    with open(PATH, "rb") as handle:
        data = handle.read()
    for altered in (b"not a keystore", data[:-1], data[:-1] + bytes([data[-1] ^ 1])):  # other, truncated, one bit
        with open(PATH, "wb") as handle:
            handle.write(altered)
        preview = deploy(minimal_config(), prior=first, preview=True)
        (warning,) = delivery_warnings(preview)
        assert "holds a different keystore" in warning and PATH in warning and "make keystore STACK=prod" in warning
        text = "\n".join(preview.warnings)
        assert first.outputs["keystore"] not in text and first.outputs["keystorePassword"] not in text


class TestDeliveryElsewhere:
    def test_a_missing_local_file_is_expected_and_not_reported_but_a_stale_one_still_is(self, deploy):
        config = minimal_config(keystore={"delivery": "elsewhere"})
        first = deploy(config)
        assert os.path.exists(PATH)  # the hook still writes it when it runs
        os.remove(PATH)  # a fresh GitOps runner
        assert delivery_warnings(deploy(config, prior=first, preview=True)) == []
        with open(PATH, "wb") as handle:
            handle.write(b"old")
        assert len(delivery_warnings(deploy(config, prior=first, preview=True))) == 1

    @pytest.mark.parametrize("value", ["keyvault", "", "FILE", ["file"]])
    def test_other_values_are_refused_naming_the_key(self, deploy, value):
        from mytimetable_o365.rules.settings import InvalidConfigError

        with pytest.raises(InvalidConfigError) as failure:
            deploy(minimal_config(keystore={"delivery": value}))
        assert "mytimetable-o365:keystore.delivery" in str(failure.value) and "file, elsewhere" in str(failure.value)


def test_a_failed_write_names_the_path_and_the_reason_and_the_next_preview_still_says_the_file_is_stale(deploy):
    first = deploy(minimal_config())
    moved = minimal_config(keystore={"path": "delivered/keystore.jks"})
    os.makedirs("delivered/keystore.jks")  # something that is not a file stands where the keystore goes
    with pytest.raises(EmulatedEngineError) as failure:
        deploy(moved, prior=first)
    message = str(failure.value)
    assert "keystore not written to delivered/keystore.jks: the path is a folder" in message
    assert ".keystore-" not in message  # not the temporary file's name
    (warning,) = delivery_warnings(deploy(moved, prior=first, preview=True))
    assert "delivered/keystore.jks" in warning and "make keystore STACK=prod" in warning
