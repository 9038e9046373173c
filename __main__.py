"""Wiring only: stack config -> settings -> component -> stack outputs."""

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration

integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings()))
integration.export_outputs()
