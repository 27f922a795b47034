"""The scan of the output folder behind ``check``'s extra files and the tree state: which files
it reports, which folders it walks, in which order."""

from __future__ import annotations

from pathlib import Path

from apipack_build.run.diff import scan_output

IGNORES = {
    "python/a": ("**/__pycache__/**", ".venv/**"),
    "python/b": (),
    "python/c": ("*.log",),
}


def _tree(output: Path) -> None:
    for name in (
        "top.txt",
        "python/a/src/m.py",
        "python/a/src/n.py",
        "python/a/src/.m.py.abcdefgh.tmp",  # a killed write's temporary file
        "python/a/src/__pycache__/m.cpython-311.pyc",
        "python/a/src/deep/er/x.py",
        "python/a/.venv/lib/site.py",
        "python/b/kept.py",
        "python/c/run.log",
        "python/c/z.py",
    ):
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        (output / name).write_text("x")
    (output / "python/a/linked").symlink_to(output / "python/a/src")
    (output / "python/a/dangling").symlink_to(output / "nowhere")


def test_scan_reports_unknown_files_and_the_folders_it_walked_in_order(tmp_path: Path) -> None:
    _tree(tmp_path)

    found, folders = scan_output(tmp_path, IGNORES, known={"python/a/src/m.py"})

    # a link to a folder is neither walked nor a file; a dangling link is a file
    assert found == [
        "top.txt",
        "python/a/dangling",
        "python/a/src/n.py",
        "python/a/src/deep/er/x.py",
        "python/b/kept.py",
        "python/c/z.py",
    ]
    assert folders == [
        ".",
        "python",
        "python/a",
        "python/a/src",
        "python/a/src/deep",
        "python/a/src/deep/er",
        "python/b",
        "python/c",
    ]


def test_scan_leaves_out_the_folders_it_is_told_to_skip(tmp_path: Path) -> None:
    _tree(tmp_path)

    found, folders = scan_output(tmp_path, IGNORES, known=set(), skip={"python/a", "python/c"})

    assert found == ["top.txt", "python/b/kept.py"]
    assert folders == [".", "python", "python/b"]


def test_scan_of_a_missing_output_finds_nothing(tmp_path: Path) -> None:
    assert scan_output(tmp_path / "gone", IGNORES, known=set()) == ([], [])
