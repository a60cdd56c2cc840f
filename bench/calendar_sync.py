"""Calendar/cloud benchmark against the loopback Yunzhijia cloud.

    python3 bench/calendar_sync.py [--calls 500] [--bookings 5000]

Prints p50/p99 of:
  raw post      httpx.AsyncClient POST to hasNew (the HTTP floor on loopback)
  edge hasNew   YunzhijiaClient.has_new (adds the edge: token, envelope, logging)
and the ratio edge/raw; then a full first sync of N workspace bookings (10% this room's),
an idle poll (hasNew only), an incremental sync of one change, the atomic save of the
calendar (tmp + fsync + rename) and loading it back after a "restart".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats import pct

from roomagent.config.model import YunzhijiaSection
from roomagent.scheduling.calendar import RoomCalendar
from roomagent.scheduling.yunzhijia import YunzhijiaClient
from roomagent.sim.clouds import YunzhijiaCloud

TOKEN = "bench-token"
ROOM = "23F会议室"


def show(name: str, samples: list[float]) -> float:
    p50 = pct(samples, 0.5) * 1000
    print(f"{name:<16} p50 {p50:8.2f} ms   p99 {pct(samples, 0.99) * 1000:8.2f} ms")
    return p50


async def main(calls: int, bookings: int) -> None:
    os.environ["ROOMAGENT_YZJ_TOKEN"] = TOKEN
    with YunzhijiaCloud(TOKEN) as cloud, tempfile.TemporaryDirectory() as state:
        now = datetime.now(UTC)
        for i in range(bookings):
            start = now + timedelta(minutes=30 * i)
            cloud.add_booking(ROOM if i % 10 == 0 else "A304", start, start + timedelta(minutes=30))
        section = YunzhijiaSection(base_url=cloud.url, eid="10109", room_name=ROOM)

        raw: list[float] = []
        async with httpx.AsyncClient() as http:
            url = f"{cloud.url}/api/roomBook/third/hasNew"
            for _ in range(calls):
                t = time.perf_counter()
                await http.post(url, params={"accessToken": TOKEN}, json={"eid": "10109"})
                raw.append(time.perf_counter() - t)
        edge: list[float] = []
        async with YunzhijiaClient(section) as client:
            for _ in range(calls):
                t = time.perf_counter()
                await client.has_new(None)
                edge.append(time.perf_counter() - t)
        floor = show("raw post", raw)
        p50 = show("edge hasNew", edge)
        print(f"{'ratio edge/raw':<16} {p50 / floor:8.2f}x")

        calendar = RoomCalendar(section, Path(state))
        t = time.perf_counter()
        await calendar.sync_once()
        first = time.perf_counter() - t
        pages = len(cloud.requests_to("bookInfo"))
        print(
            f"first sync       {first * 1000:8.1f} ms for {bookings} bookings in {pages} pages "
            f"({len(calendar.bookings())} kept)"
        )
        idle = []
        incremental = []
        async with calendar.open_client() as client:  # run() keeps one client, so do we
            for _ in range(20):
                t = time.perf_counter()
                await calendar.sync_once(client)
                idle.append(time.perf_counter() - t)
            for i in range(20):
                start = now + timedelta(days=400, minutes=30 * i)
                cloud.add_booking(ROOM, start, start + timedelta(minutes=30))
                t = time.perf_counter()
                await calendar.sync_once(client)
                incremental.append(time.perf_counter() - t)
        show("idle poll", idle)
        show("one change", incremental)
        saves = []
        for _ in range(20):
            calendar._written = None  # else _save skips the unchanged file and times no write
            t = time.perf_counter()
            await calendar._save()
            saves.append(time.perf_counter() - t)
        size = calendar.state_path.stat().st_size
        show(f"save {size // 1024} KiB", saves)
        loads = []
        for _ in range(20):
            t = time.perf_counter()
            RoomCalendar(section, Path(state))
            loads.append(time.perf_counter() - t)
        show("load (restart)", loads)
        print(f"median load+save {statistics.median(loads + saves) * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=5000)
    args = parser.parse_args()
    anyio.run(main, args.calls, args.bookings)
