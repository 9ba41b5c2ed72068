#!/usr/bin/env python3
"""gpu_peer.py - the peer of bench_gpu: the same model shapes and kernel
shapes in PyTorch + transformers on the same GPU, printed as the same
Markdown tables.

    python3 bench/gpu_peer.py [--reps N] [--steps N] [--dtype bf16|fp16] [--kernels-only]

Models are LlamaForCausalLM with random weights built from a config in code
(no download, no network): SmolLM2-135M's shape and the 1B llama shape of
bench_gpu, in bf16 (or fp16), eager PyTorch with transformers' KV cache.
Decode: n sequences share one batch, each first prefilled with a 16-token
prompt, then --steps timed forward passes of one token per sequence that
feed the cache back (what generate() does, without the sampling). Prefill:
one 512-token prompt. Kernels: torch.softmax + torch.topk on the gating
shapes, and greedy / top-p sampling on [64 x 49152] logits. Each figure is
the median of --reps runs after a warm-up; GPU work is timed with CUDA
events or after torch.cuda.synchronize().

Exits with 77 (skipped) when torch, transformers or a CUDA device is absent.
"""
import argparse
import statistics
import sys
import time

EXIT_SKIPPED = 77
PROMPT_TOKENS = 16
PREFILL_TOKENS = 512
BATCH_SIZES = (1, 4, 16, 64)
KERNEL_LAUNCHES = 100
COPY_BYTES = 1 << 30

# name, vocab, embd, layers, heads, kv heads, ff (bench_gpu.c's shapes)
SHAPES = (
    ("SmolLM2-135M shape", 49152, 576, 30, 9, 3, 1536),
    ("1B llama shape", 32000, 2048, 16, 32, 8, 8192),
)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="runs per figure, the median is shown")
    p.add_argument("--steps", type=int, default=32, help="timed decode steps per run")
    p.add_argument("--dtype", choices=("bf16", "fp16"), default="bf16")
    p.add_argument("--kernels-only", action="store_true", help="copy bandwidth and kernels, no models")
    args = p.parse_args()
    if args.reps < 1 or args.steps < 1:
        p.error("--reps and --steps must be >= 1")
    return args


def import_torch():
    """(torch, transformers), or None after saying why the peer cannot run."""
    try:
        import torch
        import transformers
    except ImportError as e:
        print(f"gpu_peer: skipped: {e}")
        return None
    if not torch.cuda.is_available():
        print("gpu_peer: skipped: torch sees no CUDA device")
        return None
    return torch, transformers


# --------------------------------------------------------------------------
# Timing


def events_ms_per_call(torch, fn, launches, reps):
    """Median over reps of the milliseconds per call of fn, timed with CUDA
    events around `launches` calls, after one untimed batch."""
    def batch():
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(launches):
            fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) / launches

    batch()
    return statistics.median(batch() for _ in range(reps))


def copy_bandwidth(torch, reps):
    """GB/s of a 1 GiB device-to-device copy, bytes read plus written."""
    src = torch.empty(COPY_BYTES, dtype=torch.uint8, device="cuda").fill_(0x3C)
    dst = torch.empty_like(src)
    ms = events_ms_per_call(torch, lambda: dst.copy_(src), 5, reps)
    del src, dst
    return 2 * COPY_BYTES / (ms * 1e-3) * 1e-9


# --------------------------------------------------------------------------
# Kernels


def kernel_row(kernel, shape, ms, nbytes, copy_gbs):
    gbs = nbytes / (ms * 1e-3) * 1e-9
    print(f"| {kernel} | {shape} | {ms * 1e3:.2f} | {gbs:.0f} | {100 * gbs / copy_gbs:.1f}% |", flush=True)


def top_p_sample(torch, logits, temperature, top_p, uniform):
    """The usual PyTorch top-p: sort, softmax, cumulative sum, mask, draw
    with one uniform number per row."""
    sorted_logits, order = torch.sort(logits / temperature, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    before = torch.cumsum(probs, dim=-1) - probs
    probs = probs.masked_fill(before >= top_p, 0.0)
    cdf = torch.cumsum(probs, dim=-1)
    pick = torch.searchsorted(cdf, (uniform * cdf[:, -1]).unsqueeze(-1)).clamp_(max=logits.shape[-1] - 1)
    return torch.gather(order, -1, pick)


def bench_kernels(torch, reps, copy_gbs):
    print("| kernel | shape | us per call | GB/s | of copy bandwidth |\n|---|---|---:|---:|---:|")
    for rows, n, k in ((4096, 64, 8), (4096, 256, 8)):
        x = torch.randn(rows, n, device="cuda") * 4
        ms = events_ms_per_call(torch, lambda: torch.topk(torch.softmax(x, dim=-1), k, dim=-1), KERNEL_LAUNCHES, reps)
        kernel_row("softmax + topk", f"[{rows} x {n}], k = {k}", ms, rows * n * 4 + rows * k * 12, copy_gbs)
    rows, n_vocab = 64, 49152
    logits = torch.randn(rows, n_vocab, device="cuda") * 6
    uniform = (torch.arange(rows, device="cuda", dtype=torch.float32) + 0.5) / rows
    ms = events_ms_per_call(torch, lambda: torch.argmax(logits, dim=-1), KERNEL_LAUNCHES, reps)
    kernel_row("argmax", f"[{rows} x {n_vocab}], greedy", ms, rows * n_vocab * 4, copy_gbs)
    ms = events_ms_per_call(torch, lambda: top_p_sample(torch, logits, 0.8, 0.9, uniform), KERNEL_LAUNCHES, reps)
    kernel_row("sort + cumsum top-p", f"[{rows} x {n_vocab}], T 0.8, top-p 0.9", ms, rows * n_vocab * 4, copy_gbs)
    print()


# --------------------------------------------------------------------------
# Models


def build_model(torch, transformers, shape, dtype):
    _, vocab, embd, layers, heads, kv_heads, ff = shape
    config = transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=embd, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=kv_heads, intermediate_size=ff, max_position_embeddings=8192,
        rms_norm_eps=1e-5, tie_word_embeddings=True)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("cuda"):  # random initialisation on the GPU: seconds, not minutes
            model = transformers.LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval()


def token_stream(torch, start, n, vocab):
    """bench_gpu's fixed token ids: (start + 7919 i) mod vocab."""
    return (start + 7919 * torch.arange(n, device="cuda")) % vocab


def prefill_rate(torch, model, vocab):
    ids = token_stream(torch, 1000, PREFILL_TOKENS, vocab).unsqueeze(0)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model(input_ids=ids, use_cache=True)
    torch.cuda.synchronize()
    return PREFILL_TOKENS / (time.perf_counter() - t0)


def decode_rate(torch, model, vocab, n, steps):
    """Aggregate tokens/s of n sequences decoding `steps` steps together
    after a 16-token prompt each (not timed)."""
    prompt = torch.stack([token_stream(torch, 2000 + 100 * i, PROMPT_TOKENS, vocab) for i in range(n)])
    cache = model(input_ids=prompt, use_cache=True).past_key_values
    feed = torch.stack([token_stream(torch, 3000 + 100 * i, steps, vocab) for i in range(n)])
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for step in range(steps):
        cache = model(input_ids=feed[:, step:step + 1], past_key_values=cache, use_cache=True).past_key_values
    torch.cuda.synchronize()
    return n * steps / (time.perf_counter() - t0)


def measure_model(torch, model, vocab, reps, steps):
    prefill_rate(torch, model, vocab)  # warm-up
    decode_rate(torch, model, vocab, max(BATCH_SIZES), 4)
    prefill = statistics.median(prefill_rate(torch, model, vocab) for _ in range(reps))
    decode = [statistics.median(decode_rate(torch, model, vocab, n, steps) for _ in range(reps)) for n in BATCH_SIZES]
    return prefill, decode


def bench_models(torch, transformers, args, copy_gbs):
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    print(f"Random-weight LlamaForCausalLM, {args.dtype}, eager (tokens/s; decode: aggregate over the "
          f"sequences, {args.steps} steps):\n")
    print("| model | weights MB | prefill 512 | decode b=1 | b=4 | b=16 | b=64 |\n|---|---:|---:|---:|---:|---:|---:|")
    results = []
    for shape in SHAPES:
        label = f"{shape[0]}, {args.dtype}"
        model = build_model(torch, transformers, shape, dtype)
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        with torch.inference_mode():
            prefill, decode = measure_model(torch, model, shape[1], args.reps, args.steps)
        print(f"| {label} | {weight_bytes * 1e-6:.0f} | {prefill:.0f} | "
              + " | ".join(f"{d:.0f}" for d in decode) + " |", flush=True)
        results.append((label, weight_bytes, decode))
        del model
        torch.cuda.empty_cache()

    print("\nWeight stream per decode step (GB/s, and % of the copy bandwidth):\n")
    print("| model | b=1 | b=4 | b=16 | b=64 |\n|---|---:|---:|---:|---:|")
    for label, weight_bytes, decode in results:
        cells = []
        for n, rate in zip(BATCH_SIZES, decode):
            gbs = weight_bytes * rate / n * 1e-9
            cells.append(f"{gbs:.0f} ({100 * gbs / copy_gbs:.0f}%)")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main():
    args = parse_args()
    modules = import_torch()
    if modules is None:
        return EXIT_SKIPPED
    torch, transformers = modules
    torch.manual_seed(0)
    print(f"gpu_peer: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
          f"transformers {transformers.__version__}\n")
    copy_gbs = copy_bandwidth(torch, args.reps)
    print(f"Device-to-device copy of 1 GiB (read + write): {copy_gbs:.0f} GB/s\n")
    with torch.inference_mode():
        bench_kernels(torch, args.reps, copy_gbs)
    if not args.kernels_only:
        bench_models(torch, transformers, args, copy_gbs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
