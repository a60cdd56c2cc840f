"""The cloud-meeting actions (a module of their own so actions.py stays the list it is):
`huawei.invite` brings a number, an e-mail or an SMS address into the Huawei meeting this
room booked (control/cloud_meetings.py carries it out)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class HuaweiInvite(BaseModel):
    """Invite someone into this room's Huawei meeting (the one in progress, or `conference`,
    which must be one the room booked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["huawei.invite"]
    name: str = Field(min_length=1, max_length=96, description="a name of 1-96 characters")
    phone: str | None = Field(
        default=None, max_length=127, description="a number or SIP URI the meeting calls"
    )
    email: str | None = Field(default=None, max_length=255)
    sms: str | None = Field(default=None, max_length=32)
    role: Literal["participant", "host"] = "participant"
    conference: str | None = Field(
        default=None,
        pattern=r"^\d{1,20}$",
        description="a conference ID of digits (default: the one in progress)",
    )

    @model_validator(mode="after")
    def _contact(self) -> HuaweiInvite:
        if not (self.phone or self.email or self.sms):
            raise ValueError("give a phone, email or sms to invite")
        return self
