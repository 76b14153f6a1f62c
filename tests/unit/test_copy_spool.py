"""The followed COPY spool: another thread sends what is written as it grows, and stops when the writer fails."""
from __future__ import annotations

import threading

import pytest

from app.adapters.copy_spool import FollowedSpool, SpoolAborted


def follow(spool: FollowedSpool, into: list, size: int = 5) -> threading.Thread:
    def run() -> None:
        try:
            into.extend(spool.blocks(size))
        except SpoolAborted as trouble:
            into.append(trouble)

    follower = threading.Thread(target=run)
    follower.start()
    return follower


def test_the_follower_gets_every_byte_in_order_in_blocks_no_larger_than_asked():
    spool, sent = FollowedSpool(), []
    follower = follow(spool, sent)
    for chunk in (b"kind\torder\n", b"", b"payment\tB1\n" * 3):
        spool.write(chunk)
    spool.finish()
    follower.join()
    spool.close()
    assert b"".join(sent) == b"kind\torder\n" + b"payment\tB1\n" * 3
    assert all(0 < len(block) <= 5 for block in sent)


def test_a_spool_finished_before_it_is_followed_is_sent_whole():
    spool = FollowedSpool()
    spool.write(bytearray(b"abc"))
    spool.write(memoryview(b"def"))
    spool.finish()
    assert b"".join(spool.blocks(1024)) == b"abcdef"
    spool.close()


def test_when_the_writer_fails_the_follower_stops_instead_of_sending_a_partial_spool():
    spool, sent = FollowedSpool(), []
    follower = follow(spool, sent)
    spool.write(b"payment\tB1\n")
    spool.finish(ValueError("the bill's line 2 is broken"))
    follower.join()
    spool.close()
    assert isinstance(sent[-1], SpoolAborted) and isinstance(sent[-1].__cause__, ValueError)
