"""Harnesses the tests share: stack configs and helpers (harness), a provider host driven as the
engine drives it (provider_host), local Entra as the commands' tests use it (local_entra), the default stack's outputs and local
Entra that `verify`'s hostile-server tests share (verify_world), a hostile
token endpoint and Graph (hostile_server), Java programs
that open keystores as MyTimetable does (java/), and a clock shim for other processes (clockshim/)."""
