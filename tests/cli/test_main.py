import subprocess
import sys


def test_closed_stdout_is_a_quiet_exit_not_an_internal_error() -> None:
    # `roomagent profiles | head -0`: the reader is gone before the command prints.
    proc = subprocess.Popen(
        [sys.executable, "-m", "roomagent", "profiles"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 141
    assert "internal error" not in err and "Traceback" not in err


def test_no_command_prints_help_and_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "roomagent"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert "usage: roomagent" in proc.stdout
