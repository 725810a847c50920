"""Imported once by the fork server that starts the training processes (`cnnviz.lenet.job`), never by a page.

Everything a run needs is imported and warmed up here, once, so that each child forked from the fork server
trains from its first second: building the first optimizer alone imports about 800 modules (torch's compiler
stack, sympy) and took 1-3 s per child before this.
"""

import torch
import torch.nn.functional as F

import cnnviz.lenet.job  # noqa: F401  (the child's code)
import cnnviz.lenet.net_training  # noqa: F401  (designed networks' snapshots)
from cnnviz.lenet.model import LeNet5


def _warm_up() -> None:
    # One thread here, before any torch op: a fork server that started OpenMP's thread pool would hand its
    # children a pool whose threads do not exist, and their first parallel op would hang. Each child sets its
    # own number of threads.
    torch.set_num_threads(1)
    model = LeNet5(seed=0)
    for optimizer in (torch.optim.Adam(model.parameters()), torch.optim.SGD(model.parameters(), lr=0.1)):
        loss = F.cross_entropy(model(torch.zeros(2, 1, 32, 32)), torch.tensor([0, 1]))  # (2, 10) logits
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


_warm_up()
