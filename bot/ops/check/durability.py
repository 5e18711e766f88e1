"""What a Redis restart or crash can lose, judged from the server's own persistence settings.

Pure: `probe` asks the store (`store.reads.persistence()`, which sends `CONFIG GET appendonly
appendfsync save maxmemory maxmemory-policy`) and hands the answer here. An accepted delivery
was answered 202, so GitHub never sends it again by itself: whatever Redis loses is lost until
someone redelivers it.
Sources: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/ and
https://redis.io/docs/latest/develop/reference/eviction/.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.ops.check.verdicts import Report

HEAL = "redeliver from GitHub's Recent Deliveries (kept 3 days)"


def _save_points(save: str) -> str:
    numbers = save.split()
    pairs = zip(numbers[::2], numbers[1::2], strict=False)
    return ", ".join(f"{changes} changes in {seconds} s" for seconds, changes in pairs)


def persistence_check(config: Mapping[str, str], report: Report) -> None:
    """Say what a Redis crash or restart can lose with this persistence (warn beyond ~1 s)."""
    name = "Redis persistence"
    aof = config.get("appendonly", "").lower() == "yes"
    fsync = config.get("appendfsync", "").lower()
    save = config.get("save", "").strip()
    if aof and fsync == "always":
        report.add(name, "ok", "append-only file, fsync always: nothing accepted is lost")
    elif aof and fsync == "everysec":
        why = "append-only file, fsync every second: a crash loses at most about 1 s"
        report.add(name, "ok", why)
    elif aof:
        why = f"append-only file without fsync (appendfsync {fsync or '?'}): a machine crash "
        report.add(name, "warn", why + f"loses what the OS had not written (~30 s); {HEAL}")
    elif save:
        why = f"snapshots only (save after {_save_points(save)}): a crash loses every delivery "
        report.add(name, "warn", why + f"since the last snapshot; set appendonly yes, or {HEAL}")
    else:
        why = 'none (appendonly no, save ""): a restart loses every accepted delivery not yet '
        report.add(name, "warn", why + f"run and the thread mapping; set appendonly yes, or {HEAL}")


def eviction_check(config: Mapping[str, str], report: Report) -> None:
    """Warn when a full Redis would evict queued work instead of refusing writes."""
    policy = config.get("maxmemory-policy", "")
    limit = config.get("maxmemory", "0")
    if policy == "noeviction" or limit in ("", "0"):
        report.add("Redis eviction", "ok", f"maxmemory {limit or '0'}, {policy or '?'}")
    else:
        why = f"maxmemory-policy {policy}: when full, Redis drops keys (queued runs, dedup, "
        report.add("Redis eviction", "warn", why + "thread mapping); use noeviction")


def unreadable_check(why: str, report: Report) -> None:
    """Say the persistence could not be read (CONFIG disabled, as on some managed Redis)."""
    detail = f"cannot read CONFIG ({why}): make sure it uses appendonly yes, appendfsync everysec"
    report.add("Redis persistence", "warn", detail)
