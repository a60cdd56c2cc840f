"""Hands in the room. Virtual mode: drive the emulators, the socat cables and the simulator.
Real mode: tell the person at the rack what to do and wait for the agent to see it happen."""

from __future__ import annotations

from collections.abc import Callable

import anyio

from hil.rig import Rig
from roomagent.config.vocab import ButtonPhase

PRESS, RELEASE = ButtonPhase.PRESS, ButtonPhase.RELEASE

PRESS_S = 10.0  # "press button 1 within 10 s"
HANDS_S = 60.0  # unplugging a cable or power-cycling a camera takes a person longer
RESTART_S = 120.0  # a Rooms client app takes a while to come back


class Operator:
    def __init__(self, rig: Rig, say: Callable[[str], None]) -> None:
        self.rig = rig
        self.say = say

    # ---- buttons ----

    async def _person_presses(self, n: int, action: ButtonPhase, instruction: str) -> float:
        """Ask, then wait for the panel to report `action` of button `n`; returns when."""
        seen = len(self.rig.button_events)
        self.say(f">>> {instruction} within {PRESS_S:g} s")

        def reported() -> bool:
            return any(b == n and a == action for _, b, a in self.rig.button_events[seen:])

        await self.rig.until(reported, PRESS_S)
        return next(t for t, b, a in self.rig.button_events[seen:] if b == n and a == action)

    async def press(self, n: int) -> float:
        """Button `n` goes down; returns the time of the press (anyio clock)."""
        panel = self.rig.panel_emulator
        if panel is None:
            return await self._person_presses(
                n, ButtonPhase.PRESS, f"press and HOLD DOWN button {n}"
            )
        t = anyio.current_time()
        await panel.press(n)
        return t

    async def release(self, n: int) -> float:
        panel = self.rig.panel_emulator
        if panel is None:
            return await self._person_presses(n, RELEASE, f"release button {n}")
        t = anyio.current_time()
        await panel.release(n)
        return t

    async def tap(self, n: int) -> float:
        panel = self.rig.panel_emulator
        if panel is None:
            return await self._person_presses(
                n, ButtonPhase.PRESS, f"press button {n} (short press)"
            )
        t = anyio.current_time()
        await panel.tap(n)
        return t

    async def long_press(self, n: int) -> float:
        panel = self.rig.panel_emulator
        if panel is None:
            t = await self._person_presses(
                n, ButtonPhase.PRESS, f"press and hold button {n} for 2 s"
            )
            await self._person_presses(n, RELEASE, f"now release button {n}")
            return t
        t = anyio.current_time()
        await panel.long_press(n)
        return t

    async def burst(self, buttons: list[int], gap_s: float) -> int:
        """Many presses in quick succession; returns how many the panel reported."""
        panel = self.rig.panel_emulator
        if panel is None:
            seen = len(self.rig.button_events)
            listed = ", ".join(map(str, sorted(set(buttons))))
            self.say(f">>> press buttons {listed} as fast as you can for 5 s, starting now")
            await anyio.sleep(5.0)
            return sum(1 for _, _, a in self.rig.button_events[seen:] if a == PRESS)
        for n in buttons:
            await panel.tap(n)
            await anyio.sleep(gap_s)
        return len(buttons)

    # ---- cables, power, the Rooms client ----

    def _device_online(self, name: str) -> bool:
        device = self.rig.agent.devices.get(name)
        return device is not None and device.online

    async def unplug(self, name: str) -> float:
        """Pull the device's cable; returns when it was pulled (virtual) or seen gone (real)."""
        linked = {"camera": self.rig.camera, "panel": self.rig.panel}[name]
        if linked is None:
            self.say(f">>> unplug the {name}'s serial/USB cable within {HANDS_S:g} s")
            await self.rig.until(lambda: not self._device_online(name), HANDS_S)
            return anyio.current_time()
        t = anyio.current_time()
        linked.unplug()
        return t

    async def replug(self, name: str) -> float:
        linked = {"camera": self.rig.camera, "panel": self.rig.panel}[name]
        if linked is None:
            self.say(f">>> plug the {name}'s cable back in within {HANDS_S:g} s")
            await self.rig.until(lambda: self._device_online(name), HANDS_S)
            return anyio.current_time()
        t = anyio.current_time()
        await linked.replug()
        return t

    async def power_cycle_camera(self) -> float:
        camera = self.rig.camera_emulator
        if camera is None:
            self.say(f">>> switch the camera off and on again within {HANDS_S:g} s")
            device = self.rig.agent.devices["camera"]
            before = device.counters.get("announcements", 0)
            await self.rig.until(lambda: device.counters.get("announcements", 0) > before, HANDS_S)
            return anyio.current_time()
        t = anyio.current_time()
        await camera.power_cycle()
        return t

    async def restart_rooms(self) -> float:
        """The Rooms client goes away and comes back; returns when it went away."""
        sim = self.rig.sim
        if sim is None:
            self.say(f">>> quit the Rooms client app now, then start it again ({RESTART_S:g} s)")
            await self.rig.until(
                lambda: self.rig.agent.status()["rooms"]["link"] != "ready", RESTART_S
            )
            return anyio.current_time()
        t = anyio.current_time()
        await sim.kill()
        return t

    async def rooms_back(self) -> None:
        if self.rig.sim is not None:
            await self.rig.sim.restart()
