"""Channel words the rules need: who a payer is to the insured person, and how a channel user shows.

The channel user (who pays: an openid, an Alipay user id, ...) and the insured person are
kept apart on every order. A person a channel user identifies is either themself (本人) or
someone they pay for (代他人缴费); another person's data, channel ids included, is masked.
"""
from __future__ import annotations

from app.domain.documents import mask_id_number
from app.domain.errors import DomainError

SELF, RELATIVE = "self", "relative"
RELATIONS = (SELF, RELATIVE)
RELATION_LABELS = {SELF: "本人", RELATIVE: "代他人缴费"}


class ServiceUnavailable(DomainError):
    """A channel's platform could not answer; nothing changed, the payer may try again."""

    http_status = 503


def mask_channel_user(user_id: str | None) -> str | None:
    """Another payer's channel id, as it may be shown: the ends only (oAbC**********xYz1)."""
    if user_id is None:
        return None
    return mask_id_number(user_id)  # the same rule as document numbers: at most 8 characters shown


def relation_of(person_id: int, self_person_id: int | None) -> str:
    """Self when the insured person is the channel user's own; anyone else is a relative."""
    return SELF if self_person_id is not None and person_id == self_person_id else RELATIVE
