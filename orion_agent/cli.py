"""`orion-agent`: run the agent, ask it for a report, clear a frozen runbook, score a CSV file."""

from __future__ import annotations

import getpass
import io
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from types import FrameType

import click
import requests

from orion_agent.alerts import AlertmanagerClient
from orion_agent.audit import AuditLog
from orion_agent.detect.csv_scoring import CsvFormatError, SameFileError, score_csv
from orion_agent.logs import configure_logging
from orion_agent.runbooks import RUNBOOKS, RunbookState, StateStore, SubprocessRunner
from orion_agent.server import CLEAR_PREFIX, AgentServer
from orion_agent.service import Agent
from orion_agent.settings import SETTINGS_FILE_VARIABLE, Settings, SettingsError, load_settings
from orion_agent.sources import BirdExporterProbe, PrometheusClient

SETTINGS_OPTION = click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON or TOML settings file (default: $ORION_AGENT_SETTINGS_FILE).",
)


def _checked_agent_url(_context: click.Context, _parameter: click.Parameter, value: str | None) -> str | None:
    """An http(s) URL with a host, checked before anything is sent."""
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"expected the agent's URL, like http://127.0.0.1:9110, got {value!r}")
    return value.rstrip("/")


AGENT_URL_OPTION = click.option(
    "--agent-url",
    default=None,
    callback=_checked_agent_url,
    help="The running agent (default: loopback at the settings' listen port).",
)


def _settings(settings_file: Path | None, agent_url_would_do: bool = False) -> Settings:
    try:
        return load_settings(settings_file)
    except SettingsError as error:
        if settings_file is not None or os.environ.get(SETTINGS_FILE_VARIABLE):
            raise click.ClickException(str(error)) from None
        # Without a file only the built-in defaults and ORION_AGENT_* variables are left, which rarely suffice:
        # say where settings come from rather than only which field is missing.
        alternative = ", or give --agent-url" if agent_url_would_do else ""
        raise click.UsageError(
            f"no agent settings file: pass --settings FILE or set ${SETTINGS_FILE_VARIABLE} (the monitoring VM sets "
            f"it to the agent-settings.json `orion render` wrote){alternative}; the built-in defaults and "
            f"ORION_AGENT_* variables alone are not enough: {_problems(error)}"
        ) from None


def _problems(error: SettingsError) -> str:
    return "; ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)


def _agent_url(agent_url: str | None, settings_file: Path | None) -> str:
    return agent_url or f"http://127.0.0.1:{_settings(settings_file, agent_url_would_do=True).listen_port}"


def build_agent(settings: Settings) -> Agent:
    """The agent wired to the real sources, Alertmanager, subprocesses and the wall clock."""
    alertmanager = AlertmanagerClient(str(settings.alertmanager_url), settings.prometheus_timeout_seconds)
    return Agent(
        settings,
        prometheus=PrometheusClient(str(settings.prometheus_url), settings.prometheus_timeout_seconds),
        bird=BirdExporterProbe(str(settings.router.bird_exporter_url), settings.probe_timeout_seconds),
        post_alerts=alertmanager.post,
        runner=SubprocessRunner(),
        clock=time.time,
    )


# `-h` as well as `--help`, on the group and, inherited, on each command (as `orion` has it).
@click.group(name="orion-agent", context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ORION's autonomous agent on the monitoring VM."""


@main.command()
@SETTINGS_OPTION
def run(settings_file: Path | None) -> None:
    """Run the agent until SIGTERM or SIGINT."""
    settings = _settings(settings_file)
    configure_logging(settings.log_level, settings.log_file)
    agent = build_agent(settings)
    server = AgentServer(agent, str(settings.listen_address), settings.listen_port)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.start()
    try:
        agent.run(stop)
    finally:
        server.stop()


@main.command()
@SETTINGS_OPTION
@AGENT_URL_OPTION
@click.option("--format", "output_format", type=click.Choice(["md", "json"]), default="md", show_default=True)
def report(settings_file: Path | None, agent_url: str | None, output_format: str) -> None:
    """Print the running agent's status report."""
    url = _agent_url(agent_url, settings_file) + "/report"
    try:
        response = requests.get(url, params={"format": output_format}, timeout=10)
    except requests.RequestException as error:
        raise click.ClickException(f"the agent at {url} did not answer ({type(error).__name__})") from None
    if response.status_code != 200:
        raise click.ClickException(f"the agent at {url} answered HTTP {response.status_code}")
    click.echo(response.text, nl=False)


@main.command()
@click.argument("runbook")
@SETTINGS_OPTION
@AGENT_URL_OPTION
@click.option("--by", default=getpass.getuser, show_default="the current user", help="Who clears it, for the audit.")
def clear(runbook: str, settings_file: Path | None, agent_url: str | None, by: str) -> None:
    """Unfreeze RUNBOOK after a human has looked at why it froze."""
    if runbook not in RUNBOOKS:
        raise click.BadParameter(f"no runbook {runbook!r} (runbooks: {', '.join(RUNBOOKS)})", param_hint="RUNBOOK")
    url = f"{_agent_url(agent_url, settings_file)}{CLEAR_PREFIX}{runbook}/clear"
    try:
        response = requests.post(url, json={"by": by}, timeout=10)
    except requests.ConnectionError:
        if agent_url is not None:
            raise click.ClickException(f"the agent at {url} did not answer") from None
        # Not running: nothing races with editing its state file.
        _clear_offline(_settings(settings_file), runbook, by)
        return
    except requests.RequestException as error:
        raise click.ClickException(f"the agent at {url} did not answer ({type(error).__name__})") from None
    if response.status_code != 200:
        raise click.ClickException(f"the agent refused: HTTP {response.status_code} {response.text.strip()}")
    was_frozen = response.json().get("was_frozen")
    click.echo(f"{runbook}: {'cleared' if was_frozen else 'was not frozen'}")


def _clear_offline(settings: Settings, runbook: str, by: str) -> None:
    if runbook not in RUNBOOKS:
        raise click.ClickException(f"no runbook {runbook!r} (runbooks: {', '.join(RUNBOOKS)})")
    store = StateStore(settings.state_dir / "runbooks.json")
    states = store.load() or {}
    state = states.setdefault(runbook, RunbookState())
    was = state.frozen
    state.frozen = None
    state.frozen_at = None
    store.save(states)
    AuditLog(settings.audit_log, time.time).record(runbook, "cleared", by=by, was_frozen=was, agent="not running")
    click.echo(f"{runbook}: {'cleared' if was else 'was not frozen'} (the agent is not running; state file edited)")


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("destination", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def score(source: Path, destination: Path) -> None:
    """Score SOURCE (a timestamp,value CSV file) with the agent's detector into DESTINATION.

    DESTINATION gets SOURCE's rows, in its order and as written, with an anomaly_score column in [0, 1], each row
    scored from the rows before it alone. It is replaced only once every row is scored (a failure leaves it as it
    was) and must not be SOURCE itself.

    \b
    Read: NAB's 'YYYY-MM-DD HH:MM:SS'; ISO 8601 with a space or 'T', with or
    without seconds, fractions, 'Z' or an offset (converted to UTC); Unix epoch
    seconds or milliseconds; LF or CRLF; a byte-order mark; no header when the
    first line is data. Repeated or earlier timestamps are scored as if at the
    latest time before them; an empty, NaN or infinite value is scored 0 and not
    learned. What was noticed goes to stderr; a line that cannot be read at all
    is an error naming its line. DESTINATION may be /dev/stdout.
    """
    folder = Path(os.path.realpath(destination)).parent
    if not destination.exists() and not folder.is_dir():
        given = folder if destination.is_symlink() else destination.parent
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise click.BadParameter(f"the folder {given} {problem}", param_hint="DESTINATION")
    # Stopped by SIGTERM or SIGHUP (a service manager, a closed terminal) as by Ctrl-C: unwinding, so the temporary
    # file beside DESTINATION is removed and an earlier DESTINATION stays as it was.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _exit_on_signal)
    try:
        scored = score_csv(source, destination)
    except SameFileError as error:
        raise click.BadParameter(str(error), param_hint="DESTINATION") from None
    except CsvFormatError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        # The temporary file beside DESTINATION means nothing to the user: name what they gave.
        doing = f"read {source}" if error.filename == str(source) else f"write {destination}"
        raise click.ClickException(f"cannot {doing}: {error.strerror or error}") from None
    for note in scored.notes:
        click.echo(f"{source}: {note}", err=True)
    click.echo(json.dumps({"scored": str(destination), "rows": scored.rows}), err=_is_stdout(destination))


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _is_stdout(destination: Path) -> bool:
    try:
        return os.path.samestat(destination.stat(), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
