"""ember.utils: data loading (``ember.utils.data``) and transfer-learning helpers."""
from ember.utils import data
from ember.utils.finetune import (count_parameters, freeze, freeze_batchnorm, param_groups,
                                  unfreeze)
