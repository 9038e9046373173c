"""Every command's exit codes, in one place, as enums (IntEnum: they are also the numbers the
shell sees). Each command's module names them as constants too, which its --help epilog lists."""

from __future__ import annotations

from enum import IntEnum


class VerifyExit(IntEnum):
    """`verify`: one per outcome; the last check that ran decides."""

    OK = 0
    USAGE = 2
    CERTIFICATE_NOT_REGISTERED = 3
    CONSENT_MISSING = 4
    APP_NOT_FOUND = 5
    MAILBOX_OUT_OF_SCOPE = 6
    MAILBOX_NOT_FOUND = 7
    TOKEN_FAILED = 8
    GRAPH_FAILED = 9
    KEYSTORE_UNUSABLE = 10


class KeystoreExit(IntEnum):
    """`keystore`: written, refused, usage, no usable keystore, write failed."""

    OK = 0
    REFUSED = 1
    USAGE = 2
    BAD_KEYSTORE = 3
    WRITE_FAILED = 4


class PreflightExit(IntEnum):
    """`preflight`: one per blocking check."""

    OK = 0
    USAGE = 2
    CLI_PROBLEM = 10
    CONFIG_PROBLEM = 11
    NO_CREDENTIALS = 12
    NO_TOKEN = 13
    WRONG_TENANT = 14
    MISSING_PERMISSIONS = 15
