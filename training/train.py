"""Train newsdesk's question/sentence cross-encoder with a listwise loss, evaluate it, export it.

    python -m training.train --start MODEL_DIR --data FILE.json ... --out models/NAME
    python -m training.train --quick ...        # a few hundred small steps on CPU, for the tests

The recipe (training/README.md) is the shipped model's: all-MiniLM-L6-v2 with a one-output
head, each question against its positive and 7 negatives, softmax cross-entropy over the 8
logits, AdamW 4e-5, 10% warm-up then linear decay, clipping 1.0, batch 32 questions, max
length 128, 2 epochs, bf16 autocast on a GPU. It runs on CPU too, only slowly.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

from training.data import build_examples, read_squad, selection_tasks
from training.export import export_model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True, help="starting model folder (all-MiniLM-L6-v2)")
    parser.add_argument("--data", nargs="+", required=True, help="SQuAD v1.1-format training files")
    parser.add_argument("--eval", default=None, help="SQuAD-format file to measure sentence selection on (XQuAD)")
    parser.add_argument("--out", required=True, help="folder for the exported model")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=32, help="questions per step")
    parser.add_argument("--negatives", type=int, default=7)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (4e-5; 3e-4 with --quick)")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--warmup", type=float, default=0.1, help="share of steps warming up")
    parser.add_argument("--layers", type=int, default=0, help="keep only the first N layers (0: all)")
    parser.add_argument("--max-questions", type=int, default=0, help="use only the first N questions (0: all)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: the epochs)")
    parser.add_argument("--eval-every", type=int, default=0, help="measure the held-out set every N steps")
    parser.add_argument("--eval-questions", type=int, default=0, help="measure on the first N questions (0: all)")
    parser.add_argument(
        "--teacher",
        default=None,
        help="a trained cross-encoder folder to distil from (its softmax over each question's sentences)",
    )
    parser.add_argument("--distil-weight", type=float, default=0.5, help="share of the loss that is distillation")
    parser.add_argument(
        "--eval-scopes",
        nargs="+",
        default=["paragraph", "article"],
        choices=["paragraph", "article"],
        help="candidate sets measured (see training/data.py)",
    )
    parser.add_argument(
        "--unanswerable",
        type=float,
        default=0.0,
        help="share of questions also asked without their answer sentences; the loss gains a "
        '"no answer" logit fixed at 0, so a score above 0 means "answers" (0: the shipped recipe)',
    )
    parser.add_argument(
        "--freeze-layers", type=int, default=0, help="keep the embeddings and the first N layers fixed (CPU runs)"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CPU smoke run of the recipe: the first 2 layers, 2 questions x 4 sentences a "
        "step, length 48, 200 steps, measured on 60 questions' paragraphs",
    )
    args = parser.parse_args(argv)
    if args.lr is None:  # a few hundred small steps need a larger step size than the full recipe
        args.lr = 3e-4 if args.quick else 4e-5
    if args.quick:
        args.batch, args.negatives, args.max_length = 2, 3, 48
        args.layers = args.layers or 2
        args.max_steps = args.max_steps or 200
        args.eval_questions = args.eval_questions or 60
        args.eval_scopes = ["paragraph"]
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    import torch

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer = load_start(args.start, args.layers)
    model.to(device)
    if args.freeze_layers:
        _freeze(model, args.freeze_layers)
    teacher = load_teacher(args.teacher, device) if args.teacher else None

    examples = build_examples(
        read_squad([Path(p) for p in args.data]),
        negatives=args.negatives,
        seed=args.seed,
        unanswerable=args.unanswerable,
    )
    examples = [e for e in examples if len(e.texts) == args.negatives + 1]
    if args.max_questions:
        examples = examples[: args.max_questions]
    steps_per_epoch = math.ceil(len(examples) / args.batch)
    total = args.max_steps or math.ceil(steps_per_epoch * args.epochs)
    eval_paragraphs = read_squad([Path(args.eval)]) if args.eval else []

    optimiser = torch.optim.AdamW(_param_groups(model, args.weight_decay), lr=args.lr)
    warmup = max(1, int(total * args.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    log: dict = {"examples": len(examples), "steps": total, "device": device, "curve": []}
    if eval_paragraphs:
        log["curve"].append({"step": 0, **evaluate(model, tokenizer, eval_paragraphs, args, device)})
    rng = random.Random(args.seed)
    order: list[int] = []
    started = time.time()
    losses: list[float] = []
    model.train()
    for step in range(total):
        if not order:
            order = list(range(len(examples)))
            rng.shuffle(order)
        batch = [examples[order.pop()] for _ in range(min(args.batch, len(order)))]
        loss = _step(model, tokenizer, batch, args, device, teacher)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if args.eval_every and eval_paragraphs and (step + 1) % args.eval_every == 0 and step + 1 < total:
            log["curve"].append(
                {
                    "step": step + 1,
                    "loss": _mean(losses[-args.eval_every :]),
                    **evaluate(model, tokenizer, eval_paragraphs, args, device),
                }
            )
            model.train()
        if (step + 1) % 50 == 0 or step + 1 == total:
            print(f"step {step + 1}/{total} loss {_mean(losses[-50:]):.4f} {time.time() - started:.0f}s", flush=True)
    log["train_seconds"] = round(time.time() - started, 1)
    log["first_loss"], log["last_loss"] = _mean(losses[:20]), _mean(losses[-20:])
    if eval_paragraphs:
        log["curve"].append(
            {"step": total, "loss": _mean(losses[-50:]), **evaluate(model, tokenizer, eval_paragraphs, args, device)}
        )
        log["final"] = log["curve"][-1]
    export_model(model, tokenizer, Path(args.out), {k: v for k, v in vars(args).items()}, log)
    print(json.dumps({k: v for k, v in log.items() if k != "curve"}), flush=True)
    return log


def load_start(start: str, layers: int = 0):
    """The starting encoder with a fresh one-output head, and its tokenizer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # "newly initialised head" is expected
    model = AutoModelForSequenceClassification.from_pretrained(start, num_labels=1)
    model.float()
    if layers:
        encoder = model.bert.encoder
        encoder.layer = encoder.layer[:layers]
        model.config.num_hidden_layers = layers
    return model, AutoTokenizer.from_pretrained(start)


def load_teacher(folder: str, device: str):
    from transformers import AutoModelForSequenceClassification

    teacher = AutoModelForSequenceClassification.from_pretrained(folder).float().to(device)
    return teacher.eval()


def _freeze(model, layers: int) -> None:
    """Keep the embeddings and the first ``layers`` transformer layers as they are: a CPU run
    then spends its backward passes on the top of the network only."""
    for param in model.bert.embeddings.parameters():
        param.requires_grad = False
    for layer in model.bert.encoder.layer[:layers]:
        for param in layer.parameters():
            param.requires_grad = False


def _param_groups(model, weight_decay: float) -> list[dict]:
    """No weight decay on biases and LayerNorm weights (the usual BERT fine-tuning recipe)."""
    decay, plain = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (plain if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def _step(model, tokenizer, batch, args, device, teacher=None):
    import torch
    import torch.nn.functional as F

    questions = [e.question for e in batch for _ in e.texts]
    texts = [t for e in batch for t in e.texts]
    encoded = tokenizer(
        questions, texts, truncation="longest_first", max_length=args.max_length, padding=True, return_tensors="pt"
    ).to(device)
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
        logits = model(**encoded).logits.float().view(len(batch), -1)
        if args.unanswerable:
            # A "no answer" logit fixed at 0 beside each list: the answer must score above it,
            # and a list without an answer puts it first.
            logits = _with_no_answer(logits)
            target = [0 if e.answerable else logits.shape[1] - 1 for e in batch]
        else:
            target = [0] * len(batch)
        loss = F.cross_entropy(logits, torch.tensor(target, dtype=torch.long, device=device))
        if teacher is None:
            return loss
        with torch.no_grad():
            taught = teacher(**encoded).logits.float().view(len(batch), -1)
            if args.unanswerable:
                taught = _with_no_answer(taught)
            target = F.softmax(taught, dim=-1)
    distil = F.kl_div(F.log_softmax(logits, dim=-1), target, reduction="batchmean")
    return (1 - args.distil_weight) * loss + args.distil_weight * distil


def _with_no_answer(logits):
    """A list's logits with the "no answer" logit, fixed at 0, appended as the last column."""
    import torch

    return torch.cat([logits, logits.new_zeros(logits.shape[0], 1)], dim=1)


def score_pairs(model, tokenizer, question: str, sentences: list[str], max_length: int, device: str) -> list[float]:
    """Cross-encoder logits of (question, sentence) pairs, in chunks of 64."""
    import torch

    model.eval()
    out: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(sentences), 64):
            chunk = sentences[start : start + 64]
            encoded = tokenizer(
                [question] * len(chunk),
                chunk,
                truncation="longest_first",
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                out.extend(model(**encoded).logits.float().view(-1).tolist())
    return out


def evaluate(model, tokenizer, paragraphs, args, device: str) -> dict[str, float]:
    """Sentence-selection hit@1 among the paragraph's and among the article's sentences, and
    with ``--unanswerable`` the no-answer shares from the same paragraph scores."""
    result = {}
    scored: dict[str, list[tuple[list[float], set[int]]]] = {}
    for scope in args.eval_scopes:
        scored[scope] = _scored(model, tokenizer, paragraphs, scope, args, device)
        hits = sum(max(range(len(scores)), key=scores.__getitem__) in gold for scores, gold in scored[scope])
        result[f"hit1_{scope}"] = round(hits / max(len(scored[scope]), 1), 4)
    result["questions"] = len(scored[args.eval_scopes[-1]])
    if args.unanswerable:
        paragraph = scored.get("paragraph") or _scored(model, tokenizer, paragraphs, "paragraph", args, device)
        result.update(no_answer(paragraph))
    return result


def _scored(model, tokenizer, paragraphs, scope: str, args, device: str) -> list[tuple[list[float], set[int]]]:
    """Each selection task's scores and gold positions, for the first ``--eval-questions``."""
    out = []
    for question, sentences, gold in selection_tasks(paragraphs, scope):
        out.append((score_pairs(model, tokenizer, question, sentences, args.max_length, device), gold))
        if args.eval_questions and len(out) >= args.eval_questions:
            break
    return out


def no_answer(scored: list[tuple[list[float], set[int]]]) -> dict[str, float]:
    """How often the best score of a question's paragraph is below 0 (the "no answer" logit):
    with the answer sentences (wrongly declined) and without them (rightly declined)."""
    wrong = right = n = 0
    for scores, gold in scored:
        rest = [s for i, s in enumerate(scores) if i not in gold]
        if not rest:
            continue
        wrong += max(scores) < 0
        right += max(rest) < 0
        n += 1
    return {"declined_answerable": round(wrong / max(n, 1), 4), "declined_unanswerable": round(right / max(n, 1), 4)}


def _mean(values: list[float]) -> float:
    return round(sum(values) / max(len(values), 1), 4)


if __name__ == "__main__":
    main()
