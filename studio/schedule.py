"""When to ask FoxAPI about a task next.

Not before it could plausibly be done, tight around the moment it should finish, and
backing off once it is overdue. Progress is the best forecast there is: a task at 40 %
after 18 s will likely finish at about 45 s, whatever the estimate said.
"""

from __future__ import annotations

DEFAULT_ESTIMATE = 30.0  # seconds, when FoxAPI gives no estimate
FIRST_LOOK = 0.5  # share of the estimate before the first poll
APPROACH = 0.75  # share of the forecast remaining time to wait before re-forecasting
NEAR_WINDOW = 2.0  # seconds either side of the forecast that count as "near"
NEAR_INTERVAL = 1.0
OVERDUE_AFTER = 1.5  # share of the estimate after which a task near its forecast is overdue
OVERDUE_GROWTH = 0.25  # each second overdue adds this much to the interval
MAX_INTERVAL = 15.0
MIN_FORECAST_PROGRESS = 5  # below this, progress says too little to forecast from


def next_poll_delay(*, elapsed: float, estimated_time: float | None, progress: int) -> float:
    """Seconds to wait before the next poll of a task submitted `elapsed` seconds ago."""
    estimate = estimated_time if estimated_time and estimated_time > 0 else DEFAULT_ESTIMATE
    if progress < MIN_FORECAST_PROGRESS:
        if elapsed < FIRST_LOOK * estimate:
            return FIRST_LOOK * estimate - elapsed
        forecast = estimate
    elif progress >= 100:
        forecast = elapsed  # done but without results yet: look again soon
    else:
        forecast = elapsed * 100 / progress
    remaining = forecast - elapsed
    if remaining > NEAR_WINDOW:
        return min(MAX_INTERVAL, max(NEAR_INTERVAL, remaining * APPROACH))
    # Overdue: past the forecast and well past the estimate (progress stuck at 99 % too).
    overdue = elapsed - max(forecast + NEAR_WINDOW, OVERDUE_AFTER * estimate)
    if overdue <= 0:
        return NEAR_INTERVAL
    return min(MAX_INTERVAL, NEAR_INTERVAL + OVERDUE_GROWTH * overdue)
