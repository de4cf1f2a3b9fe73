"""The detectors' state saved and restored: across a restart the scores go on as if the agent had never stopped; a
file that is corrupt, foreign, of another version or from the future is refused with one clear line, never a crash."""

from __future__ import annotations

import json
import logging
import math
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orion_agent.anomalies import AnomalyWatch
from orion_agent.detect import AgentDetector, AgentSettings, StateError
from orion_agent.detect.state import STATE_FORMAT, STATE_VERSION, load_detectors, save_detectors
from orion_agent.service import DETECTOR_STATE_FILE
from tests.agent.conftest import Rig
from tests.agent.test_service import healthy_answers

START = datetime(2024, 1, 1)
NOW = 1_800_000_000.0
_NOISE = random.Random(2)  # noqa: S311 -- reproducible test noise, nothing secret
POINTS = [
    (START + i * timedelta(minutes=5), 50.0 + 20.0 * math.sin(i / 288 * 2 * math.pi) + _NOISE.gauss(0, 1))
    for i in range(5 * 288)
]
POINTS[4 * 288 + 30] = (POINTS[4 * 288 + 30][0], 120.0)


def feed(detector: AgentDetector, points: list[tuple[datetime, float]]) -> list[float]:
    return [detector.update(timestamp, value) for timestamp, value in points]


def test_a_restored_detector_scores_as_if_it_had_never_stopped() -> None:
    cut = 3 * 288 + 17
    uninterrupted = AgentDetector()
    expected = feed(uninterrupted, POINTS)
    before = AgentDetector()
    feed(before, POINTS[:cut])
    saved = json.loads(json.dumps(before.snapshot()))
    after = AgentDetector.restored(saved)
    assert feed(after, POINTS[cut:]) == expected[cut:]
    assert max(expected[cut:]) > 0.6


def test_a_detector_restored_after_a_lasting_change_goes_on_judging_against_both_regimes() -> None:
    # Shifted for good at day 3, back at day 4: restored between the two, the detector must still know the normal
    # before the shift (the return is no news) and how long its novelty record is being rebuilt.
    noise = random.Random(4)  # noqa: S311 -- reproducible test noise, nothing secret
    shifted = range(3 * 288, 4 * 288)
    points = [
        (START + i * timedelta(minutes=5), 50.0 + (15.0 if i in shifted else 0.0) + noise.gauss(0, 2))
        for i in range(5 * 288)
    ]
    cut = 3 * 288 + 150
    uninterrupted = AgentDetector()
    expected = feed(uninterrupted, points)
    before = AgentDetector()
    feed(before, points[:cut])
    assert before.snapshot()["old_level"] is not None
    after = AgentDetector.restored(json.loads(json.dumps(before.snapshot())))
    assert feed(after, points[cut:]) == expected[cut:]


def saved_file(tmp_path: Path) -> Path:
    detector = AgentDetector()
    feed(detector, POINTS[:600])
    path = tmp_path / "detectors.json"
    save_detectors(path, {"wan_receive_bits": detector}, NOW)
    return path


def test_the_state_file_round_trips_and_names_its_format_and_version(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    document = json.loads(path.read_text())
    assert (document["format"], document["version"], document["saved_at"]) == (STATE_FORMAT, STATE_VERSION, NOW)
    restored = load_detectors(path, NOW)
    assert list(restored) == ["wan_receive_bits"]
    assert restored["wan_receive_bits"].snapshot() == document["detectors"]["wan_receive_bits"]
    assert [entry.name for entry in tmp_path.iterdir()] == ["detectors.json"]


def test_a_failed_save_leaves_the_previous_file_whole_and_no_temporary_file(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    previous = path.read_text()

    class Unsaveable(AgentDetector):
        def snapshot(self) -> dict[str, Any]:
            return {"value": float("nan")}

    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        save_detectors(path, {"cpu": Unsaveable()}, NOW)
    assert path.read_text() == previous
    assert [entry.name for entry in tmp_path.iterdir()] == ["detectors.json"]


def rewrite(path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    document = json.loads(path.read_text())
    replaced = change(document)
    path.write_text(json.dumps(document if replaced is None else replaced))
    return path


def tamper_settings(document: dict[str, Any]) -> None:
    document["detectors"]["wan_receive_bits"]["settings"]["rest"] = 60.0


def tamper_bucket(document: dict[str, Any]) -> None:
    document["detectors"]["wan_receive_bits"]["long"]["buckets"][3] = [1, "two", 3.0, 4.0]


def tamper_old_level(document: dict[str, Any]) -> None:
    document["detectors"]["wan_receive_bits"]["old_level"] = [50.0, 2.0]


REFUSALS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("corrupt", lambda path: (path.write_text('{"format": "orion-agent-det'), path)[1], "not JSON (Unterminated"),
    ("binary", lambda path: (path.write_bytes(b"\xff\xfe\x00"), path)[1], "not a text file"),
    (
        "foreign",
        lambda path: rewrite(path, lambda document: {"groups": []}),
        f"not an orion-agent detector state file (format None, expected {STATE_FORMAT!r})",
    ),
    (
        "a list",
        lambda path: rewrite(path, lambda document: [1, 2]),
        f"not an orion-agent detector state file (format 'list', expected {STATE_FORMAT!r})",
    ),
    (
        "newer",
        lambda path: rewrite(path, lambda document: document.update(version=STATE_VERSION + 1)),
        f"detector state version {STATE_VERSION + 1}, this agent reads version {STATE_VERSION}",
    ),
    (
        "from the future",
        lambda path: rewrite(path, lambda document: document.update(saved_at=NOW + 86400)),
        f"saved at {NOW + 86400:.0f}, after the current time {NOW:.0f} (the clock moved back)",
    ),
    ("other settings", lambda path: rewrite(path, tamper_settings), "detectors.wan_receive_bits.settings: saved with"),
    (
        "a bad field",
        lambda path: rewrite(path, tamper_bucket),
        "detectors.wan_receive_bits.long.buckets[3]: expected an integer",
    ),
    (
        "a bad old level",
        lambda path: rewrite(path, tamper_old_level),
        "detectors.wan_receive_bits.old_level: expected [mean, spread, until]",
    ),
]


@pytest.mark.parametrize(("case", "spoil", "message"), REFUSALS, ids=[case for case, _, _ in REFUSALS])
def test_an_unusable_state_file_is_refused_naming_the_file_and_why(
    tmp_path: Path, case: str, spoil: Callable[[Path], Path], message: str
) -> None:
    path = spoil(saved_file(tmp_path))
    with pytest.raises(StateError) as refused:
        load_detectors(path, NOW)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


@pytest.mark.parametrize(("case", "spoil", "message"), REFUSALS[:3], ids=[case for case, _, _ in REFUSALS[:3]])
def test_the_watch_sets_a_refused_file_aside_logs_one_line_and_starts_fresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str, spoil: Callable[[Path], Path], message: str
) -> None:
    path = spoil(saved_file(tmp_path))
    spoilt = path.read_bytes()
    watch = AnomalyWatch(0.8, path)
    with caplog.at_level(logging.INFO, logger="orion_agent.anomalies"):
        watch.load(NOW)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(f"anomaly detector state refused, starting fresh: {path}: ")
    assert message in record.getMessage()
    assert "\n" not in record.getMessage()
    assert (tmp_path / "detectors.json.refused").read_bytes() == spoilt
    assert watch.observe(NOW, "cpu", 12.0).value == 0.0
    watch.save(NOW)
    assert list(load_detectors(path, NOW)) == ["cpu"]


def test_a_detector_state_made_with_other_settings_is_refused() -> None:
    saved = AgentDetector().snapshot()
    with pytest.raises(StateError, match="settings: saved with"):
        AgentDetector.restored(saved, AgentSettings(memory=timedelta(days=1)))


def test_the_agent_saves_its_detectors_periodically_and_at_stop_and_restores_them_at_start(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    rig.prometheus.answers = healthy_answers()
    state_file = rig.settings.state_dir / DETECTOR_STATE_FILE
    stop = threading.Event()
    start = rig.clock.now
    saved_during_run: list[bool] = []

    def wait(seconds: float) -> bool:
        rig.clock.advance(seconds)
        if rig.clock.now - start > rig.settings.detector_state_interval_seconds:
            saved_during_run.append(state_file.exists())
        if rig.clock.now - start >= 2 * rig.settings.detector_state_interval_seconds - 20:
            stop.set()
        return stop.is_set()

    rig.agent.run(stop, wait)
    assert saved_during_run
    assert all(saved_during_run)
    saved = load_detectors(state_file, rig.clock.now)
    # Saved at stop: the last check's point (checks every 15 s) is in the file, not only the periodic save's.
    assert {detector.snapshot()["last"] for detector in saved.values()} == {
        rig.agent.anomalies._detectors["router_cpu_percent"].snapshot()["last"]
    }
    restarted = make_rig(settings=rig.settings)
    assert {series: detector.snapshot() for series, detector in restarted.agent.anomalies._detectors.items()} == {
        series: detector.snapshot() for series, detector in saved.items()
    }


def number_leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every number in a JSON document."""
    if isinstance(node, dict):
        return [leaf for key, child in node.items() for leaf in number_leaves(child, (*path, key))]
    if isinstance(node, list):
        return [leaf for index, child in enumerate(node) for leaf in number_leaves(child, (*path, index))]
    return [path] if isinstance(node, int | float) and not isinstance(node, bool) else []


def replaced_at(document: Any, path: tuple[Any, ...], value: object) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


# Numbers no detector writes: huge integers (float() overflows), counts past any real one, negatives, nothing.
NASTY = [10**400, 2**63, -1, 0, 1e308]


def test_no_number_in_a_state_file_crashes_the_agent_at_start_or_at_a_check(tmp_path: Path) -> None:
    """A review found a 400-digit number crashing the start, and a count of 2**63 or -1 crashing every update."""
    saved = json.loads(saved_file(tmp_path).read_text())
    leaves = number_leaves(saved["detectors"])
    settings = [leaf for leaf in leaves if "settings" in leaf]
    learnt = [leaf for leaf in leaves if "settings" not in leaf]
    sample = learnt[:: max(1, len(learnt) // 10)] + settings[:2]
    path = tmp_path / "detectors.json"
    for leaf in sample:
        for value in NASTY:
            spoilt = json.loads(json.dumps(saved))
            replaced_at(spoilt["detectors"], leaf, value)
            path.write_text(json.dumps(spoilt))
            watch = AnomalyWatch(0.8, path)
            watch.load(NOW)  # refused or restored, never raised
            for offset in range(3):
                finding = watch.observe(NOW + 300 * (offset + 1), "wan_receive_bits", 55.0)
                assert finding.value is not None, (leaf, value, finding)
                assert 0.0 <= finding.value <= 1.0, (leaf, value, finding)


def test_a_temporary_file_left_by_a_killed_save_is_overwritten_not_kept(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    (tmp_path / ".detectors.json.tmp").write_text('{"half": ')  # a save killed midway
    save_detectors(path, {"cpu": AgentDetector()}, NOW)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["detectors.json"]
    assert list(load_detectors(path, NOW)) == ["cpu"]
