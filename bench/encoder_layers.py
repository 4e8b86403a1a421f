"""Speed of the encoder cut to its first N layers, against all 12, in one run (issue 12, speed).

    uv run python bench/encoder_layers.py [--texts 640] [--layers 12 8 6 4]

Each N-layer graph is the built encoder.onnx with the mean pooling moved to the output of
layer N (the layers above are dropped); it is written to a temp dir, never to the cache.
Prints texts/s (token ids prepared beforehand, length-bucketed batches of 32, as many intra-op
threads as the service uses; the full graph is timed just before and after each cut one), and how far the N-layer
embeddings are from the full ones (cosine). The heads are trained on the 12-layer embeddings,
so an N-layer encoder needs its own heads and its own leave-one-corpus-out figures before it
could score anything: see docs/models/encoder-heads.md. Texts: the synthetic comments of
bench/moderator; none from a data set.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from vigie_encoder import Encoder
from vigie_encoder.artifact import MODEL_FILE, TOKENIZER_FILE, locate, read_manifest
from vigie_encoder.runtime import default_threads

sys.path.insert(0, str(Path(__file__).resolve().parent / "moderator"))
from run import corpus, load_average, machine


def cut(model: onnx.ModelProto, layers: int) -> onnx.ModelProto:
    """`model` pooling the output of layer `layers` (1-based) instead of the last one."""
    graph = model.graph
    outputs = {n.input[1]: n.output[0] for n in graph.node if n.op_type == "LayerNormalization"}
    last = max(int(k[1:].split(".")[0]) for k in outputs if k.endswith(".ffn.ln.weight"))
    old = outputs[f"l{last}.ffn.ln.weight"]
    new = outputs[f"l{layers - 1}.ffn.ln.weight"]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    # Keep only what the output still needs.
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return model


def rate(encoder: Encoder, ids: list[list[int]], batch: int = 32) -> float:
    encoder.embed_ids(ids[:batch])
    started = time.perf_counter()
    for i in range(0, len(ids), batch):
        encoder.embed_ids(ids[i : i + batch])
    return len(ids) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=640)
    parser.add_argument("--layers", type=int, nargs="+", default=[8, 6, 4])
    args = parser.parse_args()
    texts = corpus(args.texts)
    threads = default_threads()
    files = locate(read_manifest())
    full = Encoder.load(threads=threads)
    ids = full.token_ids(texts)
    reference = full.embed_ids(ids)
    loads = [load_average()]
    rows: list[tuple[str, float, float, float]] = []
    source = onnx.load(str(files.model))
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.layers:
            directory = Path(tmp) / f"l{n}"
            directory.mkdir()
            onnx.save(cut(onnx.ModelProto.FromString(source.SerializeToString()), n), directory / MODEL_FILE)
            shutil.copy(files.tokenizer, directory / TOKENIZER_FILE)
            encoder = Encoder.from_directory(directory, threads=threads)
            cosine = float(np.mean(np.sum(encoder.embed_ids(ids) * reference, axis=1)))
            # The 12-layer graph timed just before and after each cut one: the ratio survives
            # a change of load between rows.
            before = rate(full, ids)
            value = rate(encoder, ids)
            after = rate(full, ids)
            rows.append((str(n), value, value / ((before + after) / 2), cosine))
            del encoder
    loads.append(load_average())
    print(f"Machine: {machine()}; {threads} intra-op thread(s)")
    print(f"Load average (1/5/15) at start and end: {'; '.join(loads)}")
    mean_tokens = np.mean([len(x) for x in ids])
    print(f"{len(texts)} distinct synthetic comments, {mean_tokens:.1f} tokens on average, batch 32\n")
    print(
        "| layers | texts/s | vs 12 layers timed just before and after | mean cosine to the 12-layer embedding |"
    )
    print("|---|---:|---:|---:|")
    for name, value, ratio, cosine in rows:
        print(f"| {name} | {value:,.0f} | {ratio:.2f}x | {cosine:.3f} |")


if __name__ == "__main__":
    main()
