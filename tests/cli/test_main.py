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


def _top_packages(code: str) -> set[str]:
    code += "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_a_page_without_tls_does_not_import_the_certificate_machinery() -> None:
    # What `roomagent run` with the page (tls off: loopback) and mDNS imports.
    loaded = _top_packages(
        "import sys\nimport roomagent.cli.control, roomagent.web.server, roomagent.discovery.mdns\n"
    )
    assert "zeroconf" in loaded
    assert "cryptography" not in loaded, loaded


def test_fleet_tools_import_only_their_own_module() -> None:
    from roomagent.cli.main import COMMAND_MODULES, command_modules

    assert command_modules(["fleet", "status", "--help"]) == ("roomagent.cli.fleet",)
    assert command_modules(["--help", "fleet"]) == COMMAND_MODULES
    loaded = _top_packages(
        "import sys\n"
        "from roomagent.cli.main import build_parser, command_modules\n"
        "build_parser(command_modules(['fleet', 'status', '--broker', 'mqtt://x']))\n"
    )
    assert "aiomqtt" in loaded
    assert not loaded & {"cryptography", "jsonrpcserver", "prometheus_client", "pydantic"}, loaded
