"""train.py -- trains a Qwen2-architecture model (train/model.py) on uint16
token files (train/corpus.py), alone or under torchrun (DDP: NCCL on GPUs,
gloo on the CPU).

  /usr/bin/python3 -m train.train --config train/configs/tiny.json \
      --data data/tokens --out runs/tiny [--resume] [--time-limit 500]
  torchrun --nproc_per_node 2 -m train.train ...      (DDP)

AdamW (no decay on norms/biases), linear warm-up then cosine decay to
min_lr, gradient clipping, bf16 autocast on CUDA, gradient accumulation,
periodic validation loss, checkpoints with exact resume (model, optimizer,
step, data position, every rank's RNG states), a progress line with tokens/s
and ETA on stderr, history.json and loss.png in the run folder.

Stops with a clear message (exit 1) on a missing/empty token file, token ids
>= vocab_size, a non-finite loss, or a bad config.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from train.model import ModelConfig, Qwen2

TRAIN_DEFAULTS = {
    "seq_len": 256,          # tokens per training sequence (<= max_position_embeddings)
    "batch_size": 8,         # sequences per micro-batch per process
    "grad_accum": 1,         # micro-batches per optimizer step
    "max_steps": 100,
    "lr": 1e-3,
    "min_lr": 1e-4,
    "warmup_steps": 10,
    "weight_decay": 0.1,
    "beta1": 0.9,
    "beta2": 0.95,
    "grad_clip": 1.0,
    "eval_every": 50,
    "eval_tokens": 65536,
    "ckpt_every": 100,
    "log_every": 10,
    "seed": 1337,
}


class TrainError(Exception):
    """A problem the user must fix; the message says what."""


def load_config(path):
    if not os.path.exists(path):
        raise TrainError("config file not found: %s" % path)
    with open(path) as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            raise TrainError("config %s is not valid JSON: %s" % (path, e))
    try:
        mc = ModelConfig.from_dict(d.get("model", {}))
    except (ValueError, TypeError) as e:
        raise TrainError(str(e))
    tc = dict(TRAIN_DEFAULTS)
    unknown = set(d.get("train", {})) - set(tc)
    if unknown:
        raise TrainError("unknown train config keys: %s" % ", ".join(sorted(unknown)))
    tc.update(d.get("train", {}))
    if tc["seq_len"] > mc.max_position_embeddings:
        raise TrainError("seq_len %d exceeds max_position_embeddings %d" % (tc["seq_len"], mc.max_position_embeddings))
    for k in ("seq_len", "batch_size", "grad_accum", "max_steps"):
        if tc[k] <= 0:
            raise TrainError("%s must be positive" % k)
    return mc, tc


# --- data -------------------------------------------------------------------

class TokenData:
    """A uint16 token file read through a memory map, cut into blocks of
    seq_len + 1 tokens. Each epoch shifts the block grid by an epoch-dependent
    offset and visits blocks in a seeded random order; (epoch, pos) is the
    exact data position saved in checkpoints."""

    def __init__(self, path, seq_len, vocab_size, seed):
        if not os.path.exists(path):
            raise TrainError("token file not found: %s (run train.corpus encode)" % path)
        if os.path.getsize(path) == 0:
            raise TrainError("token file is empty: %s" % path)
        if os.path.getsize(path) % 2:
            raise TrainError("token file %s has an odd size: not uint16 ids" % path)
        self.tokens = np.memmap(path, dtype=np.uint16, mode="r")
        self.path, self.seq_len, self.seed = path, seq_len, seed
        if len(self.tokens) < seq_len + 1:
            raise TrainError("%s holds %d tokens, fewer than one sequence of %d" % (path, len(self.tokens), seq_len + 1))
        top = int(self.tokens.max())
        if top >= vocab_size:
            raise TrainError("%s has token id %d but the model's vocab_size is %d: vocab too small" % (path, top, vocab_size))
        self._perm_epoch, self._perm = None, None

    def epoch_layout(self, epoch):
        n = len(self.tokens)
        offset = (epoch * 7919) % self.seq_len if n >= 2 * (self.seq_len + 1) else 0
        nblocks = (n - 1 - offset) // self.seq_len
        return offset, nblocks

    def perm(self, epoch):
        if self._perm_epoch != epoch:
            _, nblocks = self.epoch_layout(epoch)
            g = torch.Generator()
            g.manual_seed(self.seed * 1000003 + epoch)
            self._perm = torch.randperm(nblocks, generator=g)
            self._perm_epoch = epoch
        return self._perm

    def block(self, epoch, index):
        offset, _ = self.epoch_layout(epoch)
        start = offset + index * self.seq_len
        return torch.from_numpy(self.tokens[start:start + self.seq_len + 1].astype(np.int64))

    def batch(self, epoch, indices):
        p = self.perm(epoch)
        x = torch.stack([self.block(epoch, int(p[i])) for i in indices])
        return x[:, :-1], x[:, 1:]


def advance(data, epoch, pos, need):
    """The position of the next global batch of `need` blocks; moves to the
    next epoch when this one has fewer than `need` left."""
    _, nblocks = data.epoch_layout(epoch)
    if nblocks < need:
        raise TrainError("%s has %d blocks, fewer than one global batch (%d): lower batch_size or seq_len"
                         % (data.path, nblocks, need))
    if pos + need > nblocks:
        epoch, pos = epoch + 1, 0
    return epoch, pos


# --- schedule, optimizer ----------------------------------------------------

def lr_at(step, tc):
    if step < tc["warmup_steps"]:
        return tc["lr"] * (step + 1) / tc["warmup_steps"]
    span = max(1, tc["max_steps"] - tc["warmup_steps"])
    t = min(1.0, (step - tc["warmup_steps"]) / span)
    return tc["min_lr"] + 0.5 * (1 + math.cos(math.pi * t)) * (tc["lr"] - tc["min_lr"])


def make_optimizer(model, tc, device):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": tc["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    kw = {}
    if device.type == "cuda":
        kw["fused"] = True
    return torch.optim.AdamW(groups, lr=tc["lr"], betas=(tc["beta1"], tc["beta2"]), **kw)


# --- distributed / RNG -------------------------------------------------------

def dist_setup():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        rank = int(os.environ["RANK"])
        local = int(os.environ.get("LOCAL_RANK", rank))
        if torch.cuda.is_available():
            torch.cuda.set_device(local)
            dist.init_process_group("nccl")
            device = torch.device("cuda", local)
        else:
            dist.init_process_group("gloo")
            device = torch.device("cpu")
        return rank, world, device
    return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")


def rng_state():
    s = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s):
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def gather_objects(obj, world):
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


# --- evaluation, checkpoints, progress -------------------------------------

@torch.no_grad()
def evaluate(model, valid, tc, device, rank, world, autocast):
    model.eval()
    n = min(len(valid.tokens) - 1, tc["eval_tokens"]) // tc["seq_len"]
    total = torch.zeros(2, dtype=torch.float64, device=device)
    bs = tc["batch_size"]
    mine = list(range(rank, n, world))
    for i in range(0, len(mine), bs):
        idx = mine[i:i + bs]
        x = torch.stack([valid.block(0, j) for j in idx]).to(device)
        with autocast():
            _, loss = model(x[:, :-1], x[:, 1:])
        total[0] += loss.double() * x[:, 1:].numel()
        total[1] += x[:, 1:].numel()
    if world > 1:
        dist.all_reduce(total)
    model.train()
    if total[1] == 0:
        raise TrainError("validation file %s is shorter than one sequence" % valid.path)
    return float(total[0] / total[1])


def torch_load(path):
    """torch.load of our own files (they hold RNG states, not only tensors)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def fmt_time(s):
    s = int(max(0, s))
    return "%dh%02dm" % (s // 3600, s % 3600 // 60) if s >= 3600 else "%dm%02ds" % (s // 60, s % 60)


class Progress:
    def __init__(self, total_steps, start_step):
        self.total, self.t0, self.s0 = total_steps, time.time(), start_step
        self.tty = sys.stderr.isatty()

    def show(self, step, loss, lr, tokens_per_step, final=False):
        dt = time.time() - self.t0
        done = step - self.s0
        tps = done * tokens_per_step / dt if dt > 0 else 0.0
        eta = (self.total - step) * dt / done if done else 0.0
        line = "step %d/%d | loss %.4f | lr %.2e | %.0f tok/s | elapsed %s | ETA %s" % (
            step, self.total, loss, lr, tps, fmt_time(dt), fmt_time(eta))
        sys.stderr.write(("\r" + line + ("\n" if final else "")) if self.tty else line + "\n")
        sys.stderr.flush()
        return tps


# --- main loop ----------------------------------------------------------------

def train(args):
    rank, world, device = dist_setup()
    try:
        return _train(args, rank, world, device)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(args, rank, world, device):
    mc, tc = load_config(args.config)
    for k in ("max_steps", "batch_size", "grad_accum", "eval_every", "ckpt_every", "lr", "warmup_steps"):
        v = getattr(args, k, None)
        if v is not None:
            tc[k] = v
    if device.type == "cpu":
        torch.set_num_threads(max(1, min(args.threads, os.cpu_count() or 1)))
    os.makedirs(args.out, exist_ok=True)
    train_data = TokenData(os.path.join(args.data, "train.bin"), tc["seq_len"], mc.vocab_size, tc["seed"])
    valid_data = TokenData(os.path.join(args.data, "valid.bin"), tc["seq_len"], mc.vocab_size, tc["seed"])

    torch.manual_seed(tc["seed"])  # same initial weights on every rank
    model = Qwen2(mc).to(device)
    opt = make_optimizer(model, tc, device)
    step, epoch, pos, history = 0, 0, 0, []
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    if args.resume:
        if not os.path.exists(ckpt_path):
            raise TrainError("--resume: no checkpoint at %s" % ckpt_path)
        ck = torch_load(ckpt_path)
        if ck["model_config"] != mc.to_dict():
            raise TrainError("--resume: %s was trained with a different model config" % ckpt_path)
        if ck["world"] != world:
            raise TrainError("--resume: checkpoint has %d processes, this run %d (data order would change)"
                             % (ck["world"], world))
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, epoch, pos, history = ck["step"], ck["epoch"], ck["pos"], ck["history"]
        tc["max_steps"] = ck["train_config"]["max_steps"] if args.max_steps is None else tc["max_steps"]
        set_rng_state(ck["rng"][rank])
        if rank == 0:
            print("resumed from %s at step %d (epoch %d)" % (ckpt_path, step, epoch), file=sys.stderr)
    else:
        torch.manual_seed(tc["seed"] + 1 + rank)  # dropout streams differ per rank
        random.seed(tc["seed"] + rank)
        np.random.seed(tc["seed"] + rank)

    ddp = model
    if world > 1:
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()

    def autocast():
        if use_bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    bs, accum = tc["batch_size"], tc["grad_accum"]
    per_step = bs * accum * world
    tokens_per_step = per_step * tc["seq_len"]
    if rank == 0:
        print("model: %.2fM parameters | %d processes on %s | %d tokens/step | train %d tokens, valid %d tokens"
              % (model.num_params() / 1e6, world, device.type, tokens_per_step,
                 len(train_data.tokens), len(valid_data.tokens)), file=sys.stderr)
    prog = Progress(tc["max_steps"], step)
    t_start = time.time()
    stop_reason = "done"
    loss_acc = torch.zeros((), device=device)
    n_acc = 0

    def checkpoint():
        rngs = gather_objects(rng_state(), world)
        if rank == 0:
            save_checkpoint(ckpt_path, {
                "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "epoch": epoch, "pos": pos, "history": history, "rng": rngs, "world": world,
                "model_config": mc.to_dict(), "train_config": tc})

    budget_probe0, budget_probe, probe_t0 = step + 10, step + 60, None
    ddp.train()
    while step < tc["max_steps"]:
        epoch, pos = advance(train_data, epoch, pos, per_step)
        lr = lr_at(step, tc)
        for g in opt.param_groups:
            g["lr"] = lr
        for a in range(accum):
            idx = range(pos + (a * world + rank) * bs, pos + (a * world + rank + 1) * bs)
            x, y = train_data.batch(epoch, idx)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            sync = a == accum - 1 or world == 1
            ctx = ddp.no_sync() if (world > 1 and not sync) else _null()
            with ctx, autocast():
                _, loss = ddp(x, y)
                (loss / accum).backward()
            loss_acc += loss.detach()
            n_acc += 1
        pos += per_step
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), tc["grad_clip"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1

        if step % tc["log_every"] == 0 or step == tc["max_steps"]:
            stats = torch.stack([loss_acc / n_acc, gnorm.detach().float().to(loss_acc.device)])
            if world > 1:
                dist.all_reduce(stats)
                stats /= world
            tl, gn = float(stats[0]), float(stats[1])
            loss_acc.zero_()
            n_acc = 0
            if not math.isfinite(tl) or not math.isfinite(gn):
                raise TrainError("loss became %s at step %d (grad norm %s): lower lr or check the data"
                                 % (tl, step, gn))
            history.append({"step": step, "train_loss": tl, "lr": lr, "tokens": step * tokens_per_step})
            if rank == 0:
                prog.show(step, tl, lr, tokens_per_step, final=step == tc["max_steps"])
        if step % tc["eval_every"] == 0 or step == tc["max_steps"]:
            vl = evaluate(ddp if world == 1 else model, valid_data, tc, device, rank, world, autocast)
            history.append({"step": step, "val_loss": vl, "tokens": step * tokens_per_step})
            if rank == 0:
                print("\nstep %d: validation loss %.4f (perplexity %.2f)" % (step, vl, math.exp(min(vl, 50))),
                      file=sys.stderr)
        elapsed = time.time() - t_start
        if args.time_budget and step == budget_probe:
            # Fit the cosine schedule into the time left, measured on steady steps.
            per = (time.time() - probe_t0) / (budget_probe - budget_probe0)
            fit = torch.tensor([step + (args.time_budget - elapsed) / per * 0.97], device=device)
            if world > 1:
                dist.all_reduce(fit, op=dist.ReduceOp.MIN)
            if int(fit) < tc["max_steps"]:
                tc["max_steps"] = max(step + 1, int(fit))
                prog.total = tc["max_steps"]
                if rank == 0:
                    print("\ntime budget %.0fs: %.3fs/step -> max_steps %d" % (args.time_budget, per, tc["max_steps"]),
                          file=sys.stderr)
        if args.time_budget and step == budget_probe0:
            probe_t0 = time.time()
        out_of_time = args.time_limit and elapsed > args.time_limit
        if world > 1:  # all ranks must agree to stop together
            flag = torch.tensor([1.0 if out_of_time else 0.0], device=device)
            dist.all_reduce(flag)
            out_of_time = flag.item() > 0
        if args.stop_after and step >= args.stop_after:  # simulated interruption (tests)
            out_of_time = True
        if step % tc["ckpt_every"] == 0 or step == tc["max_steps"] or out_of_time:
            checkpoint()
        if out_of_time and step < tc["max_steps"]:
            stop_reason = "stop-after" if args.stop_after and step >= args.stop_after else "time limit"
            break

    if rank == 0:
        torch.save({"model": model.state_dict(), "model_config": mc.to_dict(), "step": step},
                   os.path.join(args.out, "model.pt"))
        with open(os.path.join(args.out, "history.json"), "w") as f:
            json.dump({"model_config": mc.to_dict(), "train_config": tc, "history": history,
                       "params": model.num_params(), "world": world, "stop": stop_reason}, f, indent=1)
        try:
            from train.plot import plot_losses
            plot_losses(history, os.path.join(args.out, "loss.png"), title=os.path.basename(args.out.rstrip("/")))
        except ValueError:
            pass
        msg = "finished %d steps" % step if stop_reason == "done" else \
            "stopped at step %d/%d (%s); continue with --resume" % (step, tc["max_steps"], stop_reason)
        print(msg, file=sys.stderr)
    return 0


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def main(argv=None):
    p = argparse.ArgumentParser(description="train a Qwen2-architecture model")
    p.add_argument("--config", required=True, help="JSON with {model: {...}, train: {...}}")
    p.add_argument("--data", required=True, help="folder with train.bin and valid.bin (uint16)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, history, loss.png)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt exactly")
    p.add_argument("--time-limit", type=float, default=0, help="checkpoint and stop after this many seconds")
    p.add_argument("--time-budget", type=float, default=0,
                   help="shorten max_steps so that training ends within this many seconds")
    p.add_argument("--stop-after", type=int, default=0, help="checkpoint and stop after this step (as if interrupted)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads per process")
    for k, t in (("max_steps", int), ("batch_size", int), ("grad_accum", int), ("eval_every", int),
                 ("ckpt_every", int), ("lr", float), ("warmup_steps", int)):
        p.add_argument("--" + k.replace("_", "-"), type=t, default=None, dest=k)
    args = p.parse_args(argv)
    try:
        return train(args)
    except TrainError as e:
        print("train: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
