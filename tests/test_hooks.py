from pulumi import ErrorHookArgs

from mytimetable_o365.resources.hooks import MAX_REPLICATION_RETRIES, retry_on_replication_delay
from conftest import minimal_config

NOT_FOUND = ("creating app role assignment: unexpected status 404 (404 Not Found) with error: Request_ResourceNotFound: "
             "Resource 'b00be350-0c72-45e8-b93d-0e318090a6dc' does not exist or one of its queried reference-property objects are not present.")


def args(errors, operation="create"):
    return ErrorHookArgs(urn="urn", id="", name="mytimetable-consent-graph-calendars-readwrite",
                         type="azuread:index/appRoleAssignment:AppRoleAssignment", failed_operation=operation, errors=errors)


def test_a_not_found_right_after_creation_is_retried_with_growing_waits():
    waits = []
    for attempt in range(1, MAX_REPLICATION_RETRIES + 1):
        assert retry_on_replication_delay(args([NOT_FOUND] * attempt), sleep=waits.append) is True
    assert waits == sorted(waits) and waits[0] >= 5


def test_retries_are_bounded():
    assert retry_on_replication_delay(args([NOT_FOUND] * (MAX_REPLICATION_RETRIES + 1)), sleep=lambda s: None) is False


def test_other_errors_and_other_operations_are_not_retried():
    assert retry_on_replication_delay(args(["Authorization_RequestDenied: Insufficient privileges"]), sleep=lambda s: None) is False
    assert retry_on_replication_delay(args([NOT_FOUND], operation="delete"), sleep=lambda s: None) is False


def test_grants_credentials_and_the_service_principal_carry_the_retry_hook(deploy):
    deployment = deploy(minimal_config(legacyExchangePermission=True))
    hooked = {r.name for r in deployment.resources.values() if r.hooks.get("on_error") == ["mytimetable-retry-replication-delay"]}
    assert hooked == {"mytimetable-sp", "mytimetable-consent-graph-calendars-readwrite",
                      "mytimetable-consent-exchange-calendars-readwrite-all",
                      "mytimetable-credential-a", "mytimetable-credential-b"}
