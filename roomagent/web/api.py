"""The agent's JSON-RPC 2.0 API (over the `/api` WebSocket), dispatched with jsonrpcserver.

Params go by name; each method's signature is its schema (checked with pydantic), so a bad
param gets -32602 with a message naming it. Whatever the agent raises becomes a JSON-RPC
error in plain words — the Rooms refusal's message with its code in `data` — and every
result is scrubbed of secrets before it leaves. See the README section "Diagnostics page,
agent API and discovery" for the method list.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from jsonrpcserver import Result, Success, async_dispatch_to_serializable
from jsonrpcserver.exceptions import JsonRpcError
from pydantic import ConfigDict, Field, ValidationError, validate_call
from websockets.exceptions import ConnectionClosed

from roomagent.config.vocab import ButtonPhase
from roomagent.control.actions import ACTION_NAMES, param_problems
from roomagent.logsetup import redact, scrub
from roomagent.web.facade import AgentFacade
from roomagent.web.updates import Subscriber, UpdateHub

log = logging.getLogger(__name__)

# Application error codes (JSON-RPC reserves -32000..-32099 for servers). Matched by exception
# class name along the MRO so this module needs none of the agent's packages.
INVALID_PARAMS = -32602
ERROR_CODES: tuple[tuple[str, int], ...] = (
    ("ActionNotApplicable", -32001),  # not now: e.g. "Not in a meeting"
    ("RoomsRefused", -32001),  # the Rooms client said no; its error_code is in data
    ("RoomsAuthFailed", -32004),
    ("RoomsTimeout", -32003),
    ("DeviceTimeout", -32003),
    ("TimeoutError", -32003),
    ("RoomsUnreachable", -32004),
    ("RoomsDisconnected", -32004),
    ("DeviceOffline", -32004),
    ("CloudValidationError", -32001),  # a calendar rule: e.g. "the room is booked until 10:30"
    ("CloudRefused", -32001),  # the scheduling cloud said no
    ("CloudTimeout", -32003),
    ("CloudUnreachable", -32004),
    ("DeviceError", -32002),
    ("RoomsBadRequest", INVALID_PARAMS),
    ("ValueError", INVALID_PARAMS),
    ("LookupError", INVALID_PARAMS),
)
ACTION_FAILED = -32000
# The page's hold-to-move pad: a move → (device command, args, the stop's group).
HELD_MOVES: dict[str, tuple[str, list[Any], str]] = {
    **{
        d: ("pt_drive", [d], "pt")
        for d in ("up", "down", "left", "right", "up_left", "up_right", "down_left", "down_right")
    },
    "tele": ("zoom_tele", [], "zoom"),
    "wide": ("zoom_wide", [], "zoom"),
}
STOPS = {"pt": "pt_stop", "zoom": "zoom_stop"}
HOLD_STOP_SECONDS = 2.0


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def error_for(exc: BaseException) -> JsonRpcError:
    """The JSON-RPC error a client sees for an exception raised by the agent.

    The message is the agent's own sentence; the code and `data` come from the most specific
    cause (an ActionFailed raised from a RoomsRefused carries the Rooms error_code).
    """
    chain = _causes(exc)
    code = ACTION_FAILED
    for cause in chain:
        names = [cls.__name__ for cls in type(cause).__mro__]
        found = next((c for name, c in ERROR_CODES if name in names), None)
        if found is not None:
            code = found
            break
    reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    message = redact(" ".join(str(reason).split())) or type(exc).__name__
    data: dict[str, Any] = {"kind": type(exc).__name__}
    for cause in reversed(chain):
        for attr in ("error_code", "device", "action"):
            detail = getattr(cause, attr, None)
            if isinstance(detail, str | int) and not isinstance(detail, bool):
                data[attr] = detail
    return JsonRpcError(code, message, data)


def _params_error(exc: ValidationError) -> JsonRpcError:
    problems = []
    for problem in exc.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "params"
        problems.append(f"{where}: {problem['msg']}")
    return JsonRpcError(INVALID_PARAMS, "Invalid params: " + "; ".join(problems), problems)


class ApiContext:
    """One API socket: the agent, and this socket's subscription to live updates.

    (A plain class, not a dataclass, so pydantic's argument check passes it through as is.)
    """

    def __init__(
        self,
        agent: AgentFacade,
        hub: UpdateHub,
        task_group: TaskGroup,
        notify: Callable[[str, dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.agent = agent
        self.hub = hub
        self.task_group = task_group
        self.notify = notify
        self.subscription: Subscriber | None = None
        self._scope: anyio.CancelScope | None = None
        # Camera moves this socket holds (camera, "pt" | "zoom") → camera: stopped when the
        # page lets go, and also when the socket closes (a page gone mid-hold).
        self.held: set[tuple[str, str]] = set()
        self.pressed: set[tuple[str, int]] = set()  # virtual buttons this socket holds down

    async def release_held(self) -> None:
        """Stop every move this socket still holds (bounded: the socket is closing)."""
        held, self.held = self.held, set()
        pressed, self.pressed = self.pressed, set()
        with anyio.move_on_after(HOLD_STOP_SECONDS, shield=True):
            for device, button in sorted(pressed):  # a button bound to a held move
                try:
                    await self.agent.press(device, button, ButtonPhase.RELEASE)
                except Exception as exc:
                    log.warning("virtual button not released: %s", redact(str(exc)))
            for camera, group in sorted(held):
                try:
                    await self.agent.device_command(camera, STOPS[group], [])
                except Exception as exc:  # best effort: the next one still gets its stop
                    log.warning("held move not stopped: %s", redact(str(exc)))

    def subscribe(self, events_limit: int) -> None:
        if self.subscription is not None:
            self.subscription.events_limit = events_limit
            return
        subscriber = self.subscription = Subscriber(events_limit)
        scope = self._scope = anyio.CancelScope()

        async def pump() -> None:
            with scope:
                try:
                    await self.hub.pump(subscriber, lambda params: self.notify("update", params))
                except ConnectionClosed:
                    pass  # the socket's reader ends the connection

        self.task_group.start_soon(pump)

    def unsubscribe(self) -> bool:
        if self._scope is None:
            return False
        self._scope.cancel()
        self._scope = self.subscription = None
        return True


Method = Callable[..., Awaitable[Any]]
METHODS: dict[str, Method] = {}
_VALIDATION = ConfigDict(arbitrary_types_allowed=True)


def rpc(name: str) -> Callable[[Method], Method]:
    """Register `fn(ctx, **params)` as API method `name`, with validation and error mapping."""

    def register(fn: Method) -> Method:
        validated = validate_call(config=_VALIDATION)(fn)

        @functools.wraps(fn)
        async def method(*args: Any, **kwargs: Any) -> Result:
            try:
                result = await validated(*args, **kwargs)
            except ValidationError as exc:
                raise _params_error(exc) from None
            except JsonRpcError:
                raise
            except Exception as exc:
                log.warning("api %s failed: %s", name, redact(str(exc)))
                raise error_for(exc) from None
            return Success(scrub(result))

        METHODS[name] = method
        return method

    return register


# Actions share one schema with bindings and macros (roomagent.control.actions): every
# action but `delay` is an API method of the same name, its parameters by name.
API_ACTIONS = tuple(name for name in ACTION_NAMES if name != "delay")


def _action_method(name: str) -> Method:
    async def perform(ctx: ApiContext, **params: Any) -> Any:
        action = {"action": name, **params}
        problems = param_problems(action)
        if problems:
            (key, *_), message = problems[0]
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {message}", {"param": key})
        return await ctx.agent.perform(action)

    perform.__name__ = perform.__qualname__ = name.replace(".", "_")
    return perform


for _name in API_ACTIONS:
    rpc(_name)(_action_method(_name))


Name = Annotated[str, Field(min_length=1, max_length=64)]
Limit = Annotated[int, Field(ge=1, le=1000)]
ArgValue = str | int | float | bool


@rpc("status")
async def status(ctx: ApiContext) -> Any:
    return ctx.agent.status()


@rpc("events")
async def events(ctx: ApiContext, limit: Limit = 50) -> Any:
    return ctx.agent.recent_events(limit)


@rpc("config.view")
async def config_view(ctx: ApiContext) -> Any:
    return ctx.agent.config_view()


@rpc("camera.stop")
async def camera_stop(ctx: ApiContext, camera: Name) -> Any:
    # camera.move is timed (it always ends with a stop); this halts a move early — the same
    # pan/tilt stop the bindings send on release.
    return await ctx.agent.device_command(camera, "pt_stop", [])


Move = Literal[
    "up", "down", "left", "right", "up_left", "up_right", "down_left", "down_right", "tele", "wide"
]


@rpc("camera.hold")
async def camera_hold(ctx: ApiContext, camera: Name, move: Move) -> Any:
    """Start a move that lasts until `camera.release` — or until this socket closes."""
    command, args, group = HELD_MOVES[move]
    ctx.held.add((camera, group))
    return await ctx.agent.device_command(camera, command, args)


@rpc("camera.release")
async def camera_release(ctx: ApiContext, camera: Name, move: Move) -> Any:
    _, _, group = HELD_MOVES[move]
    ctx.held.discard((camera, group))
    return await ctx.agent.device_command(camera, STOPS[group], [])


@rpc("device.command")
async def device_command(
    ctx: ApiContext,
    device: Name,
    command: Annotated[str, Field(min_length=1, max_length=64)],
    args: Annotated[list[ArgValue], Field(max_length=16)] | None = None,
) -> Any:
    return await ctx.agent.device_command(device, command, list(args or []))


@rpc("panel.press")
async def panel_press(
    ctx: ApiContext,
    device: Name,
    button: Annotated[int, Field(ge=0, le=999)],
    kind: ButtonPhase = ButtonPhase.PRESS,
) -> Any:
    if kind == ButtonPhase.RELEASE:
        ctx.pressed.discard((device, button))
    else:
        ctx.pressed.add((device, button))
    result = await ctx.agent.press(device, button, kind)
    return result if result is not None else {"pressed": True}


@rpc("subscribe")
async def subscribe(ctx: ApiContext, events: Annotated[int, Field(ge=0, le=100)] = 20) -> Any:
    ctx.subscribe(events)
    snapshot: dict[str, Any] = {"subscribed": True, "status": ctx.agent.status()}
    if events:
        snapshot["events"] = ctx.agent.recent_events(events)
    return snapshot


@rpc("unsubscribe")
async def unsubscribe(ctx: ApiContext) -> Any:
    return {"subscribed": False, "was_subscribed": ctx.unsubscribe()}


def _explain(response: dict[str, Any]) -> dict[str, Any]:
    """jsonrpcserver's own errors say only "Invalid params"; add what was wrong."""
    error = response.get("error")
    if isinstance(error, dict) and error.get("message") == "Invalid params":
        detail = error.get("data")
        if isinstance(detail, str) and detail:
            error["message"] = f"Invalid params: {detail}"
    if isinstance(error, dict) and error.get("message") == "Method not found":
        error["message"] = f"Method not found: {error.get('data')}; see the README for the list"
    return response


def binary_frame_error() -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "error": {"code": -32600, "message": "Invalid request: send JSON text frames"},
            "id": None,
        }
    )


# [assumption] A page sends single calls; scripts may batch a few. A batch is refused whole
# when over MAX_BATCH (its members would each hold an in-flight slot of the socket), and a
# reply is cut at MAX_REPLY_BYTES: members past it get an error instead of their result.
MAX_BATCH = 16
MAX_REPLY_BYTES = 2 << 20
INVALID_REQUEST = -32600
REPLY_TOO_LARGE = -32005
_UNPARSED = object()


def parse_frame(text: str) -> tuple[Any, int]:
    """The frame as JSON (or a marker for invalid JSON) and how many calls it holds."""
    try:
        data = json.loads(text)
    except ValueError:
        return _UNPARSED, 1
    return data, (len(data) if isinstance(data, list) and data else 1)


def _error(code: int, message: str, req_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": req_id}


async def _serialise(responses: list[dict[str, Any]], batch: bool) -> tuple[str, int]:
    """The reply text and how many of its members are errors; members past the size cap
    become errors. Each member is encoded on its own with a checkpoint between, so a big
    batch never holds the event loop."""
    parts: list[str] = []
    size = errors = 0
    for response in responses:
        part = json.dumps(response, ensure_ascii=False)
        if size + len(part) > MAX_REPLY_BYTES:
            message = f"Reply too large: over {MAX_REPLY_BYTES} bytes; ask for less"
            part = json.dumps(_error(REPLY_TOO_LARGE, message, response.get("id")))
            errors += 1
        elif "error" in response:
            errors += 1
        parts.append(part)
        size += len(part)
        await anyio.lowlevel.checkpoint()
    return ("[" + ",".join(parts) + "]" if batch else parts[0]), errors


async def handle_text(
    text: str, ctx: ApiContext, parsed: Any = _UNPARSED
) -> tuple[str, int] | None:
    """One incoming frame → the response text and how many of its responses are errors
    (None for notifications). Counted here, on the dicts, because a successful result may
    well contain the word "error" (an event of kind "error", say). `parsed`: the frame as
    parse_frame returned it (parsed once, also to count its calls)."""
    if parsed is _UNPARSED:
        parsed, _ = parse_frame(text)
    if isinstance(parsed, list) and len(parsed) > MAX_BATCH:
        message = f"Invalid request: a batch of {len(parsed)} calls; at most {MAX_BATCH}"
        return json.dumps(_error(INVALID_REQUEST, message)), 1
    kwargs: dict[str, Any] = {}
    if parsed is not _UNPARSED:
        kwargs["deserializer"] = lambda _text: parsed
    response = await async_dispatch_to_serializable(text, METHODS, context=ctx, **kwargs)
    if response is None:
        return None
    responses = response if isinstance(response, list) else [response]
    if not responses:
        return None
    return await _serialise([_explain(r) for r in responses], isinstance(response, list))
