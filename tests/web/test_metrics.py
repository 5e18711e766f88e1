"""Run states in the metrics: parked runs as a gauge, cancelled runs counted by function."""

from __future__ import annotations

from bot.runtime import (
    Cancel,
    Context,
    Event,
    ManualClock,
    Runtime,
    Store,
    Worker,
    cancel_run,
    function,
    run_id_for,
)
from bot.web.metrics import Metrics, MetricsObserver


async def test_parked_runs_and_cancellations_show_in_the_metrics(real_store: Store) -> None:
    @function("nap", "t/nap")
    async def nap(ctx: Context) -> None:
        await ctx.step.sleep("nap", 600)

    @function("wait", "t/ask", cancel_on=[Cancel("t/close", match="data.n")])
    async def wait(ctx: Context) -> None:
        await ctx.step.wait_for_event("answer", event="t/answer", match="data.n", timeout_s=600)

    metrics = Metrics()
    clock = ManualClock()
    rt = Runtime(real_store, [nap, wait], clock=clock, observer=MetricsObserver(metrics))
    await rt.send([Event(name="t/nap", id="n1")])
    await rt.send([Event(name="t/ask", id=f"a{n}", data={"n": n}) for n in (1, 2)])
    await Worker(rt).run_until_idle()
    await metrics.refresh(real_store)
    assert "prbot_runs_parked 3.0" in metrics.exposition().decode()

    assert await cancel_run(rt, run_id_for("n1", "nap")) == "cancelled"
    await rt.send([Event(name="t/close", id="c1", data={"n": 1})])
    await metrics.refresh(real_store)
    text = metrics.exposition().decode()
    assert "prbot_runs_parked 1.0" in text
    assert 'prbot_runs_total{function="nap",status="cancelled"} 1.0' in text
    assert 'prbot_runs_total{function="wait",status="cancelled"} 1.0' in text
    clock.advance(601)  # the last wait times out and its run completes
    await Worker(rt).run_until_idle()
    await metrics.refresh(real_store)
    text = metrics.exposition().decode()
    assert "prbot_runs_parked 0.0" in text
    assert 'prbot_runs_total{function="wait",status="completed"} 1.0' in text
