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


def test_command_homes_name_the_modules_that_register_them() -> None:
    import argparse

    from roomagent.cli.main import COMMAND_HOMES, build_parser, command_modules

    for command, module in COMMAND_HOMES.items():
        parser = build_parser((module,))
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert command in sub.choices, (command, module)
    assert command_modules(["--log-level", "debug", "run", "--config", "x"]) == (
        COMMAND_HOMES["run"],
    )
    assert len(command_modules(["--help"])) > 1


def test_run_does_not_import_the_unconfigured_parts() -> None:
    code = (
        "import sys\n"
        "from roomagent.cli.main import build_parser, command_modules\n"
        "build_parser(command_modules(['run', '--config', 'x']))\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = set(proc.stdout.split())
    assert not loaded & {"httpx", "zeroconf", "pygments", "click"}, loaded
