"""The offline engine: runs a Pulumi program against an emulation of the engine and the azuread
provider. For the tests and `mytimetable-o365 plan`; the component never imports it."""
