"""Loopback stand-ins for the scheduling clouds (Yunzhijia, Huawei Cloud Meeting, Quanshi).

Real HTTP servers on 127.0.0.1 answering as the corrected spec and the seeds describe, for the
tests, the demo (`roomagent sim clouds`) and HIL runs; one module per cloud.
"""

from __future__ import annotations

from roomagent.sim.huawei_cloud import HuaweiCloud
from roomagent.sim.loopback import Fault, LoopbackCloud, Recorded
from roomagent.sim.quanshi_cloud import QUANSHI_SEED_MEETING, QuanshiCloud
from roomagent.sim.yunzhijia_cloud import YunzhijiaCloud

__all__ = [
    "QUANSHI_SEED_MEETING",
    "Fault",
    "HuaweiCloud",
    "LoopbackCloud",
    "QuanshiCloud",
    "Recorded",
    "YunzhijiaCloud",
]
