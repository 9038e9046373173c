import pytest

from mytimetable_emulation.catalogue import EXCHANGE_APP_ROLES, GRAPH_APP_ROLES, GRAPH_SCOPES
from mytimetable_o365.rules.permissions import (
    EXCHANGE_CALENDARS_READWRITE_ALL_APPLICATION,
    GRAPH_CALENDARS_READWRITE_APPLICATION,
    GRAPH_CALENDARS_READWRITE_DELEGATED,
    MICROSOFT_GRAPH,
    Permission,
    permissions_for,
    required_resource_access,
    resolve_role_id,
    resolve_scope_id,
)


def test_application_mode_asks_only_graph_calendars_readwrite_as_an_app_role():
    assert permissions_for("application", False) == (GRAPH_CALENDARS_READWRITE_APPLICATION,)
    assert required_resource_access(permissions_for("application", False)) == [
        {"resource_app_id": "00000003-0000-0000-c000-000000000000",
         "resource_accesses": [{"id": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "type": "Role"}]}
    ]


def test_legacy_adds_exchange_online_calendars_readwrite_all_sorted_by_api():
    access = required_resource_access(permissions_for("application", True))
    assert [a["resource_app_id"] for a in access] == [
        "00000002-0000-0ff1-ce00-000000000000", "00000003-0000-0000-c000-000000000000"]
    assert access[0]["resource_accesses"] == [{"id": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "type": "Role"}]


def test_delegated_mode_asks_only_the_graph_calendars_readwrite_scope():
    assert required_resource_access(permissions_for("delegated", False)) == [
        {"resource_app_id": "00000003-0000-0000-c000-000000000000",
         "resource_accesses": [{"id": "1ec239c2-d7c9-4623-a91a-a9775856bb36", "type": "Scope"}]}
    ]


def test_no_mode_ever_asks_user_read():
    for mode, legacy in [("application", False), ("application", True), ("delegated", False)]:
        ids = {a["id"] for r in required_resource_access(permissions_for(mode, legacy)) for a in r["resource_accesses"]}
        assert GRAPH_SCOPES["User.Read"] not in ids


def test_role_ids_resolve_by_name_from_microsofts_maps_and_a_name_listed_under_another_id_is_refused():
    assert resolve_role_id(GRAPH_CALENDARS_READWRITE_APPLICATION, GRAPH_APP_ROLES) == "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
    assert resolve_role_id(EXCHANGE_CALENDARS_READWRITE_ALL_APPLICATION, EXCHANGE_APP_ROLES) == "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
    assert resolve_scope_id(GRAPH_CALENDARS_READWRITE_DELEGATED, GRAPH_SCOPES) == "1ec239c2-d7c9-4623-a91a-a9775856bb36"
    for name in ("Calendars.Read", "Mail.ReadWrite", "User.Read.All"):  # Graph lists each under another ID
        trap = Permission(MICROSOFT_GRAPH, name, "application", "ef54d2bf-783f-4e0f-bca1-3210c0444d99")
        with pytest.raises(LookupError, match="refusing"):
            resolve_role_id(trap, GRAPH_APP_ROLES)


def test_a_missing_role_name_fails_loudly():
    with pytest.raises(LookupError, match="no app role named"):
        resolve_role_id(GRAPH_CALENDARS_READWRITE_APPLICATION, {"Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01"})


def test_legacy_with_delegated_is_refused():
    with pytest.raises(ValueError):
        permissions_for("delegated", True)


def test_each_permission_mode_is_one_entry_of_the_table_with_its_traits():
    import datetime as dt

    from mytimetable_o365.rules.permissions import MODES, PERMISSION_MODES
    from mytimetable_o365.rules.settings import parse_settings

    assert set(MODES) == set(PERMISSION_MODES)
    for name, mode in MODES.items():
        settings = parse_settings({"siteUrl": "https://rooster.school.nl", "permissionMode": name}, "prod",
                                  dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc))
        assert settings.admin_consent is mode.consent_by_default
        assert permissions_for(name, False) == mode.permissions
        if mode.legacy_exchange is None:
            with pytest.raises(ValueError):
                permissions_for(name, True)
        else:
            assert permissions_for(name, True) == mode.permissions + (mode.legacy_exchange,)


@pytest.mark.parametrize("name", ["Application", "app", "", "exchange"])
def test_an_unknown_mode_is_refused(name):
    with pytest.raises(ValueError, match="unknown permission mode"):
        permissions_for(name, False)
