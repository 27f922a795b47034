"""Names a TypeScript or JavaScript implementation may use without defining or importing them:
ECMAScript's global objects, the web-platform globals Node 20 provides, and TypeScript's
built-in types."""

from __future__ import annotations

VALUES = frozenset(
    # ECMAScript
    "globalThis Infinity NaN undefined eval isFinite isNaN parseFloat parseInt decodeURI "
    "decodeURIComponent encodeURI encodeURIComponent Object Function Boolean Symbol Error "
    "AggregateError EvalError RangeError ReferenceError SyntaxError TypeError URIError Number "
    "BigInt Math Date String RegExp Array Int8Array Uint8Array Uint8ClampedArray Int16Array "
    "Uint16Array Int32Array Uint32Array Float32Array Float64Array BigInt64Array BigUint64Array "
    "Map Set WeakMap WeakSet WeakRef FinalizationRegistry ArrayBuffer SharedArrayBuffer DataView "
    "Atomics JSON Promise Reflect Proxy Intl arguments "
    # Node 20 and the web platform
    "console Buffer TextEncoder TextDecoder URL URLSearchParams structuredClone atob btoa "
    "setTimeout clearTimeout setInterval clearInterval setImmediate clearImmediate "
    "queueMicrotask AbortController AbortSignal Blob crypto performance process fetch Headers "
    "Request Response FormData Event EventTarget DOMException".split()
)

TYPES = VALUES | frozenset(
    "string number boolean bigint symbol object unknown never any void undefined null "
    "Record Partial Required Readonly Pick Omit Exclude Extract NonNullable ReturnType "
    "Parameters InstanceType Awaited Uppercase Lowercase Capitalize Uncapitalize ReadonlyArray "
    "ReadonlyMap ReadonlySet Iterable Iterator IterableIterator Generator AsyncIterable "
    "AsyncIterator AsyncGenerator PropertyKey ArrayLike PromiseLike RegExpMatchArray "
    "RegExpExecArray TemplateStringsArray ArrayBufferLike".split()
)

#: calls a module-level constant may make: they build values and do nothing else
PURE_CALLS = frozenset(
    "BigInt Number String Boolean Symbol Symbol.for RegExp Object.freeze Object.fromEntries "
    "Object.entries Object.keys Object.values Array.from Array.of String.fromCharCode "
    "String.fromCodePoint String.raw Number.parseInt Number.parseFloat parseInt parseFloat "
    "JSON.parse Math.pow Math.max Math.min Math.sqrt Math.floor Math.ceil Math.round Math.abs "
    "Math.log Math.log2 Math.log10 Math.exp".split()
)

#: classes a module-level constant may construct
PURE_CLASSES = frozenset(
    "Map Set WeakMap WeakSet RegExp TextEncoder TextDecoder Uint8Array Array Error "
    "Intl.Collator Intl.NumberFormat Intl.Segmenter Intl.PluralRules".split()
)
