"""Python binding of libsmoa (ctypes, standard library only).

    import smoa
    with smoa.Model("SmolLM2-135M-Instruct.Q4_1.gguf", smoa.LoadMode.VOCAB) as model:
        prompt = model.chat_format([("user", "What is 2+2?")])
        ids = model.tokenize(prompt, parse_special=True)

Running a model: a Session holds the KV cache of its sequences (small integer
ids); generate() continues several of them at once.

    with smoa.Model(path) as model, smoa.Session(model, n_ctx=2048) as session:
        seq = session.new_sequence()
        session.prefill(seq, ids)
        [answer] = session.generate([seq], max_tokens=64, sampling=smoa.Sampling(temperature=0))
        print(answer.text, answer.stop_reason.name)

Multi-agent runs: run() answers one question with several agents sharing the
session's model (single, MoA or SMoA mode) and returns the answer, the trace
and the cost account.

    with smoa.Model(path) as model, smoa.Session(model) as session:
        result = session.run("What is 12 times 7?", mode="smoa", n=4, k=2)
        print(result.answer, result.cost("total")["calls"], result.trace["layers_run"])

Agents may also run on other models: agents=[smoa.Agent(session=other), ...]
gives each proposer its own session (model), role, temperature and budget;
judge_session and aggregator_session move the judge and the aggregator.

Evaluation: evaluate() answers the items of a data set in each mode, scores
them and appends one line per (item, mode) to out_dir/results.jsonl; running
it again resumes. report() writes the report, summary() gives its numbers.

    with smoa.Model(path) as model, smoa.Session(model) as session:
        session.evaluate("gsm8k", "runs/gsm8k", limit=20, on_progress=print)
        print(smoa.report("runs/gsm8k"))

The library is found through $SMOA_LIBRARY, then next to this package or in a
source tree's build folders, then on the system's library path. Failures raise
SmoaError, carrying the status and the library's detailed message.

Threading follows the C library: a Context, a Model (which calls the library
through one Context) and a Session (which has its own Context unless given
one) are each used by one thread at a time; a CancelFlag may be set from any
thread.
"""
import array
import ctypes
import dataclasses
import enum
import json
import os
import weakref
from typing import (Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence,
                    Tuple, Union)

from . import _capi

__all__ = [
    "Status", "LogLevel", "LoadMode", "Device", "StopReason", "TensorType", "SmoaError",
    "Context", "Model", "TensorInfo", "Session", "Sampling", "CancelFlag", "Generation",
    "Stage", "RunResult", "Agent", "EvalProgress", "EvalModeResult", "EvalAgentStats",
    "EvalSummary", "report", "summary", "version", "version_number", "status_str",
    "stop_reason_str", "tensor_type_name", "has_cuda", "cuda_device_count", "chat_template_family",
    "write_synthetic_model", "load_library",
]

load_library = _capi.load_library
Message = Union[dict, Tuple[str, str]]


class Status(enum.IntEnum):
    OK = 0
    ERR_INVALID_ARGUMENT = 1
    ERR_OUT_OF_MEMORY = 2
    ERR_IO = 3
    ERR_FORMAT = 4
    ERR_UNSUPPORTED = 5
    ERR_BUFFER_TOO_SMALL = 6
    ERR_NOT_FOUND = 7
    ERR_BACKEND = 8
    ERR_CONTEXT_FULL = 9  # a sequence reached n_ctx, or the KV cache budget is used up
    ERR_CANCELLED = 10    # the caller's cancel flag was set


class LogLevel(enum.IntEnum):
    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3
    NONE = 4


class LoadMode(enum.IntEnum):
    FULL = 0      # everything needed to run the model
    VOCAB = 1     # metadata, tensor list and tokenizer; architecture not checked
    METADATA = 2  # metadata and tensor list only (any GGUF)


class Device(enum.IntEnum):
    AUTO = 0  # CUDA when built in and a device is present, else CPU; $SMOA_DEVICE overrides
    CPU = 1
    CUDA = 2


class StopReason(enum.IntEnum):
    NONE = 0        # still running (or never started)
    EOG = 1         # the model's end-of-generation token
    STRING = 2      # a stop string (not included in the text)
    MAX_TOKENS = 3
    CONTEXT = 4     # n_ctx or the KV budget ran out
    CALLBACK = 5    # on_token asked to stop
    CANCELLED = 6   # the cancel flag was set
    ERROR = 7       # this sequence failed; the others went on


class Stage(enum.IntEnum):
    """The stages of a run whose cost is accounted (see RunResult.cost)."""
    PROPOSE = 0
    JUDGE = 1
    MODERATE = 2
    AGGREGATE = 3
    TOTAL = 4  # all of them together


class TensorType(enum.IntEnum):
    """The ggml tensor type ids that libsmoa reads (and can write synthetic models in)."""
    F32 = 0
    F16 = 1
    Q4_0 = 2
    Q4_1 = 3
    Q5_0 = 6
    Q5_1 = 7
    Q8_0 = 8
    Q4_K = 12
    Q5_K = 13
    Q6_K = 14
    BF16 = 30


_TOKENIZE_ADD_SPECIAL = 1 << 0
_TOKENIZE_PARSE_SPECIAL = 1 << 1
_DETOKENIZE_RENDER_SPECIAL = 1 << 0
_DETOKENIZE_CONTINUATION = 1 << 1

# The names run() and evaluate() take, in the order of the C enums smoa_mode,
# smoa_judge_kind, smoa_moderator_kind and smoa_eval_scorer.
_MODES = ("single", "moa", "smoa")
_JUDGES = ("generative", "score", "self")
_MODERATORS = ("judge", "number", "choice", "none")
_SCORERS = ("auto", "generate", "likelihood")


class SmoaError(Exception):
    """A failed library call: `status` (a Status) and the library's `message`."""

    def __init__(self, status: int, message: str = ""):
        self.status = _as_status(status)
        self.message = message
        summary = status_str(status)
        super().__init__(f"{summary}: {message}" if message else summary)


def _as_status(code: int):
    try:
        return Status(code)
    except ValueError:  # a newer library's code: keep the number
        return code


def _text(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _encode(text: Union[str, bytes]) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _option_fields(options_type) -> set:
    """The settable fields of an option struct type (all but struct_size)."""
    return {name for name, _ in options_type._fields_} - {"struct_size"}


def _values(struct: ctypes.Structure) -> dict:
    """The fields of a struct the library filled, all but struct_size, by name."""
    return {name: getattr(struct, name) for name, _ in struct._fields_[1:]}


def _set_fields(options: ctypes.Structure, fields: dict, owner: str) -> None:
    """Sets the named fields of an option struct, refusing unknown names."""
    known = _option_fields(type(options))
    for name, value in fields.items():
        if name not in known:
            raise TypeError(f"{owner} got an unexpected keyword argument {name!r}")
        setattr(options, name, value)


# ---------------------------------------------------------------------------
# Library-wide functions


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _text(load_library().smoa_version())


def version_number() -> int:
    """MAJOR*10000 + MINOR*100 + PATCH of the loaded library."""
    return load_library().smoa_version_number()


def status_str(status: int) -> str:
    return _text(load_library().smoa_status_str(int(status)))


def has_cuda() -> bool:
    """True if the loaded library was built with the CUDA backend."""
    return bool(load_library().smoa_has_cuda())


def cuda_device_count() -> int:
    return load_library().smoa_cuda_device_count()


def stop_reason_str(reason: int) -> str:
    """A human-readable name of a StopReason ("end of generation", ...)."""
    return _text(load_library().smoa_stop_reason_str(int(reason)))


def tensor_type_name(type_id: int) -> Optional[str]:
    """The name of a ggml tensor type id ("Q4_1"), or None for an unknown id."""
    return _text(load_library().smoa_tensor_type_name(int(type_id)))


def chat_template_family(template_text: str) -> Optional[str]:
    """"chatml", "llama3", "gemma", "mistral", or None for an unknown template."""
    return _text(load_library().smoa_chat_template_family(_encode(template_text)))


# ---------------------------------------------------------------------------
# Context


class Context:
    """A library context: error messages, logging and worker threads.

    log: optional callable(level: LogLevel, message: str), called on the
    thread that made the library call.
    """

    def __init__(self, n_threads: int = 0,
                 log: Optional[Callable[[LogLevel, str], None]] = None,
                 log_level: LogLevel = LogLevel.WARN):
        self._lib = load_library()
        options = _capi.smoa_ctx_options()
        self._lib.smoa_ctx_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        options.n_threads = n_threads
        options.log_level = int(log_level)
        # The C side keeps the function pointer: keep its ctypes object alive.
        self._log_fn = _capi.smoa_log_fn(_log_trampoline(log)) if log else None
        if self._log_fn:
            options.log_fn = self._log_fn
        handle = _capi.smoa_ctx_p()
        status = self._lib.smoa_ctx_create(ctypes.byref(options), ctypes.byref(handle))
        if status != Status.OK:
            raise SmoaError(status, "cannot create a context")
        self._handle = handle
        self._finalizer = weakref.finalize(self, self._lib.smoa_ctx_destroy, handle)

    @property
    def handle(self) -> _capi.smoa_ctx_p:
        if not self._finalizer.alive:
            raise ValueError("context is closed")
        return self._handle

    @property
    def last_error(self) -> str:
        """The message of the last failure on this context ("" if none)."""
        return _text(self._lib.smoa_ctx_last_error(self.handle))

    def check(self, status: int) -> None:
        """Raises SmoaError with this context's message unless status is OK."""
        if status != Status.OK:
            raise SmoaError(status, self.last_error)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _log_trampoline(log: Callable[[LogLevel, str], None]):
    def trampoline(level, message, _user_data):
        log(_as_log_level(level), _text(message))
    return trampoline


def _as_log_level(level: int):
    try:
        return LogLevel(level)
    except ValueError:
        return level


# ---------------------------------------------------------------------------
# Model


class TensorInfo(NamedTuple):
    name: str
    type_name: str
    type: int
    dims: Tuple[int, ...]  # dims[0] is the contiguous (row) dimension
    offset: int            # byte offset of the data within the file
    n_bytes: int


class Model:
    """A loaded GGUF model (memory-mapped).

    load_mode: how much to load (LoadMode); tokenizer calls need VOCAB or FULL.
    context: the Context every call of the model goes through (keep it open
    while the model is used); by default the model makes and owns one.
    """

    def __init__(self, path: Union[str, os.PathLike], load_mode: LoadMode = LoadMode.FULL,
                 context: Optional[Context] = None):
        self._context = context if context is not None else Context()
        self._lib = self._context._lib
        options = _capi.smoa_model_options()
        self._lib.smoa_model_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        options.load_mode = int(load_mode)
        handle = _capi.smoa_model_p()
        status = self._lib.smoa_model_load(self._context.handle, os.fsencode(path),
                                           ctypes.byref(options), ctypes.byref(handle))
        self._context.check(status)
        self._handle = handle
        self._finalizer = weakref.finalize(self, self._lib.smoa_model_free, handle)

    @property
    def handle(self) -> _capi.smoa_model_p:
        if not self._finalizer.alive:
            raise ValueError("model is closed")
        return self._handle

    @property
    def context(self) -> Context:
        return self._context

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- metadata ----------------------------------------------------------

    def _get(self, name: str):
        return getattr(self._lib, "smoa_model_" + name)(self.handle)

    architecture = property(lambda self: _text(self._get("architecture")))
    name = property(lambda self: _text(self._get("name")))
    file_size = property(lambda self: self._get("file_size"))
    n_params = property(lambda self: self._get("n_params"))
    n_vocab = property(lambda self: self._get("n_vocab"))
    n_ctx_train = property(lambda self: self._get("n_ctx_train"))
    n_embd = property(lambda self: self._get("n_embd"))
    n_layer = property(lambda self: self._get("n_layer"))
    n_head = property(lambda self: self._get("n_head"))
    n_head_kv = property(lambda self: self._get("n_head_kv"))
    n_ff = property(lambda self: self._get("n_ff"))
    tokenizer_model = property(lambda self: _text(self._get("tokenizer_model")))
    tokenizer_pre = property(lambda self: _text(self._get("tokenizer_pre")))
    chat_template = property(lambda self: _text(self._get("chat_template")),
                             doc="The model's tokenizer.chat_template, or None.")

    def metadata_keys(self) -> list:
        """Metadata keys in file order."""
        count = self._lib.smoa_model_meta_count(self.handle)
        return [_text(self._lib.smoa_model_meta_key(self.handle, i)) for i in range(count)]

    def meta(self, key: str) -> str:
        """A metadata value rendered as text; KeyError when the key is absent."""
        try:
            raw = self._call_for_text(self._lib.smoa_model_meta_str, _encode(key))
        except SmoaError as err:
            if err.status == Status.ERR_NOT_FOUND:
                raise KeyError(key) from err
            raise
        return _text(raw)

    @property
    def metadata(self) -> dict:
        """Every metadata entry, rendered as text, in file order."""
        return {key: self.meta(key) for key in self.metadata_keys()}

    @property
    def tensors(self) -> list:
        """TensorInfo of every tensor, in file order."""
        count = self._lib.smoa_model_n_tensors(self.handle)
        return [self._tensor_info(i) for i in range(count)]

    def _tensor_info(self, index: int) -> TensorInfo:
        info = _capi.smoa_tensor_info()
        info.struct_size = ctypes.sizeof(info)
        self._context.check(self._lib.smoa_model_tensor_info(
            self._context.handle, self.handle, index, ctypes.byref(info)))
        return TensorInfo(_text(info.name), _text(info.type_name), info.type,
                          tuple(info.dims[:info.n_dims]), info.offset, info.n_bytes)

    # -- tokens ------------------------------------------------------------

    @property
    def bos(self) -> Optional[int]:
        """The BOS token id, or None when the model has none."""
        token = self._lib.smoa_token_bos(self.handle)
        return None if token < 0 else token

    @property
    def eos(self) -> Optional[int]:
        token = self._lib.smoa_token_eos(self.handle)
        return None if token < 0 else token

    def is_eog(self, token: int) -> bool:
        """True if generation should stop at token (eos, eot, ...)."""
        return bool(self._lib.smoa_token_is_eog(self.handle, token))

    def token_text(self, token: int) -> Optional[str]:
        """The token's text as stored in the vocabulary (not decoded)."""
        return _text(self._lib.smoa_token_text(self.handle, token))

    def tokenize(self, text: Union[str, bytes], add_special: bool = False,
                 parse_special: bool = False) -> list:
        """Token ids of text (str, or UTF-8 bytes)."""
        data = _encode(text)
        flags = ((_TOKENIZE_ADD_SPECIAL if add_special else 0)
                 | (_TOKENIZE_PARSE_SPECIAL if parse_special else 0))
        # Byte-level tokenizers give at most one token per byte, plus BOS/EOS;
        # a second call with the size the library asks for covers the rest.
        def attempt(capacity):
            tokens = (ctypes.c_int32 * capacity)()
            needed = ctypes.c_size_t()
            status = self._lib.smoa_tokenize(self._context.handle, self.handle, data, len(data),
                                             flags, tokens, capacity, ctypes.byref(needed))
            return status, needed.value, tokens[:min(needed.value, capacity)]

        return self._with_retry(attempt, len(data) + 2)

    def detokenize(self, tokens: Sequence[int], render_special: bool = False,
                   continuation: bool = False) -> bytes:
        """The exact bytes of tokens (may end inside a UTF-8 sequence).

        continuation: the tokens continue earlier text, so a leading space is
        kept (SentencePiece drops it at the start of a text); use it when
        detokenizing a stream token by token.
        """
        ids = (ctypes.c_int32 * len(tokens))(*tokens)
        flags = ((_DETOKENIZE_RENDER_SPECIAL if render_special else 0)
                 | (_DETOKENIZE_CONTINUATION if continuation else 0))
        return self._call_for_text(self._lib.smoa_detokenize, ids, len(tokens), flags)

    # -- chat --------------------------------------------------------------

    def chat_format(self, messages: Iterable[Message], add_assistant_prompt: bool = True,
                    template: Optional[str] = None) -> str:
        """messages rendered with template (a template text or family name such as
        "chatml"), or with the model's own template when template is None.

        A message is {"role": ..., "content": ...} or a (role, content) tuple.
        """
        pairs = [_role_content(m) for m in messages]
        roles = (ctypes.c_char_p * len(pairs))(*[_encode(r) for r, _ in pairs])
        contents = (ctypes.c_char_p * len(pairs))(*[_encode(c) for _, c in pairs])
        tmpl = None if template is None else _encode(template)
        raw = self._call_for_text(self._lib.smoa_chat_format, tmpl, roles, contents,
                                  len(pairs), 1 if add_assistant_prompt else 0)
        return raw.decode("utf-8")

    def _call_for_text(self, fn, *args) -> bytes:
        """fn(ctx, model, *args, buf, cap, &n_out) into a buffer big enough."""
        def attempt(capacity):
            buf = ctypes.create_string_buffer(capacity)
            needed = ctypes.c_size_t()
            status = fn(self._context.handle, self.handle, *args, buf, capacity,
                        ctypes.byref(needed))
            return status, needed.value + 1, buf.raw[:min(needed.value, capacity)]  # + NUL

        return self._with_retry(attempt, 256)

    def _with_retry(self, attempt, capacity):
        """attempt(capacity) -> (status, needed, result); once more if too small.

        The library reports the exact size it needs, so a second
        ERR_BUFFER_TOO_SMALL is an error, not a reason to loop.
        """
        status, needed, result = attempt(capacity)
        if status == Status.ERR_BUFFER_TOO_SMALL:
            status, _, result = attempt(needed)
        self._context.check(status)
        return result


def _role_content(message: Message) -> Tuple[str, str]:
    if isinstance(message, dict):
        return message["role"], message["content"]
    role, content = message
    return role, content


# ---------------------------------------------------------------------------
# Sampling and generation


class Sampling:
    """How generate() picks each next token.

    Keyword arguments set fields of smoa_sampling_options; those left out keep
    the library's defaults: temperature 0.8 (0: greedy), top_k 40 (0: off),
    top_p 0.95 (1: off), min_p 0.05 (0: off), repeat_penalty 1 (off),
    frequency_penalty 0, presence_penalty 0, penalty_last_n 64 (-1: all
    tokens), seed 0. Values are checked by check(), and by generate().
    """

    def __init__(self, **fields):
        options = _capi.smoa_sampling_options()
        load_library().smoa_sampling_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        _set_fields(options, fields, "Sampling()")
        self._options = options
        self._fields = fields

    @classmethod
    def greedy(cls) -> "Sampling":
        """Always the most likely token (temperature 0)."""
        return cls(temperature=0.0)

    def __getattr__(self, name):  # the option fields, defaults included
        if name in _option_fields(_capi.smoa_sampling_options):
            return getattr(self._options, name)
        raise AttributeError(f"'Sampling' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return "Sampling(" + ", ".join(f"{k}={v!r}" for k, v in self._fields.items()) + ")"

    def check(self, context: Optional[Context] = None) -> None:
        """Raises SmoaError (ERR_INVALID_ARGUMENT, naming the field) for a value
        out of range, such as a negative temperature."""
        context = context if context is not None else Context()
        context.check(context._lib.smoa_sampling_options_check(context.handle,
                                                               ctypes.byref(self._options)))


class CancelFlag:
    """Stops Session.generate() or Session.run() when set, like a threading.Event.

    set() may be called from any thread, or from the on_token callback: the
    library reads the flag before each step. Neither call clears it.
    """

    def __init__(self):
        self._value = ctypes.c_int32(0)

    def set(self) -> None:
        self._value.value = 1

    def clear(self) -> None:
        self._value.value = 0

    def is_set(self) -> bool:
        return self._value.value != 0


class Generation(NamedTuple):
    """What generate() produced for one sequence."""
    text: str                # raw decoded as UTF-8, invalid bytes replaced
    raw: bytes               # the exact bytes (the stop string excluded)
    tokens: List[int]        # every sampled token, the EOG or stop string's included
    stop_reason: StopReason


# on_token(seq, token, piece) -> truthy to stop that sequence.
TokenCallback = Callable[[int, int, bytes], object]
# on_answer(piece) -> truthy to stop the answer there.
AnswerCallback = Callable[[bytes], object]


class RunResult(NamedTuple):
    """What Session.run() produced."""
    answer: str              # the final answer (complete UTF-8: see Session.run)
    trace: dict              # every call, choice and stop decision (docs/trace.md)
    costs: Dict[str, dict]   # per stage name ("propose", ..., "total"): see cost()
    ttft: Optional[float]    # seconds from the start to the first answer byte; None: no answer
    layers: int              # proposer rounds run (fewer than asked after an early stop)
    choice: Optional[int]    # with answer_choices: the option chosen, 0 = A (answer is its
                             # letter); None without answer_choices
    choice_logits: Optional[List[float]]  # with answer_choices: the aggregator's next-token
                                          # logits of the letters A.., choice the largest

    def cost(self, stage: Union[Stage, str] = Stage.TOTAL) -> dict:
        """The cost of one stage (a Stage, or its name in lower case):
        prompt_tokens (every call's whole prompt, summed), prefill_tokens (those
        computed: shared prefixes once), generated_tokens, calls (model calls)
        and seconds (wall time)."""
        return self.costs[stage if isinstance(stage, str) else Stage(stage).name.lower()]


@dataclasses.dataclass(frozen=True)
class Agent:
    """One proposer of Session.run() or Session.evaluate() (their agents
    option, one Agent per proposer). Proposers of one session decode
    together in one batch; different sessions (models) take turns.

    session: the Session (model) it runs on; None: the one run() is called
    on. Each session needs n_seq_max >= its proposers + 1. role: its persona
    (SMoA); None: from roles, or the library's defaults (MoA uses none).
    temperature, max_tokens: its own; None: the run's.
    """
    session: Optional["Session"] = None
    role: Optional[str] = None
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None


def _guarded(callback: Callable, cancel: CancelFlag, failures: list, failed=None):
    """callback made safe to call from C, where an exception must not unwind:
    the first one is kept in failures and sets cancel (the caller re-raises
    it), and from then on the wrapper returns failed without calling back."""
    def wrapper(*args):
        if failures:
            return failed
        try:
            return callback(*args)
        except BaseException as err:  # KeyboardInterrupt too: it ends the call
            failures.append(err)
            cancel.set()
            return failed
    return wrapper


def _token_trampoline(on_token: TokenCallback, cancel: CancelFlag, failures: list):
    """The C callback around on_token; a failure stops the sequence."""
    return _guarded(lambda seq, token, piece, piece_len, _user_data:
                    1 if on_token(seq, token, ctypes.string_at(piece, piece_len)) else 0,
                    cancel, failures, failed=1)


# ---------------------------------------------------------------------------
# Session


class Session:
    """Inference on one model: the backend, the KV cache of its sequences and
    the logits of their last step.

    Options (0 means the library's default): n_ctx, the most tokens one
    sequence may hold (default: the training context, at most 4096);
    n_seq_max, sequences alive at once (16); kv_tokens, the KV cache budget
    over all sequences, shared prefixes counted once (4 * n_ctx); n_batch,
    the most tokens per forward pass (512); n_threads (the context's);
    device, a Device or "auto", "cpu", "cuda".

    model must be loaded with LoadMode.FULL; the session keeps it alive, but
    closing the model explicitly ends the session's use. context: the Context
    calls go through; by default the session makes and owns one.
    """

    def __init__(self, model: Model, *, n_ctx: int = 0, n_seq_max: int = 0, kv_tokens: int = 0,
                 n_batch: int = 0, n_threads: int = 0, device: Union[Device, str] = Device.AUTO,
                 context: Optional[Context] = None):
        self._model = model
        self._context = context if context is not None else Context()
        self._lib = self._context._lib
        options = _capi.smoa_session_options()
        self._lib.smoa_session_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        options.n_ctx = n_ctx
        options.n_seq_max = n_seq_max
        options.kv_tokens = kv_tokens
        options.n_batch = n_batch
        options.n_threads = n_threads
        options.device = Device[device.upper()] if isinstance(device, str) else device
        handle = _capi.smoa_session_p()
        status = self._lib.smoa_session_create(self._context.handle, model.handle,
                                               ctypes.byref(options), ctypes.byref(handle))
        self._context.check(status)
        self._handle = handle
        self._n_vocab = model.n_vocab
        self._n_embd = model.n_embd
        # The finalizer holds the model: it is freed after the session, never before.
        self._finalizer = weakref.finalize(self, _destroy_session, self._lib, handle, model)

    @property
    def handle(self) -> _capi.smoa_session_p:
        if not self._finalizer.alive:
            raise ValueError("session is closed")
        if not self._model._finalizer.alive:  # closed under the session
            raise ValueError("the session's model is closed")
        return self._handle

    @property
    def model(self) -> Model:
        return self._model

    @property
    def context(self) -> Context:
        return self._context

    @property
    def device(self) -> str:
        """"cpu" or "cuda"."""
        return _text(self._lib.smoa_session_device(self.handle))

    @property
    def n_ctx(self) -> int:
        """The most tokens one sequence may hold."""
        return self._lib.smoa_session_n_ctx(self.handle)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sequences ---------------------------------------------------------

    def new_sequence(self) -> int:
        """A new, empty sequence (ERR_CONTEXT_FULL when n_seq_max are alive)."""
        seq = ctypes.c_int32()
        self._context.check(self._lib.smoa_seq_create(self._context.handle, self.handle,
                                                      ctypes.byref(seq)))
        return seq.value

    def fork(self, seq: int) -> int:
        """A new sequence holding everything seq holds, its logits included; the
        KV cache pages are shared, not copied."""
        new = ctypes.c_int32()
        self._context.check(self._lib.smoa_seq_fork(self._context.handle, self.handle, seq,
                                                    ctypes.byref(new)))
        return new.value

    def free(self, seq: int) -> None:
        """Ends seq, giving its KV cache pages back; its id may be reused."""
        self._lib.smoa_seq_free(self.handle, seq)

    def truncate(self, seq: int, n: int) -> None:
        """Drops seq's tokens from position n on; its logits go with them."""
        self._context.check(self._lib.smoa_seq_truncate(self._context.handle, self.handle, seq, n))

    def length(self, seq: int) -> int:
        """Tokens seq holds (its next position)."""
        return self._lib.smoa_seq_length(self.handle, seq)

    # -- running -----------------------------------------------------------

    def prefill(self, seq: int, tokens: Sequence[int]) -> None:
        """Appends tokens to seq; logits(seq) then holds those after the last one.
        More tokens than fit raise ERR_CONTEXT_FULL and leave seq as it was."""
        ids = (ctypes.c_int32 * len(tokens))(*tokens)
        self._context.check(self._lib.smoa_prefill(self._context.handle, self.handle, seq, ids,
                                                   len(tokens)))

    def decode(self, seqs: Union[Mapping[int, int], Sequence[int]],
               tokens: Optional[Sequence[int]] = None) -> None:
        """One token for each of several distinct sequences, in one forward pass:
        decode({seq: token, ...}) or decode([seq, ...], [token, ...])."""
        if tokens is None:
            seqs, tokens = list(seqs.keys()), list(seqs.values())
        if len(seqs) != len(tokens):
            raise ValueError(f"{len(seqs)} sequences but {len(tokens)} tokens")
        seq_ids = (ctypes.c_int32 * len(seqs))(*seqs)
        ids = (ctypes.c_int32 * len(tokens))(*tokens)
        self._context.check(self._lib.smoa_decode(self._context.handle, self.handle, seq_ids, ids,
                                                  len(seqs)))

    def logits(self, seq: int) -> Optional[array.array]:
        """A copy of the [n_vocab] logits after seq's last token, as array("f"),
        or None when its last step produced none (not prefilled, truncated, or
        no such sequence). The copy is the caller's: later steps leave it be."""
        return _copy_floats(self._lib.smoa_seq_logits(self.handle, seq), self._n_vocab)

    def hidden(self, seq: int) -> Optional[array.array]:
        """A copy of the [n_embd] final hidden state (after the output norm) at
        the same point as logits(seq), or None."""
        return _copy_floats(self._lib.smoa_seq_hidden(self.handle, seq), self._n_embd)

    def generate(self, seqs: Sequence[int], *,
                 max_tokens: Union[int, Sequence[int]] = 256,
                 sampling: Union[None, Sampling, Sequence[Sampling]] = None,
                 stop: Iterable[Union[str, bytes]] = (),
                 on_token: Optional[TokenCallback] = None,
                 cancel: Optional[CancelFlag] = None) -> List[Generation]:
        """Continues the sequences (each prefilled, so each has logits) until all
        have stopped, decoding the running ones together; one Generation per
        sequence, in order.

        max_tokens: for every sequence, or one per sequence. sampling: one
        Sampling for all, one per sequence, or None for the library's defaults.
        stop: strings that end a sequence (left out of its text).

        on_token(seq, token, piece) receives each sequence's new bytes as they
        are produced (a piece may end inside a UTF-8 character; bytes that could
        begin a stop string are held back until they cannot); together the
        pieces make the sequence's raw text. A truthy return stops that
        sequence (StopReason.CALLBACK). An exception raised in on_token sets
        the cancel flag, ends the generation and is re-raised here (the
        sequences keep what was decoded; length() tells how much).

        cancel: a CancelFlag; once set, the running sequences stop with
        StopReason.CANCELLED. Cancelling is not an error: the results so far
        are returned, and stop_reason says which sequences were cut short.

        Afterwards a sequence holds its prompt and its generated tokens but
        the last one, which was never decoded, and its logits are those that
        chose that last token; a cancelled sequence holds all of them.
        """
        seqs = list(seqs)
        n = len(seqs)
        options = _capi.smoa_generate_options()
        self._lib.smoa_generate_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        # Pointers assigned to the struct's fields keep their targets alive.
        if isinstance(max_tokens, int):
            options.max_tokens = max_tokens
        else:
            options.max_tokens_per_seq = (ctypes.c_uint32 * n)(*_one_each(max_tokens, n,
                                                                          "max_tokens"))
        if isinstance(sampling, Sampling):
            options.sampling = ctypes.pointer(sampling._options)
        elif sampling is not None:
            per_seq = [ctypes.pointer(s._options) for s in _one_each(sampling, n, "sampling")]
            options.sampling_per_seq = (ctypes.POINTER(_capi.smoa_sampling_options) * n)(*per_seq)
        stops = [_encode(s) for s in stop]
        options.stop = (ctypes.c_char_p * len(stops))(*stops)
        options.n_stop = len(stops)
        cancel = cancel if cancel is not None else CancelFlag()
        options.cancel = ctypes.pointer(cancel._value)
        failures = []
        if on_token is not None:
            options.on_token = _capi.smoa_token_fn(_token_trampoline(on_token, cancel, failures))
        seq_ids = (ctypes.c_int32 * n)(*seqs)
        out = _capi.smoa_generation_p()
        status = self._lib.smoa_generate(self._context.handle, self.handle, seq_ids, n,
                                         ctypes.byref(options), ctypes.byref(out))
        try:
            if failures:
                raise failures[0]
            if status != Status.ERR_CANCELLED:
                self._context.check(status)
            return [self._generation(out, i) for i in range(n)]
        finally:
            self._lib.smoa_generation_free(out)  # NULL (failure) is fine

    def _generation(self, out: _capi.smoa_generation_p, i: int) -> Generation:
        length = ctypes.c_size_t()
        raw = ctypes.string_at(self._lib.smoa_generation_text(out, i, ctypes.byref(length)),
                               length.value)
        n_tokens = self._lib.smoa_generation_n_tokens(out, i)
        tokens = self._lib.smoa_generation_tokens(out, i)[:n_tokens]
        reason = StopReason(self._lib.smoa_generation_stop_reason(out, i))
        return Generation(raw.decode("utf-8", errors="replace"), raw, tokens, reason)

    def run(self, question: Union[str, bytes], *, mode: str = "smoa", moderator: str = "judge",
            seed: int = 42, answer_choices: int = 0, on_answer: Optional[AnswerCallback] = None,
            cancel: Optional[CancelFlag] = None, **options) -> RunResult:
        """Answers one question with several agents, by default all on the
        session's model (the session needs n_seq_max >= n + 1).

        mode: "smoa" (n role-played proposers per layer, a judge keeps k of
        their responses, a moderator may end the debate early), "moa" (every
        response goes forward, no judge, no early stop) or "single" (one call).
        moderator: "judge" (the generative judge's end flag; see
        separate_moderator), "number" or "choice" (stop when the kept
        responses agree on a final number, or option letter), "none". seed:
        sampling and the judge's fallbacks (same seed, same run).

        answer_choices: 0, or 2..26 for a multiple-choice question with
        options A, B, ...: the aggregator then answers by likelihood, with the
        letter it is most likely to write first (no generation), and the
        result's choice and choice_logits say which and why.

        options (keyword arguments, shared with evaluate()):
        n=4: proposers (at most 16). k=2: responses kept per layer.
        layers=2: proposer rounds (at most 8). judge="generative" (a judge
        call writes its choice), "score" (one prompt per response, ranked
        by P(yes)) or "self" (P(yes) asked in each proposer's own
        conversation, reusing its KV cache). separate_moderator=False: ask the generative judge's
        moderator in a call of its own. temperature=0.7: every call's.
        max_tokens=256: per proposer response; judge_max_tokens and
        aggregator_max_tokens default to max_tokens. roles: n personas for
        the SMoA proposers. task: without roles, a description of the task
        for which the model writes the n personas itself (one call, counted
        in the propose stage); roles_cache: a file of personas, one per line,
        read when it holds n, else written, so that they are written once per
        task. Without roles or task, the library's personas.
        role_in_system=False: each persona follows the question in its
        proposer's user message, so the system message and the question are
        prefilled once for all proposers; True: the persona opens the
        proposer's own system message (nothing shared).
        agents: n Agent objects, one per proposer, putting proposers on
        other sessions (models) with their own role, temperature and budget.
        judge_session, aggregator_session: the Session the judge (and
        moderator), or the aggregator (which also writes the personas), runs
        on; None: this one. Sessions passed here are used with this session's
        Context, on this thread.

        on_answer(piece) receives the final answer's bytes as they are produced
        (a piece may end inside a UTF-8 character); a truthy return ends the
        answer there. The pieces make the answer's raw bytes; answer is those
        with every byte that does not start a valid UTF-8 sequence replaced by
        U+FFFD. An exception raised in on_answer cancels the run and is
        re-raised here.

        cancel: a CancelFlag; once set, the run stops and raises SmoaError
        (ERR_CANCELLED). Option values the library refuses (k > n, an empty
        question, a session with too few sequences, ...) raise SmoaError
        (ERR_INVALID_ARGUMENT); unknown names for mode, judge or moderator,
        and roles or agents not one per proposer, raise ValueError. A
        proposer call that fails alone is dropped and recorded in the trace.
        """
        run_options = self._run_options(**options)
        run_options.mode = _kind(mode, _MODES, "mode")
        run_options.moderator = _kind(moderator, _MODERATORS, "moderator")
        run_options.seed = seed
        run_options.answer_choices = answer_choices
        cancel = cancel if cancel is not None else CancelFlag()
        run_options.cancel = ctypes.pointer(cancel._value)
        failures = []
        if on_answer is not None:
            run_options.on_answer = _capi.smoa_token_fn(_token_trampoline(
                lambda _seq, _token, piece: on_answer(piece), cancel, failures))
        out = _capi.smoa_run_p()
        status = self._lib.smoa_run_query(self._context.handle, self.handle, _encode(question),
                                          ctypes.byref(run_options), ctypes.byref(out))
        try:
            if failures:
                raise failures[0]
            self._context.check(status)
            return self._run_result(out, answer_choices)
        finally:
            self._lib.smoa_run_free(out)  # NULL (failure) is fine

    def _run_options(self, *, n: int = 4, k: int = 2, layers: int = 2, judge: str = "generative",
                     separate_moderator: bool = False, temperature: float = 0.7,
                     max_tokens: int = 256, judge_max_tokens: Optional[int] = None,
                     aggregator_max_tokens: Optional[int] = None,
                     roles: Optional[Sequence[str]] = None, task: Optional[str] = None,
                     roles_cache: Union[None, str, os.PathLike] = None,
                     role_in_system: bool = False, agents: Optional[Sequence[Agent]] = None,
                     judge_session: Optional["Session"] = None,
                     aggregator_session: Optional["Session"] = None) -> _capi.smoa_run_options:
        """The smoa_run_options of run()'s and evaluate()'s shared options
        (documented in run()); mode, moderator, seed and the rest keep the
        library's defaults."""
        options = _capi.smoa_run_options()
        self._lib.smoa_run_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
        options.struct_size = ctypes.sizeof(options)
        options.n_proposers = n
        options.k = k
        options.n_layers = layers
        options.judge = _kind(judge, _JUDGES, "judge")
        options.separate_moderator = bool(separate_moderator)
        options.temperature = temperature
        options.max_tokens = max_tokens
        options.judge_max_tokens = max_tokens if judge_max_tokens is None else judge_max_tokens
        options.aggregator_max_tokens = (max_tokens if aggregator_max_tokens is None
                                         else aggregator_max_tokens)
        # Pointers assigned to the struct's fields keep their targets alive.
        if roles is not None:
            personas = [_encode(role) for role in roles]
            if len(personas) != n:
                raise ValueError(f"roles: {len(personas)} for {n} proposers")
            options.roles = (ctypes.c_char_p * n)(*personas)
        options.task = None if task is None else _encode(task)
        options.roles_cache = None if roles_cache is None else os.fsencode(roles_cache)
        options.role_in_system = bool(role_in_system)
        # The struct holds only the sessions' handles: it keeps the Session
        # objects too, so that none is finalized while the library uses it.
        options._sessions = [s for s in (judge_session, aggregator_session) if s is not None]
        options.judge_session = None if judge_session is None else judge_session.handle
        options.aggregator_session = (None if aggregator_session is None
                                      else aggregator_session.handle)
        if agents is not None:
            agents = list(agents)
            if len(agents) != n:
                raise ValueError(f"agents: {len(agents)} for {n} proposers")
            specs = [self._agent_spec(agent) for agent in agents]
            options.agents = (ctypes.POINTER(_capi.smoa_agent_spec) * n)(
                *[ctypes.pointer(spec) for spec in specs])
            options._sessions += [a.session for a in agents if a.session is not None]
        return options

    def _agent_spec(self, agent: Agent) -> _capi.smoa_agent_spec:
        if not isinstance(agent, Agent):
            raise TypeError(f"agents: expected Agent objects, got {type(agent).__name__}")
        spec = _capi.smoa_agent_spec()
        self._lib.smoa_agent_spec_init_sized(ctypes.byref(spec), ctypes.sizeof(spec))
        spec.struct_size = ctypes.sizeof(spec)
        spec.session = None if agent.session is None else agent.session.handle
        spec.role = None if agent.role is None else _encode(agent.role)
        if agent.temperature is not None:
            spec.temperature = agent.temperature
        if agent.max_tokens is not None:
            spec.max_tokens = agent.max_tokens
        return spec

    def _run_result(self, out: _capi.smoa_run_p, answer_choices: int) -> RunResult:
        length = ctypes.c_size_t()
        answer = ctypes.string_at(self._lib.smoa_run_answer(out, ctypes.byref(length)),
                                  length.value)
        costs = {}
        for stage in Stage:
            cost = _capi.smoa_cost()
            cost.struct_size = ctypes.sizeof(cost)
            self._context.check(self._lib.smoa_run_cost(out, stage, ctypes.byref(cost)))
            costs[stage.name.lower()] = _values(cost)
        ttft = self._lib.smoa_run_ttft(out)
        logits = (ctypes.c_float * answer_choices)() if answer_choices else None
        choice = self._lib.smoa_run_choice(out, logits)
        return RunResult(answer.decode("utf-8", errors="replace"),
                         json.loads(self._lib.smoa_run_trace_json(out, None)), costs,
                         None if ttft < 0 else ttft, self._lib.smoa_run_layers(out),
                         None if choice < 0 else choice, None if logits is None else list(logits))

    def evaluate(self, dataset: Union[str, os.PathLike], out_dir: Union[str, os.PathLike], *,
                 modes: Iterable[str] = _MODES, limit: int = 0, seed: int = 42,
                 scorer: str = "auto", moderator: Optional[str] = None,
                 on_progress: Optional[Callable[["EvalProgress"], object]] = None,
                 cancel: Optional[CancelFlag] = None, model_name: Optional[str] = None,
                 command: Optional[str] = None, **options) -> None:
        """Answers the items of a data set in each of modes with this session's
        model, scores every answer and appends one line per (item, mode) to
        out_dir/results.jsonl as soon as it is scored (layout: docs/eval.md).
        Pairs already in that file are not run again: calling evaluate() again
        after an interruption resumes where it stopped. An item whose query
        fails is recorded with its error and the evaluation goes on. report()
        and summary() then read the results.

        dataset: "gsm8k", "svamp", "mmlu", "mmlu-dev", "bbq", "mt-bench", or
        the path of a .jsonl or .csv file. out_dir: created when absent; it
        also gets run.json, the settings, and a directory holding results
        made with other settings is refused (SmoaError ERR_INVALID_ARGUMENT).
        modes: some of "single", "moa", "smoa". limit: items, a seeded sample
        (the same items for the same seed, and a larger limit extends a
        smaller one); 0: all. seed: the sample and every query (mixed with
        the item's id). scorer: for multiple choice, "auto" or "likelihood"
        (the most likely first letter, answer_choices in run()) or
        "generate" (the letter the written answer names). moderator: a name
        as for run(); None: by the data set (agreement on the number, on the
        letter, the judge for open questions). model_name and command: what
        run.json records (the model name is one of the settings).

        options: run()'s shared options (n, k, layers, judge, temperature,
        max_tokens, roles, agents, ...), the same for every query; mode,
        seed, moderator and answer_choices are set per item.

        on_progress(progress) is called with an EvalProgress after each
        (item, mode) is written. An exception raised in it cancels the
        evaluation and is re-raised here; what was written stays, so the next
        call resumes. cancel: a CancelFlag; once set, the query under way
        stops (it is not recorded) and evaluate() raises SmoaError
        (ERR_CANCELLED); the next call resumes.
        """
        run_options = self._run_options(**options)
        eval_options = _capi.smoa_eval_options()
        self._lib.smoa_eval_options_init_sized(ctypes.byref(eval_options),
                                               ctypes.sizeof(eval_options))
        eval_options.struct_size = ctypes.sizeof(eval_options)
        eval_options.dataset = os.fsencode(dataset)
        eval_options.out_dir = os.fsencode(out_dir)
        eval_options.modes = sum(1 << _kind(mode, _MODES, "mode") for mode in set(modes))
        eval_options.limit = limit
        eval_options.seed = seed
        eval_options.scorer = _kind(scorer, _SCORERS, "scorer")
        eval_options.moderator = -1 if moderator is None else _kind(moderator, _MODERATORS,
                                                                     "moderator")
        eval_options.run = ctypes.pointer(run_options)
        eval_options.command = None if command is None else _encode(command)
        eval_options.model_name = None if model_name is None else _encode(model_name)
        cancel = cancel if cancel is not None else CancelFlag()
        eval_options.cancel = ctypes.pointer(cancel._value)
        failures = []
        if on_progress is not None:
            eval_options.on_progress = _capi.smoa_eval_progress_fn(_guarded(
                lambda progress, _user_data: on_progress(_eval_progress(progress.contents)),
                cancel, failures))
        status = self._lib.smoa_eval_run(self._context.handle, self.handle,
                                         ctypes.byref(eval_options))
        if failures:
            raise failures[0]
        self._context.check(status)


def _destroy_session(lib, handle, _model) -> None:
    lib.smoa_session_destroy(handle)


def _copy_floats(pointer, count: int) -> Optional[array.array]:
    if not pointer:
        return None
    return array.array("f", ctypes.string_at(pointer, count * ctypes.sizeof(ctypes.c_float)))


def _kind(name: str, names: Tuple[str, ...], what: str) -> int:
    """The C enum value of name: its position in names."""
    if name not in names:
        raise ValueError(f"{what} must be one of {', '.join(names)}; got {name!r}")
    return names.index(name)


def _one_each(values: Sequence, n: int, name: str) -> list:
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} values for {n} sequences")
    return values


# ---------------------------------------------------------------------------
# Evaluation


@dataclasses.dataclass(frozen=True)
class EvalProgress:
    """Where Session.evaluate() stands, after each (item, mode) it finishes."""
    dataset: str
    item: str                     # the item just finished
    mode: str                     # its mode: "single", "moa" or "smoa"
    done: int                     # (item, mode) pairs finished, resumed ones included
    total: int                    # (item, mode) pairs selected
    resumed: int                  # found finished in results.jsonl at the start
    mode_done: Dict[str, int]     # per mode name: items with a verdict
    mode_correct: Dict[str, int]  # per mode name: of those, correct
    elapsed: float                # seconds in this call
    eta: Optional[float]          # seconds left, estimated; None: unknown yet


def _eval_progress(p: _capi.smoa_eval_progress) -> EvalProgress:
    return EvalProgress(_text(p.dataset), _text(p.item), _MODES[p.mode], p.done, p.total,
                        p.resumed, dict(zip(_MODES, p.mode_done)),
                        dict(zip(_MODES, p.mode_correct)), p.elapsed,
                        None if p.eta < 0 else p.eta)


class EvalModeResult(NamedTuple):
    """The results of one mode on one data set (see summary())."""
    dataset: str
    mode: str                # "single", "moa" or "smoa"
    rated: bool              # judged by rating (MT-bench): no accuracy
    items: int
    errors: int              # items whose query failed (counted wrong)
    correct: int
    accuracy: float          # 0..1, with its Wilson 95% interval:
    accuracy_low: float
    accuracy_high: float
    rated_items: int
    rating: float            # mean rating (1-10), with its 95% t interval:
    rating_low: float
    rating_high: float
    prompt_tokens: float     # means per item: every call's whole prompt, summed,
    prefill_tokens: float    # the prompt tokens actually computed,
    generated_tokens: float
    total_tokens: float      # prompt + generated (the report's cost measure),
    calls: float             # model calls
    seconds: float           # and wall time


class EvalAgentStats(NamedTuple):
    """One proposer of one mode over every data set in a directory (see summary())."""
    name: str                # "agent 2: <first words of its role>"
    mode: str                # "moa" or "smoa"
    responses: int
    kept: int                # responses the judge passed on
    failures: int
    mean_score: float        # the scoring judge's; NaN without one
    mean_generated_tokens: float
    mean_seconds: float


class EvalSummary(NamedTuple):
    """The numbers of an evaluation's report (see summary())."""
    results: List[EvalModeResult]  # in data set order, each set's modes single, moa, smoa
    agents: List[EvalAgentStats]


def report(out_dir: Union[str, os.PathLike], context: Optional[Context] = None) -> str:
    """Writes out_dir/report.md (tables per data set and mode, paired
    comparisons, agent statistics) and the plot out_dir/accuracy_vs_tokens.png
    from the results Session.evaluate() wrote there; returns the report's path."""
    context = context if context is not None else Context()
    context.check(context._lib.smoa_eval_report(context.handle, os.fsencode(out_dir)))
    return os.path.join(out_dir, "report.md")


def summary(out_dir: Union[str, os.PathLike], context: Optional[Context] = None) -> EvalSummary:
    """The numbers of the report, read from out_dir/results.jsonl; it may be
    called while an evaluation is still writing there (live statistics).
    Means with nothing to average are NaN. SmoaError: ERR_IO when the file
    cannot be read, ERR_FORMAT when it holds no result."""
    context = context if context is not None else Context()
    lib = context._lib
    handle = _capi.smoa_eval_summary_p()
    context.check(lib.smoa_eval_summary_load(context.handle, os.fsencode(out_dir),
                                             ctypes.byref(handle)))
    try:
        results = [_summary_entry(lib.smoa_eval_summary_result, handle, i,
                                  _capi.smoa_eval_mode_result, EvalModeResult)
                   for i in range(lib.smoa_eval_summary_n_results(handle))]
        agents = [_summary_entry(lib.smoa_eval_summary_agent, handle, i,
                                 _capi.smoa_eval_agent_stats, EvalAgentStats)
                  for i in range(lib.smoa_eval_summary_n_agents(handle))]
    finally:
        lib.smoa_eval_summary_free(handle)
    return EvalSummary(results, agents)


def _summary_entry(getter, handle, index: int, struct_type, result_type):
    """Entry index of a summary as result_type: its text decoded (it lives only
    as long as the summary), its mode by name, its flags as bools."""
    entry = struct_type()
    entry.struct_size = ctypes.sizeof(entry)
    status = getter(handle, index, ctypes.byref(entry))
    if status != Status.OK:
        raise SmoaError(status, f"summary entry {index}")
    values = {name: _text(value) if isinstance(value, bytes) else value
              for name, value in _values(entry).items()}
    values["mode"] = _MODES[values["mode"]]
    if "rated" in values:
        values["rated"] = bool(values["rated"])
    return result_type(**values)


# ---------------------------------------------------------------------------
# Synthetic models


def write_synthetic_model(path: Union[str, os.PathLike], context: Optional[Context] = None,
                          **shape) -> None:
    """Writes a llama GGUF with random weights (deterministic for a seed), for
    tests and benchmarks: byte-level BPE vocabulary (256 byte tokens, ChatML
    specials, no merges) padded to n_vocab, ChatML template; it generates noise.

    shape: n_vocab (>= 259), n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx,
    weight_type and embd_type (TensorType), tied_output (no output.weight),
    seed. Those left out keep the library's defaults: SmolLM2-135M's shape,
    Q4_1 layers, Q8_0 embeddings, tied output, seed 0.
    """
    context = context if context is not None else Context()
    options = _capi.smoa_synthetic_options()
    context._lib.smoa_synthetic_options_init_sized(ctypes.byref(options), ctypes.sizeof(options))
    options.struct_size = ctypes.sizeof(options)
    _set_fields(options, shape, "write_synthetic_model()")
    context.check(context._lib.smoa_synthetic_write(context.handle, os.fsencode(path),
                                                    ctypes.byref(options)))
