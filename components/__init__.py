"""MyTimetable's Microsoft 365 calendar integration, declared with Pulumi.

Modules, one concept each:
  settings        stack config in, one validated immutable Settings out
  redirect_uri    Entra's redirect URI rules and MyTimetable's redirect URI
  permissions     the calendar permissions of each mode, with Microsoft's IDs
  certificate     X.509 certificate material: generation, parsing, rotation rules (pure)
  keystore        certificate + key -> JKS / PKCS#12 bytes, atomic file writes (pure / file)
  credentials     dynamic resources that create and keep the certificate and the keystore
  integration     the MyTimetableO365Integration component
  hooks           post-deploy keystore hook and the replication-delay retry hook
  mailbox_scope   Exchange Online scoping script generator
  verify          post-deploy check: token + calendar read
  emulation       engine emulator (mocks that behave like the engine and azuread)
  cli             `python -m components ...`

Nothing is imported here so that `import components.x` stays cheap.
"""
