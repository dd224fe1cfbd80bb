"""prefect.yaml deploys against a real server, and a deployment run of collect started through
the API and executed by a process worker gives the clips the CLI gives."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments import run_deployment
from prefect.workers.process import ProcessWorker

from crowdscribe.settings import Settings
from crowdscribe.storage import catalog
from crowdscribe.storage.db import open_database
from tests.commands import crowdscribe

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SAMPLES_EN = REPO / "samples" / "en"
DEPLOYMENTS = {"collect", "dispatch", "agree", "settle", "export"}


def clips_of(home: Path) -> list[tuple]:
    database = open_database(Settings(home=home).resolved_database_url)
    with database.session() as session:
        rows = catalog.clip_rows(session, Settings(home=home).home_dir)
    database.dispose()
    return sorted((Path(r["source"]).name, r["start_s"], r["end_s"]) for r in rows)


def run(env: dict[str, str], *command: str, timeout_s: float = 300) -> str:
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_deploy_all_and_a_collect_run_on_a_process_worker_matches_the_cli(
    prefect_server: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CROWDSCRIBE_"))}
    env.update(
        PREFECT_API_URL=prefect_server,
        PREFECT_HOME=str(tmp_path / "prefect-profile"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        CROWDSCRIBE_HOME=str(tmp_path / "worker-home"),
    )
    pool = f"crowdscribe-{uuid.uuid4().hex[:12]}"  # the Prefect server may outlive one run
    with get_client(sync_client=True) as client:
        # As `prefect work-pool create --type process` makes it, without the CLI's start-up.
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(
            WorkPoolCreate(name=pool, type="process", base_job_template=template)
        )
    # The pool named in prefect.yaml, here one of this test's own.
    prefect_yaml = (
        (REPO / "prefect.yaml")
        .read_text()
        .replace("name: crowdscribe\n    work", f"name: {pool}\n    work")
    )
    (tmp_path / "prefect.yaml").write_text(prefect_yaml)
    run(
        env,
        str(BIN / "prefect"),
        "--no-prompt",
        "deploy",
        "--all",
        "--prefect-file",
        str(tmp_path / "prefect.yaml"),
    )
    with get_client(sync_client=True) as client:
        deployments = client.read_deployments()
    names = {d.name for d in deployments if d.work_pool_name == pool}
    assert names == DEPLOYMENTS

    deployment_home = tmp_path / "deployment-home"
    flow_run = run_deployment(
        "collect/collect",
        parameters={
            "paths": [str(SAMPLES_EN)],
            "language": "en",
            "speaker_group": "child",
            "home": str(deployment_home),
        },
        timeout=0,
    )
    run(env, str(BIN / "prefect"), "worker", "start", "--pool", pool, "--run-once", timeout_s=600)
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state is not None and state.is_completed(), state

    cli_env = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "cli-home")}
    cli = crowdscribe(
        cli_env, "collect", str(SAMPLES_EN), "--language", "en", "--speaker-group", "child"
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert clips_of(deployment_home) == clips_of(tmp_path / "cli-home") != []
