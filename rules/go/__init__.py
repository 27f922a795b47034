"""Go: its reserved words are checked now; its rules come with the Go target."""

from apipack_build.rules import Language

LANGUAGE = Language(
    name="go",
    reserved_words=frozenset(
        "break case chan const continue default defer else fallthrough for func go goto if "
        "import interface map package range return select struct switch type var".split()
    ),
)
