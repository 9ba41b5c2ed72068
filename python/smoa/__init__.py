"""Python binding of libsmoa (ctypes, standard library only).

    import smoa
    with smoa.Model("SmolLM2-135M-Instruct.Q4_1.gguf", smoa.LoadMode.VOCAB) as model:
        prompt = model.chat_format([("user", "What is 2+2?")])
        ids = model.tokenize(prompt, parse_special=True)

The library is found through $SMOA_LIBRARY, then next to this package or in a
source tree's build folders, then on the system's library path. Failures raise
SmoaError, carrying the status and the library's detailed message.

Threading follows the C library: a Context, and a Model (which calls the
library through one Context), is used by one thread at a time.
"""
import ctypes
import enum
import os
import weakref
from typing import Callable, Iterable, NamedTuple, Optional, Sequence, Tuple, Union

from . import _capi

__all__ = [
    "Status", "LogLevel", "LoadMode", "SmoaError", "Context", "Model", "TensorInfo",
    "version", "version_number", "status_str", "has_cuda", "cuda_device_count",
    "chat_template_family", "load_library",
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


_TOKENIZE_ADD_SPECIAL = 1 << 0
_TOKENIZE_PARSE_SPECIAL = 1 << 1
_DETOKENIZE_RENDER_SPECIAL = 1 << 0


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
        self._lib.smoa_ctx_options_init(ctypes.byref(options))
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
        self._lib.smoa_model_options_init(ctypes.byref(options))
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

    def detokenize(self, tokens: Sequence[int], render_special: bool = False) -> bytes:
        """The exact bytes of tokens (may end inside a UTF-8 sequence)."""
        ids = (ctypes.c_int32 * len(tokens))(*tokens)
        flags = _DETOKENIZE_RENDER_SPECIAL if render_special else 0
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
