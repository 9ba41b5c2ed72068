"""ctypes declarations of include/smoa.h: one line per C function, nothing more.

Keep in the order of the header; a change there is a change here. The library
is found and loaded on first use by load_library().
"""
import ctypes
import ctypes.util
import functools
import os
import pathlib
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int,
                    c_int32, c_size_t, c_uint32, c_uint64, c_void_p)

# The header this module mirrors (SMOA_VERSION_MAJOR/MINOR/PATCH).
HEADER_VERSION = (0, 1, 0)

# Enums are C ints; handles are opaque pointers.
smoa_status = c_int
smoa_log_level = c_int
smoa_ctx_p = c_void_p
smoa_model_p = c_void_p
smoa_session_p = c_void_p
smoa_generation_p = c_void_p
smoa_stop_reason = c_int
smoa_run_p = c_void_p
smoa_stage = c_int
smoa_eval_summary_p = c_void_p

smoa_log_fn = CFUNCTYPE(None, smoa_log_level, c_char_p, c_void_p)
# piece is a pointer, not c_char_p: it holds piece_len bytes, NULs included,
# and no terminator.
smoa_token_fn = CFUNCTYPE(c_int, c_int32, c_int32, c_void_p, c_size_t, c_void_p)


class smoa_ctx_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("log_fn", smoa_log_fn),
        ("log_user_data", c_void_p),
        ("log_level", smoa_log_level),
        ("n_threads", c_int32),
    ]


class smoa_model_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("load_mode", c_uint32),  # smoa_load_mode
    ]


class smoa_tensor_info(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("name", c_char_p),
        ("type_name", c_char_p),
        ("type", c_uint32),
        ("n_dims", c_uint32),
        ("dims", c_uint64 * 4),
        ("offset", c_uint64),
        ("n_bytes", c_uint64),
    ]


class smoa_session_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("n_ctx", c_uint32),
        ("n_seq_max", c_uint32),
        ("kv_tokens", c_uint32),
        ("n_batch", c_uint32),
        ("n_threads", c_int32),
        ("device", c_uint32),  # smoa_device
    ]


class smoa_sampling_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("repeat_penalty", c_float),
        ("frequency_penalty", c_float),
        ("presence_penalty", c_float),
        ("penalty_last_n", c_int32),
        ("seed", c_uint64),
    ]


class smoa_generate_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("max_tokens", c_uint32),
        ("max_tokens_per_seq", POINTER(c_uint32)),
        ("sampling", POINTER(smoa_sampling_options)),
        ("sampling_per_seq", POINTER(POINTER(smoa_sampling_options))),
        ("stop", POINTER(c_char_p)),
        ("n_stop", c_size_t),
        ("on_token", smoa_token_fn),
        ("user_data", c_void_p),
        ("cancel", POINTER(c_int32)),  # const volatile int32_t *
    ]


class smoa_agent_spec(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("session", smoa_session_p),
        ("role", c_char_p),
        ("temperature", c_float),
        ("max_tokens", c_uint32),
    ]


class smoa_run_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("mode", c_uint32),  # smoa_mode
        ("n_proposers", c_uint32),
        ("k", c_uint32),
        ("n_layers", c_uint32),
        ("judge", c_uint32),  # smoa_judge_kind
        ("moderator", c_uint32),  # smoa_moderator_kind
        ("separate_moderator", c_uint32),
        ("temperature", c_float),
        ("max_tokens", c_uint32),
        ("judge_max_tokens", c_uint32),
        ("aggregator_max_tokens", c_uint32),
        ("seed", c_uint64),
        ("roles", POINTER(c_char_p)),
        ("on_answer", smoa_token_fn),
        ("user_data", c_void_p),
        ("cancel", POINTER(c_int32)),  # const volatile int32_t *
        ("task", c_char_p),
        ("roles_cache", c_char_p),
        ("answer_choices", c_uint32),
        ("agents", POINTER(POINTER(smoa_agent_spec))),  # const smoa_agent_spec *const *
        ("judge_session", smoa_session_p),
        ("aggregator_session", smoa_session_p),
        ("role_in_system", c_uint32),
    ]


class smoa_cost(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("prompt_tokens", c_uint64),
        ("prefill_tokens", c_uint64),
        ("generated_tokens", c_uint64),
        ("calls", c_uint32),
        ("seconds", c_double),
    ]


class smoa_eval_progress(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("dataset", c_char_p),
        ("item", c_char_p),
        ("mode", c_uint32),  # smoa_mode
        ("done", c_uint32),
        ("total", c_uint32),
        ("resumed", c_uint32),
        ("mode_done", c_uint32 * 3),
        ("mode_correct", c_uint32 * 3),
        ("elapsed", c_double),
        ("eta", c_double),
    ]


smoa_eval_progress_fn = CFUNCTYPE(None, POINTER(smoa_eval_progress), c_void_p)


class smoa_eval_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("dataset", c_char_p),
        ("out_dir", c_char_p),
        ("modes", c_uint32),
        ("limit", c_uint32),
        ("seed", c_uint64),
        ("scorer", c_uint32),  # smoa_eval_scorer
        ("moderator", c_int32),
        ("run", POINTER(smoa_run_options)),
        ("command", c_char_p),
        ("model_name", c_char_p),
        ("on_progress", smoa_eval_progress_fn),
        ("user_data", c_void_p),
        ("cancel", POINTER(c_int32)),  # const volatile int32_t *
    ]


class smoa_eval_mode_result(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("dataset", c_char_p),
        ("mode", c_uint32),  # smoa_mode
        ("rated", c_uint32),
        ("items", c_uint64),
        ("errors", c_uint64),
        ("correct", c_uint64),
        ("accuracy", c_double),
        ("accuracy_low", c_double),
        ("accuracy_high", c_double),
        ("rated_items", c_uint64),
        ("rating", c_double),
        ("rating_low", c_double),
        ("rating_high", c_double),
        ("prompt_tokens", c_double),
        ("prefill_tokens", c_double),
        ("generated_tokens", c_double),
        ("total_tokens", c_double),
        ("calls", c_double),
        ("seconds", c_double),
    ]


class smoa_eval_agent_stats(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("name", c_char_p),
        ("mode", c_uint32),  # smoa_mode
        ("responses", c_uint64),
        ("kept", c_uint64),
        ("failures", c_uint64),
        ("mean_score", c_double),
        ("mean_generated_tokens", c_double),
        ("mean_seconds", c_double),
    ]


class smoa_synthetic_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("n_vocab", c_uint32),
        ("n_embd", c_uint32),
        ("n_layer", c_uint32),
        ("n_head", c_uint32),
        ("n_head_kv", c_uint32),
        ("n_ff", c_uint32),
        ("n_ctx", c_uint32),
        ("weight_type", c_uint32),
        ("embd_type", c_uint32),
        ("tied_output", c_uint32),
        ("seed", c_uint64),
    ]


_size_p = POINTER(c_size_t)
_model_ro = smoa_model_p  # const smoa_model *
_session_ro = smoa_session_p  # const smoa_session *
_generation_ro = smoa_generation_p  # const smoa_generation *
_run_ro = smoa_run_p  # const smoa_run *
_summary_ro = smoa_eval_summary_p  # const smoa_eval_summary *
_float_p = POINTER(c_float)

# name: (restype, argtypes), in header order.
_FUNCTIONS = {
    "smoa_version": (c_char_p, []),
    "smoa_version_number": (c_uint32, []),
    "smoa_status_str": (c_char_p, [smoa_status]),
    "smoa_ctx_options_init_sized": (None, [POINTER(smoa_ctx_options), c_size_t]),
    "smoa_ctx_create": (smoa_status, [POINTER(smoa_ctx_options), POINTER(smoa_ctx_p)]),
    "smoa_ctx_destroy": (None, [smoa_ctx_p]),
    "smoa_ctx_last_error": (c_char_p, [smoa_ctx_p]),
    "smoa_model_options_init_sized": (None, [POINTER(smoa_model_options), c_size_t]),
    "smoa_model_load": (smoa_status, [smoa_ctx_p, c_char_p, POINTER(smoa_model_options),
                                      POINTER(smoa_model_p)]),
    "smoa_model_free": (None, [smoa_model_p]),
    "smoa_model_architecture": (c_char_p, [_model_ro]),
    "smoa_model_name": (c_char_p, [_model_ro]),
    "smoa_model_file_size": (c_uint64, [_model_ro]),
    "smoa_model_n_params": (c_uint64, [_model_ro]),
    "smoa_model_n_vocab": (c_uint32, [_model_ro]),
    "smoa_model_n_ctx_train": (c_uint32, [_model_ro]),
    "smoa_model_n_embd": (c_uint32, [_model_ro]),
    "smoa_model_n_layer": (c_uint32, [_model_ro]),
    "smoa_model_n_head": (c_uint32, [_model_ro]),
    "smoa_model_n_head_kv": (c_uint32, [_model_ro]),
    "smoa_model_n_ff": (c_uint32, [_model_ro]),
    "smoa_model_meta_str": (smoa_status, [smoa_ctx_p, _model_ro, c_char_p, c_char_p, c_size_t,
                                          _size_p]),
    "smoa_model_meta_count": (c_uint64, [_model_ro]),
    "smoa_model_meta_key": (c_char_p, [_model_ro, c_uint64]),
    "smoa_model_n_tensors": (c_uint64, [_model_ro]),
    "smoa_model_tensor_info": (smoa_status, [smoa_ctx_p, _model_ro, c_uint64,
                                             POINTER(smoa_tensor_info)]),
    "smoa_token_bos": (c_int32, [_model_ro]),
    "smoa_token_eos": (c_int32, [_model_ro]),
    "smoa_token_is_eog": (c_int, [_model_ro, c_int32]),
    "smoa_token_text": (c_char_p, [_model_ro, c_int32]),
    "smoa_model_tokenizer_model": (c_char_p, [_model_ro]),
    "smoa_model_tokenizer_pre": (c_char_p, [_model_ro]),
    "smoa_tokenize": (smoa_status, [smoa_ctx_p, _model_ro, c_char_p, c_size_t, c_uint32,
                                    POINTER(c_int32), c_size_t, _size_p]),
    "smoa_detokenize": (smoa_status, [smoa_ctx_p, _model_ro, POINTER(c_int32), c_size_t,
                                      c_uint32, c_char_p, c_size_t, _size_p]),
    "smoa_model_chat_template": (c_char_p, [_model_ro]),
    "smoa_chat_template_family": (c_char_p, [c_char_p]),
    "smoa_chat_format": (smoa_status, [smoa_ctx_p, _model_ro, c_char_p, POINTER(c_char_p),
                                       POINTER(c_char_p), c_size_t, c_int, c_char_p, c_size_t,
                                       _size_p]),
    "smoa_session_options_init_sized": (None, [POINTER(smoa_session_options), c_size_t]),
    "smoa_session_create": (smoa_status, [smoa_ctx_p, _model_ro, POINTER(smoa_session_options),
                                          POINTER(smoa_session_p)]),
    "smoa_session_destroy": (None, [smoa_session_p]),
    "smoa_session_device": (c_char_p, [_session_ro]),
    "smoa_session_model": (smoa_model_p, [_session_ro]),
    "smoa_session_n_ctx": (c_uint32, [_session_ro]),
    "smoa_seq_create": (smoa_status, [smoa_ctx_p, smoa_session_p, POINTER(c_int32)]),
    "smoa_seq_fork": (smoa_status, [smoa_ctx_p, smoa_session_p, c_int32, POINTER(c_int32)]),
    "smoa_seq_free": (None, [smoa_session_p, c_int32]),
    "smoa_seq_truncate": (smoa_status, [smoa_ctx_p, smoa_session_p, c_int32, c_uint32]),
    "smoa_seq_length": (c_uint32, [_session_ro, c_int32]),
    "smoa_prefill": (smoa_status, [smoa_ctx_p, smoa_session_p, c_int32, POINTER(c_int32),
                                   c_size_t]),
    "smoa_decode": (smoa_status, [smoa_ctx_p, smoa_session_p, POINTER(c_int32), POINTER(c_int32),
                                  c_size_t]),
    "smoa_seq_logits": (_float_p, [_session_ro, c_int32]),
    "smoa_seq_hidden": (_float_p, [_session_ro, c_int32]),
    "smoa_sampling_options_init_sized": (None, [POINTER(smoa_sampling_options), c_size_t]),
    "smoa_sampling_options_check": (smoa_status, [smoa_ctx_p, POINTER(smoa_sampling_options)]),
    "smoa_generate_options_init_sized": (None, [POINTER(smoa_generate_options), c_size_t]),
    "smoa_generate": (smoa_status, [smoa_ctx_p, smoa_session_p, POINTER(c_int32), c_size_t,
                                    POINTER(smoa_generate_options), POINTER(smoa_generation_p)]),
    "smoa_generation_free": (None, [smoa_generation_p]),
    "smoa_generation_count": (c_size_t, [_generation_ro]),
    # The text as an address: it may hold NULs, its length comes back in *len.
    "smoa_generation_text": (c_void_p, [_generation_ro, c_size_t, _size_p]),
    "smoa_generation_n_tokens": (c_uint32, [_generation_ro, c_size_t]),
    "smoa_generation_tokens": (POINTER(c_int32), [_generation_ro, c_size_t]),
    "smoa_generation_stop_reason": (smoa_stop_reason, [_generation_ro, c_size_t]),
    "smoa_stop_reason_str": (c_char_p, [smoa_stop_reason]),
    "smoa_agent_spec_init_sized": (None, [POINTER(smoa_agent_spec), c_size_t]),
    "smoa_run_options_init_sized": (None, [POINTER(smoa_run_options), c_size_t]),
    "smoa_run_query": (smoa_status, [smoa_ctx_p, smoa_session_p, c_char_p,
                                     POINTER(smoa_run_options), POINTER(smoa_run_p)]),
    "smoa_run_free": (None, [smoa_run_p]),
    # The answer as an address, like smoa_generation_text: its length comes back in *len.
    "smoa_run_answer": (c_void_p, [_run_ro, _size_p]),
    "smoa_run_trace_json": (c_char_p, [_run_ro, _size_p]),
    "smoa_run_cost": (smoa_status, [_run_ro, smoa_stage, POINTER(smoa_cost)]),
    "smoa_run_ttft": (c_double, [_run_ro]),
    "smoa_run_layers": (c_uint32, [_run_ro]),
    "smoa_run_choice": (c_int32, [_run_ro, _float_p]),
    "smoa_eval_options_init_sized": (None, [POINTER(smoa_eval_options), c_size_t]),
    "smoa_eval_run": (smoa_status, [smoa_ctx_p, smoa_session_p, POINTER(smoa_eval_options)]),
    "smoa_eval_report": (smoa_status, [smoa_ctx_p, c_char_p]),
    "smoa_eval_summary_load": (smoa_status, [smoa_ctx_p, c_char_p, POINTER(smoa_eval_summary_p)]),
    "smoa_eval_summary_free": (None, [smoa_eval_summary_p]),
    "smoa_eval_summary_n_results": (c_size_t, [_summary_ro]),
    "smoa_eval_summary_result": (smoa_status, [_summary_ro, c_size_t,
                                               POINTER(smoa_eval_mode_result)]),
    "smoa_eval_summary_n_agents": (c_size_t, [_summary_ro]),
    "smoa_eval_summary_agent": (smoa_status, [_summary_ro, c_size_t,
                                              POINTER(smoa_eval_agent_stats)]),
    "smoa_synthetic_options_init_sized": (None, [POINTER(smoa_synthetic_options), c_size_t]),
    "smoa_tensor_type_name": (c_char_p, [c_uint32]),
    "smoa_synthetic_write": (smoa_status, [smoa_ctx_p, c_char_p, POINTER(smoa_synthetic_options)]),
    "smoa_has_cuda": (c_int, []),
    "smoa_cuda_device_count": (c_int, []),
}


def _library_names():
    if sys.platform == "darwin":
        return ["libsmoa.0.dylib", "libsmoa.dylib"]
    if sys.platform == "win32":
        return ["smoa.dll", "libsmoa.dll"]
    return ["libsmoa.so.0", "libsmoa.so"]


def _candidate_paths():
    """Installed next to the package first, then a source tree's build folders."""
    package = pathlib.Path(__file__).resolve().parent
    repo = package.parent.parent
    builds = [repo / "build"] + sorted(p for p in repo.glob("build?*") if p.is_dir())
    for folder in [package, package.parent] + builds:
        for name in _library_names():
            yield folder / name


def _declare(lib):
    for name, (restype, argtypes) in _FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def _open(path):
    return _declare(ctypes.CDLL(str(path)))


@functools.lru_cache(maxsize=None)
def load_library():
    """The declared libsmoa: $SMOA_LIBRARY, else the first one found.

    An explicit SMOA_LIBRARY is used as given (no silent fallback to another
    copy). A candidate that exists but cannot be loaded (say, a sanitizer
    build) is skipped.
    """
    explicit = os.environ.get("SMOA_LIBRARY")
    if explicit:
        return _open(explicit)
    failures = []
    for path in _candidate_paths():
        if path.exists():
            try:
                return _open(path)
            except OSError as err:
                failures.append(f"{path}: {err}")
    found = ctypes.util.find_library("smoa")
    if found:
        return _open(found)
    detail = "; ".join(failures) or "none found"
    raise OSError("libsmoa not found: set SMOA_LIBRARY to the path of libsmoa "
                  f"(build folders tried: {detail})")
