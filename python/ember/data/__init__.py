"""ember.data: everything between raw data and a DataLoader.

    splits        train_test_split, train_val_test_split, KFold, StratifiedKFold
    resampling    random_oversample, random_undersample, class_weights
    transforms    torchvision-named image transforms (``ember.data.transforms``)
    synthetic     make_moons, make_blobs, make_spirals, make_sine_sequences, make_copy_task,
                  make_parity_task
    digits        load_digits, Digits: 8x8 handwritten digits shipped with ember
    vision        load_idx, MNIST, FashionMNIST, load_cifar_batch, CIFAR10, CIFAR100 from
                  local files (never downloaded)

Names follow scikit-learn/torchvision where those libraries have the function (with their
argument names, e.g. ``random_state``); ember's own additions follow Keras (``seed``).
"""
from ember.data import transforms
from ember.data.digits import Bunch, Digits, load_digits
from ember.data.resampling import class_weights, random_oversample, random_undersample
from ember.data.splits import KFold, StratifiedKFold, train_test_split, train_val_test_split
from ember.data.synthetic import (make_blobs, make_copy_task, make_moons, make_parity_task,
                                  make_sine_sequences, make_spirals)
from ember.data.vision import (CIFAR10, CIFAR100, MNIST, FashionMNIST, UnsafePickleError,
                               load_cifar_batch, load_idx)

__all__ = ["Bunch", "CIFAR10", "CIFAR100", "Digits", "FashionMNIST", "KFold", "MNIST",
           "StratifiedKFold", "UnsafePickleError", "class_weights", "load_cifar_batch",
           "load_digits", "load_idx", "make_blobs", "make_copy_task", "make_moons",
           "make_parity_task", "make_sine_sequences", "make_spirals", "random_oversample",
           "random_undersample", "train_test_split", "train_val_test_split", "transforms"]
