"""The bridge's Check and Diff over upstream's schemas, through the plugin's provider protocol
(pulumi-terraform-bridge v3.137.0 provider.go:953-1306; texts checked on a build of the real plugin)."""

from __future__ import annotations

import json

from google.protobuf import json_format
from plugin_rpc import (
    DELETE,
    SIG,
    UPDATE,
    UPDATE_REPLACE,
    Failed,
    struct,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

ADD = 0

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_check_fills_non_falsy_defaults_and_names_them_at_every_level(tenant):
    app = tenant.plugin.resource("app", "app")
    inputs, failures = app.check({"displayName": "a", "web": {"redirectUris": ["https://ok.example/"], "implicitGrant": {}},
                                  "api": {}, "preventDuplicateNames": False})
    assert failures == []
    assert inputs["signInAudience"] == "AzureADMyOrg" and inputs["__defaults"] == ["signInAudience"]
    assert inputs["api"] == {"requestedAccessTokenVersion": 1, "__defaults": ["requestedAccessTokenVersion"]}
    assert inputs["web"] == {"redirectUris": ["https://ok.example/"], "implicitGrant": {"__defaults": []}, "__defaults": []}
    assert "preventDuplicateNames" not in inputs["__defaults"]  # a falsy default is never injected
    sp_inputs, _ = tenant.plugin.resource("sp").check({"clientId": "11111111-2222-3333-4444-555555555555"})
    assert sp_inputs["accountEnabled"] is True and sp_inputs["__defaults"] == ["accountEnabled"]


def test_check_reports_upstream_validation_texts_with_the_pulumi_path(tenant):
    app = tenant.plugin.resource("app", "app")
    _, failures = app.check({"displayName": "", "web": {"redirectUris": ["https://x.example", "ftp://a/b", "https://ok/"]},
                             "owners": ["nope"], "signInAudience": "x",
                             "requiredResourceAccesses": [{"resourceAppId": "a", "resourceAccesses": [{"id": "bad", "type": "X"}]}]})
    assert sorted(failures) == sorted([
        "URI must have a trailing slash when there is no path segment for \"web.0.redirect_uris.0\". Examine values at "
        "'app.web.redirectUris'.",
        "unexpected URI scheme for \"web.0.redirect_uris.1\", expected one of: http, https, ms-appx-web, brk-multihub. Examine "
        "values at 'app.web.redirectUris'.",
        "expected \"display_name\" to not be an empty string, got . Examine values at 'app.displayName'.",
        "expected \"owners.0\" to be a valid UUID, got nope. Examine values at 'app.owners'.",
        "expected sign_in_audience to be one of [\"AzureADMyOrg\" \"AzureADMultipleOrgs\" \"AzureADandPersonalMicrosoftAccount\" "
        "\"PersonalMicrosoftAccount\"], got x. Examine values at 'app.signInAudience'.",
        "expected \"required_resource_access.0.resource_access.0.id\" to be a valid UUID, got bad. Examine values at "
        "'app.requiredResourceAccesses'.",
        "expected required_resource_access.0.resource_access.0.type to be one of [\"Role\" \"Scope\"], got X. Examine values at "
        "'app.requiredResourceAccesses'."])
    _, missing = app.check({})
    assert missing == ["Missing required argument. The argument \"display_name\" is required, but no definition was found.. "
                       "Examine values at 'app.displayName'."]
    _, conflicting = app.check({"displayName": "a", "featureTags": [{}], "tags": ["a"]})
    assert sorted(conflicting) == ["Conflicting configuration arguments. \"feature_tags\": conflicts with tags. Examine values "
                                   "at 'app.featureTags'.",
                                   "Conflicting configuration arguments. \"tags\": conflicts with feature_tags. Examine values "
                                   "at 'app.tags'."]


def test_check_leaves_unknown_values_unvalidated(tenant):
    _, failures = tenant.plugin.resource("sp", "sp").check({"clientId": UNKNOWN})
    assert failures == []


def test_check_of_a_certificate_defaults_pem_and_returns_the_value_secret(tenant):
    resource = tenant.plugin.resource("certificate", "cred")
    answer = resource._call("Check", __import__("pulumi.runtime.proto.provider_pb2", fromlist=["x"]).CheckRequest(
        urn=resource.urn, news=struct({"applicationId": "/applications/x", "value": "PEM"}), olds=struct({})))
    inputs = json_format.MessageToDict(answer.inputs)
    assert inputs["encoding"] == "pem" and inputs["__defaults"] == ["encoding"] and inputs["value"][SIG]
    _, failures = resource.check({"applicationId": "0b8c2e9a-6c1e-4d0a-9f1e-2b3c4d5e6f70", "value": "PEM", "startDate": "tomorrow",
                                  "endDate": "2026-01-01T00:00:00Z", "endDateRelative": "48h"})
    assert any(f.startswith("parsing \"0b8c2e9a-6c1e-4d0a-9f1e-2b3c4d5e6f70\": parsing the Application ID: the number of "
                            "segments didn't match") for f in failures)
    assert "expected \"start_date\" to be a valid RFC3339 date, got \"tomorrow\": parsing time \"tomorrow\" as " \
           "\"2006-01-02T15:04:05Z07:00\": cannot parse \"tomorrow\" as \"2006\". Examine values at 'cred.startDate'." in failures
    assert "Conflicting configuration arguments. \"end_date\": conflicts with end_date_relative. Examine values at " \
           "'cred.endDate'." in failures


def test_a_grant_needs_at_least_one_claim_value(tenant):
    _, failures = tenant.plugin.resource("grant", "grant").check({"claimValues": [], "resourceServicePrincipalObjectId": UNKNOWN})
    assert sorted(failures) == [
        "Missing required argument. The argument \"service_principal_object_id\" is required, but no definition was found.. "
        "Examine values at 'grant.servicePrincipalObjectId'.",
        "Not enough list items. Attribute claim_values requires 1 item minimum, but config has only 0 declared.. Examine "
        "values at 'grant.claimValues'."]


def test_diff_of_what_was_just_created_is_none_and_names_the_force_new_stables(tenant):
    resource_id, outs, news = tenant.application("no-diff", web={"redirectUris": ["https://mt.example/a", "https://mt.example/b"]})
    diff = tenant.plugin.resource("app").diff(resource_id, outs, news)
    assert diff.changes == diff.DIFF_NONE and list(diff.stables) == ["templateId"] and not diff.detailedDiff


def test_diff_reports_nested_paths_and_replaces_force_new_changes(tenant):
    resource_id, outs, news = tenant.application("paths", web={"redirectUris": ["https://mt.example/a", "https://mt.example/b"]})
    app = tenant.plugin.resource("app")
    changed = app.checked({**{k: v for k, v in news.items() if not k.startswith("__")}, "displayName": "paths-2",
                           "web": {"redirectUris": ["https://mt.example/c", "https://mt.example/a"]}})
    diff = app.diff(resource_id, outs, changed)
    # a set: the removed element under its index in the state (sorted), the added one under its index in the inputs
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {"displayName": UPDATE, "web.redirectUris[1]": DELETE,
                                                                 "web.redirectUris[0]": ADD}
    assert list(diff.diffs) == ["displayName", "web"] and not diff.replaces
    template = app.checked({**{k: v for k, v in news.items() if not k.startswith("__")},
                            "templateId": "11111111-2222-3333-4444-555555555555"})
    replaced = app.diff(resource_id, outs, template)
    assert list(replaced.replaces) == ["templateId"] and not replaced.stables
    assert {k: v.kind for k, v in replaced.detailedDiff.items()} == {"templateId": UPDATE_REPLACE}


def test_custom_timeouts_are_recorded_in_meta(tenant):
    app = tenant.plugin.resource("app")
    resource_id, outs = app.create(app.checked({"displayName": "timeouts", "owners": [tenant.caller.object_id]}), timeout=30)
    assert json.loads(outs["__meta"]) == {"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0": {
        "create": 30_000_000_000, "delete": 300_000_000_000, "read": 300_000_000_000, "update": 600_000_000_000},
        "schema_version": "2"}


def test_a_preview_create_plans_unknowns_and_nulls_as_the_bridge_does(tenant):
    app = tenant.plugin.resource("app")
    _, planned = app.create(app.checked({"displayName": "preview", "owners": [], "web": {"redirectUris": ["https://x.example/"]}}),
                            preview=True)
    assert planned["clientId"] == UNKNOWN and planned["objectId"] == UNKNOWN and planned["tags"] == UNKNOWN
    assert planned["owners"] is None and planned["identifierUris"] is None and planned["appRoles"] == []
    assert planned["web"] == {"homepageUrl": None, "implicitGrant": None, "logoutUrl": None, "redirectUris": ["https://x.example/"]}
    failed = app.create({"displayName": "preview"}, preview=True)
    assert not isinstance(failed, Failed)


def test_a_type_upstream_has_but_the_plugin_does_not_model_passes_check_for_the_policy_pack_and_fails_create(tenant):
    """The upstream plugin knows every pulumi-azuread type; the stand-in models the program's five. For
    another (a changed program's), Check hands the inputs on unchanged, so the engine gives them to
    the policy pack; a create names the type. A token pulumi-azuread does not have stays unrecognised."""
    from plugin_rpc import Resource

    for token, inputs in (("azuread:index/applicationPassword:ApplicationPassword", {"applicationId": "/applications/x"}),
                          ("azuread:index/applicationRedirectUris:ApplicationRedirectUris", {"type": "Web", "redirectUris": ["*"]}),
                          ("azuread:index/servicePrincipalPassword:ServicePrincipalPassword", {"servicePrincipalId": "x"})):
        other = Resource(tenant.plugin, f"urn:pulumi:s::p::{token}::changed")
        checked, failures = other.check(inputs)
        assert failures == [] and checked == inputs, token
        created = other.create(inputs)
        assert isinstance(created, Failed) and "does not model" in created.message, token
    unknown = Resource(tenant.plugin, "urn:pulumi:s::p::azuread:index/noSuchThing:NoSuchThing::x").check({})
    assert isinstance(unknown, Failed) and "unrecognized resource type" in unknown.message
