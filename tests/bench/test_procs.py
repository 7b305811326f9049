"""bench.procs.run_measured reports the child's own peak memory, not the benchmark's."""

import sys

from bench.procs import run_measured

ALLOCATE = "b = bytearray({mib} * 2**20)\nfor i in range(0, len(b), 4096): b[i] = 1"


def test_peak_is_the_childs_own_whatever_the_parent_holds(tmp_path):
    held = bytearray(300 * 2**20)  # the benchmark holding generated data
    for i in range(0, len(held), 4096):
        held[i] = 1
    small = run_measured([sys.executable, "-c", "pass"], {}, tmp_path / "a.log", 60)
    large = run_measured(
        [sys.executable, "-c", ALLOCATE.format(mib=150)], {}, tmp_path / "b.log", 60
    )
    del held
    assert small.exit_code == 0 and large.exit_code == 0
    assert small.peak_rss_mib < 100
    assert 150 <= large.peak_rss_mib < 250


def test_exit_code_and_time_out(tmp_path):
    failed = run_measured([sys.executable, "-c", "raise SystemExit(3)"], {}, tmp_path / "c", 60)
    assert failed.exit_code == 3
    hung = run_measured([sys.executable, "-c", "import time; time.sleep(60)"], {},
                        tmp_path / "d", 1)  # fmt: skip
    assert hung.exit_code < 0 and hung.seconds < 30
