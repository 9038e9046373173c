"""The MyTimetable integration as a Pulumi package, for programs in every Pulumi language: a
component provider plugin (components/PulumiPlugin.yaml runs `python components`, whose
__main__.py serves `provider.main`), a schema inferred from the component's typed inputs and
outputs, and SDKs generated per language by `pulumi package add` (none for Pulumi YAML).

  inputs.py       the inputs (the config keys, typed and documented) -> Settings, by the config's rules
  integration.py  `Integration`, the package's component: MyTimetableO365Integration as its child
  provider.py     the component provider that serves it
  reference.py    docs/configuration.md's tables, rendered from the schema

The Python program never imports this package (its no-op path stays as fast as before).
"""
