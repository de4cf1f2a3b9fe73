"""The status report: JSON for machines, Markdown for people, written hourly and served on demand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orion_agent.audit import iso

# A week of hourly reports.
KEEP_REPORTS = 168


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "no trend"
    if seconds <= 0:
        return "now"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# ORION agent status, {report['generated_at']}", "", f"**Status: {report['status']}**", ""]
    counts = report["summary"]
    lines.append(", ".join(f"{counts[level]} {level}" for level in ("critical", "warning", "unknown", "ok")))
    lines += ["", "## Inputs", "", "| input | state | since | problem |", "| --- | --- | --- | --- |"]
    for name, value in report["inputs"].items():
        state = "ok" if value["ok"] else "degraded"
        lines.append(f"| {name} | {state} | {value['since'] or '-'} | {value['error'] or ''} |")
    bgp = report["bgp"]
    lines += ["", "## BGP", "", f"State: {bgp['state']}; imported prefixes: {bgp['imported_prefixes']}"]
    lines += [f"- {name}: {'up' if up else 'DOWN'}" for name, up in sorted(bgp["sessions"].items())]
    problems = [finding for finding in report["findings"] if finding["severity"] != "ok"]
    lines += ["", "## Findings", ""]
    lines += [f"- **{f['severity']}** {f['check']} / {f['subject']}: {f['summary']}" for f in problems] or [
        "Nothing to report: every check is ok."
    ]
    lines += ["", "## Forecasts", ""]
    lines += [f"- {f['forecast']} of {f['subject']}: {_duration(f['seconds'])}" for f in report["forecasts"]] or [
        "No forecast yet."
    ]
    lines += ["", "## Anomaly scores", ""]
    lines += [f"- {series}: {score:.2f}" for series, score in sorted(report["anomaly_scores"].items())] or ["None yet."]
    lines += ["", "## Runbooks", ""]
    for name, runbook in report["runbooks"].items():
        frozen = f"FROZEN ({runbook['frozen']})" if runbook["frozen"] else "armed"
        mode = "dry-run" if runbook["dry_run"] else "live"
        lines.append(f"- {name}: {frozen}, {mode}, {runbook['actions_last_hour']} action(s) in the last hour")
    lines += ["", "## Recent audit events", ""]
    lines += [f"- {e['time']} {e['runbook']}: {e['event']}" for e in report["recent_audit"]] or ["None."]
    lines += ["", "## Alerts received", ""]
    lines += [f"- {a['received']} {a['status']} {a['alertname']}: {a['summary']}" for a in report["alerts_received"]]
    if not report["alerts_received"]:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], directory: Path, timestamp: float, keep: int = KEEP_REPORTS) -> Path:
    """Writes `report-<time>.{json,md}` and `latest.{json,md}`, keeping the newest `keep` reports."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = "report-" + iso(timestamp).replace(":", "").replace("-", "")[:15]
    markdown = render_markdown(report)
    document = json.dumps(report, indent=2, default=str) + "\n"
    for name in (stem, "latest"):
        (directory / f"{name}.json").write_text(document)
        (directory / f"{name}.md").write_text(markdown)
    for old in sorted(directory.glob("report-*.json"))[:-keep]:
        old.unlink()
        old.with_suffix(".md").unlink(missing_ok=True)
    return directory / f"{stem}.md"
