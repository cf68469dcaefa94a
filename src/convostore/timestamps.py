"""The one clock every stored timestamp comes from.

MongoDB keeps datetimes to the millisecond, so every value is truncated to the millisecond
and made timezone-aware UTC before it is written: what is in memory, what is stored and what
is returned are then the same value.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_pinned_write_time: ContextVar[datetime | None] = ContextVar("pinned_write_time", default=None)


def to_utc_ms(value: datetime) -> datetime:
    """Return `value` as aware UTC truncated to the millisecond; naive values are taken as UTC.

    Raises ValueError for a time that falls outside years 1 to 9999 once in UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    else:
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("the time is out of range (years 1 to 9999 in UTC)") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def utc_now_ms() -> datetime:
    return to_utc_ms(datetime.now(UTC))


def write_time() -> datetime:
    """The timestamp for the write under way: the pinned one if a write pinned it, else now."""
    return _pinned_write_time.get() or utc_now_ms()


@contextmanager
def pinned_write_time() -> Iterator[datetime]:
    """Use one clock reading for every stamp of one logical write.

    A document method runs Beanie's event hooks (which stamp the object in memory) and then
    the driver call (which stamps the stored document); pinning makes both use the same value.
    Nested pins reuse the outer reading.
    """
    outer = _pinned_write_time.get()
    if outer is not None:
        yield outer
        return

    token = _pinned_write_time.set(utc_now_ms())
    try:
        yield _pinned_write_time.get()  # type: ignore[misc]
    finally:
        _pinned_write_time.reset(token)
