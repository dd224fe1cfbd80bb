"""Collect on a Dask cluster (two worker processes) and into S3 (moto's server on 127.0.0.1):
the same clips as on threads, clips and manifests in the bucket, export and audio serving read
them back, and neither the database password nor the S3 secret is ever a run parameter.

One cluster and one S3 server for the module: both take seconds to start. The workers inherit
the environment they were started in (database URL, AWS credentials and endpoint), as workers
on other machines get theirs from their own environment."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pytest
from distributed import LocalCluster
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from sqlalchemy import update

from app.web.app import create_app
from crowdscribe.clip_store import clip_location, open_clip
from crowdscribe.settings import Settings
from crowdscribe.storage import catalog
from crowdscribe.storage.db import Database, open_database
from crowdscribe.storage.models import Clip
from crowdscribe.storage.states import ClipStatus
from flows.collect import collect
from review.export import export_dataset
from tests.builders import espeak_wav
from tests.commands import crowdscribe
from tests.conftest import PostgresServer
from transcribe.collection import MANIFESTS_DIR
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips
from transcribe.users import create_user

pytestmark = pytest.mark.usefixtures("prefect_server")

PASSWORD = "pw-cluster-never-stored-4d1e"
AWS_SECRET = "aws-secret-never-stored-8b2f"
BUCKET = "crowdscribe-clips"
SENTENCES = {
    "cluster": (
        "The little boat sailed across the lake.",
        "My grandmother keeps chickens in her garden.",
        "We walked home slowly after the football match.",
    ),
    "cloud": (
        "Rain fell on the tin roof all night.",
        "The baker opened his shop before sunrise.",
    ),
    "served": ("Please close the gate behind you.",),
    "cli": ("The train to the coast leaves at noon.",),
}


@pytest.fixture(scope="module")
def cluster_database(postgres_server: PostgresServer) -> Iterator[Database]:
    """The database the cluster's workers write to, its URL with a password (trust
    authentication accepts any) so a leak would show."""
    name = postgres_server.clone()
    url = postgres_server.url(name).replace("postgres@", f"postgres:{PASSWORD}@", 1)
    database = Database(url)
    yield database
    database.dispose()
    postgres_server.drop_later(name)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API on a free 127.0.0.1 port, with one empty bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def cluster(cluster_database: Database, s3_endpoint: str) -> Iterator[LocalCluster]:
    """Two single-threaded worker processes started in the environment a worker machine
    would have: the database URL and the S3 credentials and endpoint, nothing from the flow."""
    environment = {
        "CROWDSCRIBE_DATABASE_URL": cluster_database.url,
        "AWS_ACCESS_KEY_ID": "crowdscribe-test",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        fsspec.filesystem("s3").mkdir(BUCKET)
        with LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as running:
            yield running


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder of short spoken recordings per project."""
    folders = {}
    for project, sentences in SENTENCES.items():
        folder = tmp_path_factory.mktemp(project)
        for n, sentence in enumerate(sentences):
            espeak_wav(folder / f"{project}{n}.wav", sentence)
        folders[project] = folder
    return folders


def clips_with_audio_hashes(database: Database, home: Path, project: str) -> list[tuple]:
    with database.session() as session:
        rows = catalog.clip_rows(session, home, project=project)
    clips = []
    for row in rows:
        with open_clip(row["audio_path"]) as audio:
            digest = hashlib.sha256(audio.read()).hexdigest()
        clips.append((row["clip_id"], row["start_s"], row["end_s"], row["duration_s"], digest))
    return sorted(clips)


def stored_flow_runs(tag: str) -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]))
        )


def assert_no_secret_stored(tag: str) -> None:
    runs = stored_flow_runs(tag)
    assert runs
    for run in runs:
        stored = json.dumps(run.model_dump(mode="json"), default=str)
        assert PASSWORD not in stored and AWS_SECRET not in stored


def test_a_dask_cluster_gives_the_clips_the_thread_runner_gives(
    cluster: LocalCluster,
    cluster_database: Database,
    recordings: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dask_home = tmp_path / "dask-home"
    tag = f"cluster-{uuid.uuid4().hex}"  # the Prefect server may be shared (.ci/run)
    with tags(tag):
        on_cluster = collect(
            paths=[str(recordings["cluster"])],
            language="en",
            speaker_group="adult",
            project="cluster",
            home=str(dask_home),
            dask_address=cluster.scheduler_address,
        )
    ran_on_workers = cluster.scheduler.task_prefixes
    assert sum(
        prefix.state_counts["memory"] + prefix.state_counts["released"]
        for prefix in ran_on_workers.values()
    ) >= len(SENTENCES["cluster"])

    thread_home = tmp_path / "thread-home"
    monkeypatch.delenv("CROWDSCRIBE_DATABASE_URL")  # SQLite in thread_home
    on_threads = collect(
        paths=[str(recordings["cluster"])],
        language="en",
        speaker_group="adult",
        project="cluster",
        home=str(thread_home),
    )

    assert on_cluster["failed"] == [] and on_cluster["statuses"] == {"segmented": 3}
    assert on_threads["statuses"] == on_cluster["statuses"]
    thread_database = open_database(Settings(home=thread_home).resolved_database_url)
    expected = clips_with_audio_hashes(thread_database, thread_home, "cluster")
    thread_database.dispose()
    assert len(expected) >= 3
    assert clips_with_audio_hashes(cluster_database, dask_home, "cluster") == expected
    assert not (dask_home / "crowdscribe.db").exists()  # the workers wrote to PostgreSQL
    assert_no_secret_stored(tag)


def test_clips_and_manifests_go_to_s3_and_export_and_audio_serving_read_them(
    cluster: LocalCluster,
    cluster_database: Database,
    recordings: dict[str, Path],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    clips_url = f"s3://{BUCKET}/pilot"
    tag = f"cloud-{uuid.uuid4().hex}"
    with tags(tag):
        summary = collect(
            paths=[str(recordings["cloud"])],
            language="en",
            speaker_group="adult",
            project="cloud",
            home=str(home),
            clips_url=clips_url,
            dask_address=cluster.scheduler_address,
        )
    assert summary["failed"] == [] and summary["statuses"] == {"segmented": 2}
    assert_no_secret_stored(tag)

    with cluster_database.session() as session:
        rows = catalog.clip_rows(session, home, project="cloud")
        recordings_stored = catalog.recording_rows(session, project="cloud")
    assert len(rows) == summary["clips"] >= 2
    s3 = fsspec.filesystem("s3")
    stored = {clip_location(home, row["audio_path"]) for row in rows}
    assert stored == {f"{clips_url}/{row['clip_id']}.flac" for row in rows}
    assert {f"s3://{key}" for key in s3.glob(f"{BUCKET}/pilot/*.flac")} >= stored
    assert not (home / "clips").exists()

    manifests = {}
    for recording in recordings_stored:
        key = f"{BUCKET}/pilot/{MANIFESTS_DIR}/{recording['digest']}.jsonl"
        manifests[recording["source"]] = [
            json.loads(line) for line in s3.cat_file(key).split(b"\n") if line
        ]
    assert sorted(r["clip_id"] for lines in manifests.values() for r in lines) == sorted(
        row["clip_id"] for row in rows
    )
    for source, lines in manifests.items():
        for record in lines:
            assert record["source"] == source and record["project"] == "cloud"
            assert record["audio"] == f"{clips_url}/{record['clip_id']}.flac"

    with cluster_database.session() as session:
        session.execute(
            update(Clip)
            .where(Clip.project == "cloud")
            .values(status=ClipStatus.AGREED, final_text="rain on the roof")
        )
        exported = export_dataset(session, home, tmp_path / "export", project="cloud")
    assert exported.clips == len(rows)
    for line in (tmp_path / "export" / "manifest.jsonl").read_text().splitlines():
        record = json.loads(line)
        local = (tmp_path / "export" / record["audio_path"]).read_bytes()
        assert local == s3.cat_file(f"{BUCKET}/pilot/{record['clip_id']}.flac")


def test_the_web_app_serves_a_clip_stored_in_s3(
    cluster: LocalCluster,
    cluster_database: Database,
    recordings: dict[str, Path],
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    summary = collect(
        paths=[str(recordings["served"])],
        language="en",
        speaker_group="adult",
        project="served",
        home=str(home),
        clips_url=f"s3://{BUCKET}/served",
    )
    assert summary["clips"] >= 1
    with cluster_database.session() as session:
        publish_clips(
            session, project="served", overlap=1, card=default_rate_card(), now=datetime.now(UTC)
        )
        _person, token = create_user(session, "ana", ["transcriber"], ["en"], qualified=["en"])
    settings = Settings(home=home, secret_key="test-secret", database_url=cluster_database.url)
    with TestClient(create_app(settings, cluster_database)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        claim = client.post("/api/v1/clips/next", headers=headers).json()
        audio = client.get(f"/api/v1/clips/{claim['clip_id']}/audio", headers=headers)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/flac"
    assert audio.content == fsspec.filesystem("s3").cat_file(
        f"{BUCKET}/served/{claim['clip_id']}.flac"
    )
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == AWS_SECRET  # read where the server runs


def test_the_cli_collects_on_the_cluster_into_s3(
    cluster: LocalCluster,
    cluster_database: Database,
    recordings: dict[str, Path],
    prefect_server: str,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,  # the database URL and AWS settings, as a coordinator's shell has them
        "CROWDSCRIBE_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": prefect_server,
    }
    command = ["collect", str(recordings["cli"]), "--language", "en"]
    command += ["--speaker-group", "adult", "--clips-url", f"s3://{BUCKET}/cli"]

    done = crowdscribe(env, *command, "--dask", cluster.scheduler_address)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 segmented" in done.stdout
    with cluster_database.session() as session:
        rows = [
            row
            for row in catalog.clip_rows(session, tmp_path / "home")
            if row["audio_path"].startswith(f"s3://{BUCKET}/cli/")
        ]
    assert rows
    assert all(fsspec.filesystem("s3").isfile(row["audio_path"]) for row in rows)

    leaky = crowdscribe(env, *command[:-1], f"s3://key:{AWS_SECRET}@{BUCKET}/cli")
    assert leaky.returncode == 2
    assert "must not hold credentials" in leaky.stderr and AWS_SECRET not in leaky.stderr
