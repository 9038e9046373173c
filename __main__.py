"""Wiring only: stack config -> settings -> component -> stack outputs."""

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.gc_tuning import tune_for_a_pulumi_program

# This process runs the program once and exits, keeping nearly all it allocates: fewer garbage
# collections, and none at exit, save it measurable time (mytimetable_o365/gc_tuning.py). A program
# of your own that embeds the component decides this for its own interpreter.
tune_for_a_pulumi_program()
integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings()))
integration.export_outputs()
