"""The GitHub Actions workflows (preview on pull requests, nightly drift check): actionlint passes, and the rules that
keep the stack's secrets and the management network away from untrusted code hold (README, "CI: the runner and the
two environments"). Each rule is a checker returning its problems; each is shown to fail on a broken copy."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = str(Path(sys.executable).parent / "actionlint")

# The self-hosted runner on the management network, and the environments whose secrets only reviewed runs get.
RUNNER = ["self-hosted", "linux", "orion-mgmt"]
PROTECTED_ENVIRONMENTS = {"orion", "orion-preview"}
RUNNER_GROUP = "orion-mgmt"  # the concurrency group of every job on that runner
PULL_REQUEST_EVENTS = {"pull_request", "pull_request_review", "pull_request_review_comment", "pull_request_target"}
FORK_GUARD = ("github.event.pull_request.head.repo.full_name", "github.repository")
MAIN_ONLY = ("github.ref", "'refs/heads/main'")  # the drift check's guard: `orion`'s secrets are main's alone

Workflow = dict[Any, Any]  # a bare `on` key loads as True
Workflows = dict[str, Workflow]


def load() -> Workflows:
    return {path.name: yaml.safe_load(path.read_text()) for path in WORKFLOWS}


def actionlint(path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ACTIONLINT, "-no-color", "-config-file", str(config), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def actionlint_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """actionlint knows GitHub's own labels; the runner's custom one is declared as actionlint.yaml would."""
    config = tmp_path_factory.mktemp("actionlint") / "actionlint.yaml"
    custom = [label for label in RUNNER if label not in {"self-hosted", "linux"}]
    config.write_text(yaml.safe_dump({"self-hosted-runner": {"labels": custom}}))
    return config


# --- reading a workflow --------------------------------------------------------------------------------------------


def events(workflow: Workflow) -> Any:
    """The workflow's `on:` as written."""
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true


def triggers(workflow: Workflow) -> set[str]:
    on = events(workflow)
    if isinstance(on, str):
        return {on}
    return set(on or ())


def jobs(workflow: Workflow) -> dict[str, dict[str, Any]]:
    return dict(workflow.get("jobs") or {})


def runner_labels(job: dict[str, Any]) -> list[str]:
    runs_on = job.get("runs-on", [])
    if isinstance(runs_on, dict):
        return [*runs_on.get("labels", []), *(["group:" + runs_on["group"]] if "group" in runs_on else [])]
    return [runs_on] if isinstance(runs_on, str) else list(runs_on)


def self_hosted(job: dict[str, Any]) -> bool:
    labels = runner_labels(job)
    return "self-hosted" in labels or RUNNER[-1] in labels or any(label.startswith("group:") for label in labels)


def environment(job: dict[str, Any]) -> str | None:
    value = job.get("environment")
    return value.get("name") if isinstance(value, dict) else value


def strings(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a job, with the key it sits under."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner_key, item in value.items():
            yield from strings(item, str(inner_key))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)


def expressions(value: object) -> Iterator[str]:
    for key, text in strings(value):
        if key == "if":  # `if:` is an expression with or without ${{ }}
            yield text
        else:
            yield from re.findall(r"\$\{\{(.*?)\}\}", text, flags=re.DOTALL)


def secrets_used(workflow: Workflow, job: dict[str, Any]) -> set[str]:
    """The secrets a job can read: through expressions (its own and the workflow's env) or passed to a called
    workflow. `*` stands for the whole context (toJSON(secrets), secrets: inherit)."""
    found: set[str] = set()
    scope = {"job": job, "env": workflow.get("env"), "defaults": workflow.get("defaults")}
    for expression in expressions(scope):
        for match in re.finditer(r"\bsecrets\b(?:\.([A-Za-z_][\w-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])?", expression):
            found.add((match.group(1) or match.group(2) or "*").upper())
    if "secrets" in job:
        found.add("*")
    return found


def privileged(workflow: Workflow, job: dict[str, Any]) -> bool:
    """A job that holds a secret beyond GITHUB_TOKEN or runs on the management network's runner."""
    return bool(secrets_used(workflow, job) - {"GITHUB_TOKEN"}) or self_hosted(job)


def conjuncts(expression: str) -> list[str]:
    """The top-level `&&` terms of an `if:`, normalised; none when an `||` could bypass one of them."""
    inner = expression.strip()
    if inner.startswith("${{") and inner.endswith("}}"):
        inner = inner[3:-2]
    if "||" in inner:
        return []
    terms = []
    for part in inner.split("&&"):
        term = part.strip()
        while term.startswith("(") and term.endswith(")"):
            term = term[1:-1].strip()
        terms.append(" ".join(term.split()))
    return terms


def guarded(job: dict[str, Any], guard: tuple[str, str]) -> bool:
    """Whether the job's `if:` requires `left == right` whatever else it says."""
    left, right = guard
    return any(term in {f"{left} == {right}", f"{right} == {left}"} for term in conjuncts(str(job.get("if", ""))))


def fork_guarded(job: dict[str, Any]) -> bool:
    return guarded(job, FORK_GUARD)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in steps(job) if str(step.get("uses", "")).startswith("pulumi/actions@")]


def cancels(concurrency: object) -> bool:
    """Whether a `concurrency:` cancels what is in progress in its group (an expression may: it counts as yes;
    the short form, a bare group name, does not)."""
    return isinstance(concurrency, dict) and concurrency.get("cancel-in-progress", False) is not False


# --- the rules -----------------------------------------------------------------------------------------------------


def secret_job_problems(workflows: Workflows) -> list[str]:
    """A job with a secret (other than GITHUB_TOKEN) or on the runner: a protected environment, the runner's label
    set, the runner's concurrency group without cancelling (nor a workflow-wide group that cancels it with the
    rest of its run), and, where pull requests trigger it, never for a fork."""
    problems = []
    for name, workflow in workflows.items():
        pull_requests = bool(triggers(workflow) & PULL_REQUEST_EVENTS)
        for job_id, job in jobs(workflow).items():
            if not privileged(workflow, job):
                continue
            where = f"{name}: {job_id}"
            if cancels(workflow.get("concurrency")):
                problems.append(f"{where}: the workflow-level concurrency cancels it in progress")
            if environment(job) not in PROTECTED_ENVIRONMENTS:
                problems.append(
                    f"{where}: environment {environment(job)!r} is not one of {sorted(PROTECTED_ENVIRONMENTS)}"
                )
            if runner_labels(job) != RUNNER:
                problems.append(f"{where}: runs on {runner_labels(job)}, not the management runner {RUNNER}")
            concurrency = job.get("concurrency")
            if not isinstance(concurrency, dict) or concurrency.get("group") != RUNNER_GROUP:
                problems.append(f"{where}: not in concurrency group {RUNNER_GROUP!r}")
            elif cancels(concurrency):
                problems.append(f"{where}: cancels a job in progress on the runner")
            if pull_requests and not fork_guarded(job):
                problems.append(f"{where}: can run for a fork (needs `if: {FORK_GUARD[0]} == {FORK_GUARD[1]}`)")
    return problems


def workflow_env_problems(workflows: Workflows) -> list[str]:
    """A secret in a workflow's own env would reach every job of it."""
    return [
        f"{name}: workflow-level env reads a secret"
        for name, workflow in workflows.items()
        if any("secrets" in expression for expression in expressions(workflow.get("env")))
    ]


def trigger_problems(workflows: Workflows) -> list[str]:
    return [
        f"{name}: triggered by pull_request_target (runs with secrets in the base repository's context)"
        for name, workflow in workflows.items()
        if "pull_request_target" in triggers(workflow)
    ]


def permission_problems(workflows: Workflows) -> list[str]:
    return [
        f"{name}: {job_id}: declares no permissions"
        for name, workflow in workflows.items()
        for job_id, job in jobs(workflow).items()
        if "permissions" not in job
    ]


def pinning_problems(workflows: Workflows) -> list[str]:
    """Every action (and called workflow) by full commit SHA; local ones excepted."""
    problems = []
    for name, workflow in workflows.items():
        for job_id, job in jobs(workflow).items():
            for uses in [job.get("uses"), *(step.get("uses") for step in steps(job))]:
                if uses is None or str(uses).startswith("./"):
                    continue
                if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", str(uses)):
                    problems.append(f"{name}: {job_id}: {uses} is not pinned to a commit")
    return problems


def checkout_problems(workflows: Workflows) -> list[str]:
    """No job pushes: no checkout leaves the token in .git/config."""
    return [
        f"{name}: {job_id}: checkout keeps the token (persist-credentials is not false)"
        for name, workflow in workflows.items()
        for job_id, job in jobs(workflow).items()
        for step in steps(job)
        if str(step.get("uses", "")).startswith("actions/checkout@")
        and (step.get("with") or {}).get("persist-credentials") is not False
    ]


def daily(cron: str) -> bool:
    """Whether a schedule's cron runs once a day: a fixed minute and hour, every day of every month."""
    fields = cron.split()
    return len(fields) == 5 and all(field.isdigit() for field in fields[:2]) and fields[2:] == ["*", "*", "*"]


def drift_problems(workflows: Workflows) -> list[str]:
    """The drift check: nightly and on demand, on the runner, in `orion`, for main only, failing the run on any
    change."""
    workflow = workflows.get("drift.yml")
    job = jobs(workflow or {}).get("drift")
    if workflow is None or job is None:
        return ["drift.yml: no drift job"]
    problems = []
    if not {"schedule", "workflow_dispatch"} <= triggers(workflow):
        problems.append(f"drift.yml: triggered by {sorted(triggers(workflow))}, not nightly and on demand")
    on = events(workflow)
    schedule = on.get("schedule") if isinstance(on, dict) else None
    if "schedule" in triggers(workflow) and not any(daily(str(entry.get("cron", ""))) for entry in schedule or []):
        problems.append(f"drift.yml: schedule {schedule} does not run every night")
    if not guarded(job, MAIN_ONLY):
        problems.append(f"drift.yml: drift can run for a branch other than main (needs `if: {' == '.join(MAIN_ONLY)}`)")
    if runner_labels(job) != RUNNER:
        problems.append(f"drift.yml: drift runs on {runner_labels(job)}, not {RUNNER}")
    if environment(job) != "orion":
        problems.append(f"drift.yml: drift runs in environment {environment(job)!r}, not 'orion'")
    pulumi = pulumi_steps(job)
    if not any((step.get("with") or {}).get("expect-no-changes") is True for step in pulumi):
        problems.append("drift.yml: no preview that expects no changes")
    if job.get("continue-on-error") or any(step.get("continue-on-error") for step in pulumi):
        problems.append("drift.yml: drift would not fail the run (continue-on-error)")
    return problems


RULES: dict[str, Callable[[Workflows], list[str]]] = {
    "secret jobs": secret_job_problems,
    "workflow env": workflow_env_problems,
    "triggers": trigger_problems,
    "permissions": permission_problems,
    "pinning": pinning_problems,
    "checkout": checkout_problems,
    "drift": drift_problems,
}


# --- the tests -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
@pytest.mark.programs
def test_workflow_passes_actionlint(workflow: Path, actionlint_config: Path) -> None:
    result = actionlint(workflow, actionlint_config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_preview_on_pull_requests_and_check_drift() -> None:
    workflows = load()
    preview = pulumi_steps(workflows["preview.yml"]["jobs"]["preview"])[-1]
    drift = pulumi_steps(workflows["drift.yml"]["jobs"]["drift"])[-1]
    assert preview["with"] == {"command": "preview", "stack-name": "orion", "comment-on-pr": True, "diff": True}
    assert drift["with"] == {"command": "preview", "stack-name": "orion", "refresh": True, "expect-no-changes": True}


def test_the_previews_verify_the_proxmox_api_with_the_recorded_anchors() -> None:
    """ADR 0031: the runner gets the anchors with `orion trust` and names them in SSL_CERT_DIR before a preview."""
    workflows = load()
    for name, job_id in (("preview.yml", "preview"), ("drift.yml", "drift")):
        job_steps = steps(workflows[name]["jobs"][job_id])
        runs = [str(step.get("run", "")) for step in job_steps]
        trust = next(index for index, run in enumerate(runs) if "orion trust" in run)
        assert "SSL_CERT_DIR=$GITHUB_WORKSPACE/.orion/trust" in runs[trust]
        preview = job_steps.index(pulumi_steps(workflows[name]["jobs"][job_id])[-1])
        assert trust < preview, name


def test_jobs_without_a_secret_run_on_github_hosted_runners_for_every_pull_request() -> None:
    preview = load()["preview.yml"]
    for job_id in ("checks", "nixos"):
        job = preview["jobs"][job_id]
        assert not privileged(preview, job), job_id
        assert "if" not in job, job_id
        assert runner_labels(job) == ["ubuntu-24.04"], job_id
        # A newer push to the pull request cancels these (their own per-PR group), never the preview on the runner.
        group = "preview-${{ github.event.pull_request.number }}-" + job_id
        assert job["concurrency"] == {"group": group, "cancel-in-progress": True}, job_id
    assert "concurrency" not in preview
    assert "orion validate" in " ".join(str(step.get("run")) for step in steps(preview["jobs"]["checks"]))


def test_the_secret_jobs_are_the_preview_and_the_drift_check() -> None:
    workflows = load()
    found = {(name, job_id) for name, workflow in workflows.items() for job_id, job in jobs(workflow).items()}
    assert {key for key in found if privileged(workflows[key[0]], workflows[key[0]]["jobs"][key[1]])} == {
        ("preview.yml", "preview"),
        ("drift.yml", "drift"),
    }


@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
def test_the_workflows_keep_the_rule(rule: str) -> None:
    assert RULES[rule](load()) == []


def _change(workflow: str, *path: object, value: object) -> Callable[[Workflows], None]:
    """A breakage: the value at `path` in `workflow` (keys and list indices; True is the `on` key) set to `value`,
    or deleted when `value` is None."""

    def change(workflows: Workflows) -> None:
        container: Any = workflows[workflow]
        for key in path[:-1]:
            container = container[key]
        if value is None:
            del container[path[-1]]
        else:
            container[path[-1]] = value

    return change


def _drift_preview(key: str, value: object) -> Callable[[Workflows], None]:
    """A breakage of the drift check's preview step (its last pulumi/actions step)."""

    def change(workflows: Workflows) -> None:
        pulumi_steps(workflows["drift.yml"]["jobs"]["drift"])[-1][key] = value

    return change


PREVIEW_JOB = ("preview.yml", "jobs", "preview")
DRIFT_JOB = ("drift.yml", "jobs", "drift")
CANCELLING = {"group": "preview-${{ github.event.pull_request.number }}", "cancel-in-progress": True}
SECRET = "${{ secrets['PULUMI_ACCESS_TOKEN'] }}"


BREAKAGES = [
    pytest.param(_change(*PREVIEW_JOB, "environment", value=None), "secret jobs", "environment None", id="no-environment"),
    pytest.param(_change(*PREVIEW_JOB, "environment", value="staging"), "secret jobs", "'staging'", id="unprotected-environment"),
    pytest.param(_change(*PREVIEW_JOB, "runs-on", value="ubuntu-24.04"), "secret jobs", "not the management runner", id="secret-on-github-hosted"),
    pytest.param(_change(*PREVIEW_JOB, "runs-on", value=["self-hosted"]), "secret jobs", "not the management runner", id="any-self-hosted-runner"),
    pytest.param(_change(*PREVIEW_JOB, "if", value=None), "secret jobs", "can run for a fork", id="no-fork-guard"),
    pytest.param(_change(*PREVIEW_JOB, "if", value=f"{FORK_GUARD[0]} == {FORK_GUARD[1]} || true"), "secret jobs", "can run for a fork", id="fork-guard-bypassed"),
    pytest.param(_change(*PREVIEW_JOB, "if", value=f"!({FORK_GUARD[0]} == {FORK_GUARD[1]})"), "secret jobs", "can run for a fork", id="fork-guard-negated"),
    pytest.param(_change(*PREVIEW_JOB, "concurrency", value=None), "secret jobs", "not in concurrency group", id="no-runner-concurrency"),
    pytest.param(_change(*DRIFT_JOB, "concurrency", value={"group": RUNNER_GROUP, "cancel-in-progress": True}), "secret jobs", "cancels a job", id="cancels-on-runner"),
    pytest.param(_change("preview.yml", "concurrency", value=CANCELLING), "secret jobs", "preview: the workflow-level concurrency cancels", id="workflow-concurrency-cancels-runner-job"),
    pytest.param(_change("drift.yml", "concurrency", value={**CANCELLING, "cancel-in-progress": "${{ true }}"}), "secret jobs", "drift: the workflow-level concurrency cancels", id="workflow-concurrency-may-cancel"),
    pytest.param(_change("preview.yml", "jobs", "nixos", "steps", -1, "env", value={"TOKEN": SECRET}), "secret jobs", "nixos: environment None", id="secret-in-an-open-job"),
    pytest.param(_change("preview.yml", "jobs", "nixos", "runs-on", value=RUNNER), "secret jobs", "nixos: environment None", id="open-job-on-the-runner"),
    pytest.param(_change("drift.yml", "env", value={"PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}), "workflow env", "workflow-level env", id="secret-in-workflow-env"),
    pytest.param(_change("preview.yml", True, value={"pull_request_target": {"branches": ["main"]}}), "triggers", "pull_request_target", id="pull-request-target"),
    pytest.param(_change("preview.yml", "jobs", "checks", "permissions", value=None), "permissions", "checks: declares no permissions", id="no-permissions"),
    pytest.param(_change(*DRIFT_JOB, "steps", 0, "uses", value="actions/checkout@v4"), "pinning", "actions/checkout@v4", id="action-by-tag"),
    pytest.param(_change("preview.yml", "jobs", "nixos", "steps", 0, "with", value=None), "checkout", "nixos: checkout keeps the token", id="checkout-keeps-token"),
    pytest.param(_change(*DRIFT_JOB, "runs-on", value="ubuntu-24.04"), "drift", "drift runs on ['ubuntu-24.04']", id="drift-on-github-hosted"),
    pytest.param(_change(*DRIFT_JOB, "environment", value="orion-preview"), "drift", "not 'orion'", id="drift-outside-orion"),
    pytest.param(_drift_preview("continue-on-error", True), "drift", "would not fail the run", id="drift-does-not-fail"),
    pytest.param(_change(*DRIFT_JOB, "continue-on-error", value=True), "drift", "would not fail the run", id="drift-job-does-not-fail"),
    pytest.param(_drift_preview("with", {"command": "preview", "stack-name": "orion", "refresh": True}), "drift", "no preview that expects no changes", id="drift-accepts-changes"),
    pytest.param(_drift_preview("with", {"command": "preview", "stack-name": "orion", "expect-no-changes": "true"}), "drift", "no preview that expects no changes", id="drift-expects-a-string"),
    pytest.param(_change("drift.yml", True, "schedule", value=None), "drift", "not nightly and on demand", id="drift-not-nightly"),
    pytest.param(_change("drift.yml", True, "workflow_dispatch", value=None), "drift", "not nightly and on demand", id="drift-not-on-demand"),
    pytest.param(_change("drift.yml", True, "schedule", value=[{"cron": "17 5 * * 1"}]), "drift", "does not run every night", id="drift-weekly"),
    pytest.param(_change(*DRIFT_JOB, "if", value=None), "drift", "other than main", id="drift-on-any-branch"),
    pytest.param(_change(*DRIFT_JOB, "if", value=f"{' == '.join(MAIN_ONLY)} || github.event_name == 'workflow_dispatch'"), "drift", "other than main", id="drift-main-guard-bypassed"),
    pytest.param(_change(*DRIFT_JOB, "if", value="github.ref != 'refs/heads/main'"), "drift", "other than main", id="drift-main-guard-negated"),
]  # fmt: skip


@pytest.mark.parametrize(("breakage", "rule", "expected"), BREAKAGES)
def test_each_rule_rejects_a_broken_workflow(breakage: Callable[[Workflows], None], rule: str, expected: str) -> None:
    workflows = copy.deepcopy(load())
    breakage(workflows)
    problems = RULES[rule](workflows)
    assert any(expected in problem for problem in problems), problems


def test_the_readme_says_how_to_set_up_the_runner_and_environments() -> None:
    readme = (ROOT / "README.md").read_text()
    for word in [*PROTECTED_ENVIRONMENTS, RUNNER[-1], "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"]:
        assert f"`{word}`" in readme, word


@pytest.mark.programs
def test_actionlint_rejects_a_broken_workflow(tmp_path: Path, actionlint_config: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (ROOT / ".github" / "workflows" / "preview.yml")
        .read_text()
        .replace("${{ github.event.pull_request.number }}", "${{ github.event.pull_request.numbr }}")
        .replace("runs-on:", "runs_on:")
    )
    result = actionlint(broken, actionlint_config)
    assert result.returncode != 0
    assert "runs_on" in result.stdout or "runs-on" in result.stdout
