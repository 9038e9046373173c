"""Harnesses the tests share: stack configs and helpers (harness), a provider host driven as the
engine drives it (provider_host), a stand-in for Entra's token endpoint (entra_standin), Java programs
that open keystores as MyTimetable does (java/), and a clock shim for other processes (clockshim/)."""
