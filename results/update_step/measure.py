"""docs/speed.md: the update-step microbenchmark and the operator profile behind two of its figures.

    python results/update_step/measure.py > results/update_step/console.txt

1. A plain TD3 update step (critic every step, actor + targets every 2nd; Walker2d-v5 dimensions,
   batch 256, 2 threads, synthetic replay data) as td3_pave.py does it now, against the same step with
   the previous release's for-loop Adam and an actor backward that also fills the critic's gradients.
   Interleaved, 5 rounds of 60 steps; medians.
2. torch.profiler over 50 full-PAVE update steps (--pave-every 1): the share of matrix products
   (mm, addmm) and of elementwise mul in the self CPU time.
"""
import copy
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import td3_pave  # noqa: E402

OBS_DIM, ACT_DIM = 17, 6  # Walker2d-v5


def plain_actor_step(batch, actor, qf1, actor_optimizer):  # the previous release: backward() fills qf1's grads
    actor_loss = -qf1(batch[0], actor(batch[0])).mean()
    actor_optimizer.zero_grad()
    actor_loss.backward()
    actor_optimizer.step()
    return actor_loss


def setup(args, fused):
    torch.manual_seed(0)
    actor, qf1, qf2 = td3_pave.Actor(OBS_DIM, ACT_DIM), td3_pave.QNetwork(OBS_DIM, ACT_DIM), td3_pave.QNetwork(OBS_DIM, ACT_DIM)
    targets = [copy.deepcopy(net) for net in (qf1, qf2, actor)]
    q_optimizer = torch.optim.Adam([*qf1.parameters(), *qf2.parameters()], lr=1e-3, eps=1e-8, fused=fused)
    actor_optimizer = torch.optim.Adam(actor.parameters(), lr=1e-3, eps=1e-8, fused=fused)
    rb = td3_pave.ReplayBuffer(10_000, OBS_DIM, ACT_DIM, "cpu", 0)
    rb.obs.normal_(), rb.next_obs.normal_(), rb.actions.uniform_(-1, 1), rb.rewards.normal_()
    rb.size = 10_000
    return args, (actor, qf1, qf2, *targets), q_optimizer, actor_optimizer, rb


def steps(state, actor_step, n):
    args, (actor, qf1, qf2, qf1_target, qf2_target, target_actor), q_optimizer, actor_optimizer, rb = state
    start = time.perf_counter()
    for step in range(n):
        batch = rb.sample(args.batch_size)
        losses = td3_pave.update_critic(args, batch, qf1, qf2, qf1_target, qf2_target, target_actor, q_optimizer,
                                        regularize=step % args.pave_every == 0)
        if step % 2 == 0:
            losses["actor_loss"] = actor_step(batch, actor, qf1, actor_optimizer)
            for target, net in ((target_actor, actor), (qf1_target, qf1), (qf2_target, qf2)):
                td3_pave.soft_update(target, net, args.tau)
        td3_pave.check_finite(losses, step)
    return 1000 * (time.perf_counter() - start) / n


def main():
    torch.set_num_threads(2)
    td3 = td3_pave.Args(lambda1=0.0, lambda2=0.0, lambda3=0.0)
    variants = {"this release": (setup(td3, fused=True), td3_pave.update_actor),
                "previous (for-loop Adam, full actor backward)": (setup(td3, fused=False), plain_actor_step)}
    times = {name: [] for name in variants}
    for _ in range(5):
        for name, (state, actor_step) in variants.items():
            steps(state, actor_step, 5)  # warm up
            times[name].append(steps(state, actor_step, 60))
    print("plain TD3 update step, Walker2d dims, batch 256, 2 threads, ms (median of 5 interleaved rounds):")
    for name, t in times.items():
        print(f"  {name}: {statistics.median(t):.2f}  ({', '.join(f'{x:.2f}' for x in t)})")

    state = setup(td3_pave.Args(pave_every=1), fused=True)
    steps(state, td3_pave.update_actor, 10)
    with torch.profiler.profile() as profile:
        steps(state, td3_pave.update_actor, 50)
    self_us = {e.key: e.self_cpu_time_total for e in profile.key_averages()}
    total = sum(self_us.values())
    print("full PAVE update step (--pave-every 1), share of self CPU time:")
    print(f"  matrix products (aten::mm, aten::addmm): {(self_us.get('aten::mm', 0) + self_us.get('aten::addmm', 0)) / total:.0%}")
    print(f"  elementwise products (aten::mul): {self_us.get('aten::mul', 0) / total:.0%}")
    for key, us in sorted(self_us.items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {key}: {us / total:.1%}")


if __name__ == "__main__":
    main()
