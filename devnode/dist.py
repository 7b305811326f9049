"""Obtain the OpenSearch distribution through Maven and assemble it in the cache."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .config import OPENSEARCH_VERSION, NodeError, dist_dir

# Pinned because the plugin version Maven picks by default (2.8 on Debian) cannot copy
# an artifact to a chosen directory without a project.
MAVEN_COPY = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
DIST_ARTIFACT = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
ANALYSIS_ARTIFACT = f"org.opensearch.plugin:analysis-common:{OPENSEARCH_VERSION}"

# The Maven jar lacks the descriptor a module needs. No extended.plugins: upstream extends
# lang-painless, which the integ-test distribution does not ship.
ANALYSIS_DESCRIPTOR = f"""\
name=analysis-common
description=Adds analysis components such as the Dutch stemmer, asciifolding and edge_ngram
version={OPENSEARCH_VERSION}
opensearch.version={OPENSEARCH_VERSION}
java.version=11
classname=org.opensearch.analysis.common.CommonAnalysisPlugin
"""


def fetch() -> Path:
    """Make sure the distribution (with the analysis-common module) is assembled.

    Returns the distribution directory. Does nothing when it already exists; otherwise
    assembles it in a temporary directory beside it and renames it into place, so an
    interrupted fetch never leaves a partial distribution. Raises NodeError when Maven
    is missing or cannot resolve the artifacts.
    """
    dist = dist_dir()
    if dist.is_dir():
        return dist
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError("Maven (mvn) is not on PATH; install it, e.g. `apt-get install maven`")
    dist.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dist.parent, prefix=".fetch-") as tmp:
        work = Path(tmp)
        _maven_copy(mvn, DIST_ARTIFACT, work)
        _maven_copy(mvn, ANALYSIS_ARTIFACT, work)
        _extract(work / f"opensearch-{OPENSEARCH_VERSION}.zip", work)
        staged = work / dist.name
        module = staged / "modules" / "analysis-common"
        module.mkdir()
        (work / f"analysis-common-{OPENSEARCH_VERSION}.jar").rename(module / "analysis-common.jar")
        (module / "plugin-descriptor.properties").write_text(ANALYSIS_DESCRIPTOR)
        # World-readable, because the node may run as another user than the one fetching.
        for root, _dirs, files in os.walk(staged):
            os.chmod(root, 0o755)
            for path in (Path(root, name) for name in files):
                path.chmod(path.stat().st_mode | 0o444)
        try:
            staged.rename(dist)
        except OSError:
            if not dist.is_dir():  # otherwise a concurrent fetch got there first, which is fine
                raise
    return dist


def _maven_copy(mvn: str, artifact: str, dest: Path) -> None:
    print(f"fetching {artifact} with Maven…", file=sys.stderr, flush=True)
    # cwd=dest so that a pom.xml in the caller's directory cannot change what Maven does.
    command = [mvn, "-B", "-q", MAVEN_COPY, f"-Dartifact={artifact}", f"-DoutputDirectory={dest}"]
    result = subprocess.run(command, cwd=dest, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        # Debian's Maven colours its output even in batch mode.
        output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
        tail = "\n".join(output.strip().splitlines()[-20:])
        raise NodeError(f"Maven could not fetch {artifact} (is Maven Central reachable?):\n{tail}")


def _extract(archive: Path, dest: Path) -> None:
    # zipfile drops Unix permissions, and bin/opensearch must stay executable.
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = zf.extract(info, dest)
            if not info.is_dir():
                os.chmod(path, 0o755 if (info.external_attr >> 16) & 0o111 else 0o644)
