"""A customer's own Pulumi program: its resources, and MyTimetable's integration beside them."""

import pulumi
import pulumi_azuread as azuread

from mytimetable_o365 import IntegrationArgs, MyTimetableO365Integration, load_settings

config = pulumi.Config()
deployer = azuread.get_client_config()

# The program's own resource: a security group for the people who run MyTimetable.
operators = azuread.Group(
    "operators",
    display_name=config.get("operatorsGroupName") or "MyTimetable operators",
    security_enabled=True,
    owners=[deployer.object_id],
)

# The three lines: settings from the stack's mytimetable-o365:* keys, the component, its outputs
# (prefixed here, beside the program's own; the component's checks read them back next time).
integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings(), output_prefix="mytimetable"))
integration.export_outputs()

pulumi.export("operatorsGroupId", operators.object_id)
