"""The LLM step: prompts, keys, where each body comes from, and asking with repairs.

Two keys per request (both ``content_hash`` of canonical JSON):

* the *request key* hashes {prompt format, provider, model, sampling options, messages}; it can be
  computed with no server, so the lock and offline builds can use it;
* the *cache key* hashes {request key, model digest}: a re-pulled model changes every cache key.

Where a function's body comes from, in order: the cache (by cache key), the shared remote cache
if one is configured (``_remote``), the lock (same request key, same digest), the model. Offline,
or with the server unreachable, the digest is unknown, and the lock or the caches' request-key
indexes answer alone. Only validated replies are ever stored, and what the remote cache gives is
validated like a lock entry before use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.fsio import write_atomic
from ..base.hashing import content_hash
from ..base.render import Renderer
from ..errors import LLMError
from ..llm import Message, Provider, Reply, sampling_options
from ..rules import Language
from ..settings import LLMSettings
from ..spec import Function, Package
from .remote import RemoteCache, show_warnings
from .store import ResponseCache, read_lock
from .verify import verify

PROMPT_FORMAT = "1"
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Need:
    """One function × language whose body the LLM writes."""

    package: str
    function: Function
    language: str
    messages: tuple[Message, ...]
    request_key: str

    @property
    def label(self) -> str:
        return f"{self.package}.{self.function.name} ({self.language})"


@dataclass
class Answer:
    code: str
    source: str  # "cache", "remote", "lock" or "model"
    cache_key: str
    digest: str


@dataclass
class LLMStats:
    calls: int = 0
    requests: int = 0  # HTTP requests: calls, their retries, and failed ones
    cache_hits: int = 0
    remote_hits: int = 0
    lock_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    verified: int = 0  # replies that passed their spec's examples
    repairs: int = 0  # requests that sent a refused reply back with what was wrong


def prompt_messages(
    renderer: Renderer, package: Package, function: Function, language: str
) -> tuple[Message, ...]:
    context = {
        "package": {"name": package.name, "description": package.description},
        "function": function.model_dump(exclude={"code", "implementation"}),
        "language": language,
    }
    text = renderer.render(f"prompts/{language}.j2", context)
    return (Message("user", text),)


def request_key(settings: LLMSettings, messages: tuple[Message, ...]) -> str:
    return content_hash(
        {
            "format": PROMPT_FORMAT,
            "provider": settings.provider,
            "model": settings.model,
            "options": sampling_options(settings),
            "messages": [vars(m) for m in messages],
        }
    )


def cache_key(request: str, digest: str) -> str:
    return content_hash({"request": request, "digest": digest})


def extract_code(text: str, fences: tuple[str, ...]) -> str:
    """The code in a reply: the first fenced block tagged with the language, else the first
    fenced block, else the whole reply (models often add prose around the fence)."""
    blocks: list[tuple[str, str]] = [
        (str(tag).lower(), str(body)) for tag, body in _FENCE.findall(text)
    ]
    for tag, body in blocks:
        if tag in fences:
            return body.strip("\n") + "\n"
    if blocks:
        return blocks[0][1].strip("\n") + "\n"
    return text.strip() + "\n"


def lock_entry(need: Need, answer: Answer, settings: LLMSettings) -> dict[str, Any]:
    return {
        "package": need.package,
        "function": need.function.name,
        "language": need.language,
        "key": answer.cache_key,
        "request": need.request_key,
        "model": settings.model,
        "provider": settings.provider,
        "digest": answer.digest,
        "code": answer.code,
    }


Checker = Callable[[str, Function], "str | None"]


@dataclass
class Asker:
    """Asks the model for one function, repairing invalid replies; stores only valid ones."""

    settings: LLMSettings
    provider_factory: Callable[[], Provider]
    cache: ResponseCache
    failed_dir: Path
    languages: dict[str, Language]
    stats: LLMStats = field(default_factory=LLMStats)
    remote: RemoteCache | None = None

    def ask(self, need: Need, digest: str) -> Answer:
        language = self.languages[need.language]
        messages = list(need.messages)
        provider = self.provider_factory()
        problem: str | None = ""
        replies: list[str] = []
        for _ in range(self.settings.repair_attempts + 1):
            if replies:  # this request sends the last reply back with what was wrong
                self.stats.repairs += 1
            sent = getattr(provider, "requests", 0)
            try:
                reply = provider.chat(messages)
            except LLMError as exc:
                self.stats.calls += 1  # a call made is counted, answered or not
                raise LLMError(
                    f"{need.label}: {self.settings.provider} model {self.settings.model}: {exc}"
                ) from None
            finally:
                # retries included; a provider that does not count its requests makes one
                self.stats.requests += max(getattr(provider, "requests", 0) - sent, 1)
            self._count(reply)
            limit = self.settings.max_reply_bytes
            text = reply.text if len(reply.text) <= limit else reply.text[:limit]
            replies.append(text)
            code = extract_code(text, language.fences)
            problem = (
                _reply_problem(reply, limit)
                or code_problem(code, need.function, language, limit)
                or self._verify(code, need)
            )
            if not problem:
                key = cache_key(need.request_key, digest)
                self.cache.put(
                    key,
                    need.request_key,
                    {
                        "code": code,
                        "raw": text,
                        "model": self.settings.model,
                        "digest": digest,
                        "prompt_tokens": reply.prompt_tokens,
                        "completion_tokens": reply.completion_tokens,
                        "seconds": round(reply.seconds, 3),
                    },
                )
                if self.remote is not None:
                    self.remote.store(remote_entry(need, self.settings, key, digest, code))
                return Answer(code, "model", key, digest)
            messages += [
                Message("assistant", text),
                Message("user", repair_prompt(problem, need, language)),
            ]
        saved = self._save_failure(need, replies)
        raise LLMError(
            f"{need.label}: model {self.settings.model} ({self.settings.provider}) "
            f"gave no valid code after {len(replies)} attempt(s): {problem}; "
            f"replies saved in {saved}; give the function `code:` or "
            f"`implementation:`, or try `--refresh {need.function.name}`"
        )

    def _verify(self, code: str, need: Need) -> str:
        """Why *code* fails its spec's examples ("" when it passes, has none, or cannot be run
        here); run before anything is cached, so a wrong body never reaches cache or lock."""
        make_run = self.languages[need.language].example_run
        run = make_run(code, need.function) if self.settings.verify and make_run else None
        if run is None:
            return ""
        verdict = verify(run, self.settings.verify_timeout)
        if not verdict.problem and not verdict.unverified:
            self.stats.verified += 1
        return verdict.problem

    def _count(self, reply: Reply) -> None:
        self.stats.calls += 1
        self.stats.prompt_tokens += reply.prompt_tokens
        self.stats.completion_tokens += reply.completion_tokens
        self.stats.seconds += reply.seconds

    def _save_failure(self, need: Need, replies: list[str]) -> str:
        name = f"{need.package}.{need.function.name}.{need.language}.txt"
        text = "\n\n----- next attempt -----\n\n".join(replies)
        write_atomic(self.failed_dir / name, text.encode("utf-8"))
        return f"{self.failed_dir.name}/{name}"


def remote_entry(
    need: Need, settings: LLMSettings, key: str, digest: str, code: str
) -> dict[str, str]:
    """What the remote cache keeps of a validated reply (``_remote.FIELDS``)."""
    return {
        "key": key,
        "request": need.request_key,
        "provider": settings.provider,
        "model": settings.model,
        "digest": digest,
        "code": code,
    }


def _reply_problem(reply: Reply, limit: int) -> str | None:
    if reply.done_reason == "length":
        return "the reply was cut off (done_reason 'length'); raise llm.max_tokens"
    size = len(reply.text.encode("utf-8"))
    if size > limit:
        return f"the reply is {size} bytes, more than llm.max_reply_bytes ({limit})"
    return None


def code_problem(code: str, function: Function, language: Language, limit: int) -> str | None:
    """Why *code* cannot be *function*'s body: the one check of a fresh reply and of every
    answer taken from the cache, the remote cache or the lock."""
    size = len(code.encode("utf-8"))
    if size > limit:
        return f"the code is {size} bytes, more than llm.max_reply_bytes ({limit})"
    return None if language.check_code is None else language.check_code(code, function)


def repair_prompt(problem: str, need: Need, language: Language) -> str:
    return (
        f"That code is not valid: {problem}\n"
        f"Reply with the complete corrected {language.name} function `{need.function.name}`, "
        f"with exactly the requested signature, in one fenced code block and nothing else."
    )


@dataclass
class Resolution:
    """Where every LLM-written body of this build comes from, decided before any task runs."""

    answers: dict[tuple[str, str, str], Answer]  # (package, function, language) -> known now
    asks: dict[str, list[Need]]  # request key -> needs the model must answer (sent once)
    digest: str
    stats: LLMStats
    lock: Mapping[tuple[str, str, str], dict[str, Any]]


def resolve(
    needs: list[Need],
    *,
    settings: LLMSettings,
    cache: ResponseCache,
    lock_path: Path,
    languages: dict[str, Language],
    offline: bool,
    refresh: frozenset[str],
    provider_factory: Callable[[], Provider],
    remote: RemoteCache | None = None,
) -> Resolution:
    """Cache, then remote cache, then lock, then (as tasks) the model. Offline or unreachable,
    fail listing every function whose body is missing, before anything runs."""
    lock = read_lock(lock_path)
    stats = LLMStats()
    digest: str | None = None
    unavailable = "offline mode (--offline or APIPACK_OFFLINE)" if offline else ""
    if needs and not offline:
        try:
            digest = provider_factory().model_digest()
        except LLMError as exc:
            unavailable = str(exc)
    answers: dict[tuple[str, str, str], Answer] = {}
    asks: dict[str, list[Need]] = {}
    known = _Known(cache, languages, settings.max_reply_bytes, remote)
    for need in needs:
        ident = (need.package, need.function.name, need.language)
        if need.function.name not in refresh:
            answer = known.answer(need, digest, lock.get(ident))
            if answer is not None:
                answers[ident] = answer
                if answer.source == "cache":
                    stats.cache_hits += 1
                elif answer.source == "remote":
                    stats.remote_hits += 1
                else:
                    stats.lock_hits += 1
                continue
        asks.setdefault(need.request_key, []).append(need)
    show_warnings(cache.warnings)
    cache.warnings.clear()
    if asks and digest is None:
        missing = sorted(n.label for group in asks.values() for n in group)
        raise LLMError(
            f"cannot build without the LLM: {unavailable}\nno cached or locked "
            f"response for:\n  " + "\n  ".join(missing)
        )
    return Resolution(answers, asks, digest or "", stats, lock)


@dataclass
class _Known:
    """Answers already given: each is checked exactly as a fresh reply is before it is used,
    and one that fails is dropped with a warning naming the function and where it came from."""

    cache: ResponseCache
    languages: dict[str, Language]
    limit: int
    remote: RemoteCache | None = None

    def usable(self, need: Need, code: Any, source: str) -> bool:
        problem = (
            code_problem(code, need.function, self.languages[need.language], self.limit)
            if isinstance(code, str)
            else "it holds no code"
        )
        if problem is not None:
            self.cache.warnings.append(f"ignored the {source} entry for {need.label}: {problem}")
        return problem is None

    def from_cache(self, need: Need, key: str, value: dict[str, Any], digest: str) -> Answer | None:
        if value.get("request") != need.request_key:
            self.cache.warnings.append(
                f"ignored the cache entry for {need.label}: it answers another request"
            )
        elif self.usable(need, value["code"], "cache"):
            return Answer(value["code"], "cache", key, digest)
        self.cache.drop(key)
        return None

    def answer(self, need: Need, digest: str | None, entry: dict[str, Any] | None) -> Answer | None:
        """Cache, then remote cache, then lock; offline, the caches' request-key indexes."""
        cache = self.cache
        if digest is not None:
            key = cache_key(need.request_key, digest)
            value = cache.get(key, need.label)
            found = None if value is None else self.from_cache(need, key, value, digest)
            if found is None:
                found = self.from_remote(need, "key", key)
            if found is not None:
                return found
        if (
            entry is not None
            and entry.get("request") == need.request_key
            and (digest is None or entry.get("digest") == digest)
            and self.usable(need, entry.get("code"), "apipack.lock")
        ):
            code, locked = str(entry["code"]), str(entry.get("digest", ""))
            key = str(entry.get("key") or cache_key(need.request_key, locked))
            if key != cache_key(need.request_key, locked):
                key = cache_key(need.request_key, locked)  # a key is never taken on trust
            cache.put(
                key,
                need.request_key,
                {"code": code, "model": entry.get("model"), "digest": locked, "from": "lock"},
            )
            return Answer(code, "lock", key, locked)
        if digest is None:
            indexed = cache.by_request(need.request_key, need.label)
            if indexed is not None:
                key, value = indexed
                found = self.from_cache(need, key, value, str(value.get("digest", "")))
                if found is not None:
                    return found
            return self.from_remote(need, "request", need.request_key)
        return None

    def from_remote(self, need: Need, field: str, ident: str) -> Answer | None:
        """A body from the shared remote cache, checked like any other, then kept locally."""
        remote = self.remote
        if remote is None:
            return None
        entry = remote.lookup(field, ident, need.label)
        if entry is None:
            return None
        key, code = cache_key(need.request_key, entry["digest"]), entry["code"]
        if entry["request"] != need.request_key or entry["key"] != key:
            remote.ignore(need.label, "it answers another request")
            return None
        language = self.languages[need.language]
        problem = code_problem(code, need.function, language, self.limit)
        if problem is not None:
            remote.ignore(need.label, f"its code is not valid: {problem}")
            return None
        self.cache.put(
            key,
            need.request_key,
            {"code": code, "model": entry["model"], "digest": entry["digest"], "from": "remote"},
        )
        return Answer(code, "remote", key, entry["digest"])


class LLMStep:
    """The LLM part of one build: its settings, cache, lock, and what resolution decided."""

    def __init__(
        self,
        settings: LLMSettings,
        cache: ResponseCache,
        lock_path: Path,
        provider_factory: Callable[[], Provider],
        remote: RemoteCache | None = None,
    ):
        self.settings, self.cache, self.lock_path = settings, cache, lock_path
        self.provider_factory = provider_factory
        self.remote = remote
        self.needs: list[Need] = []
        self.languages: dict[str, Language] = {}  # the installed languages, set with the needs
        #: lock entries of the bodies of spec files the plan reused unread (``plan.memo``)
        self.kept: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.resolution = Resolution({}, {}, "", LLMStats(), {})
        self._provider: tuple[int, Provider] | None = None

    def provider(self) -> Provider:
        """One client per process, reused across requests: doit's forked workers must not share
        a connection pool, and a new client per request costs more than a small reply."""
        if self._provider is None or self._provider[0] != os.getpid():
            self._provider = (os.getpid(), self.provider_factory())
        return self._provider[1]

    @property
    def digest(self) -> str:
        """The model digest this build's bodies are keyed on ("" when not known)."""
        kept = {str(entry.get("digest", "")) for entry in self.kept.values()}
        return self.resolution.digest or (kept.pop() if len(kept) == 1 else "")

    @property
    def bodies(self) -> int:
        """How many function bodies of this build the LLM writes (planned or reused)."""
        return len(self.needs) + len(self.kept)

    @staticmethod
    def task_name(need: Need) -> str:
        return f"llm/{need.package}/{need.language}/{need.function.name}"

    def asks(self) -> list[tuple[str, Need]]:
        """One (task name, need) per distinct request still to send, first asker's name."""
        return [
            (self.task_name(group[0]), group[0])
            for _, group in sorted(self.resolution.asks.items())
        ]

    def wait_name(self, need: Need) -> str:
        """The task that sends *need*'s request (identical requests share one)."""
        return self.task_name(self.resolution.asks[need.request_key][0])

    def answer_for(self, need: Need) -> Answer:
        ident = (need.package, need.function.name, need.language)
        known = self.resolution.answers.get(ident)
        if known is not None:
            return known
        key = cache_key(need.request_key, self.resolution.digest)
        value = self.cache.get(key, need.label)
        limit = self.settings.max_reply_bytes
        problem = (
            "no response in the cache"
            if value is None
            else code_problem(value["code"], need.function, self.languages[need.language], limit)
        )
        if value is None or problem is not None:
            raise LLMError(f"{need.label}: the reply cached under {key} cannot be used: {problem}")
        return Answer(value["code"], "model", key, self.resolution.digest)

    def lock_entries(
        self, keep_others: bool, built: set[str]
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The lock after this build: an entry per LLM-written body it used; entries of
        packages outside a partial build are kept."""
        lock = self.resolution.lock if keep_others else {}
        entries = {ident: entry for ident, entry in lock.items() if ident[0] not in built}
        entries.update(self.kept)
        for need in self.needs:
            entries[(need.package, need.function.name, need.language)] = lock_entry(
                need, self.answer_for(need), self.settings
            )
        return entries

    def unchanged_packages(self, keep_others: bool, built: set[str]) -> frozenset[str]:
        """The packages whose lock entries after this build are the lock's own: those of spec
        files the plan reused (their memo lines hold for this lock) and, in a partial build,
        those it does not build; none the LLM writes a body of."""
        lock = self.resolution.lock if keep_others else {}
        others = {ident[0] for ident in lock if ident[0] not in built}
        kept = {ident[0] for ident in self.kept}
        return frozenset((others | kept) - {need.package for need in self.needs})
