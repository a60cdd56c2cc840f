"""Fixtures: the loopback clouds (real HTTP on 127.0.0.1) and config sections pointing at them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomagent.config.model import AgentConfig, HuaweiSection, QuanshiSection, YunzhijiaSection
from roomagent.sim.clouds import HuaweiCloud, QuanshiCloud, YunzhijiaCloud

YZJ_TOKEN = "yzj-SECRET-token-4711"
HWM_TOKEN = "hwm-SECRET-token-0815"
HWM_CONF_TOKEN = "hwm-SECRET-conf-4242"
QS_TOKEN = "qs-SECRET-token-1234"
YZJ_SECRET = "yzj-SECRET-resgroup-7788"
HWM_APP_ID = "hwm-app-0001"
HWM_APP_KEY = "hwm-SECRET-appkey-5151"
HWM_PASSWORD = "hwm-SECRET-password-6262"
HWM_CHAIR = "chair-SECRET-9090"
ROOM = "23F会议室"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    # main() installs its own stdout log handler; put the test runner's back afterwards.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment is the tool's documented input, not the code under test's I/O.
    monkeypatch.setenv("ROOMAGENT_YZJ_TOKEN", YZJ_TOKEN)
    monkeypatch.setenv("ROOMAGENT_HWM_TOKEN", HWM_TOKEN)
    monkeypatch.setenv("ROOMAGENT_HWM_CONF_TOKEN", HWM_CONF_TOKEN)
    monkeypatch.setenv("ROOMAGENT_QS_TOKEN", QS_TOKEN)
    monkeypatch.setenv("ROOMAGENT_YZJ_SECRET", YZJ_SECRET)
    monkeypatch.setenv("ROOMAGENT_HWM_APP_KEY", HWM_APP_KEY)
    monkeypatch.setenv("ROOMAGENT_HWM_PASSWORD", HWM_PASSWORD)
    monkeypatch.setenv("ROOMAGENT_HWM_CHAIR_PASSWORD", HWM_CHAIR)


@pytest.fixture
def yzj_cloud() -> Iterator[YunzhijiaCloud]:
    with YunzhijiaCloud(YZJ_TOKEN, secret=YZJ_SECRET) as cloud:
        yield cloud  # type: ignore[misc]


@pytest.fixture
def hwm_cloud() -> Iterator[HuaweiCloud]:
    with HuaweiCloud(
        HWM_TOKEN,
        HWM_CONF_TOKEN,
        app_id=HWM_APP_ID,
        app_key=HWM_APP_KEY,
        password=HWM_PASSWORD,
        chair_password=HWM_CHAIR,
    ) as cloud:
        yield cloud  # type: ignore[misc]


@pytest.fixture
def qs_cloud() -> Iterator[QuanshiCloud]:
    with QuanshiCloud(QS_TOKEN) as cloud:
        yield cloud  # type: ignore[misc]


@pytest.fixture
def yzj_section(yzj_cloud: YunzhijiaCloud, tokens: None) -> YunzhijiaSection:
    return yzj_cloud.section(timeout=0.5)


@pytest.fixture
def hwm_section(hwm_cloud: HuaweiCloud, tokens: None) -> HuaweiSection:
    return HuaweiSection(base_url=hwm_cloud.url, timeout=0.5)


@pytest.fixture
def hwm_app_section(hwm_cloud: HuaweiCloud, tokens: None) -> HuaweiSection:
    """App ID authentication (the recommended way): the token renews itself."""
    return HuaweiSection(base_url=hwm_cloud.url, timeout=0.5, app_id=HWM_APP_ID)


@pytest.fixture
def qs_section(qs_cloud: QuanshiCloud, tokens: None) -> QuanshiSection:
    return QuanshiSection(url=qs_cloud.endpoint, timeout=0.5)


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n{body}', encoding="utf-8")
    return path


def agent_config(tmp_path: Path, section: YunzhijiaSection) -> AgentConfig:
    return AgentConfig.model_validate(
        {"state_dir": str(tmp_path / "state"), "calendar": {"yunzhijia": section.model_dump()}}
    )
