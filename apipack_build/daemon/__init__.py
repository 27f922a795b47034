"""``apipack daemon``: a warm build process that answers ``generate`` and ``check`` of one
project from memory, as Bazel's server, pantsd and Gradle's daemon do.

A fresh ``apipack generate`` after an edit spends most of its time loading: pydantic and the
engine's models, doit, Jinja and its compiled templates, the stat cache, the plan memo. The
daemon loads them once and keeps what stays valid between builds (``_session.Session``); each
request runs the command line exactly as a fresh process would (``_serve``), its output relayed
to the client, so what a served command prints, exits with and leaves on disk is what a fresh
one gives.

The package is the transport and the lifecycle; it imports nothing of the engine's stages:

* ``record``: where a project's daemon listens (a short socket path) and what code it runs
  (``.apipack/daemon.json``), read by the client with nothing but ``os`` and ``json``;
* ``wire``: the messages, one JSON object per line;
* ``client``: the thin side, run inside ``apipack generate``/``check``: hands the request over,
  or answers None (no daemon, another code, another user, any failure) and the command runs
  in-process as before, then starts the project's daemon for the next one;
* ``spawn``: how a daemon process begins, detached;
* ``server``: the loop that accepts requests one at a time, and exits on ``stop``, when idle,
  when its project or socket is gone, or when the code it runs changed;
* ``control``: ``apipack daemon start|stop|status``.
"""
