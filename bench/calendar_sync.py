"""Calendar/cloud benchmark against the loopback Yunzhijia cloud.

    python3 bench/calendar_sync.py [--calls 500] [--bookings 5000]

Prints p50/p99 of:
  raw post      httpx.AsyncClient POST to hasNew (the HTTP floor on loopback)
  edge hasNew   YunzhijiaClient.has_new (adds the edge: token, envelope, logging)
and the ratio edge/raw; then a full first sync of N workspace bookings (10% this room's),
an idle poll (hasNew only), an incremental sync of one change, the periodic full resync
(the whole feed read from scratch so missed cancellations apply: time, requests, CPU, and
its cost per day at the default `resync_hours`), the atomic save of the calendar (tmp +
fsync + rename) and loading it back after a "restart". The calendar's token is the renewing
kind (getAccessToken with the secret), so its fetches are counted too.
"""

from __future__ import annotations

import argparse
import os
import resource
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
SECRET = "bench-secret"
ROOM = "23F会议室"


def show(name: str, samples: list[float]) -> float:
    p50 = pct(samples, 0.5) * 1000
    print(f"{name:<16} p50 {p50:8.2f} ms   p99 {pct(samples, 0.99) * 1000:8.2f} ms")
    return p50


async def main(calls: int, bookings: int) -> None:
    os.environ["ROOMAGENT_YZJ_TOKEN"] = TOKEN
    os.environ["ROOMAGENT_YZJ_SECRET"] = SECRET
    with YunzhijiaCloud(TOKEN, secret=SECRET) as cloud, tempfile.TemporaryDirectory() as state:
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

        section = section.model_copy(update={"secret_env": "ROOMAGENT_YZJ_SECRET"})
        calendar = RoomCalendar.yunzhijia(section, Path(state))
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
        async with calendar.provider.open() as client:  # run() keeps one session, so do we
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
            resyncs, requests, cpu = [], [], []
            for _ in range(5):
                before = len(cloud.requests)
                t, c = time.perf_counter(), time.process_time()
                await calendar.sync_once(client, full=True)
                resyncs.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                requests.append(len(cloud.requests) - before)
        show("idle poll", idle)
        one = show("one change", incremental)
        full = show("full resync", resyncs)
        per_day = 24 / section.resync_hours
        print(
            f"resync           {requests[0]} requests ({len(cloud.feed)} feed records), "
            f"CPU p50 {statistics.median(cpu) * 1000:.1f} ms, {full / one:.0f}x one change; "
            f"every {section.resync_hours:g} h = {per_day:g}/day = "
            f"{per_day * full / 1000:.2f} s and {per_day * requests[0]:.0f} requests a day"
        )
        print(f"token fetches    {len(cloud.requests_to('getAccessToken'))} in the whole run")
        saves = []
        for _ in range(20):
            calendar._file.written = None  # else _save skips the unchanged file, times no write
            t = time.perf_counter()
            await calendar._save()
            saves.append(time.perf_counter() - t)
        size = calendar.state_path.stat().st_size
        show(f"save {size // 1024} KiB", saves)
        loads = []
        for _ in range(20):
            t = time.perf_counter()
            RoomCalendar.yunzhijia(section, Path(state))
            loads.append(time.perf_counter() - t)
        show("load (restart)", loads)
        print(f"median load+save {statistics.median(loads + saves) * 1000:.2f} ms")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"max RSS          {rss:.1f} MiB (bench process, loopback cloud included)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=5000)
    args = parser.parse_args()
    anyio.run(main, args.calls, args.bookings)
