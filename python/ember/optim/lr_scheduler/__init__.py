"""ember.optim.lr_scheduler: learning-rate schedules with PyTorch's names and sequences.

Construct a scheduler after its optimiser and call ``scheduler.step()`` once per epoch (once per
batch for OneCycleLR / CyclicLR), after ``optimizer.step()``; ``ReduceLROnPlateau.step(metric)``
takes the monitored value. The files group the schedules by kind:

    _base      LRScheduler (the protocol: last_epoch, base_lrs, get_last_lr, state_dict)
    _simple    LambdaLR MultiplicativeLR StepLR MultiStepLR ConstantLR LinearLR ExponentialLR
               PolynomialLR
    _cosine    CosineAnnealingLR CosineAnnealingWarmRestarts
    _cyclic    OneCycleLR CyclicLR
    _plateau   ReduceLROnPlateau
    _combine   SequentialLR ChainedScheduler
"""
from ember.optim.lr_scheduler._base import LRScheduler, _LRScheduler
from ember.optim.lr_scheduler._simple import (ConstantLR, ExponentialLR, LambdaLR, LinearLR,
                                              MultiplicativeLR, MultiStepLR, PolynomialLR,
                                              StepLR)
from ember.optim.lr_scheduler._cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from ember.optim.lr_scheduler._cyclic import CyclicLR, OneCycleLR
from ember.optim.lr_scheduler._plateau import ReduceLROnPlateau
from ember.optim.lr_scheduler._combine import ChainedScheduler, SequentialLR

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR", "LRScheduler"]
