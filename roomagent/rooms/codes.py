"""The CSAPI error-code table: one place, so the vendor's real table can replace it.

[assumption] The seed points to an error-code table it does not include (spec §6): 0 is
success, any other `error_code` is a refusal carrying `message`. The codes below are the
spec's minimum; unknown codes are still refusals, described generically.
"""

from __future__ import annotations

SUCCESS = 0
INVALID_PARAMS = 1001
UNKNOWN_METHOD = 1002
WRONG_MEETING_STATE = 2001
NOT_HOST = 2002
TOO_FEW_PARTICIPANTS = 2003
NO_MEETING_CAPABILITY = 3001

# Plain words for people (panel text, CLI, diagnostics page) and for the simulator.
ERROR_MEANINGS: dict[int, str] = {
    SUCCESS: "success",
    INVALID_PARAMS: "invalid parameters",
    UNKNOWN_METHOD: "unknown method or action",
    WRONG_MEETING_STATE: "not allowed in the current meeting state",
    NOT_HOST: "not host or co-host",
    TOO_FEW_PARTICIPANTS: "not enough participants for a layout switch",
    NO_MEETING_CAPABILITY: "not logged in or no meeting capability",
}

# Standard JSON-RPC 2.0 error codes, for the `error` object some replies carry.
JSONRPC_PARSE_ERROR = -32700
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602

JSONRPC_MEANINGS: dict[int, str] = {
    JSONRPC_PARSE_ERROR: "parse error",
    JSONRPC_INVALID_REQUEST: "invalid request",
    JSONRPC_METHOD_NOT_FOUND: "method not found",
    JSONRPC_INVALID_PARAMS: "invalid params",
}


def describe(code: int) -> str:
    """A short meaning for `code`, also for codes the table does not know."""
    if code in ERROR_MEANINGS:
        return ERROR_MEANINGS[code]
    if code in JSONRPC_MEANINGS:
        return JSONRPC_MEANINGS[code]
    return f"error {code}"
