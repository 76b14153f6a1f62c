"""Two requests at the same moment, made deterministic: the first holds its write in an open
transaction while the second runs on another thread until it waits on the database's lock (a unique
index, a row lock), then the first commits. What the second returned or raised is the outcome."""
from __future__ import annotations

import threading
from typing import Callable

from sqlalchemy import text


def blocked_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar_one() > 0


def race(container, first: Callable, second: Callable[[], object]) -> object:
    """``first(uow)`` in an open transaction, ``second()`` on a thread meanwhile; the second's result or error."""
    outcome = {}

    def run_second():
        try:
            outcome["value"] = second()
        except Exception as error:  # the outcome under test
            outcome["value"] = error

    with container.uow() as uow:
        first(uow)
        racer = threading.Thread(target=run_second)
        racer.start()
        for _ in range(500):
            if blocked_on_a_lock(container.engine) or not racer.is_alive():
                break
            threading.Event().wait(0.01)
        uow.commit()
    racer.join()
    return outcome["value"]


def in_own_unit_of_work(container, work: Callable) -> Callable[[], object]:
    """``work(uow)`` as a request of its own would do it: its own unit of work, committed."""
    def run():
        with container.uow() as uow:
            value = work(uow)
            uow.commit()
            return value
    return run
