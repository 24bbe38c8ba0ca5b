"""ember.optim: optimisers and learning-rate schedules with PyTorch's names (``torch.optim``).

    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        scheduler.step()

Every optimiser updates its parameters in place, in their own dtype, with the same formulas
(and the same order of operations) as torch's single-tensor implementations, so trajectories
agree with PyTorch to floating-point rounding.
"""
from ember.optim.optimizer import Optimizer
from ember.optim.sgd import SGD
from ember.optim.adagrad import Adagrad
from ember.optim.rmsprop import RMSprop
from ember.optim.adam import Adam
from ember.optim.adamw import AdamW
from ember.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
