"""``apipack daemon`` as a user runs it: real processes, a real socket, Ctrl-C as SIGINT.

What a served ``generate`` or ``check`` prints, exits with and leaves on disk is compared with
what the same commands give in a fresh process, from the same start in the same folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from fake_llm import FakeLLM, Fault
from helpers import FUNCTIONS, LLM_SPEC, Project, tool, wait_until, write_plugin
from test_watch import state

from apipack_build.daemon.server import TICK
from apipack_build.daemon.spawn import LAUNCH

PATIENCE = 120.0  # seconds to wait for a daemon on a busy machine; not a speed requirement
SECRET = "sk-do-not-log-4242"


def servable(project: Project) -> Project:
    """*project*, its commands served by a daemon if one runs: without the suite's
    ``APIPACK_NO_DAEMON``, but as on a CI machine, where a command starts no daemon (the tests
    start theirs)."""
    del project.env["APIPACK_NO_DAEMON"]
    project.env["CI"] = "true"
    return project


@pytest.fixture
def make_project(make_project: Callable[..., Project]) -> Callable[..., Project]:
    return lambda *args, **options: servable(make_project(*args, **options))


def record(project: Project) -> dict[str, object]:
    found: dict[str, object] = json.loads((project.state / "daemon.json").read_bytes())
    return found


def served_count(project: Project) -> int:
    """How many commands the project's daemon has answered, as its log says."""
    log = project.state / "daemon.log"
    return log.read_text(encoding="utf-8").count(" served ") if log.is_file() else 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def daemon(project: Project) -> Iterator[int]:
    """The project's daemon, started for the block and stopped after it, even on failure (and
    killed if it would not stop): no daemon survives a test. Yields its process id."""
    started = project.apipack("daemon", "start")
    assert "daemon started" in started.stdout, started.stdout
    pid = int(str(record(project)["pid"]))
    try:
        yield pid
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired, AssertionError, OSError):
            project.apipack("daemon", "stop", expect=None)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def shown(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    """Exit code and output of a command, its timings masked (they differ run to run)."""
    timed = re.compile(r"\d+\.\d+ s\b")
    return result.returncode, timed.sub("_ s", result.stdout), timed.sub("_ s", result.stderr)


Step = tuple[Callable[[], object], tuple[str, ...], str]  # an edit, a command, its folder


def steps(project: Project) -> list[Step]:
    """Edits and commands: a function, a template, the settings, a bad spec and its fix, a
    hand edit seen by ``check``, a dry run, and runs from a subfolder naming the project."""
    spec = "specs/tools.yml"
    bad, good = "output_type: strng", "output_type: string"
    nothing: Callable[[], object] = lambda: None  # noqa: E731
    hand_edited = project.out / "docs" / "alpha.txt"
    return [
        (nothing, ("generate",), "."),
        (nothing, ("generate",), "."),  # the fast path
        (lambda: project.edit(spec, "First", "Primary"), ("generate",), "."),
        (lambda: project.edit("templates/text/fn.txt.j2", "}}: {{", "}} - {{"), ("generate",), "."),
        (lambda: project.write("apipack.yml", "interfaces: [docs, summary]\n"), ("generate",), "."),
        (lambda: project.edit(spec, good, bad), ("generate",), "."),
        (nothing, ("check",), "."),
        (lambda: project.edit(spec, bad, good), ("check",), "."),
        (nothing, ("generate", "--dry-run"), "."),
        (nothing, ("generate", "--summary-json", "../last.json", "-l", "text", ".."), "specs"),
        (nothing, ("check", ".."), "specs"),
        (lambda: hand_edited.write_text("by hand\n", encoding="utf-8"), ("check",), "."),
        (nothing, ("generate", "--fail-on-change", "../apipack.yml"), "specs"),
        (lambda: project.edit(spec, "Second", "Other"), ("generate", "--quiet"), "."),
    ]


def run_steps(project: Project, steps: list[Step]) -> list[tuple[int, str, str]]:
    results = []
    for edit, command, folder in steps:
        edit()
        result = project.apipack(*command, cwd=project.root / folder, expect=None)
        results.append(shown(result))
    return results


@dataclass
class Twins:
    """The same steps, served by a daemon and then run fresh from the same start: each one's
    exit code and output, the state it left, and the daemon's log."""

    served: list[tuple[int, str, str]]
    fresh: list[tuple[int, str, str]]
    served_state: dict[str, bytes]
    fresh_state: dict[str, bytes]
    log: str

    def assert_alike(self) -> None:
        for step, (got, expected) in enumerate(zip(self.served, self.fresh, strict=True)):
            assert got == expected, f"step {step}"
        assert sorted(self.served_state) == sorted(self.fresh_state)
        for name in sorted(self.fresh_state):
            assert self.served_state[name] == self.fresh_state[name], name


def served_then_fresh(
    project: Project, make_steps: Callable[[Project], list[Step]], inputs: list[str]
) -> Twins:
    """Run *make_steps*'s steps served, then put the *inputs* back as they were, remove what
    the builds made (and ``last.json``), and run them fresh."""
    start = {name: (project.root / name).read_bytes() for name in inputs}
    with daemon(project):
        served = run_steps(project, make_steps(project))
        assert served_count(project) == len(make_steps(project))  # each one served
        served_state = state(project)
        log = (project.state / "daemon.log").read_text(encoding="utf-8")
    for made in ("generated", ".apipack", "last.json"):
        path = project.root / made
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    for name, data in start.items():
        (project.root / name).write_bytes(data)
    fresh = run_steps(project, make_steps(project))
    return Twins(served, fresh, served_state, state(project), log)


def test_served_commands_print_exit_and_leave_what_fresh_ones_do(project: Project) -> None:
    project.write("apipack.yml", "interfaces: [docs]\n")
    project.write_spec(FUNCTIONS, interfaces=None)  # the project file chooses the interfaces
    project.env["APIPACK_LLM_API_KEY"] = SECRET
    inputs = ["apipack.yml", "specs/tools.yml", "templates/text/fn.txt.j2"]
    summaries: list[bytes] = []

    def with_summary(project: Project) -> list[Step]:
        keep: Callable[[], object] = lambda: summaries.append(  # noqa: E731
            (project.root / "last.json").read_bytes()
        )
        return [*steps(project), (keep, ("check",), ".")]

    twins = served_then_fresh(project, with_summary, inputs)
    assert SECRET not in twins.log
    assert "(exit 2," in twins.log  # the bad spec, served

    codes = [code for code, _, _ in twins.fresh]
    assert codes == [0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 1, 0, 0]
    assert "specs/tools.yml:" in twins.fresh[5][2]
    assert "output_type: unknown type 'strng'" in twins.fresh[5][2]
    twins.assert_alike()
    masked = re.compile(rb'"seconds": [0-9.e-]+')
    served_summary, fresh_summary = summaries
    assert masked.sub(b"", served_summary) == masked.sub(b"", fresh_summary)


def by_hand(project: Project) -> tuple[Path, list[Callable[[], object]]]:
    """A generated file of a second spec file, and changes made by hand in its package folder:
    bytes written in place, a mode, the file removed, another file added beside it."""
    project.write_spec({"omega": "Last"}, "specs/more.yml", name="more")
    omega = project.root / "generated" / "text" / "more" / "docs" / "omega.txt"

    def in_place() -> None:
        with omega.open("r+b") as file:
            file.write(b"X")  # the same size, no new inode: only the times move

    return omega, [
        in_place,
        lambda: omega.chmod(0o600),
        omega.unlink,
        lambda: (omega.parent / "extra.txt").write_text("mine\n", encoding="utf-8"),
    ]


def test_generated_files_changed_behind_the_daemons_back_are_built_as_fresh_builds_do(
    project: Project,
) -> None:
    """The daemon takes a reused package folder as it last checked it while the kernel reports
    no change below it (``_treewatch``): each change made by hand there — bytes written in
    place, a mode, a file removed, a file added, the folder moved away and back, the output
    folder replaced — is seen by the next served edit as a fresh process sees it."""
    omega, changes = by_hand(project)
    package = omega.parent.parent

    def moved_away_and_back() -> None:
        package.rename(package.with_name("more.away"))
        package.with_name("more.away").rename(package)

    def output_replaced() -> None:
        output = project.root / "generated"
        shutil.copytree(output, project.root / "copy")
        shutil.rmtree(output)
        (project.root / "copy").rename(output)

    changes += [moved_away_and_back, output_replaced]

    def make_steps(project: Project) -> list[Step]:
        edits = iter(range(1, 2 * len(changes) + 1))

        def edit(change: Callable[[], object] = lambda: None) -> None:
            change()
            number = next(edits)
            project.edit(
                "specs/tools.yml",
                f"tools-{number - 1}" if number > 1 else "First",
                f"tools-{number}",
            )

        made: list[Step] = [(lambda: None, ("generate",), ".")]
        for change in changes:  # an edit that checks the folder, then one after the change
            made.append((edit, ("generate",), "."))
            made.append((partial(edit, change), ("generate",), "."))
            made.append((lambda: None, ("check",), "."))
        return made

    twins = served_then_fresh(project, make_steps, ["specs/tools.yml", "specs/more.yml"])
    assert [code for code, _, _ in twins.served][:3] == [0, 0, 0]
    twins.assert_alike()
    assert "Last" in omega.read_text(encoding="utf-8")


def test_a_served_no_op_and_check_see_generated_files_changed_by_hand(project: Project) -> None:
    """With no input changed, the fast path of a served ``check`` and ``generate`` takes a
    package folder as the daemon last checked it while the kernel reports no change below it
    (``_treewatch``): each change made by hand there is still seen, as a fresh process sees it
    by the files' stat signatures, and repaired by the ``generate``."""
    omega, changes = by_hand(project)

    def make_steps(project: Project) -> list[Step]:
        nothing: Callable[[], object] = lambda: None  # noqa: E731
        made: list[Step] = [(nothing, ("generate",), "."), (nothing, ("generate",), ".")]
        for change in changes:  # a no-op that checks every folder, then the change
            made += [(nothing, ("check",), "."), (change, ("check",), ".")]
            made += [(nothing, ("generate",), "."), (nothing, ("generate",), ".")]
        return made

    twins = served_then_fresh(project, make_steps, ["specs/tools.yml", "specs/more.yml"])
    assert [code for code, _, _ in twins.served][2:4] == [0, 1]  # the check saw the change
    twins.assert_alike()
    assert "Last" in omega.read_text(encoding="utf-8")


def test_status_stop_and_a_killed_daemon(project: Project) -> None:
    assert project.apipack("daemon", "status", expect=1).stdout.startswith("apipack: no daemon")
    with daemon(project) as pid:
        status = project.apipack("daemon", "status").stdout
        assert f"pid {pid}" in status and "0 command(s) served" in status
        socket_file = Path(str(record(project)["socket"]))
        assert socket_file.stat().st_mode & 0o777 == 0o600
        assert socket_file.parent.stat().st_mode & 0o777 == 0o700
        assert len(os.fsencode(socket_file)) < 100
        project.apipack("generate")
        assert served_count(project) == 1

        os.kill(pid, signal.SIGKILL)  # a stale socket and record are left behind
        wait_until("the daemon's end", lambda: not alive(pid))
        assert socket_file.exists() and (project.state / "daemon.json").is_file()
        project.edit("specs/tools.yml", "First", "Primary")
        done = project.apipack("generate")  # in-process, at once
        assert "1 run" in done.stdout or " run," in done.stdout
        assert "ALPHA: Primary" in (project.out / "docs" / "alpha.txt").read_text()
        project.apipack("check")
        assert project.apipack("daemon", "status", expect=1).stdout.startswith("apipack: no")
    assert project.apipack("daemon", "stop").stdout.startswith("apipack: no daemon")
    assert not socket_file.exists() and not (project.state / "daemon.json").exists()

    with daemon(project) as pid:  # stop: it exits, and takes its socket and record along
        socket_file = Path(str(record(project)["socket"]))
        # a slow client: `stop` comes after the daemon's look at its reasons to stop was due,
        # which must not undo it
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(socket_file))
            time.sleep(2 * TICK)
            client.sendall(b'{"stop": true}\n')
            assert json.loads(client.makefile("rb").readline()) == {"stopped": True, "pid": pid}
        wait_until("the daemon's exit", lambda: not alive(pid))
        assert not socket_file.exists()
        assert not (project.state / "daemon.json").exists()


def test_a_plugin_module_changed_while_the_build_that_imports_it_runs_ends_the_daemon(
    tmp_path: Path,
) -> None:
    """A source file first imported by a served build, and changed after that build began, may
    have been read before the change: the daemon does not vouch for it, and exits."""
    site = write_plugin(tmp_path / "own-site")
    plugin = site / "txtrules" / "__init__.py"
    lazy = "def docs_package(req):\n    from . import late  # noqa: F401\n"
    plugin.write_text(plugin.read_text().replace("def docs_package(req):\n", lazy))
    late = site / "txtrules" / "late.py"
    late.write_text("WHEN = 'imported by the first build'\n", encoding="utf-8")
    project = servable(Project(tmp_path / "proj", site, tmp_path / "home"))
    project.write_templates()
    project.write_spec(FUNCTIONS)
    with daemon(project) as pid:
        assert str(late) not in map(str, record(project)["files"])  # type: ignore[call-overload]
        saved = time.time_ns() + 60 * 10**9  # as if saved while the build runs
        os.utime(late, ns=(saved, saved))
        project.apipack("generate")
        assert served_count(project) == 1
        wait_until("the outdated daemon's exit", lambda: not alive(pid))
    log = (project.state / "daemon.log").read_text(encoding="utf-8")
    assert "stopped: the code it runs changed" in log


def test_another_project_is_not_served(make_project: Callable[..., Project]) -> None:
    first, second = make_project("first"), make_project("second")
    with daemon(first):
        second.apipack("generate")
        first.apipack("generate", "../second", cwd=first.root)  # the targets are second's
        second.apipack("check", cwd=first.root / "specs", expect=2)  # not a project there
        assert served_count(first) == 0
        assert not (second.state / "daemon.log").exists()
        first.apipack("generate", "..", cwd=first.root / "specs")
        assert served_count(first) == 1


def test_other_code_runs_in_process_and_the_outdated_daemon_exits(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    """The daemon runs the code it imported: another import path, or a source file changed
    since (here the rule plugin's), and commands run in-process; the daemon exits."""
    site = write_plugin(tmp_path / "own-site")
    project = servable(Project(tmp_path / "proj", site, tmp_path / "home"))
    project.write_templates()
    project.write_spec(FUNCTIONS)
    with daemon(project) as pid:
        other = f"{site}{os.pathsep}{tmp_path / 'elsewhere'}"
        project.apipack("generate", env={"PYTHONPATH": other})
        assert served_count(project) == 0
        project.apipack("check")
        assert served_count(project) == 1
        plugin = site / "txtrules" / "__init__.py"
        # recorded before the answer: a client started now compares the plugin too
        assert str(plugin) in map(str, record(project)["files"])  # type: ignore[call-overload]

        plugin.write_text(plugin.read_text() + "# edited\n", encoding="utf-8")
        project.apipack("check")
        assert served_count(project) == 1
        wait_until("the outdated daemon's exit", lambda: not alive(pid))
    log = (project.state / "daemon.log").read_text(encoding="utf-8")
    assert "stopped: the code it runs changed" in log
    assert not (project.state / "daemon.json").exists()


def test_ctrl_c_in_the_client_stops_the_served_build(
    make_project: Callable[..., Project], fake: FakeLLM
) -> None:
    project = make_project("llm", bare=True)
    project.env["APIPACK_LLM_BASE_URL"] = fake.url
    project.write("specs/tools.yml", LLM_SPEC)
    with daemon(project):
        fake.faults.append(Fault(delay=15.0))  # the first request hangs until Ctrl-C
        client = subprocess.Popen(
            [tool("apipack"), "generate"],
            cwd=project.root,
            env=project.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until("the first request to the model", lambda: fake.chat_count > 0)
            client.send_signal(signal.SIGINT)
            _, err = client.communicate(timeout=PATIENCE)
        finally:
            if client.poll() is None:
                client.kill()
        assert client.returncode == 130, err
        assert "apipack: interrupted" in err and "Traceback" not in err
        # the daemon serves the next command, which finds a consistent state and completes it
        project.apipack("generate")
        assert served_count(project) == 2
        project.apipack("check")
        assert project.generate()["tasks_run"] == 0


def test_the_daemon_exits_when_its_socket_or_its_project_is_gone(
    make_project: Callable[..., Project],
) -> None:
    project = make_project("gone")
    with daemon(project) as pid:
        Path(str(record(project)["socket"])).unlink()
        wait_until("the daemon's exit", lambda: not alive(pid))
    assert "stopped: the socket is gone" in (project.state / "daemon.log").read_text()
    assert not (project.state / "daemon.json").exists()

    with daemon(project) as pid:
        socket_file = Path(str(record(project)["socket"]))
        shutil.rmtree(project.root)
        wait_until("the daemon's exit", lambda: not alive(pid))
    assert not socket_file.exists()


@contextlib.contextmanager
def no_daemon_left(project: Project) -> Iterator[None]:
    """Whatever daemon the block starts is stopped after it (killed if it would not stop)."""
    try:
        yield
    finally:
        found = (project.state / "daemon.json").is_file() and record(project)
        with contextlib.suppress(subprocess.TimeoutExpired, AssertionError, OSError):
            project.apipack("daemon", "stop", expect=None)
        if found and alive(int(str(found["pid"]))):
            os.kill(int(str(found["pid"])), signal.SIGKILL)


def answers(project: Project) -> bool:
    return project.apipack("daemon", "status", expect=None).returncode == 0


def test_a_command_run_in_its_own_process_starts_the_daemon_that_serves_the_next(
    project: Project,
) -> None:
    del project.env["CI"]  # a developer's machine
    with no_daemon_left(project):
        project.apipack("generate")  # none serves it: it runs here, then launches one
        wait_until("the daemon's answer", partial(answers, project))
        status = project.apipack("daemon", "status").stdout
        assert "0 command(s) served" in status and "exits after 30 min idle" in status
        project.edit("specs/tools.yml", "First", "Primary")
        project.apipack("generate")
        assert served_count(project) == 1
        assert "ALPHA: Primary" in (project.out / "docs" / "alpha.txt").read_text()
        project.apipack("check")
        assert served_count(project) == 2


@pytest.mark.parametrize(
    "setting", [{"CI": "true"}, {"PRE_COMMIT": "1"}, {"APIPACK_NO_DAEMON": "1"}]
)
def test_on_ci_in_a_pre_commit_hook_or_when_told_not_to_a_command_starts_no_daemon(
    project: Project, setting: dict[str, str]
) -> None:
    del project.env["CI"]
    project.env.update(setting)
    with no_daemon_left(project):
        project.apipack("generate")
        project.apipack("check")
        # a launch opens the daemon's log before the command that launches it returns
        assert not (project.state / "daemon.log").exists()
        assert not answers(project)


def test_of_two_daemons_launched_at_once_one_serves_and_the_other_leaves(
    project: Project, tmp_path: Path
) -> None:
    project.generate()
    launch = [tool("python"), "-c", LAUNCH, str(project.root), "600"]
    logs = [tmp_path / f"launched-{index}.log" for index in range(2)]
    with no_daemon_left(project):
        both = []
        for log in logs:
            with log.open("wb") as out:
                both.append(
                    subprocess.Popen(
                        launch, cwd=project.root, env=project.env, stdout=out, stderr=out
                    )
                )
        wait_until("one daemon's exit", lambda: any(p.poll() is not None for p in both))
        left = next(index for index, process in enumerate(both) if process.poll() is not None)
        stays = both[1 - left]
        assert both[left].returncode == 0
        assert "another daemon serves" in logs[left].read_text(encoding="utf-8")
        wait_until("the other daemon's answer", partial(answers, project))
        assert record(project)["pid"] == stays.pid and stays.poll() is None
