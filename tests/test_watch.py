"""``apipack watch`` as a user runs it: a real process, real file events, Ctrl-C as SIGINT."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from fake_llm import FakeLLM
from helpers import FUNCTIONS, LLM_SPEC, Project, tree

PATIENCE = 120.0  # seconds to wait for an event on a busy machine; not a speed requirement


class Watcher:
    """``apipack watch`` in *project*, its output lines gathered as they come."""

    def __init__(self, project: Project):
        self.process = project.popen("apipack", "watch")
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, what: str, done: Callable[[], bool], *, running: bool = True) -> None:
        deadline = time.monotonic() + PATIENCE
        while not done():
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))
            if running:
                assert self.process.poll() is None, "watch exited:\n" + "\n".join(self.seen)
            assert time.monotonic() < deadline, f"no {what}:\n" + "\n".join(self.seen)

    def summaries(self) -> list[str]:
        """The summary line of each build so far."""
        return [line for line in self.seen if re.match(r"^apipack: \d+ tasks: ", line)]

    def said(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for line in self.seen)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=PATIENCE)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The watch process stopped while the block writes: the kernel queues the changes and
        the watch reads them together, as it does an editor's burst. Unheld, a loaded machine
        could pause this test between two writes for longer than the watch's quiet time."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def test_watch_rebuilds_each_save_keeps_watching_after_a_bad_one_and_stops_on_ctrl_c(
    project: Project,
) -> None:
    watcher = Watcher(project)
    try:
        watcher.wait_for("first build", lambda: watcher.said(r"^apipack: watching "))
        alpha = project.out / "docs" / "alpha.txt"
        assert text(alpha).endswith("ALPHA: First\n")

        project.edit("specs/tools.yml", "First", "Primary")
        watcher.wait_for("rebuild after an edit", lambda: "Primary" in text(alpha))

        project.edit("specs/tools.yml", "output_type: string", "output_type: strng")
        watcher.wait_for(
            "the problem of an invalid save",
            lambda: watcher.said(r"^specs/tools\.yml:\d+:\d+: functions\[0\]\.output_type: "),
        )

        # an editor's burst of saves, the spec fixed by the last: its text is what gets built
        for revision in range(5):
            project.edit("specs/tools.yml", "Primary", f"Primary {revision}")
            project.edit("specs/tools.yml", f"Primary {revision}", "Primary")
        project.edit("specs/tools.yml", "output_type: strng", "output_type: string")
        project.edit("specs/tools.yml", "Primary", "Final")
        watcher.wait_for("rebuild after the fix", lambda: "Final" in text(alpha))
    finally:
        code = watcher.stop()
    # 0 when Ctrl-C came while it waited, 130 when inside a rebuild (the burst may still be
    # settling): either way it says so and leaves a consistent state
    stopped = r"^apipack: (stopped|interrupted)"
    watcher.wait_for("its last words", lambda: watcher.said(stopped), running=False)
    assert code in (0, 130), "\n".join(watcher.seen)
    # the state Ctrl-C left is consistent and current: nothing to report, nothing to run
    project.apipack("check")
    assert project.generate()["tasks_run"] == 0


Edit = tuple[Callable[[], object], Callable[[], bool]]  # a change, and how to see it built


def state(project: Project) -> dict[str, bytes]:
    """What a later ``generate`` or ``check`` reads of the last build: the output tree, the
    manifest, the plan memo, the fingerprint, the explain record, doit's task records and
    the lock."""
    found = {f"generated/{path}": data for path, data in tree(project.root / "generated").items()}
    for name in ("manifest.json", "plan.json", "explain.json"):
        found[name] = (project.state / name).read_bytes()
    found["fingerprint.json"] = fingerprint_content(project.state / "fingerprint.json")
    with contextlib.closing(sqlite3.connect(project.state / "doit.sqlite3")) as db:
        rows = db.execute("SELECT task_id, task_data FROM doit ORDER BY task_id").fetchall()
    # an LLM request's task records how long it took, which differs from run to run
    timed = re.compile(r'"seconds": [0-9.e-]+')
    found["doit.sqlite3"] = timed.sub('"seconds": _', repr(rows)).encode("utf-8")
    lock = project.root / "apipack.lock"
    if lock.is_file():
        found["apipack.lock"] = lock.read_bytes()
    return found


def fingerprint_content(path: Path) -> bytes:
    """The fingerprint without the stat signatures it carries (files' times and inodes differ
    between two runs of the same edits): the inputs' hashes, the tree's files, all the rest."""
    recorded = json.loads(path.read_bytes())
    recorded["inputs"] = {name: entry[1] for name, entry in recorded["inputs"].items()}
    del recorded["tree"]["record"]
    for shard in recorded["tree"]["shards"].values():
        del shard["signature"]
    return json.dumps(recorded, sort_keys=True).encode("utf-8")


def assert_watch_equals_generate(project: Project, inputs: list[str], edits: list[Edit]) -> None:
    """Make *edits* in one watch session, each once the last is built; then, from the same
    start in the same folder, the same edits each followed by ``apipack generate``: both leave
    the same state, byte for byte."""
    start = {name: (project.root / name).read_bytes() for name in inputs}
    watcher = Watcher(project)
    try:
        watcher.wait_for("first build", lambda: watcher.said(r"^apipack: watching "))
        for edit, seen in edits:
            builds = watcher.summaries
            before = len(builds())
            edit()
            watcher.wait_for("its rebuild", seen)
            watcher.wait_for("its summary", partial(more, builds, before))
            # the summary comes before the fingerprint: Ctrl-C in between would be mid-build
            watcher.wait_for("its fingerprint", (project.state / "fingerprint.json").is_file)
    finally:
        code = watcher.stop()
    assert code in (0, 130), "\n".join(watcher.seen)
    watched = state(project)

    for made in ("generated", ".apipack", "apipack.lock"):
        path = project.root / made
        if path.is_dir():
            shutil.rmtree(path)
        path.unlink(missing_ok=True)
    for name, data in start.items():
        (project.root / name).write_bytes(data)
    project.generate()
    for edit, seen in edits:
        edit()
        project.generate()
        assert seen()
    generated = state(project)
    assert sorted(watched) == sorted(generated)
    for name in sorted(generated):
        assert watched[name] == generated[name], name


def more(found: Callable[[], list[str]], than: int) -> bool:
    return len(found()) > than


def test_a_watch_session_leaves_what_a_generate_after_each_edit_leaves(project: Project) -> None:
    """Spec, template, included template and settings edits, a spec saved unchanged, a
    function added and one removed: the watching process keeps settings, stat cache, plan memo
    and compiled templates between its builds, and what it leaves is what ``apipack generate``
    after each edit leaves."""
    project.write("apipack.yml", "interfaces: [docs]\n")
    project.write_spec(FUNCTIONS, interfaces=None)  # the project file chooses the interfaces
    alpha, docs = project.out / "docs" / "alpha.txt", project.out / "docs"
    spec = project.root / "specs" / "tools.yml"
    edits: list[Edit] = [
        (
            lambda: project.edit("specs/tools.yml", "First", "Primary"),
            lambda: "ALPHA: Primary" in text(alpha),
        ),
        (  # saved again unchanged: a no-op, which keeps the last build's explain record
            lambda: spec.write_bytes(spec.read_bytes()),
            lambda: True,
        ),
        (
            lambda: project.edit("templates/text/fn.txt.j2", "}}: {{", "}} - {{"),
            lambda: "ALPHA - Primary" in text(alpha),
        ),
        (
            lambda: project.edit("templates/text/_header.j2", "generated by", "made by"),
            lambda: text(alpha).startswith("# made by"),
        ),
        (
            lambda: project.edit("apipack.yml", "[docs]", "[docs, summary]"),
            lambda: (project.out / "SUMMARY.txt").is_file(),
        ),
        (
            lambda: project.write_spec(
                {"alpha": "Primary", "gamma": "Third", "delta": "Fourth"}, interfaces=None
            ),
            lambda: (docs / "delta.txt").is_file() and not (docs / "beta.txt").exists(),
        ),
    ]
    inputs = ["apipack.yml", "specs/tools.yml", "templates/text/fn.txt.j2"]
    assert_watch_equals_generate(project, [*inputs, "templates/text/_header.j2"], edits)


def test_a_watch_session_asks_and_locks_as_generate_does(
    make_project: Callable[..., Project], fake: FakeLLM
) -> None:
    """Function bodies the LLM writes: an edit asks again and a removal drops the function,
    and the lock the watching process keeps in memory between builds ends as ``generate``'s."""
    project = make_project("llm", bare=True)
    project.env["APIPACK_LLM_BASE_URL"] = fake.url
    project.write("specs/tools.yml", LLM_SPEC)
    generated = project.root / "generated"

    def holds(words: str) -> bool:
        return any(words in text(path) for path in generated.rglob("*.py"))

    edits: list[Edit] = [
        (
            lambda: project.edit("specs/tools.yml", "Half of a number", "Half of any number"),
            lambda: holds("Half of any number"),
        ),
        (
            lambda: project.edit("specs/tools.yml", "  - name: count_vowels", "  - name: vowels"),
            lambda: holds("def vowels(") and not holds("def count_vowels("),
        ),
    ]
    assert_watch_equals_generate(project, ["specs/tools.yml"], edits)


def test_an_editors_burst_of_saves_is_one_rebuild(project: Project) -> None:
    """An editor saves in several writes (truncate, write, rename a temporary over the file),
    and may save twice in a row: what lands together is built once, from the last bytes. A
    later save, once that build is done, makes the next summary line: the burst made one."""
    watcher = Watcher(project)
    alpha = project.out / "docs" / "alpha.txt"
    spec = project.root / "specs" / "tools.yml"
    try:
        watcher.wait_for("first build", lambda: watcher.said(r"^apipack: watching "))
        before = len(watcher.summaries())
        original = spec.read_text(encoding="utf-8")
        temporary = spec.with_name("tools.yml.tmp")
        with watcher.held():
            spec.write_text("", encoding="utf-8")  # truncated: invalid on its own
            spec.write_text(original.replace("First", "Half"), encoding="utf-8")
            temporary.write_text(original.replace("First", "Whole"), encoding="utf-8")
            temporary.replace(spec)
        watcher.wait_for("the burst's rebuild", lambda: "Whole" in text(alpha))
        watcher.wait_for("its summary", partial(more, watcher.summaries, before))
        project.edit("specs/tools.yml", "Whole", "Later")
        watcher.wait_for("the later save's rebuild", lambda: "Later" in text(alpha))
        watcher.wait_for("its summary", partial(more, watcher.summaries, before + 1))
    finally:
        code = watcher.stop()
    assert code in (0, 130), "\n".join(watcher.seen)
    assert len(watcher.summaries()) == before + 2, "\n".join(watcher.seen)
    assert not watcher.said(r"^specs/tools\.yml:"), "\n".join(watcher.seen)  # none of it alone


def test_a_generated_file_changed_by_hand_while_watching_is_built_again(project: Project) -> None:
    """A rebuild takes the package folders of the spec files it reuses as last checked while
    the kernel reports no change below them (``_treewatch``): one changed by hand is checked
    again and built again by the same rebuild, which leaves what ``apipack generate`` after
    the same edits leaves, explain record included."""
    project.write_spec({"omega": "Last"}, "specs/more.yml", name="more")
    alpha = project.out / "docs" / "alpha.txt"
    omega = project.root / "generated" / "text" / "more" / "docs" / "omega.txt"
    fingerprint = project.state / "fingerprint.json"

    def by_hand_then_saved() -> None:
        omega.write_text("changed by hand\n", encoding="utf-8")
        project.edit("specs/tools.yml", "First", "Primary")

    def repaired() -> bool:
        return (
            "Primary" in text(alpha)
            and "Last" in text(omega)
            and fingerprint.is_file()
            and fingerprint.stat().st_mtime_ns > omega.stat().st_mtime_ns
        )

    edits: list[Edit] = [(by_hand_then_saved, repaired)]
    inputs = ["specs/tools.yml", "specs/more.yml"]
    assert_watch_equals_generate(project, inputs, edits)
