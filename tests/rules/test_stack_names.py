"""An example stack copied to a new stack gets the new stack's names, and a name left over from
another stack is pointed out before anything is created."""

import pytest

from mytimetable_o365.rules.stack_names import stack_name_warnings
from support.harness import NS, minimal_config, stack_config

APP = "azuread:index/application:Application"


def stack_warnings(deployment):
    return [w for w in deployment.warnings if "not this stack" in w]


@pytest.mark.parametrize("example", ["prod", "test"])
def test_an_example_stack_copied_to_acc_names_its_app_and_keystore_after_acc(deploy, example):
    deployment = deploy(stack_config(example), stack="acc")
    (app,) = deployment.of_type(APP)
    assert app.inputs["displayName"] == "MyTimetable-acc"
    assert deployment.outputs["keystorePath"] in ("keystore-acc.jks", "keystore-acc.p12")
    assert stack_warnings(deployment) == []


@pytest.mark.parametrize("stack, app_name", [
    ("acc", "MyTimetable-prod"),
    ("acc", "MyTimetable Production"),
    ("prod", "MyTimetable-test"),
    ("test", "mytimetable_dev"),
    ("customer-acc", "MyTimetable-customer-prod"),
    ("staging", "MyTimetable-live"),
])
def test_an_app_name_that_names_another_environment_is_warned_about_by_key(deploy, stack, app_name):
    deployment = deploy(minimal_config(appName=app_name), stack=stack, preview=True)
    (warning,) = stack_warnings(deployment)
    assert warning.startswith(f"{NS}:appName: {app_name!r} names ")
    assert f"MyTimetable-{stack}" in warning  # says what leaving it out gives


@pytest.mark.parametrize("stack, path", [
    ("acc", "keystore-prod.jks"),
    ("prod", "/etc/mytimetable/test/keystore.jks"),
    ("dev", "keystores/acceptance.jks"),
])
def test_a_keystore_path_that_names_another_environment_is_warned_about_by_key(deploy, stack, path):
    deployment = deploy(minimal_config(keystore={"path": path}), stack=stack, preview=True)
    (warning,) = stack_warnings(deployment)
    assert warning.startswith(f"{NS}:keystore.path: {path!r} names ")


@pytest.mark.parametrize("stack, app_name", [
    ("prod", "MyTimetable-prod"),
    ("prod", "MyTimetable Production"),
    ("customer-production", "MyTimetable-customer-prod"),
    ("acc", "Roster sync"),
    ("prod", "MyTimetable-products"),  # a word that merely starts like an environment
    ("staging", "MyTimetable-UAT"),  # two words for the same environment
])
def test_names_of_the_stack_itself_or_of_no_environment_are_not_warned_about(deploy, stack, app_name):
    deployment = deploy(minimal_config(appName=app_name, keystore={"path": f"keystore-{stack}.jks"}),
                        stack=stack, preview=True)
    assert stack_warnings(deployment) == []


def test_other_stacks_of_the_project_count_as_other_environments_when_they_are_known():
    stacks = ["school-a", "school-b", "prod"]
    (warning,) = stack_name_warnings("school-b", "MyTimetable-school-a", None, stacks)
    assert "'school-a'" in warning
    assert stack_name_warnings("school-b", "MyTimetable-school-b", "keystore-school-b.jks", stacks) == []
    # A stack whose name lies inside this stack's name is not another stack here.
    assert stack_name_warnings("customer-prod", "MyTimetable-customer-prod", None, ["prod", "customer-prod"]) == []


def test_the_program_knows_the_projects_own_stacks_from_their_files(deploy, tmp_path):
    from support.harness import minimal_config

    for stack in ("school-a", "school-b"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    copied = deploy(minimal_config(appName="MyTimetable-school-b"), stack="school-a")
    assert any(w.startswith("mytimetable-o365:appName") and "'school-b'" in w for w in copied.warnings), copied.warnings
    own = deploy(minimal_config(appName="MyTimetable-school-a"), stack="school-a")
    assert not [w for w in own.warnings if "mytimetable-o365:appName" in w]


# --- which names are stack names -----------------------------------------------------------------
# Names the Pulumi CLI refuses (sdk/go/common/tokens/stack_name.go, ParseStackName), and the ones it
# takes that this project refuses because a stack name becomes a path and a command-line word here.
NOT_STACK_NAMES = {
    "": "may not be empty",
    ".": "may not be '.'",
    "..": "may not be '..'",
    "a b": "invalid character ' ' at position 1",
    "x;touch M": "invalid character ';' at position 1",
    "`touch M`": "invalid character '`' at position 0",
    "$(touch M)": "invalid character '$' at position 0",
    "acc --pulumi ./prog": "invalid character ' ' at position 3",
    "../prod": "invalid character '/' at position 2",
    "org/project/prod": "invalid character '/' at position 3",
    "a" * 101: "cannot exceed 100 characters",
    "prod\n": "invalid character '\\n' at position 4",
    "pröd": "invalid character 'ö' at position 2",
    "-h": "may not begin with '-'",
    "--help": "may not begin with '-'",
    "--pulumi=./prog": "invalid character '=' at position 8",
}


@pytest.mark.parametrize("name", sorted(NOT_STACK_NAMES), ids=repr)
def test_names_the_cli_or_this_project_refuses_are_no_stack_names_and_the_reason_says_why(name):
    from mytimetable_o365.rules.stack_names import stack_name_problem

    assert NOT_STACK_NAMES[name] in stack_name_problem(name)


@pytest.mark.parametrize("name", ["prod", "acc", "customer-prod", "school_a", "v1.2", "a" * 100, "...", "a..", "_", "0"])
def test_letters_digits_hyphens_underscores_and_periods_up_to_100_characters_are_stack_names(name):
    from mytimetable_o365.rules.stack_names import stack_name_problem

    assert stack_name_problem(name) is None


def test_a_file_whose_middle_is_no_stack_name_names_no_stack():
    from mytimetable_o365.rules.stack_names import stacks_from_files

    files = ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.acc.yml", "Pulumi....yaml", "Pulumi...yaml", "Pulumi.a b.yaml",
             "Pulumi.-n.yaml", f"Pulumi.{'x' * 101}.yaml", "Pulumi.x;touch M.yaml", "README.md"]
    assert stacks_from_files(files) == ("acc", "prod")


def test_a_long_or_multi_line_name_is_quoted_on_one_short_line():
    from mytimetable_o365.rules.stack_names import shown

    assert shown("prod\nrm -rf /") == repr("prod\nrm -rf /")
    long = shown("x" * 5000)
    assert "\n" not in long and len(long) < 100 and "5000 characters" in long


# --- keystore paths: whole words, and folders made by tools are no environment ----------------------
@pytest.mark.parametrize("stack, path", [
    ("prod", "/tmp/pytest-of-root/x/keystore-prod.jks"),
    ("prod", "/tmp/pytest-of-root/pytest-3/test_the_keystore_path0/keystore-prod.jks"),  # pytest's tmp_path
    ("acc", "/tmp/pytest-of-root/pytest-3/test_delivery_to_dev_hosts0/keystore-acc.jks"),
    ("prod", "contest/keystore-prod.jks"),
    ("prod", "latest.jks"),
    ("prod", "/srv/products/keystore-prod.jks"),
    ("test", "keystore-testing.jks"),
    ("acc", "/home/devon/keystore-acc.jks"),
    ("acc", "/opt/mytimetable/qa_archive_2024/keystore-acc.jks"),
    ("prod", "/var/lib/protests/keystore.jks"),
])
def test_a_keystore_path_that_only_looks_like_another_environment_is_not_warned_about(stack, path):
    assert stack_name_warnings(stack, None, path, ["prod", "acc", "test", "dev"]) == []


@pytest.mark.parametrize("stack, path, named", [
    ("acc", "keystore-prod.jks", "'prod'"),
    ("acc", "keystore_prod.jks", "'prod'"),
    ("acc", "/srv/mytimetable-prod/keystore.jks", "'prod'"),
    ("prod", "/etc/mytimetable/test/keystore.jks", "'test'"),
    ("prod", "/home/dev/keystore.jks", "'dev'"),
    ("acc", "C:\\keys\\prod\\mytimetable.p12", "'prod'"),
    ("school-b", "/srv/school-a/keystore.jks", "'school-a'"),
])
def test_a_keystore_path_whose_folder_or_file_names_another_stack_is_still_warned_about(stack, path, named):
    (warning,) = stack_name_warnings(stack, None, path, ["prod", "acc", "test", "dev", "school-a", "school-b"])
    assert warning.startswith(f"{NS}:keystore.path: {path!r} names {named}")


def test_the_program_does_not_cry_wolf_about_its_own_pytest_folder(deploy, tmp_path):
    path = str(tmp_path / "test_folder_of_a_tool0" / "keystore-prod.jks")
    deployment = deploy(minimal_config(keystore={"path": path}), stack="prod", preview=True)
    assert stack_warnings(deployment) == []
